"""Computing lazy data: the one place that calls ``dask.compute`` for signals."""

from __future__ import annotations

import contextlib

import dask
import numpy as np
from dask.diagnostics import ProgressBar

from .array_ops import is_lazy

__all__ = ["compute_arrays", "progress_context", "default_chunks"]


def progress_context(show_progressbar: bool | None):
    """A context manager that shows a progress bar while dask computes, when asked."""
    if show_progressbar:
        return ProgressBar()
    return contextlib.nullcontext()


def compute_arrays(*arrays, show_progressbar: bool | None = None) -> tuple[np.ndarray, ...]:
    """Compute several arrays in one pass (shared inputs are read once); numpy passes through."""
    lazy = [i for i, a in enumerate(arrays) if is_lazy(a)]
    results = list(arrays)
    if lazy:
        with progress_context(show_progressbar):
            computed = dask.compute(*[arrays[i] for i in lazy])
        for i, value in zip(lazy, computed):
            results[i] = value
    return tuple(results)


def default_chunks(shape: tuple[int, ...], signal_ndim: int) -> tuple:
    """Chunks for ``as_lazy``: signal axes whole, navigation split by dask's "auto"."""
    nav_ndim = len(shape) - signal_ndim
    return ("auto",) * nav_ndim + (-1,) * signal_ndim
