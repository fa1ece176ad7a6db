"""Whole navigation chunks of a lazy array, kept in memory while a plot browses them.

A plot of lazy data shows one navigation position at a time. Reading a position reads the
storage chunk(s) that hold it, so the cache keeps the *navigation chunk* around the cursor
(every signal chunk of it: a spectrum or frame needs its whole signal) and reads the
neighbouring navigation chunks in the background, so that walking across a chunk boundary
finds the next chunk already in memory.

What is read next is decided at every move, not queued once: the background threads take
the most wanted chunk of the *latest* move's list (the chunk ahead of the walk and the one
after it first, then the side neighbours nearest boundary first, the chunk behind last), so a
chunk that stopped being wanted is never read before one that is. A move never queues behind
speculative reads: a chunk it needs that is not in memory is read by the move itself, and
when a position alone reads faster than its chunk (measured: a frame of a file mapped from
disk, not a whole compressed chunk), the move reads just its position and the chunk follows
in the background, first in line.

An array read by one of our back ends (a file loaded lazily) is read through its block
source (:mod:`lazysignal.block_source`): no dask graph per read, and a position is read as
that region of its block only (a frame of a binary file: one ``pread`` of 0.1 ms instead of
a 5 ms dask computation). Other arrays are read with dask. Background reads run their dask tasks in their own thread (synchronous
scheduler), so prefetch takes one core and leaves the other to the figure; the bytes land in
a fresh array there (dask copies each result out of its chunks, and the file reads and copies
release the GIL), so drawing a cached frame never faults its pages in from disk.

The cache holds at most ``max_bytes`` (completed chunks plus reads in flight, whose
buffers are already being filled); a chunk larger than that is never cached: each
position is then read on its own. With a ``distributed.Client`` active
(:func:`lazysignal.lazy.distributed_client`) each read is a future on the client. This
module handles arrays only, never signals.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import itertools
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..block_source import source_of
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
        Positions whose chunk was being read in the background: the caller waited for that read.
    misses
        Positions whose whole chunk was read in the foreground.
    positions
        Positions read alone in the foreground because their chunk was not in memory (the
        chunk is then read in the background).
    uncached
        Positions read on their own because their chunk is larger than the bound.
    prefetched
        Chunks read in the background.
    longest_wait_s
        The longest time one :meth:`ChunkCache.get` spent reading or waiting for a read (seconds).
    """

    hits: int = 0
    waits: int = 0
    misses: int = 0
    positions: int = 0
    uncached: int = 0
    prefetched: int = 0
    longest_wait_s: float = 0.0

    @property
    def reads(self) -> int:
        """Positions that read or waited for a read (everything but hits).

        Examples
        --------
        >>> CacheStats(hits=3, misses=1, positions=2).reads
        3
        """
        return self.waits + self.misses + self.positions + self.uncached


class _ReadTimes:
    """Measured read times: seconds per byte of a chunk read, seconds of a position read.

    The fastest of each so far: what the storage costs, not the first read's warm-up (imports,
    a cold file) or a busy machine's stall, which would swing the choice between them.
    """

    def __init__(self) -> None:
        self.chunk_s_per_byte: float | None = None
        self.position_s: float | None = None

    @staticmethod
    def _mix(old: float | None, new: float) -> float:
        return new if old is None else min(old, new)

    def chunk(self, seconds: float, nbytes: int) -> None:
        self.chunk_s_per_byte = self._mix(self.chunk_s_per_byte, seconds / max(nbytes, 1))

    def position(self, seconds: float) -> None:
        self.position_s = self._mix(self.position_s, seconds)

    def chunk_s(self, nbytes: int) -> float | None:
        return None if self.chunk_s_per_byte is None else self.chunk_s_per_byte * nbytes


@dataclass
class _Read:
    """A chunk read in flight: who waits for it and when it started."""

    future: cf.Future
    started: float
    gen: int


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
    position_first
        When a position's chunk is not in memory: True reads the position alone and the
        chunk in the background; False reads the whole chunk at once; None (default) decides
        from measured read times (the position alone while it read in under half the time of
        its chunk; the first read of all is a whole chunk, the first after it a position
        alone, to measure both). Without ``prefetch`` the whole chunk is read.

    Examples
    --------
    >>> import dask.array as da
    >>> x = da.arange(4 * 6 * 3, chunks=(2 * 6 * 3)).reshape(4, 6, 3).rechunk((2, 3, 3))
    >>> cache = ChunkCache(x, nav_ndim=2, max_bytes=10_000, position_first=False)
    >>> cache.get((0, 0)).tolist()
    [0, 1, 2]
    >>> cache.wait()                      # let the prefetch of the neighbours finish
    >>> sorted(cache.cached_keys)
    [(0, 0), (0, 1), (1, 0)]
    >>> cache.get((2, 1)).tolist(), cache.stats.misses, cache.stats.hits
    ([39, 40, 41], 1, 1)
    >>> cache.close()
    """

    def __init__(self, data: Any, nav_ndim: int, *, max_bytes: int, prefetch: bool = True, workers: int = 1,
                 position_first: bool | None = None):
        if nav_ndim < 1 or nav_ndim > data.ndim:
            raise ValueError(f"nav_ndim must be between 1 and {data.ndim}; got {nav_ndim}.")
        self._nav_ndim = int(nav_ndim)
        self.max_bytes = int(max_bytes)
        self.prefetch = bool(prefetch)
        self.position_first = position_first
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)  # queue, reads in flight or closing changed
        self._n_workers = max(1, int(workers))
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._blocks: OrderedDict[Key, np.ndarray] = OrderedDict()
        self._generation = itertools.count()
        self.reset(data)
        # A cache dropped without close(): wake its threads so that they end.
        weakref.finalize(self, _wake, self._changed)

    # -- state -------------------------------------------------------------------------
    def reset(self, data: Any = None) -> None:
        """Forget every chunk (the data changed); optionally switch to new ``data``.

        Reads in flight finish but their results are dropped.
        """
        with self._lock:
            self._inflight: dict[Key, _Read] = {}
            self._queue: list[Key] = []   # wanted, not yet started: most wanted first
            self._keep: set[Key] = set()  # the chunk at the cursor and the wanted ones: not evicted
            self._context: contextvars.Context | None = None
            self._client: Any = None
            self._error: BaseException | None = None
            self._blocks.clear()
            self._gen = next(self._generation)
            self.stats = CacheStats()
            self._times = _ReadTimes()
            self._last_index: tuple[int, ...] | None = None
            self._deferred: tuple[Key, tuple[int, ...], Key | None] | None = None
            self._direction: tuple[int, ...] | None = None
            if data is not None:
                self._data = data
                self._edges = [np.cumsum((0, *c)) for c in data.chunks[: self._nav_ndim]]
                self._nav_chunks = data.chunks[: self._nav_ndim]
                self._row_bytes = int(np.prod(data.shape[self._nav_ndim:], dtype=np.int64)) * data.dtype.itemsize
            self._changed.notify_all()

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
            return self.nbytes + sum(self._block_bytes(k) for k in self._inflight)

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
    def get(self, nav_index: Sequence[int], defer_prefetch: bool = False) -> np.ndarray:
        """The signal at ``nav_index`` (navigation indices in numpy order) as a numpy array.

        Served from memory when its chunk is cached; otherwise its chunk is read, or its
        position alone when that is cheaper (the chunk then follows in the background), or,
        when the chunk is larger than the bound, the position alone. Then the neighbours are
        prefetched, most wanted first; with ``defer_prefetch`` only once
        :meth:`start_prefetch` is called (a figure calls it after drawing, so that waking
        the reading thread, which then wants the GIL, does not delay the frame).
        """
        nav_index = tuple(int(i) for i in nav_index)
        if self._last_index is not None and nav_index != self._last_index:
            self._direction = tuple(int(np.sign(a - b)) for a, b in zip(nav_index, self._last_index))
        self._last_index = nav_index
        key = self.key_of(nav_index)
        local = tuple(i - int(e[k]) for i, e, k in zip(nav_index, self._edges, key))
        start = time.perf_counter()
        with self._lock:
            block = self._blocks.get(key)
            if block is not None:
                self._blocks.move_to_end(key)
                self.stats.hits += 1
            read = self._inflight.get(key) if block is None else None
            if key in self._queue:  # not started: this move reads it, not after other prefetches
                self._queue.remove(key)
        position = None
        chunk_later = False  # the position was read alone: its chunk goes first in the queue
        if block is None and read is not None:
            if self._alone_beats_waiting(key, read):
                position = self._read_position(nav_index)
            else:
                self.stats.waits += 1
                block = read.future.result()  # None when a reset dropped it: read again below
        if block is None and position is None:
            fits = 0 < self._block_bytes(key) <= self.max_bytes
            if fits and self.prefetch and self._position_first(key):
                position = self._read_position(nav_index)
                chunk_later = True
            else:
                block = self._read_foreground(key) if fits else None
                if block is None:  # the chunk is larger than the bound: read the position alone
                    self.stats.uncached += 1
                    position = self._read_position(nav_index, count=False)
        self.stats.longest_wait_s = max(self.stats.longest_wait_s, time.perf_counter() - start)
        self._deferred = (key, nav_index, key if chunk_later else None)
        if not defer_prefetch:
            self.start_prefetch()
        if block is not None:
            return block[local]
        assert position is not None  # read alone above
        return position

    def _position_first(self, key: Key) -> bool:
        if self.position_first is not None:
            return self.position_first
        chunk_s = self._times.chunk_s(self._block_bytes(key))
        position_s = self._times.position_s
        if chunk_s is None:
            # The first read (a plot's first frame): the whole chunk, so that the moves right
            # after it find it in memory and the one-time costs of a first read (opening the
            # file, warming imports) are not paid again by a background read they wait for.
            return False
        return position_s is None or position_s < 0.5 * chunk_s

    def _alone_beats_waiting(self, key: Key, read: _Read) -> bool:
        """Whether to read the position alone rather than wait for its chunk's read in flight:
        when the position costs under half of what that chunk read costs (at least the time it
        has run so far). A position of a compressed chunk costs the whole chunk: wait for it."""
        if self.position_first is not None:
            return self.position_first
        position_s = self._times.position_s
        if position_s is None:
            return False
        chunk_s = self._times.chunk_s(self._block_bytes(key)) or 0.0
        return position_s < 0.5 * max(chunk_s, time.perf_counter() - read.started)

    def _read_position(self, nav_index: tuple[int, ...], count: bool = True) -> np.ndarray:
        start = time.perf_counter()
        client = distributed_client()
        source = _direct_source(self._data, client)
        if source is None:
            position = np.asarray(_compute(self._data[nav_index], client))
        else:
            key = self.key_of(nav_index)
            local = tuple(i - int(e[k]) for i, e, k in zip(nav_index, self._edges, key))
            position = self._read_source(source, self._data, key, local)[(0,) * self._nav_ndim]
        if count:
            self.stats.positions += 1
            self._times.position(time.perf_counter() - start)
        return position

    def _read_foreground(self, key: Key) -> np.ndarray | None:
        with self._lock:
            if not self._make_room(self._block_bytes(key), keep={key}):
                return None
            gen = self._gen
        self.stats.misses += 1
        start = time.perf_counter()
        block = self._read_chunk(self._data, key, distributed_client())
        with self._lock:
            if gen == self._gen:
                self._times.chunk(time.perf_counter() - start, block.nbytes)
                self._blocks[key] = block
                self._blocks.move_to_end(key)
        return block

    # -- room and prefetch ----------------------------------------------------------------
    def _make_room(self, nbytes: int, keep: set[Key]) -> bool:
        """Evict least recently used chunks (not in ``keep``) until ``nbytes`` more fit."""
        if nbytes > self.max_bytes:
            return False
        for key in [k for k in self._blocks if k not in keep]:
            if self.reserved_bytes + nbytes <= self.max_bytes:
                break
            del self._blocks[key]
        return self.reserved_bytes + nbytes <= self.max_bytes

    def neighbours(self, nav_index: Sequence[int], direction: Sequence[int] | None = None) -> list[Key]:
        """The navigation chunks to prefetch around ``nav_index``, most wanted first.

        The face-adjacent chunks, nearest boundary first; with a ``direction`` of motion
        (per axis -1, 0 or 1), the chunk ahead comes first and the one after it second (a
        walk then finds two chunks ready ahead of it, which absorbs a slow read), the chunk
        behind last.
        """
        key = self.key_of(nav_index)
        direction = tuple(direction) if direction is not None else (0,) * len(key)
        ahead, found, behind = [], [], []
        for axis, (e, k, i, d) in enumerate(zip(self._edges, key, nav_index, direction)):
            n_blocks = len(e) - 1
            for step, distance in ((-1, i - int(e[k]) + 1), (1, int(e[k + 1]) - i)):
                if not 0 <= k + step < n_blocks:
                    continue
                if step == d:
                    ahead.append(_moved(key, axis, step))
                    if 0 <= k + 2 * step < n_blocks:
                        ahead.append(_moved(key, axis, 2 * step))
                elif step == -d:
                    behind.append(_moved(key, axis, step))
                else:
                    found.append((distance, _moved(key, axis, step)))
        return ahead + [k for _, k in sorted(found)] + behind

    def start_prefetch(self) -> None:
        """Start the background reads wanted around the last :meth:`get` (if not started yet)."""
        deferred, self._deferred = self._deferred, None
        if deferred is not None:
            self._schedule_neighbours(*deferred)

    def _schedule_neighbours(self, key: Key, nav_index: tuple[int, ...], first: Key | None = None) -> None:
        if not self.prefetch or self.max_bytes <= 0:
            return
        wanted = ([first] if first is not None else []) + self.neighbours(nav_index, self._direction)
        with self._lock:
            self._keep = {key, *wanted}
            # The latest move's list replaces the queue: what it no longer wants is not read.
            self._queue = [k for k in wanted if k not in self._blocks and k not in self._inflight]
            self._context = contextvars.copy_context()  # the caller's preferences.set() apply
            self._client = distributed_client()
            while self._queue and len(self._threads) < self._n_workers:
                # Started once and kept: waking a waiting thread costs the move nothing, while
                # starting one makes the caller wait for it to run (and then for the GIL back).
                thread = threading.Thread(target=_prefetch_thread, args=(weakref.ref(self), self._changed),
                                          name="lazysignal-plot-prefetch", daemon=True)
                self._threads.append(thread)
                thread.start()
            self._changed.notify_all()

    def _next_read(self) -> tuple[Key, _Read, Any, Any, contextvars.Context] | None:
        """Take the most wanted chunk that fits (under the lock); None when there is none."""
        dropped = bool(self._queue)
        while self._queue:
            key = self._queue.pop(0)
            if key in self._blocks or key in self._inflight:
                continue
            if not self._make_room(self._block_bytes(key), self._keep):
                continue  # does not fit beside the chunks kept: skip it
            read = _Read(cf.Future(), time.perf_counter(), self._gen)
            self._inflight[key] = read
            assert self._context is not None  # set with the queue
            return key, read, self._data, self._client, self._context.copy()
        if dropped:  # the queue emptied without a read: wait() may return now
            self._changed.notify_all()
        return None

    def _run(self, job: tuple[Key, _Read, Any, Any, contextvars.Context]) -> None:
        """One background read (in a prefetch thread) and its bookkeeping."""
        key, read, data, client, context = job
        try:
            block = context.run(self._read_background, data, key, client)
        except BaseException as exc:  # handed to whoever waits: get() or wait()
            with self._changed:
                if self._inflight.get(key) is read:
                    del self._inflight[key]
                    self._error = self._error or exc
                self._changed.notify_all()
            read.future.set_exception(exc)
            return
        with self._changed:
            current = self._inflight.get(key) is read and read.gen == self._gen
            if current:
                # Stored before the future completes, so whoever waits on it finds the chunk.
                del self._inflight[key]
                self._blocks[key] = block
                self.stats.prefetched += 1
                self._times.chunk(time.perf_counter() - read.started, block.nbytes)
            self._changed.notify_all()
        read.future.set_result(block if current else None)

    def _read_background(self, data: Any, key: Key, client: Any) -> np.ndarray:
        return self._read_chunk(data, key, client, background=True)

    def _read_chunk(self, data: Any, key: Key, client: Any, background: bool = False) -> np.ndarray:
        source = _direct_source(data, client)
        if source is None:
            return np.asarray(_compute(data[self._block_slices(key)], client, background=background))
        return self._read_source(source, data, key)

    def _read_source(self, source: Any, data: Any, key: Key, local: Key | None = None) -> np.ndarray:
        """Navigation chunk ``key`` (or its position ``local``, kept as length-1 navigation
        axes) read through the array's block source, one signal block after the other."""
        nav = self._nav_ndim
        sig_edges = [np.cumsum((0, *c)) for c in data.chunks[nav:]]
        if local is None:
            nav_shape = tuple(chunks[k] for chunks, k in zip(self._nav_chunks, key))
            nav_region = tuple(slice(0, n) for n in nav_shape)
        else:
            nav_shape = (1,) * nav
            nav_region = tuple(slice(i, i + 1) for i in local)
        out = np.empty(nav_shape + tuple(data.shape[nav:]), dtype=data.dtype)
        regions = getattr(source, "reads_regions", False)
        for sig_id in itertools.product(*(range(len(e) - 1) for e in sig_edges)):
            sig = tuple(slice(int(e[j]), int(e[j + 1])) for e, j in zip(sig_edges, sig_id))
            target = out[(slice(None),) * nav + sig]
            sig_local = tuple(slice(0, b.stop - b.start) for b in sig)
            if not regions:  # the whole block, then the part wanted
                block_shape = tuple(c[k] for c, k in zip(data.chunks, key + sig_id))
                whole = source.read_into(key + sig_id, np.empty(block_shape, dtype=data.dtype))
                target[...] = whole[nav_region]
            elif target.flags.c_contiguous:  # one signal block: straight into the result
                source.read_into(key + sig_id, target, nav_region + sig_local)
            else:
                target[...] = source.read_into(key + sig_id, np.empty(target.shape, dtype=data.dtype),
                                               nav_region + sig_local)
        return out

    def wait(self, timeout: float | None = None) -> None:
        """Block until the background reads wanted so far have finished (none queued or running).

        Raises the first error a background read hit, or ``TimeoutError`` after ``timeout`` s.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._changed:
            while (self._queue or self._inflight) and not self._closed:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise TimeoutError(f"{len(self._queue) + len(self._inflight)} prefetch read(s) "
                                       f"still pending after {timeout} s.")
                self._changed.wait(left)
            error, self._error = self._error, None
        if error is not None:
            raise error

    def close(self) -> None:
        """Drop every chunk and stop the background threads (reads in flight are abandoned)."""
        with self._changed:
            self._closed = True
        self.reset()


def _prefetch_thread(ref: weakref.ref, changed: threading.Condition) -> None:
    """A background reading thread. It holds its cache only while reading, so that a cache
    dropped without :meth:`ChunkCache.close` is collected (its finalizer wakes the thread to end)."""
    while True:
        with changed:
            while True:
                cache = ref()
                if cache is None or cache._closed:
                    return
                job = cache._next_read()
                if job is not None:
                    break
                del cache
                changed.wait()
        cache._run(job)
        del cache, job


def _wake(changed: threading.Condition) -> None:
    with changed:
        changed.notify_all()


def _moved(key: Key, axis: int, step: int) -> Key:
    other = list(key)
    other[axis] += step
    return tuple(other)


def _direct_source(data: Any, client: Any) -> Any:
    """The block source to read ``data`` through, or None: read with dask (derived arrays,
    arrays without one, and any read while a distributed client computes)."""
    return None if client is not None else source_of(data)


def _compute(array: Any, client: Any, background: bool = False) -> np.ndarray:
    """One dask computation, on the distributed client when there is one.

    A background read runs its tasks in the prefetch thread itself rather than in dask's
    shared pool, so that prefetch takes one core and leaves the other to the figure.
    """
    if client is not None:
        return client.compute(array).result()
    return array.compute(scheduler="synchronous") if background else array.compute()
