"""lazysignal: lazy, chunked analysis of multidimensional signals larger than memory.

Examples
--------
>>> import numpy as np
>>> import lazysignal as ls
>>> s = ls.signals.Signal1D(np.random.default_rng(0).random((64, 64, 256))).as_lazy()
>>> s.sum(axis="navigation").compute().data.shape
(256,)
"""

from . import plot, proxy, roi, signals
from .interactive import interactive
from .io.load import load
from .lazy import compute
from .preferences import preferences
from .stacking import stack
from .io.backends import chunked_file as _chunked_file  # wires memmap reads into array_ops.as_dask

del _chunked_file

__version__ = "0.1.0"

__all__ = ["signals", "load", "stack", "compute", "preferences", "proxy", "roi", "interactive", "plot",
           "__version__"]
