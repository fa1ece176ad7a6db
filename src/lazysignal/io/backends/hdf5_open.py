"""Opening HDF5 files for reading when another process may briefly hold their lock.

HDF5 takes a ``flock`` on every file it opens: shared for readers, exclusive for writers. A
``flock`` belongs to the open file description, so a process that forks while this one writes a
file (a dask ``LocalCluster`` nanny restarting a killed worker, a ``multiprocessing`` start, any
``subprocess`` launched from a thread) holds the writer's exclusive lock until the child has
closed its inherited descriptors or exec'd, which on a busy machine can outlast the write itself.
Reading the file just written then fails with ``unable to lock file, errno = 11``. That lock
goes away on its own within moments, so a reader waits for it, briefly and boundedly; a lock
still held after the wait belongs to a real writer and is reported as :class:`FileLockedError`.
"""

from __future__ import annotations

import os
import time

import h5py

from ...errors import FileLockedError

__all__ = ["open_for_reading", "LOCK_WAIT_S"]

#: Seconds a reader waits for another process to drop its lock before raising. A forked child
#: releases an inherited lock within milliseconds; a real writer holds it for the whole write.
LOCK_WAIT_S = 10.0


def _is_lock_conflict(exc: OSError) -> bool:
    return "unable to lock file" in str(exc)


def open_for_reading(path: str | os.PathLike, *, wait_s: float | None = None) -> h5py.File:
    """``h5py.File(path, "r")``, waiting up to ``wait_s`` seconds (default
    :data:`LOCK_WAIT_S`) for another process's lock.

    Other errors (missing, truncated, not HDF5) are raised at once, unchanged, for the caller
    to explain.

    Raises
    ------
    FileLockedError
        When another process still holds the file locked for writing after ``wait_s``.

    Examples
    --------
    >>> import tempfile, os, h5py
    >>> path = os.path.join(tempfile.mkdtemp(), "a.h5")
    >>> with h5py.File(path, "w") as f:
    ...     f["x"] = [1, 2, 3]
    >>> with open_for_reading(path) as f:
    ...     f["x"][()].tolist()
    [1, 2, 3]
    """
    if wait_s is None:
        wait_s = LOCK_WAIT_S
    deadline = time.monotonic() + wait_s
    pause = 0.005
    while True:
        try:
            return h5py.File(path, "r")
        except OSError as exc:
            if not _is_lock_conflict(exc):
                raise
            if time.monotonic() >= deadline:
                raise FileLockedError(
                    f"{os.fspath(path)!r} is locked by another process that has it open for "
                    f"writing (still locked after {wait_s:g} s). Wait until that program has "
                    "finished writing it; if you know nothing writes it (a lock left by a crashed "
                    "writer on a network file system), set the environment variable "
                    "HDF5_USE_FILE_LOCKING=FALSE before starting Python."
                ) from None
        time.sleep(pause)
        pause = min(pause * 2, 0.2)
