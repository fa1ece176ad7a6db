"""PreloadIterator and PreloadList: load the next items in a bounded thread pool."""

from __future__ import annotations

import itertools
import os
import statistics
import threading
import time
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from lazysignal.proxy._lazy import _UNLOADED, LazyReadData

__all__ = ["PreloadIterator", "PreloadList"]


_ITERATOR_IDS = itertools.count()

#: Loads faster than this are not worth a hand-off to a thread: once the median of the
#: first ``_SAMPLE`` preloads is below it, an iterator stops preloading (the items then
#: load when used, in the caller's thread, as in a plain loop).
_FAST_LOAD_S = 1e-3
_SAMPLE = 4


def _timed_load(load: Callable[[str], Any], operation: str, durations: list[float]) -> Any:
    start = time.perf_counter()
    try:
        return load(operation)
    finally:
        durations.append(time.perf_counter() - start)


def _shutdown(pool: ThreadPoolExecutor, prefix: str, ahead: deque) -> None:
    """Stop a pool's threads and undo the preloads of items never handed out.

    Waits for loads in progress, unless called from one of the pool's threads
    (a garbage collection there), which cannot join itself.
    """
    in_pool = threading.current_thread().name.startswith(prefix)
    pool.shutdown(wait=not in_pool, cancel_futures=True)
    while ahead:
        _, item, future = ahead.popleft()
        if future is not None:
            item._unclaim_preload()


class PreloadIterator:
    """Iterate over proxies while the next ``npreload`` load in a bounded thread pool.

    Parameters
    ----------
    iterable : iterable
        Usually of :class:`LazyReadData`; other items pass through untouched.
        A generator is consumed ``npreload`` items ahead of the caller.
    npreload : int, optional
        How many items ahead to load, which is also the number of threads.
        Default ``os.cpu_count()``; ``0`` loads nothing ahead.

    Notes
    -----
    - A load that fails raises :class:`ProxyLoadError` (naming the file) when
      the iteration reaches that item; the iterator is then closed.
    - No thread outlives the iterator: the pool is shut down when iteration
      ends, on :meth:`close`, on leaving a ``with`` block, or when the iterator
      is garbage collected. Closing early releases the data preloaded for items
      never handed out (they reload if used later).
    - Memory: besides what the caller holds, at most ``npreload`` items are
      loaded ahead, so pair it with ``nops`` to keep ``sum()`` bounded.
    - Loads that take under a millisecond (tiny files) gain nothing from a thread
      and lose the hand-off: when the first 4 preloads were that fast, the
      iterator stops preloading and items load when used, as in a plain loop.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from lazysignal.proxy import LazyReadData, PreloadIterator
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.npy") for i in range(6)]
    >>> for i, p in enumerate(paths):
    ...     np.save(p, np.arange(4) * i)
    >>> proxies = (LazyReadData(p, loader=np.load, nops=1) for p in paths)
    >>> with PreloadIterator(proxies, npreload=2) as it:
    ...     total = sum(it)
    >>> total.data
    array([ 0, 15, 30, 45])
    """

    def __init__(self, iterable: Iterable[Any], npreload: int | None = None) -> None:
        npreload = (os.cpu_count() or 1) if npreload is None else npreload
        if not isinstance(npreload, int) or npreload < 0:
            raise ValueError(f"npreload must be an integer >= 0; got {npreload!r}")
        self.npreload = npreload
        self._source: Iterator[Any] | None = iter(iterable)
        self._index = 0  # position of the next item in the source
        # (index, item, future of the preload we started, or None)
        self._ahead: deque[tuple[int, Any, Future | None]] = deque()
        self._pool: ThreadPoolExecutor | None = None
        self._finalizer: weakref.finalize | None = None
        self._durations: list[float] = []  # seconds of each finished preload
        self._preloading = bool(npreload)
        if npreload:
            self._prefix = f"lazysignal-preload-{next(_ITERATOR_IDS)}"
            self._pool = ThreadPoolExecutor(max_workers=npreload, thread_name_prefix=self._prefix)
            # Runs on close() or garbage collection; holds the pool, not self.
            self._finalizer = weakref.finalize(self, _shutdown, self._pool, self._prefix, self._ahead)
        self._fill()

    def __iter__(self) -> "PreloadIterator":
        return self

    def __next__(self) -> Any:
        if self._ahead:
            _, item, future = self._ahead.popleft()
        elif self._source is not None:
            item = next(self._source, _UNLOADED)
            future = None
            self._index += 1
            if item is _UNLOADED:
                self.close()
                raise StopIteration
        else:
            self.close()
            raise StopIteration
        try:
            self._fill()
        except BaseException:
            self.close()
            raise
        if future is not None:
            try:
                future.result()
            except BaseException:
                # The failing item is the one reported; stop here, no threads left.
                self.close()
                raise
        return item

    def _fill(self) -> None:
        """Top the look-ahead up to ``npreload`` items, starting their loads."""
        while self._source is not None and len(self._ahead) < self.npreload:
            item = next(self._source, _UNLOADED)
            if item is _UNLOADED:
                self._source = None
                break
            index = self._index
            self._index += 1
            future = None
            if self._preloading and len(self._durations) >= _SAMPLE:
                self._preloading = statistics.median(self._durations[:_SAMPLE]) >= _FAST_LOAD_S
                if not self._preloading and self._pool is not None:
                    # No thread is needed any more: let them finish what they hold and exit.
                    self._pool.shutdown(wait=False)
            # (a pool exists whenever preloading is on: both come from npreload > 0)
            if (self._preloading and self._pool is not None and isinstance(item, LazyReadData)
                    and item._claim_preload()):
                future = self._pool.submit(_timed_load, item._load,
                                           f"preloading item {index} of a PreloadIterator",
                                           self._durations)
            self._ahead.append((index, item, future))

    def close(self) -> None:
        """Stop preloading, wait for loads in progress, and end the iteration.

        Items preloaded but never handed out release their data. Safe to call
        more than once.
        """
        self._source = None
        if self._finalizer is not None:
            self._finalizer()  # runs once: shuts the pool down, undoes unused preloads
        self._ahead.clear()

    def __enter__(self) -> "PreloadIterator":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class PreloadList(list):
    """A list whose iteration is a :class:`PreloadIterator`.

    Parameters
    ----------
    iterable : iterable, optional
        The initial items (usually :class:`LazyReadData`).
    npreload : int, optional
        Items loaded ahead while iterating; default ``os.cpu_count()``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from lazysignal.proxy import LazyReadData, PreloadList
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.npy") for i in range(4)]
    >>> for i, p in enumerate(paths):
    ...     np.save(p, np.ones(2) * i)
    >>> volumes = PreloadList((LazyReadData(p, loader=np.load, nops=1) for p in paths), npreload=2)
    >>> len(volumes), sum(volumes).data
    (4, array([6., 6.]))
    """

    def __init__(self, iterable: Iterable[Any] | None = None, npreload: int | None = None) -> None:
        super().__init__(() if iterable is None else iterable)
        self.npreload = (os.cpu_count() or 1) if npreload is None else npreload

    def __iter__(self) -> PreloadIterator:
        return PreloadIterator(super().__iter__(), npreload=self.npreload)

    def __repr__(self) -> str:
        return f"PreloadList({list.__repr__(self)}, npreload={self.npreload})"
