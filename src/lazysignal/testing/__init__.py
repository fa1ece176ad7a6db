"""Test helpers for lazysignal and its extensions: hypothesis strategies and assertions.

Examples
--------
>>> from lazysignal.testing import assert_signals_equal
>>> import numpy as np
>>> from lazysignal.signals import Signal1D
>>> s = Signal1D(np.arange(6.0).reshape(2, 3))
>>> assert_signals_equal(s, s.as_lazy(chunks=(1, 3)))
"""

from .assertions import assert_signals_equal
from .strategies import chunks_for, lazy_copy, signal_shapes, signals

__all__ = ["assert_signals_equal", "chunks_for", "lazy_copy", "signal_shapes", "signals"]
