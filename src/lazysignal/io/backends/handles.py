"""Bounded caches of open file handles shared by the lazy reads of one process.

Lazy arrays read by path: their tasks open files on demand, and reopening an HDF5 file or a zip
archive per chunk would cost more than reading the chunk, so each back end keeps the handles it
opened in a :class:`HandleCache`. The cache is bounded: at most ``max_idle`` handles that no
task is using stay open (least recently used closed first), so a process that loads thousands
of files lazily does not run out of descriptors. A handle is never closed while a task holds it
(:meth:`HandleCache.lease`): an evicted handle in use is closed when its last lease ends. The
next read of an evicted file simply opens it again.

Examples
--------
>>> opened = []
>>> cache = HandleCache("demo", max_idle=1, close=lambda h: opened.remove(h))
>>> def opener(name):
...     opened.append(name)
...     return name
>>> with cache.lease("a", lambda: opener("a")) as h:
...     h
'a'
>>> with cache.lease("b", lambda: opener("b")):
...     pass
>>> opened  # "a" was evicted when "b" became idle
['b']
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

__all__ = ["HandleCache", "DEFAULT_MAX_IDLE"]

#: Idle handles a cache keeps open by default: well under the usual limit of 1024 open files
#: per process, and more than the files a session usually reads from at once.
DEFAULT_MAX_IDLE = 64

K = TypeVar("K", bound=Hashable)
H = TypeVar("H")


class _Entry(Generic[H]):
    __slots__ = ("handle", "users")

    def __init__(self, handle: H) -> None:
        self.handle, self.users = handle, 0


class HandleCache(Generic[K, H]):
    """A thread-safe LRU of open handles with leases.

    Parameters
    ----------
    name
        What the cache holds, for ``repr``.
    max_idle
        How many handles with no lease stay open; the least recently used beyond it are
        closed. Handles under lease are not counted and never closed.
    close
        Closes one handle (called outside the cache's lock; exceptions are the caller's).

    Examples
    --------
    >>> cache = HandleCache("files", max_idle=2, close=lambda h: None)
    >>> with cache.lease(("a", 1), lambda: "handle a") as h:
    ...     h, len(cache)
    ('handle a', 1)
    >>> cache.close_matching(lambda key: key[0] == "a")
    1
    >>> len(cache)
    0
    """

    def __init__(self, name: str, *, max_idle: int = DEFAULT_MAX_IDLE,
                 close: Callable[[H], None]) -> None:
        if max_idle < 0:
            raise ValueError(f"max_idle must be >= 0, not {max_idle}")
        self.name = name
        self.max_idle = max_idle
        self._close = close
        self._entries: OrderedDict[K, _Entry[H]] = OrderedDict()
        # Handles taken out of the cache (close_matching) while a task still reads through them.
        self._orphans: dict[int, _Entry[H]] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"<HandleCache {self.name}: {len(self)} open, max_idle={self.max_idle}>"

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def keys(self) -> list[K]:
        """The keys of the handles open now (least recently used first)."""
        with self._lock:
            return list(self._entries)

    def __iter__(self) -> Iterator[K]:
        return iter(self.keys())

    def get(self, key: K, valid: Callable[[H], bool] = lambda h: True) -> H | None:
        """The cached handle for ``key``, leased (:meth:`release` it), or None."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or not valid(entry.handle):
                return None
            entry.users += 1
            self._entries.move_to_end(key)
            return entry.handle

    def acquire(self, key: K, open_: Callable[[], H],
                valid: Callable[[H], bool] = lambda h: True) -> H:
        """The handle for ``key``, opened by ``open_()`` when none is cached (or the cached one
        is no longer ``valid``); the caller must :meth:`release` it."""
        cached = self.get(key, valid)
        if cached is not None:
            return cached
        handle = open_()  # outside the lock: opening may be slow
        return self.adopt(key, handle, valid)

    def adopt(self, key: K, handle: H, valid: Callable[[H], bool] = lambda h: True) -> H:
        """Put a handle the caller opened under ``key`` and lease it; if another thread cached
        a valid one meanwhile, close ``handle`` and lease that one. Release it after use."""
        stale: list[H] = []
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and valid(entry.handle):
                stale.append(handle)
            else:
                if entry is not None:  # an invalid handle (closed behind our back)
                    del self._entries[key]
                entry = self._entries[key] = _Entry(handle)
            entry.users += 1
            self._entries.move_to_end(key)
            result = entry.handle
        for h in stale:
            self._close(h)
        return result

    def release(self, key: K, handle: H) -> None:
        """End one lease on ``handle``; close what is now idle beyond ``max_idle`` (and the
        handle itself if it was closed for its file while leased)."""
        to_close: list[H] = []
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None and entry.handle is handle:
                entry.users -= 1
            else:
                orphan = self._orphans.get(id(handle))
                if orphan is not None:
                    orphan.users -= 1
                    if orphan.users == 0:
                        to_close.append(self._orphans.pop(id(handle)).handle)
            to_close.extend(self._evict())
        for h in to_close:
            self._close(h)

    def _evict(self) -> list[H]:
        """Remove idle entries beyond the bound (lock held); return their handles to close."""
        idle = [k for k, e in self._entries.items() if e.users == 0]
        return [self._entries.pop(key).handle for key in idle[: max(0, len(idle) - self.max_idle)]]

    @contextmanager
    def lease(self, key: K, open_: Callable[[], H],
              valid: Callable[[H], bool] = lambda h: True) -> Iterator[H]:
        """``with cache.lease(key, open_) as handle:`` — the handle stays open inside."""
        handle = self.acquire(key, open_, valid)
        try:
            yield handle
        finally:
            self.release(key, handle)

    def close_matching(self, match: Callable[[K], bool]) -> int:
        """Close the handles whose key matches (those under lease when their lease ends);
        return how many were removed from the cache."""
        to_close: list[H] = []
        with self._lock:
            keys = [k for k in self._entries if match(k)]
            for key in keys:
                entry = self._entries.pop(key)
                if entry.users == 0:
                    to_close.append(entry.handle)
                else:  # closed when its last lease ends
                    self._orphans[id(entry.handle)] = entry
        for h in to_close:
            self._close(h)
        return len(keys)
