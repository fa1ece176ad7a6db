"""Array-level operations shared by the eager (numpy) and lazy (dask) paths.

Nothing here knows about signals or axes: signal methods translate axes into numpy axis
numbers, call these functions, and rebuild the axes. Each function takes a numpy or a dask
array and returns the same kind.
"""

from __future__ import annotations

import mmap
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeGuard

import dask.array as da
import numpy as np

from .errors import InvalidArgumentError
from .expressions import fast_reduce

__all__ = [
    "is_lazy",
    "array_module",
    "reduce",
    "arg_reduce",
    "integrate_simpson",
    "gradient",
    "align_for_broadcast",
    "as_dask",
    "register_memmap_reader",
]


def is_lazy(data: Any) -> TypeGuard[da.Array]:
    """Whether ``data`` is a dask array.

    Examples
    --------
    >>> is_lazy(np.zeros(3)), is_lazy(da.zeros(3))
    (False, True)
    """
    return isinstance(data, da.Array)


def array_module(data):
    """``dask.array`` for dask arrays, ``numpy`` otherwise."""
    return da if is_lazy(data) else np


#: Reductions by name; each accepts ``axis=tuple``.
REDUCTIONS = ("sum", "mean", "max", "min", "std", "var",
              "nansum", "nanmean", "nanmax", "nanmin", "nanstd", "nanvar")


def reduce(name: str, data, axes: tuple[int, ...], *, dtype=None):
    """Apply the reduction ``name`` (one of :data:`REDUCTIONS`) over numpy ``axes``.

    Examples
    --------
    >>> reduce("sum", np.ones((2, 3)), (1,))
    array([3., 3.])
    """
    if name not in REDUCTIONS:
        raise InvalidArgumentError(f"Unknown reduction {name!r}; known: {', '.join(REDUCTIONS)}.")
    if dtype is None and is_lazy(data):
        # A product with a constant, a window, or a file read: fused (lazysignal.expressions).
        fused = fast_reduce(name, data, axes)
        if fused is not None:
            return fused
    if name in ("sum", "nansum") and dtype is None and is_lazy(data):
        narrow = _narrow_sum(data, axes)
        if narrow is not None:
            return narrow
    func = getattr(array_module(data), name)
    kwargs = {"dtype": dtype} if dtype is not None and name in ("sum", "nansum", "mean", "nanmean") else {}
    return func(data, axis=axes, **kwargs)


def _narrow_sum(data: da.Array, axes: tuple[int, ...]):
    """A lazy sum of 8/16-bit integers with 32-bit partial sums per chunk, when they cannot overflow.

    numpy sums small integers into 64-bit totals, casting every element; a chunk's partial
    sum fits 32 bits when (elements summed per chunk) x (largest value) does, and the 32-bit
    cast is cheaper. The partials are then added as 64-bit, so the result (values and dtype)
    is numpy's exactly.
    """
    kind, size = data.dtype.kind, data.dtype.itemsize
    if kind not in "ui" or size > 2 or not axes:
        return None
    per_chunk = 1
    for ax in axes:
        per_chunk *= max(data.chunks[ax])
    info = np.iinfo(data.dtype)
    largest = max(abs(int(info.min)), int(info.max))
    if per_chunk * largest >= 2**31:
        return None
    partial = np.uint32 if kind == "u" else np.int32
    final = np.sum(np.zeros(1, data.dtype)).dtype

    def chunk(x, axis, keepdims):
        return np.sum(x, axis=axis, dtype=partial, keepdims=keepdims)

    def aggregate(x, axis, keepdims):
        return np.sum(x, axis=axis, dtype=final, keepdims=keepdims)

    return da.reduction(data, chunk, aggregate, axis=axes, dtype=final)


def arg_reduce(name: str, data, axis: int):
    """``argmax``/``argmin`` (or nan- forms) along one numpy axis."""
    return getattr(array_module(data), name)(data, axis=axis)


def integrate_simpson(data, axis: int, x: np.ndarray):
    """Simpson's rule along ``axis`` with sample positions ``x``, equal to scipy's.

    Simpson's rule is linear in the samples, so it is a weighted sum: the weights are
    scipy's result on the identity matrix. A weighted sum is one streaming pass on dask.

    Examples
    --------
    >>> x = np.linspace(0, 1, 11)
    >>> import scipy.integrate
    >>> float(integrate_simpson(x**2, 0, x)) == float(scipy.integrate.simpson(x**2, x=x))
    True
    """
    x = np.asarray(x, dtype=float)
    import scipy.integrate  # 0.2 s of imports: paid by integrate1D, not by `import lazysignal`

    weights = scipy.integrate.simpson(np.eye(x.size), x=x, axis=-1)
    moved = array_module(data).moveaxis(data, axis, -1)
    return moved @ weights.astype(np.result_type(data.dtype, np.float64))


def gradient(data, axis: int, coordinates: np.ndarray, order: int = 1, edge_order: Literal[1, 2] = 1):
    """``order`` successive :func:`numpy.gradient` along ``axis`` against ``coordinates``.

    ``edge_order`` (1 or 2) is numpy's: the accuracy of the differences at the two ends.

    Examples
    --------
    >>> gradient(np.arange(4.0) ** 2, 0, np.arange(4.0), edge_order=2).tolist()
    [0.0, 2.0, 4.0, 6.0]
    """

    def _grad(block):
        for _ in range(order):
            block = np.gradient(block, coordinates, axis=axis, edge_order=edge_order)
        return block

    if is_lazy(data):
        # The gradient needs every sample of the axis; keep it in one chunk.
        data = data.rechunk({axis: -1})
        dtype = np.result_type(data.dtype, np.float64)
        return data.map_blocks(_grad, dtype=dtype)
    return _grad(data)


def align_for_broadcast(
    shapes: Sequence[tuple[tuple[int, ...], tuple[int, ...]]],
) -> tuple[tuple[int, ...], ...]:
    """New numpy shapes that make (nav, sig) numpy shapes broadcast axis by axis.

    Each input is ``(nav_numpy_shape, sig_numpy_shape)``; missing leading navigation or signal
    dimensions become length-1 dimensions, so a signal without navigation broadcasts over the
    navigation of the other.

    Examples
    --------
    >>> align_for_broadcast([((4, 5), (10,)), ((), (10,))])
    ((4, 5, 10), (1, 1, 10))
    """
    nav_dim = max(len(n) for n, _ in shapes)
    sig_dim = max(len(s) for _, s in shapes)
    return tuple(
        (1,) * (nav_dim - len(n)) + tuple(n) + (1,) * (sig_dim - len(s)) + tuple(s)
        for n, s in shapes
    )


def as_dask(data: np.ndarray, chunks) -> da.Array:
    """Wrap a numpy array in dask; a memory-mapped file becomes per-chunk file reads.

    ``da.from_array`` on a ``numpy.memmap`` would copy the whole file into memory (dask
    2024.12 and later); a memmap of a whole file instead becomes a graph whose every task
    maps only its own chunk (see :mod:`lazysignal.io.backends.chunked_file`): no copy, read straight
    from the page cache, resident memory bounded by the chunks being worked on.

    Examples
    --------
    >>> as_dask(np.arange(6).reshape(2, 3), chunks=(1, 3)).chunks
    ((1, 1), (3,))
    """
    if isinstance(data, np.memmap) and not _MEMMAP_READERS:
        # The binary-file data path registers its reader when imported; the package does not
        # import it up front (see lazysignal/__init__), so it is imported on first need.
        from .io.backends import chunked_file  # noqa: F401
    if (_MEMMAP_READERS and isinstance(data, np.memmap) and isinstance(data.base, mmap.mmap)
            and data.flags.c_contiguous and data.filename):
        return _MEMMAP_READERS[-1](data, chunks)
    return da.from_array(data, chunks=chunks)


# How a memory-mapped whole file becomes per-chunk reads. The binary-file data path
# (io/backends/chunked_file.py, a floor above) registers itself when imported, as signal
# classes register with the signal registry: this layer imports nothing above it.
_MEMMAP_READERS: list[Callable[[np.memmap, Any], da.Array]] = []


def register_memmap_reader(reader: Callable[[np.memmap, Any], da.Array]) -> None:
    """Make ``reader(memmap, chunks)`` the way :func:`as_dask` wraps a whole-file memmap."""
    _MEMMAP_READERS.append(reader)
