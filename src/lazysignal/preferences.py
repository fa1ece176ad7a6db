"""User preferences: the only global state lazysignal keeps, documented and resettable.

``lazysignal.preferences`` holds the settings that apply when a call does not say
otherwise. Change one for the session (``preferences.show_progressbar = True``) or for a
block (``with preferences.set(chunk_target_bytes=32 * 2**20): ...``). HyperSpy's spelling
``preferences.General.show_progressbar`` works too.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, fields

__all__ = ["Preferences", "preferences"]

_SCHEDULERS = (None, "threads", "synchronous", "processes", "distributed")


@dataclass
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

    Examples
    --------
    >>> from lazysignal.preferences import preferences
    >>> with preferences.set(show_progressbar=True):
    ...     preferences.show_progressbar
    True
    >>> preferences.General.show_progressbar     # HyperSpy's spelling
    False
    """

    show_progressbar: bool = False
    chunk_target_bytes: int = 100 * 2**20
    num_workers: int | None = None
    scheduler: str | None = None

    def __setattr__(self, name: str, value) -> None:
        if name not in {f.name for f in fields(self)}:
            raise AttributeError(f"Unknown preference {name!r}; known: {sorted(f.name for f in fields(self))}.")
        if name == "scheduler" and value not in _SCHEDULERS:
            raise ValueError(f"scheduler must be one of {_SCHEDULERS}; got {value!r}.")
        if name == "chunk_target_bytes" and (not isinstance(value, int) or value < 1024):
            raise ValueError(f"chunk_target_bytes must be an int of at least 1024 bytes; got {value!r}.")
        object.__setattr__(self, name, value)

    @property
    def General(self) -> "Preferences":
        """HyperSpy compatibility: ``preferences.General.show_progressbar`` is this object."""
        return self

    @contextlib.contextmanager
    def set(self, **changes):
        """Temporarily change settings inside a ``with`` block (restored on exit)."""
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise AttributeError(f"Unknown preference(s) {sorted(unknown)}; known: {sorted(names)}.")
        before = {k: getattr(self, k) for k in changes}
        try:
            for k, v in changes.items():
                setattr(self, k, v)
            yield self
        finally:
            for k, v in before.items():
                object.__setattr__(self, k, v)

    def reset(self) -> None:
        """Back to the defaults."""
        for f in fields(self):
            object.__setattr__(self, f.name, f.default)


preferences = Preferences()
