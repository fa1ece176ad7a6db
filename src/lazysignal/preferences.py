"""User preferences: the only global state lazysignal keeps, documented and resettable."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, fields

__all__ = ["Preferences", "preferences"]


@dataclass
class Preferences:
    """Settings that apply when a call does not say otherwise.

    Attributes
    ----------
    show_progressbar
        Show progress bars on long computations.
    chunk_target_bytes
        Target size of one chunk when lazysignal chooses a chunking.

    Examples
    --------
    >>> from lazysignal.preferences import preferences
    >>> with preferences.set(show_progressbar=True):
    ...     preferences.show_progressbar
    True
    """

    show_progressbar: bool = False
    chunk_target_bytes: int = 100 * 2**20

    @contextlib.contextmanager
    def set(self, **changes):
        """Temporarily change settings inside a ``with`` block."""
        names = {f.name for f in fields(self)}
        unknown = set(changes) - names
        if unknown:
            raise AttributeError(f"Unknown preference(s) {sorted(unknown)}; known: {sorted(names)}.")
        before = {k: getattr(self, k) for k in changes}
        for k, v in changes.items():
            setattr(self, k, v)
        try:
            yield self
        finally:
            for k, v in before.items():
                setattr(self, k, v)


preferences = Preferences()
