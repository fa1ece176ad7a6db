"""What a lazy array read by one of our back ends can do beyond being a dask array.

(Array layer: the back ends in :mod:`lazysignal.io.backends` attach sources, the expression
layer and ``lazy.compute_arrays`` read them; neither side sees a signal.)

A back end (binary files, HDF5 chunks, zarr chunks) builds its dask array with one task
per block that returns a *fresh* array. When the consumer of a block is a reduction that
keeps nothing of it (a sum over navigation, a virtual image), a fresh 16-64 MiB buffer per
block is pure cost: the kernel maps and zeroes new pages for every block (2 GiB of page
faults for a 2 GiB file), and the block leaves the CPU caches before it is summed. So each
back end also attaches a *block source* to its array: an object with

``read_into(block_id, out, region=None) -> ndarray``
    Read block ``block_id`` (or only ``region``, a tuple of slices local to the block, when
    the source has ``reads_regions = True``) into ``out`` (C-contiguous, of the region's
    shape and the array's dtype) and return it.

The expression layer (:mod:`lazysignal.expressions`) reads through it into buffers of the
:data:`scratch` pool, reused from block to block, and returns only the reduced result.

Examples
--------
>>> import dask.array as da, numpy as np
>>> class Ones:
...     reads_regions = False
...     def read_into(self, block_id, out, region=None):
...         out[...] = 1
...         return out
>>> x = attach(da.ones(4, chunks=2), Ones())
>>> isinstance(source_of(x), Ones), source_of(x + 1) is None
(True, True)
>>> pool = ScratchPool()
>>> buf = pool.take((2, 3), np.float64); pool.give(buf)
>>> np.shares_memory(pool.take((2, 3), np.float64), buf)   # the same memory, reused
True
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

__all__ = ["attach", "source_of", "ScratchPool", "scratch"]

_ATTR = "_lazysignal_block_source"


def attach(array: Any, source: Any) -> Any:
    """Attach ``source`` to the dask ``array`` (returned); any array derived from it has none."""
    setattr(array, _ATTR, source)
    return array


def source_of(array: Any) -> Any:
    """The block source attached to ``array``, or None."""
    return getattr(array, _ATTR, None)


#: Allocation granularity of the scratch pool (bytes).
_GRAIN = 1 << 16


class ScratchPool:
    """Buffers handed from one block to the next instead of fresh allocations.

    ``take`` returns a C-contiguous array of the asked shape and dtype, from a freed buffer
    of at least that many bytes when there is one; ``give`` hands it back. At most
    ``keep_bytes`` of free buffers are kept (largest dropped first), and :meth:`clear` (called
    when a computation ends) drops them all, so the pool holds memory only while blocks
    flow. A buffer in use belongs to one task: nothing taken may escape the task that took it.
    """

    def __init__(self, keep_bytes: int = 512 * 2**20):
        self.keep_bytes = keep_bytes
        self._free: list[np.ndarray] = []  # flat uint8 buffers
        self._lock = threading.Lock()

    def take(self, shape, dtype) -> np.ndarray:
        dtype = np.dtype(dtype)
        need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        with self._lock:
            fits = [i for i, b in enumerate(self._free) if need <= b.nbytes <= 2 * need + 2**20]
            buf = self._free.pop(min(fits, key=lambda i: self._free[i].nbytes)) if fits else None
        if buf is None:
            # Large buffers get an eighth more than asked (untouched pages cost nothing):
            # blocks of varying size, e.g. compressed chunks, then reuse one buffer instead of
            # each new largest one faulting in fresh pages (a few microseconds a page on a VM).
            room = need if need < _GRAIN else -(-(need + need // 8) // _GRAIN) * _GRAIN
            buf = np.empty(max(room, 1), np.uint8)
        return buf[:need].view(dtype).reshape(shape)

    def give(self, array: np.ndarray) -> None:
        base = array.base if isinstance(array.base, np.ndarray) else array
        while isinstance(base.base, np.ndarray):
            base = base.base
        with self._lock:
            self._free.append(base)
            total = sum(b.nbytes for b in self._free)
            while self._free and total > self.keep_bytes:
                big = max(range(len(self._free)), key=lambda i: self._free[i].nbytes)
                total -= self._free.pop(big).nbytes

    def clear(self) -> None:
        with self._lock:
            self._free.clear()

    @property
    def free_bytes(self) -> int:
        with self._lock:
            return sum(b.nbytes for b in self._free)


#: The process' pool (each dask.distributed worker process has its own).
scratch = ScratchPool()
