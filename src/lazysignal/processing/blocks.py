"""Iterate over the data block by block, as numpy arrays, with navigation/signal masks.

Blocks are runs of whole rows: only the slowest navigation axis is split, the other
navigation axes and all signal axes are whole in a block. That is what makes the
iteration exact and simple: concatenating the blocks along their first axis gives the
data back (``flat_signal=True``: the data reshaped to ``(pixels, signal_size)``), and every
signal chunk is read (a block never stands for its first signal chunk only).

Masks follow HyperSpy: ``True`` marks a value to leave out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dask.array as da  # noqa: F401 - used by the doctests
import numpy as np

from ..array_ops import is_lazy
from ..chunks import plan_chunks
from ..errors import ShapeMismatchError
from ..preferences import preferences

__all__ = ["iterate_blocks", "block_chunks"]


def block_chunks(data, nav_ndim: int) -> tuple[tuple[int, ...], ...]:
    """The chunks iterate_blocks walks: rows of the slowest navigation axis, the rest whole.

    The row count per block follows the current chunks of the first axis when the other
    navigation axes are whole already (signal chunks are merged), else the chunk planner.

    Examples
    --------
    >>> block_chunks(da.zeros((8, 4, 10), chunks=(2, 4, 5)), 2)
    ((2, 2, 2, 2), (4,), (10,))
    >>> block_chunks(da.zeros((8, 4, 10), chunks=(2, 2, 5)), 2)   # small: one block
    ((8,), (4,), (10,))
    """
    shape = data.shape
    if nav_ndim == 0:
        return tuple((n,) for n in shape)
    rest = tuple((n,) for n in shape[1:])
    if is_lazy(data) and all(len(c) == 1 for c in data.chunks[1:nav_ndim]):
        # Inner navigation axes whole already: keep the row chunks (signal chunks are merged),
        # unless whole signals make a block much bigger than the target.
        first = data.chunks[0]
        block_bytes = max(first) * int(np.prod(shape[1:], dtype=np.int64)) * data.dtype.itemsize
        if block_bytes <= 2 * preferences.chunk_target_bytes:
            return (first,) + rest
    planned = plan_chunks(shape, data.ndim - 1, data.dtype.itemsize, nav_chunks="auto", sig_chunks=-1,
                          previous=data.chunks if is_lazy(data) else None)[0]
    return (planned,) + rest


def _mask_array(mask: Any, shape: tuple[int, ...], what: str) -> np.ndarray | Any:
    if mask is None:
        return None
    if hasattr(mask, "axes_manager"):
        mask = mask.data
    if tuple(mask.shape) != tuple(shape):
        raise ShapeMismatchError(
            f"{what} has shape {tuple(mask.shape)}; it must have the {what.split('_')[0]} shape "
            f"{tuple(shape)} in numpy order (True = leave out).")
    return mask if is_lazy(mask) else np.asarray(mask, dtype=bool)


def iterate_blocks(data, nav_ndim: int, *, flat_signal: bool = True, navigation_mask: Any = None,
                   signal_mask: Any = None, scheduler: Any = None) -> Iterator[np.ndarray]:
    """Yield numpy blocks covering the whole data, in order.

    Parameters
    ----------
    data
        Numpy or dask array, ``nav_ndim`` navigation axes first.
    flat_signal
        True: blocks of shape ``(pixels, signal_size)`` with masked pixels and masked signal
        values removed. False: blocks of the data's shape (rows of the first navigation
        axis) with masked values set to NaN (floats) or 0 (integers).
    navigation_mask, signal_mask
        Boolean arrays (or signals) of the navigation / signal numpy shape; True = masked.
    scheduler
        dask scheduler used to compute each block (default: dask's).

    Examples
    --------
    >>> x = da.arange(24.0, chunks=6).reshape(4, 6).rechunk((2, 6))
    >>> np.array_equal(np.concatenate(list(iterate_blocks(x, 1))), x.compute())
    True
    >>> [b.shape for b in iterate_blocks(x, 1, signal_mask=np.arange(6) < 2)]
    [(2, 4), (2, 4)]
    """
    nav_shape, sig_shape = data.shape[:nav_ndim], data.shape[nav_ndim:]
    sig_size = int(np.prod(sig_shape, dtype=np.int64))
    nmask = _mask_array(navigation_mask, nav_shape, "navigation_mask")
    smask = _mask_array(signal_mask, sig_shape, "signal_mask")
    if is_lazy(smask):
        smask = np.asarray(smask.compute(), dtype=bool)
    chunks = block_chunks(data, nav_ndim)
    lazy = is_lazy(data)
    if is_lazy(data) and data.chunks != chunks:
        data = data.rechunk(chunks)
    if nmask is not None and is_lazy(nmask):
        nmask = nmask.rechunk(chunks[:nav_ndim])
    starts = np.cumsum((0,) + chunks[0])
    fill = np.nan if np.dtype(data.dtype).kind in "fc" else 0
    for i in range(len(chunks[0])):
        rows = slice(int(starts[i]), int(starts[i + 1]))
        if is_lazy(data):
            block = data.blocks[i].compute(scheduler=scheduler) if scheduler else data.blocks[i].compute()
        else:
            block = np.asarray(data[rows])
        bmask = None
        if nmask is not None:
            bmask = nmask[rows]
            bmask = np.asarray(bmask.compute() if is_lazy(bmask) else bmask, dtype=bool)
        if flat_signal:
            flat = block.reshape(-1, sig_size) if nav_ndim else block.reshape(1, sig_size)
            if bmask is not None:
                flat = flat[~bmask.reshape(-1)]
            if smask is not None:
                flat = flat[:, ~smask.reshape(-1)]
            yield flat
        else:
            if bmask is not None or smask is not None:
                block = block.copy()  # never write into the caller's (or dask's cached) array
                if bmask is not None:
                    block[bmask] = fill
                if smask is not None:
                    block[..., smask] = fill
            yield block
        if nav_ndim == 0:
            return
