"""A block's sum over its leading axes, fed from its stored chunks a slab of rows at a time.

A sum over navigation reads each block (say 64 x 512 x 248 float64, 62 MiB), decodes it into
memory and sums it: the decoded block goes out to memory and comes back. Decoded a slab of
rows at a time into one small reused buffer (about a MiB, which stays in the CPU cache), and
summed there, the block never leaves the cache and no block-sized buffer is touched.

The result is bit for bit numpy's ``np.sum(block, axis=(0, ..., r-1), keepdims=True)``: for a
C-contiguous block whose kept (trailing) axes hold at least two values, numpy adds the rows
of the reduced axes one after the other, each column on its own. Here, the running total is
written as row 0 of the buffer in front of the next slab and the same numpy sum is called on
the buffer: the same additions in the same order. Integers are exact in any order. With a
single kept value numpy sums pairwise instead, and :func:`sum_leading` declines (None).

A back end supplies, per stored chunk, a function writing rows ``[r0, r0 + k)`` of the chunk
(stored chunk shape, C order, its reduced axes flattened into rows and its kept axes into
columns) into a ``(k, columns)`` array.

Examples
--------
>>> import numpy as np
>>> from contextlib import contextmanager
>>> data = np.random.default_rng(0).random((6, 4, 5))
>>> @contextmanager
... def rows_of(origin):   # stored chunks (3, 4, 5): rows of chunk `origin`
...     chunk = data[origin[0]:origin[0] + 3].reshape(12, 5)
...     def into(r0, k, out):
...         out[...] = chunk[r0:r0 + k]
...     yield into
>>> got = sum_leading([0, 0, 0], [6, 4, 5], (3, 4, 5), data.shape, 2, data.dtype,
...                   np.dtype("f8"), rows_of, piece_bytes=80)
>>> bool((got == data.sum(axis=(0, 1), keepdims=True)).all())
True
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from ...block_source import scratch
from .chunk_grid import valid_extent

__all__ = ["sum_leading", "RowSum"]

#: Bytes of rows decoded and summed at a time: well inside a core's L2 cache.
PIECE_BYTES = 1 << 20


class RowSum:
    """The sum over rows of a ``(rows, columns)`` stream, fed a slab at a time, in numpy's order.

    :meth:`slab` gives the ``(k, columns)`` array to write the next ``k`` rows into;
    :meth:`add` adds them. :attr:`total` is the sum so far (None before any row).
    """

    def __init__(self, columns: int, dtype: np.dtype, sum_dtype: np.dtype, rows: int):
        self.dtype, self.sum_dtype = np.dtype(dtype), np.dtype(sum_dtype)
        # Floats keep the running total as row 0 of the buffer (same dtype): see the module.
        self.chained = self.dtype.kind == "f"
        self.buf = scratch.take((rows + 1, columns), self.dtype)
        self.total: np.ndarray | None = None

    def slab(self, k: int) -> np.ndarray:
        return self.buf[1:1 + k]

    def add(self, k: int) -> None:
        if self.total is None:
            self.total = np.sum(self.buf[1:1 + k], axis=0, dtype=self.sum_dtype)
        elif self.chained:
            self.buf[0] = self.total
            self.total = np.sum(self.buf[:1 + k], axis=0, dtype=self.sum_dtype)
        else:  # integers: exact (wrapping alike) in any order
            self.total = self.total + np.sum(self.buf[1:1 + k], axis=0, dtype=self.sum_dtype)

    def close(self) -> None:
        scratch.give(self.buf)


def _plan(lo, hi, stored, shape, nreduce):
    """Chunk origins per column group (kept-axes chunk), or None when rows interleave."""
    ndim = len(shape)
    if not 0 < nreduce < ndim:
        return None
    if any(a % c for a, c in zip(lo, stored)):
        return None
    for ax in range(1, nreduce):
        # Rows of the block follow the chunks' rows only if every reduced axis but the first
        # is one whole, unpadded chunk within the block.
        if hi[ax] - lo[ax] != stored[ax] or valid_extent(tuple(lo), stored, shape)[ax] != stored[ax]:
            return None
    if math.prod(stored[nreduce:]) < 2 or math.prod(b - a for a, b in zip(lo[nreduce:], hi[nreduce:])) < 2:
        return None  # a single kept value: numpy sums pairwise
    kept = [range(a, b, c) for a, b, c in zip(lo[nreduce:], hi[nreduce:], stored[nreduce:])]
    groups = []
    for corner in itertools.product(*kept):
        origins = [(o0,) + tuple(lo[1:nreduce]) + corner for o0 in range(lo[0], hi[0], stored[0])]
        groups.append(origins)
    return groups


def _piece_rows(row_bytes: int, align: int | None) -> int:
    rows = max(1, PIECE_BYTES // row_bytes)
    if align:
        step = math.lcm(row_bytes, align) // row_bytes  # rows that end on a codec block edge
        if step * row_bytes <= 4 * PIECE_BYTES:
            rows = step * max(1, rows // step)
    return rows


def sum_leading(lo, hi, stored, shape, nreduce: int, dtype: np.dtype, sum_dtype: np.dtype,
                rows_of: Callable[[tuple[int, ...]], AbstractContextManager[Any]],
                align: int | None = None, piece_bytes: int | None = None) -> np.ndarray | None:
    """``np.sum(block, axis=tuple(range(nreduce)), dtype=sum_dtype, keepdims=True)`` of the block
    ``[lo, hi)`` of an array of ``shape`` stored in chunks of ``stored`` (edge chunks padded),
    or None when this cannot give numpy's exact result (then read the block and sum it).

    ``rows_of(origin)`` is a context manager yielding ``into(r0, k, out)`` for the chunk at
    ``origin``. ``align``: a byte size slab edges should fall on (a codec's block size).
    """
    groups = _plan(lo, hi, stored, shape, nreduce)
    if groups is None:
        return None
    dtype, sum_dtype = np.dtype(dtype), np.dtype(sum_dtype)
    if dtype.kind == "f" and (dtype.itemsize < 4 or sum_dtype != dtype.newbyteorder("=")):
        return None  # float16 sums, or a float sum in another precision: leave them to numpy
    columns = math.prod(stored[nreduce:])
    row_bytes = columns * dtype.itemsize
    per = stored[1:nreduce]
    if piece_bytes is None:
        rows = _piece_rows(row_bytes, align)
    else:
        rows = max(1, piece_bytes // row_bytes)
    out = np.empty((1,) * nreduce + tuple(b - a for a, b in zip(lo[nreduce:], hi[nreduce:])), sum_dtype)
    for origins in groups:
        running = RowSum(columns, dtype, sum_dtype, rows)
        try:
            for origin in origins:
                valid = valid_extent(origin, stored, shape)
                total_rows = valid[0] * math.prod(per)
                with rows_of(origin) as into:
                    for r0 in range(0, total_rows, rows):
                        k = min(rows, total_rows - r0)
                        into(r0, k, running.slab(k))
                        running.add(k)
            total = running.total
        finally:
            running.close()
        assert total is not None
        corner = origins[0][nreduce:]
        valid_kept = valid_extent(origins[0], stored, shape)[nreduce:]
        placed = tuple(slice(c - a, c - a + v) for c, a, v in zip(corner, lo[nreduce:], valid_kept))
        out[(0,) * nreduce + placed] = total.reshape(stored[nreduce:])[tuple(slice(0, v) for v in valid_kept)]
    return out
