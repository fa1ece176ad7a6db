"""The stored-chunk grid of chunked formats (HDF5, zarr): which dask blocks a lazy read may use.

A lazy read of a chunked dataset reads whole stored chunks, so its dask blocks must be the
stored chunks or multiples of them along each axis; these functions turn a ``chunks=``
request into such blocks, or explain why they cannot.
"""

from __future__ import annotations

import math
from typing import Any

import dask
import numpy as np

from ...errors import ChunksError

__all__ = ["block_sizes", "grow", "starts", "valid_extent"]


def starts(chunks: tuple[tuple[int, ...], ...]) -> tuple[tuple[int, ...], ...]:
    return tuple(tuple(int(v) for v in np.concatenate([[0], np.cumsum(c)])) for c in chunks)


# --------------------------------------------------------------------------- chunks=
def _axis_chunks(size: int, stored: int, want: Any, axis: int, where: str) -> tuple[int, ...]:
    """Normalise one axis' request to block sizes aligned on the stored chunk grid."""
    def bad(why: str) -> ChunksError:
        return ChunksError(
            f"chunks along axis {axis} of {where}: {why}. The blocks of a lazy read must be "
            f"the stored chunks ({stored} along this axis) or multiples of them; use "
            f"chunks=None for the stored chunks, or sizes like {stored}, {2 * stored}, "
            f"{4 * stored} (or -1 for the whole axis)."
        )

    if size == 0:
        return (0,)
    if want is None or (isinstance(want, (int, np.integer)) and not isinstance(want, bool)
                        and (want == -1 or want >= size)):
        if want is None:
            want = stored
        else:
            return (size,)
    if isinstance(want, (int, np.integer)) and not isinstance(want, bool):
        want = int(want)
        if want <= 0 or want % stored:
            raise bad(f"{want} is not a positive multiple of {stored}")
        n, rem = divmod(size, want)
        return (want,) * n + ((rem,) if rem else ())
    if isinstance(want, (tuple, list)) and all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in want):
        sizes = tuple(int(v) for v in want)
        if sum(sizes) != size or any(v <= 0 for v in sizes):
            raise bad(f"block sizes {sizes} do not add up to the axis length {size}")
        edges = np.cumsum(sizes)[:-1]
        if np.any(edges % stored):
            raise bad(f"block edges {tuple(int(e) for e in edges)} do not all fall on the "
                      f"stored chunk boundaries (multiples of {stored})")
        return sizes
    raise bad(f"{want!r} is not a block size")


def grow(shape, stored, itemsize: int, target: int) -> tuple[int, ...]:
    """Multiples of ``stored`` (leading axes grown first) up to about ``target`` bytes."""
    sizes = list(stored)
    # Grow the leading (navigation) axes first: signal axes are usually stored whole.
    for ax in range(len(shape)):
        while sizes[ax] < shape[ax] and math.prod(sizes) * itemsize * 2 <= target:
            sizes[ax] = min(sizes[ax] * 2, -(-shape[ax] // stored[ax]) * stored[ax])
    return tuple(min(w, s) for w, s in zip(sizes, shape))


def _auto_chunks(shape, stored, dtype) -> tuple[tuple[int, ...], ...]:
    """Multiples of the stored chunks aimed at dask's ``array.chunk-size``."""
    target = dask.utils.parse_bytes(dask.config.get("array.chunk-size"))
    sizes = grow(shape, stored, dtype.itemsize, target)
    return tuple(_axis_chunks(s, c, w, ax, "")
                 for ax, (s, c, w) in enumerate(zip(shape, stored, sizes)))


def block_sizes(chunks: Any, shape, stored, dtype, where: str):
    """Block sizes per axis for a chunked dataset (see ``lazy_dataset``)."""
    ndim = len(shape)
    if chunks is None:
        return tuple(_axis_chunks(s, c, None, ax, where)
                     for ax, (s, c) in enumerate(zip(shape, stored)))
    if isinstance(chunks, str):
        if chunks == "auto":
            return _auto_chunks(shape, stored, dtype)
        raise ChunksError(f"chunks={chunks!r} for {where}: expected None, 'auto', or block "
                          f"sizes that are multiples of the stored chunks {stored}.")
    if isinstance(chunks, (int, np.integer)) and not isinstance(chunks, bool):
        chunks = (chunks,) * ndim
    if isinstance(chunks, dict):
        chunks = tuple(chunks.get(ax, chunks.get(ax - ndim)) for ax in range(ndim))
    if not isinstance(chunks, (tuple, list)) or len(chunks) != ndim:
        raise ChunksError(
            f"chunks={chunks!r} for {where}: expected one entry per axis ({ndim} axes, "
            f"shape {shape}), each a multiple of the stored chunks {stored}.")
    return tuple(_axis_chunks(s, c, w, ax, where)
                 for ax, (s, c, w) in enumerate(zip(shape, stored, chunks)))




def valid_extent(origin, stored, shape) -> tuple[int, ...]:
    """Extent of the stored chunk at ``origin`` that lies inside the array (edge chunks are partial)."""
    return tuple(min(c, s - o) for o, c, s in zip(origin, stored, shape))
