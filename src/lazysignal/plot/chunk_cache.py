"""Whole navigation chunks of a lazy array, kept in memory while a plot browses them.

A plot of lazy data shows one navigation position at a time. Reading a position reads the
storage chunk(s) that hold it, so the cache keeps the *navigation chunk* around the cursor
(every signal chunk of it: a spectrum or frame needs its whole signal) and reads the
neighbouring navigation chunks in the background, nearest boundary first, so that walking
across a chunk boundary finds the next chunk already in memory. While the position moves,
the chunk ahead comes first and the one after it is read too (two chunks of lead absorb a
read slower than the walk through one chunk). Background reads run their dask tasks in the
prefetch thread itself (one core for prefetch, the other for drawing).

The cache holds at most ``max_bytes`` (completed chunks plus reads in flight, whose
buffers are already being filled); a chunk larger than that is never cached: each
position is then read on its own. Reads run on a small thread pool; with a
``distributed.Client`` active (:func:`lazysignal.lazy.distributed_client`) each read is a
future on the client. This module handles arrays only, never signals.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import itertools
import threading
import time
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..lazy import distributed_client

__all__ = ["ChunkCache", "CacheStats"]

Key = tuple[int, ...]


@dataclass
class CacheStats:
    """What the cache did since it was made (or since :meth:`ChunkCache.clear`).

    Attributes
    ----------
    hits
        Positions served from a chunk already in memory.
    waits
        Positions whose chunk was being prefetched: the caller waited for that read.
    misses
        Positions whose chunk had to be read in the foreground.
    uncached
        Positions read on their own because their chunk is larger than the bound.
    prefetched
        Chunks read in the background.
    longest_wait_s
        The longest time one :meth:`ChunkCache.get` spent waiting for a read (seconds).
    """

    hits: int = 0
    waits: int = 0
    misses: int = 0
    uncached: int = 0
    prefetched: int = 0
    longest_wait_s: float = 0.0


class ChunkCache:
    """Navigation chunks of a dask array, read on demand, their neighbours prefetched.

    Parameters
    ----------
    data
        A dask array whose first ``nav_ndim`` axes navigate (numpy order).
    nav_ndim
        Number of navigation axes.
    max_bytes
        Most bytes held (chunks in memory plus reads in flight). 0: no caching.
    prefetch
        Read neighbouring chunks in the background after each :meth:`get`.
    workers
        Threads reading in the background (each read is itself a dask computation).

    Examples
    --------
    >>> import dask.array as da
    >>> x = da.arange(4 * 6 * 3, chunks=(2 * 6 * 3)).reshape(4, 6, 3).rechunk((2, 3, 3))
    >>> cache = ChunkCache(x, nav_ndim=2, max_bytes=10_000)
    >>> cache.get((0, 0)).tolist()
    [0, 1, 2]
    >>> cache.wait()                      # let the prefetch of the neighbours finish
    >>> sorted(cache.cached_keys)
    [(0, 0), (0, 1), (1, 0)]
    >>> cache.get((2, 1)).tolist(), cache.stats.misses, cache.stats.hits
    ([39, 40, 41], 1, 1)
    >>> cache.close()
    """

    def __init__(self, data: Any, nav_ndim: int, *, max_bytes: int, prefetch: bool = True, workers: int = 1):
        if nav_ndim < 1 or nav_ndim > data.ndim:
            raise ValueError(f"nav_ndim must be between 1 and {data.ndim}; got {nav_ndim}.")
        self._nav_ndim = int(nav_ndim)
        self.max_bytes = int(max_bytes)
        self.prefetch = bool(prefetch)
        self._lock = threading.RLock()
        self._executor = cf.ThreadPoolExecutor(max_workers=max(1, int(workers)),
                                               thread_name_prefix="lazysignal-plot-prefetch")
        self._blocks: OrderedDict[Key, np.ndarray] = OrderedDict()
        self._pending: dict[Key, cf.Future] = {}
        self._generation = itertools.count()
        self.reset(data)

    # -- state -------------------------------------------------------------------------
    def reset(self, data: Any = None) -> None:
        """Forget every chunk (the data changed); optionally switch to new ``data``.

        Reads in flight finish but their results are dropped.
        """
        with self._lock:
            for future in self._pending.values():
                future.cancel()
            self._pending = {}
            self._blocks.clear()
            self._gen = next(self._generation)
            self.stats = CacheStats()
            self._last_index: tuple[int, ...] | None = None
            self._direction: tuple[int, ...] | None = None
            if data is not None:
                self._data = data
                self._edges = [np.cumsum((0, *c)) for c in data.chunks[: self._nav_ndim]]
                self._nav_chunks = data.chunks[: self._nav_ndim]
                self._row_bytes = int(np.prod(data.shape[self._nav_ndim:], dtype=np.int64)) * data.dtype.itemsize

    clear = reset

    @property
    def nbytes(self) -> int:
        """Bytes of the chunks in memory."""
        with self._lock:
            return sum(b.nbytes for b in self._blocks.values())

    @property
    def reserved_bytes(self) -> int:
        """Bytes in memory plus bytes of reads in flight (never above ``max_bytes``)."""
        with self._lock:
            return self.nbytes + sum(self._block_bytes(k) for k in self._pending)

    @property
    def cached_keys(self) -> tuple[Key, ...]:
        """Block indices (numpy order) of the chunks in memory, least recently used first."""
        with self._lock:
            return tuple(self._blocks)

    def key_of(self, nav_index: Sequence[int]) -> Key:
        """The block index of the navigation chunk holding ``nav_index`` (numpy order)."""
        return tuple(int(np.searchsorted(e, i, side="right")) - 1 for e, i in zip(self._edges, nav_index))

    def _block_slices(self, key: Key) -> tuple[slice, ...]:
        return tuple(slice(int(e[k]), int(e[k + 1])) for e, k in zip(self._edges, key))

    def _block_bytes(self, key: Key) -> int:
        n = 1
        for chunks, k in zip(self._nav_chunks, key):
            n *= chunks[k]
        return n * self._row_bytes

    # -- reading -------------------------------------------------------------------------
    def get(self, nav_index: Sequence[int]) -> np.ndarray:
        """The signal at ``nav_index`` (navigation indices in numpy order) as a numpy array.

        Served from memory when its chunk is cached; otherwise its chunk is read (or, when
        larger than the bound, the position alone). Then the neighbours are prefetched.
        """
        nav_index = tuple(int(i) for i in nav_index)
        if self._last_index is not None and nav_index != self._last_index:
            self._direction = tuple(int(np.sign(a - b)) for a, b in zip(nav_index, self._last_index))
        self._last_index = nav_index
        key = self.key_of(nav_index)
        local = tuple(i - int(e[k]) for i, e, k in zip(nav_index, self._edges, key))
        with self._lock:
            block = self._blocks.get(key)
            if block is not None:
                self._blocks.move_to_end(key)
                self.stats.hits += 1
            future = None if block is not None else self._pending.get(key)
        start = time.perf_counter()
        if block is None and future is not None and future.cancel():
            # Still queued behind other prefetches: read it now rather than wait for them.
            with self._lock:
                if self._pending.get(key) is future:
                    del self._pending[key]
            future = None
        if block is None and future is not None and not future.cancelled():
            self.stats.waits += 1
            block = future.result()
        if block is None:
            block = self._read_foreground(key)
        position = None
        if block is None:  # the chunk is larger than the bound: read the position alone
            self.stats.uncached += 1
            position = np.asarray(_compute(self._data[nav_index], distributed_client()))
        self.stats.longest_wait_s = max(self.stats.longest_wait_s, time.perf_counter() - start)
        self._schedule_neighbours(key, nav_index)
        if block is not None:
            return block[local]
        assert position is not None  # read alone above: the chunk was too large to cache
        return position

    def _read_foreground(self, key: Key) -> np.ndarray | None:
        with self._lock:
            if not self._make_room(self._block_bytes(key), keep={key}):
                return None
            gen = self._gen
        self.stats.misses += 1
        block = np.asarray(_compute(self._data[self._block_slices(key)], distributed_client()))
        with self._lock:
            if gen == self._gen:
                self._blocks[key] = block
                self._blocks.move_to_end(key)
        return block

    # -- room and prefetch ----------------------------------------------------------------
    def _make_room(self, nbytes: int, keep: set[Key]) -> bool:
        """Evict least recently used chunks (not in ``keep``) until ``nbytes`` more fit."""
        if nbytes > self.max_bytes:
            return False
        for key in [k for k in self._pending if k not in keep]:
            if self.reserved_bytes + nbytes <= self.max_bytes:
                break
            if self._pending[key].cancel():
                del self._pending[key]
        for key in [k for k in self._blocks if k not in keep]:
            if self.reserved_bytes + nbytes <= self.max_bytes:
                break
            del self._blocks[key]
        return self.reserved_bytes + nbytes <= self.max_bytes

    def neighbours(self, nav_index: Sequence[int], direction: Sequence[int] | None = None) -> list[Key]:
        """The navigation chunks to prefetch around ``nav_index``, most wanted first.

        The face-adjacent chunks, nearest boundary first; with a ``direction`` of motion
        (per axis -1, 0 or 1), the chunk ahead comes first and the one after it is added last
        (a walk then finds two chunks ready ahead of it, which absorbs a slow read).
        """
        key = self.key_of(nav_index)
        direction = tuple(direction) if direction is not None else (0,) * len(key)
        found, further = [], []
        for axis, (e, k, i, d) in enumerate(zip(self._edges, key, nav_index, direction)):
            n_blocks = len(e) - 1
            for step, distance in ((-1, i - int(e[k]) + 1), (1, int(e[k + 1]) - i)):
                if 0 <= k + step < n_blocks:
                    found.append((0 if step == d else distance, _moved(key, axis, step)))
                if step == d and 0 <= k + 2 * step < n_blocks:
                    further.append(_moved(key, axis, 2 * step))
        return [k for _, k in sorted(found)] + further

    def _schedule_neighbours(self, key: Key, nav_index: tuple[int, ...]) -> None:
        if not self.prefetch or self.max_bytes <= 0:
            return
        wanted = self.neighbours(nav_index, self._direction)
        client = distributed_client()
        with self._lock:
            keep = {key, *wanted}
            for other in wanted:
                if other in self._blocks or other in self._pending:
                    continue
                if not self._make_room(self._block_bytes(other), keep):
                    break
                context = contextvars.copy_context()  # the caller's preferences.set() apply
                self._pending[other] = self._executor.submit(
                    context.run, self._read_background, other, self._gen, client)

    def _read_background(self, key: Key, gen: int, client: Any) -> np.ndarray | None:
        with self._lock:
            if gen != self._gen:
                return None
            data = self._data
        block = np.asarray(_compute(data[self._block_slices(key)], client, background=True))
        with self._lock:
            # Stored before the future completes, so whoever waits on it finds the chunk.
            if gen == self._gen and key in self._pending:
                del self._pending[key]
                self._blocks[key] = block
                self.stats.prefetched += 1
        return block

    def wait(self, timeout: float | None = None) -> None:
        """Block until every background read started so far has finished.

        Raises the first error a background read hit.
        """
        while True:
            with self._lock:
                futures = [f for f in self._pending.values() if not f.cancelled()]
            if not futures:
                return
            done, not_done = cf.wait(futures, timeout=timeout)
            for future in done:
                future.result()
            if not_done:
                raise TimeoutError(f"{len(not_done)} prefetch read(s) still running after {timeout} s.")
            with self._lock:
                for key, future in list(self._pending.items()):
                    if future.done():
                        del self._pending[key]

    def close(self) -> None:
        """Drop every chunk and stop the background threads (reads in flight are abandoned)."""
        self.reset()
        self._executor.shutdown(wait=False, cancel_futures=True)


def _moved(key: Key, axis: int, step: int) -> Key:
    other = list(key)
    other[axis] += step
    return tuple(other)


def _compute(array: Any, client: Any, background: bool = False) -> np.ndarray:
    """One dask computation, on the distributed client when there is one.

    A background read runs its tasks in the prefetch thread itself rather than in dask's
    shared pool, so that prefetch takes one core and leaves the other to the figure.
    """
    if client is not None:
        return client.compute(array).result()
    return array.compute(scheduler="synchronous") if background else array.compute()
