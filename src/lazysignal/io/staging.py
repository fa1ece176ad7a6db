"""Where a save writes before its file is moved into place, and what a killed save leaves.

Every save writes into a staging folder beside the target, ``.NAME.saving-XXXX``, and moves
the result into place only when it is complete, so a save killed at any moment (SIGKILL, a
power cut) leaves any previous file at the path as it was. The save holds an exclusive
``flock`` on ``.lock`` inside its staging folder for as long as it runs; the kernel drops the
lock when the process dies, which is how a later save tells a killed save's leftovers
(lock free) from a save still running in another process (lock held):

* without ``resume``, a new save removes the leftovers of killed saves of the same name and
  never touches a running save's folder (two saves of one path in parallel each finish;
  the last move wins, and each move is atomic, so the path always holds one complete file);
* with ``resume=True`` (zspy directory stores), the newest leftover is adopted: the chunk
  files its writer journaled and that still check out (size and CRC-32 as journaled) are
  kept in a pool, and the new save takes them from there instead of computing them again.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..errors import FormatCapabilityError

__all__ = ["staged_write", "leftovers", "move_into_place"]

_LOCK = ".lock"
#: Inside an adopted staging folder: verified chunk files of the interrupted save.
POOL = ".chunk-pool"


def _lock(folder: Path, *, wait: bool) -> int | None:
    """An exclusive flock on ``folder/.lock`` (its descriptor), or None when it is held."""
    fd = os.open(folder / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def leftovers(path: str | os.PathLike) -> list[Path]:
    """Staging folders of saves of ``path`` whose process is gone (their lock is free).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> (folder / ".a.zspy.saving-x").mkdir()
    >>> [p.name for p in leftovers(folder / "a.zspy")]
    ['.a.zspy.saving-x']
    """
    path = Path(path)
    parent = path.parent if str(path.parent) else Path(".")
    found = []
    for folder in sorted(parent.glob(f".{path.name}.saving-*"),
                         key=lambda p: p.stat().st_mtime if p.exists() else 0):
        if not folder.is_dir():
            continue
        try:
            fd = _lock(folder, wait=False)
        except FileNotFoundError:  # removed meanwhile by another save
            continue
        if fd is not None:
            os.close(fd)
            found.append(folder)
    return found


def staged_write(path: Path, write: Callable[[Path, dict[str, Any]], None], *,
                 resumable: bool, resume: bool) -> None:
    """Run ``write(staging_target, extra_options)`` in a locked staging folder, then move the
    result into place.

    ``extra_options`` holds ``journal=True`` for a resumable writer (it journals every chunk
    it completes) and, on ``resume=True``, ``chunk_pool=FOLDER`` of verified chunks of the
    interrupted save adopted. Raises :class:`FormatCapabilityError` for ``resume=True`` with
    a writer that cannot resume.
    """
    if resume and not resumable:
        raise FormatCapabilityError(
            f"resume=True for {str(path)!r}: only zspy directory stores resume an interrupted "
            "save (their chunks are separate files); save this format again from the start.")
    parent = path.parent if str(path.parent) else Path(".")
    parent.mkdir(parents=True, exist_ok=True)
    old = leftovers(path)
    adopted = old.pop() if resume and old else None
    for folder in old:  # killed saves' leftovers never block nor confuse this one
        shutil.rmtree(folder, ignore_errors=True)
    staging = adopted or Path(tempfile.mkdtemp(prefix=f".{path.name}.saving-", dir=parent))
    fd = _lock(staging, wait=False)
    if fd is None:  # another process adopted it between our check and now
        staging, adopted = Path(tempfile.mkdtemp(prefix=f".{path.name}.saving-", dir=parent)), None
        fd = _lock(staging, wait=True)
    assert fd is not None  # a blocking flock (wait=True) never answers None
    try:
        extra: dict[str, Any] = {}
        if resumable:
            extra["journal"] = True
        target = staging / path.name
        if adopted is not None:
            from .backends.zarr_chunks import bank_chunks

            pool = staging / POOL
            if target.is_dir():
                bank_chunks(target, pool)  # verified chunks of the killed save, kept
                shutil.rmtree(target)
            if pool.is_dir():
                extra["chunk_pool"] = str(pool)
        elif target.exists():
            shutil.rmtree(target) if target.is_dir() else target.unlink()
        write(target, extra)
        move_into_place(staging, parent)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP, errno.ENOENT):
        return False
    raise OSError(code, os.strerror(code), str(b))


def move_into_place(staging: Path, parent: Path) -> None:
    """Move every file a writer produced (one file, a directory store, or a file pair).

    A file replaces its target with one ``rename``; a directory store is swapped with the
    existing one in one atomic exchange where the kernel has it (so the path never lacks a
    complete store, whatever moment the process dies at), else moved after the old one is
    set aside.
    """
    for produced in sorted(p for p in staging.iterdir() if p.name not in (_LOCK, POOL)):
        target = parent / produced.name
        if produced.is_dir():
            if target.exists() and _exchange(produced, target):
                continue  # the old store is now in staging, removed with it
            backup = None
            if target.exists():
                backup = target.with_name(f".{target.name}.old-{os.getpid()}")
                os.replace(target, backup)
            try:
                os.replace(produced, target)
            except OSError as exc:
                if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST) or not _exchange(produced, target):
                    if backup is not None:
                        os.replace(backup, target)
                    raise
            if backup is not None:
                shutil.rmtree(backup, ignore_errors=True)
        else:
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(produced, target)
