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

from .chunk_cache import CacheStats, ChunkCache
from .images import plot_images
from .spectra import plot_signals, plot_spectra

__all__ = ["plot_images", "plot_spectra", "plot_signals", "ChunkCache", "CacheStats"]
