"""Signal1D: one signal axis (spectra)."""

from __future__ import annotations

from ..signal import BaseSignal
from ..signal_registry import register_signal_class

__all__ = ["Signal1D"]


@register_signal_class
class Signal1D(BaseSignal):
    """A signal with one signal axis, e.g. a spectrum image (x, y|energy).

    Examples
    --------
    >>> import numpy as np
    >>> Signal1D(np.zeros((512, 512, 992)), metadata={"General": {"title": "EDS"}}).as_lazy()
    <LazySignal1D, title: EDS, dimensions: (512, 512|992)>
    """

    _signal_dimension = 1
