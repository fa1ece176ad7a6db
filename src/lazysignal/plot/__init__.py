"""Plotting: navigator and signal figures for (lazy) signals, ROI widgets, figure collections.

``s.plot()`` (the :class:`~lazysignal.plot.signal_methods.PlotMixin` of every signal) shows
a navigator and the signal at the cursor; lazy data are browsed through a
:class:`~lazysignal.plot.chunk_cache.ChunkCache` that prefetches neighbouring chunks.
``plot_images``, ``plot_spectra`` and ``plot_signals`` put several signals in one figure.
matplotlib only, any backend.

Examples
--------
>>> import numpy as np
>>> import lazysignal as ls
>>> s = ls.signals.Signal2D(np.random.default_rng(0).random((2, 8, 8)))
>>> len(ls.plot.plot_images(s))
2
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .chunk_cache import CacheStats, ChunkCache

if TYPE_CHECKING:
    from .images import plot_images
    from .spectra import plot_signals, plot_spectra

__all__ = ["plot_images", "plot_spectra", "plot_signals", "ChunkCache", "CacheStats"]

# matplotlib.pyplot costs ~0.8 s to import: the figure functions load it on first use, so
# that making a signal (whose class has the plot methods) does not.
_LAZY = {"plot_images": ".images", "plot_spectra": ".spectra", "plot_signals": ".spectra"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(import_module(_LAZY[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
