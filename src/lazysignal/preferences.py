"""User preferences: the settings that apply when a call does not say otherwise.

Two levels, so that threads, asyncio tasks and a viewer's request handlers never see each
other's temporary settings:

- **session values**, set by assignment (``preferences.show_progressbar = True``): the user's
  defaults for the whole process, changed under a lock;
- **context overrides**, set by ``with preferences.set(chunk_target_bytes=32 * 2**20): ...``:
  held in a :class:`contextvars.ContextVar`, so they apply to the code inside the block (and to
  tasks started from it) and to no other thread or task.

HyperSpy's spelling ``preferences.General.show_progressbar`` works too.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields
from types import MappingProxyType
from typing import Any

from .errors import PreferenceError

__all__ = ["Preferences", "preferences"]

_SCHEDULERS = (None, "threads", "synchronous", "processes", "distributed")


@dataclass(frozen=True)
class _Defaults:
    """The preferences, their types and defaults (one field each; documented on Preferences)."""

    show_progressbar: bool = False
    chunk_target_bytes: int = 100 * 2**20
    num_workers: int | None = None
    scheduler: str | None = None
    plot_cache_bytes: int = 256 * 2**20


_NAMES = tuple(f.name for f in fields(_Defaults))
_OVERRIDES: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "lazysignal_preferences", default=MappingProxyType({}))


def _check(name: str, value: Any) -> None:
    if name not in _NAMES:
        raise PreferenceError(f"Unknown preference {name!r}; known: {sorted(_NAMES)}.")
    if name == "scheduler" and value not in _SCHEDULERS:
        raise PreferenceError(f"scheduler must be one of {_SCHEDULERS}; got {value!r}.")
    if name == "chunk_target_bytes" and (not isinstance(value, int) or value < 1024):
        raise PreferenceError(f"chunk_target_bytes must be an int of at least 1024 bytes; got {value!r}.")
    if name == "plot_cache_bytes" and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
        raise PreferenceError(f"plot_cache_bytes must be an int >= 0 (0: no cache); got {value!r}.")


class Preferences:
    """Settings that apply when a call does not say otherwise.

    Attributes
    ----------
    show_progressbar
        Show progress bars on long computations (``compute``, ``save``, ``map``,
        ``compute_navigator``), with the threaded scheduler and with dask.distributed.
    chunk_target_bytes
        Target bytes of one chunk when lazysignal chooses a chunking (the chunk planner,
        :mod:`lazysignal.chunks`): ``as_lazy``, ``rechunk("auto")``, ``map``, iterate_blocks.
    num_workers
        Workers for threaded/process computations and for planning chunks (None: CPU count).
    scheduler
        dask scheduler for computations: None (dask's default, or the active
        ``distributed.Client``), ``"threads"``, ``"synchronous"``, ``"processes"``, or
        ``"distributed"`` (the current ``distributed.Client``, which must exist).
    plot_cache_bytes
        Bytes of navigation chunks that ``s.plot()`` of lazy data keeps in memory (the chunk
        at the cursor and its prefetched neighbours; :mod:`lazysignal.plot.chunk_cache`).
        0 disables the cache: every move reads the position's chunk again.

    Examples
    --------
    >>> from lazysignal.preferences import preferences
    >>> with preferences.set(show_progressbar=True):
    ...     preferences.show_progressbar
    True
    >>> preferences.General.show_progressbar     # HyperSpy's spelling
    False
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_lock", threading.Lock())
        object.__setattr__(self, "_session", dict(vars(_Defaults())))

    def __getattr__(self, name: str) -> Any:
        if name not in _NAMES:
            raise AttributeError(f"Unknown preference {name!r}; known: {sorted(_NAMES)}.")
        overrides = _OVERRIDES.get()
        if name in overrides:
            return overrides[name]
        return self._session[name]

    def __setattr__(self, name: str, value: Any) -> None:
        _check(name, value)
        with self._lock:
            self._session[name] = value

    @property
    def General(self) -> "Preferences":
        """HyperSpy compatibility: ``preferences.General.show_progressbar`` is this object."""
        return self

    @contextlib.contextmanager
    def set(self, **changes: Any) -> Iterator["Preferences"]:
        """Change settings inside a ``with`` block, for this thread or task only.

        Examples
        --------
        >>> import threading
        >>> seen = []
        >>> with preferences.set(num_workers=1):
        ...     t = threading.Thread(target=lambda: seen.append(preferences.num_workers))
        ...     t.start(); t.join()
        ...     preferences.num_workers
        1
        >>> seen                       # another thread keeps the session value
        [None]
        """
        for name, value in changes.items():
            _check(name, value)
        token = _OVERRIDES.set(MappingProxyType({**_OVERRIDES.get(), **changes}))
        try:
            yield self
        finally:
            _OVERRIDES.reset(token)

    def reset(self) -> None:
        """Back to the defaults (session values; context overrides end with their blocks)."""
        with self._lock:
            self._session.update(vars(_Defaults()))

    def as_dict(self) -> dict[str, Any]:
        """The values in force here and now.

        Examples
        --------
        >>> sorted(preferences.as_dict())
        ['chunk_target_bytes', 'num_workers', 'plot_cache_bytes', 'scheduler', 'show_progressbar']
        """
        return {name: getattr(self, name) for name in _NAMES}

    def __repr__(self) -> str:
        return "Preferences(" + ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items()) + ")"


preferences = Preferences()
