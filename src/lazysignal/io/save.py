"""``save``: writing a signal through a temporary file, so a failed save loses nothing."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ..errors import FormatCapabilityError
from ..lazy import progress_context
from ..preferences import preferences
from .registry import format_by_name, format_for_path
from .staging import staged_write
from .signal_dicts import signal_to_dict
from .spec import accepted_options, check_options, passes_on_options

__all__ = ["save"]


def save(signal: Any, filename: str | os.PathLike, *, overwrite: bool | None = None, chunks: Any = None,
         writer: str | None = None, show_progressbar: bool | None = None, resume: bool = False,
         **format_options: Any) -> None:
    """Write ``signal`` to ``filename``, choosing the format by extension.

    The file is written beside the target under a temporary name and moved into place only
    when complete: a failed or interrupted save leaves any previous file intact, and a lazy
    signal still reading the old file keeps reading it. Lazy data are streamed chunk by chunk.

    Parameters
    ----------
    signal
        The signal to write.
    filename
        Target path; without an extension, ``.hspy`` is used.
    overwrite
        ``True`` replaces an existing file; ``False`` leaves it and writes nothing; ``None``
        (default) raises FileExistsError when the file exists.
    chunks
        Storage chunks for formats that chunk (hspy, zspy); default: lazy data keep their
        chunks, eager data get the format's default.
    writer
        Format name overriding the extension.
    show_progressbar
        Show a progress bar while lazy data are computed and written (default: preference).
    resume
        zspy directory stores: finish a save of this path that was interrupted (killed),
        keeping the chunk files it completed (checked against its journal: size and CRC-32)
        and computing only the others. Without it, an interrupted save's leftovers are
        removed. Other formats raise :class:`~lazysignal.errors.FormatCapabilityError`.
    **format_options
        Passed to the writer (e.g. ``compression=`` for hspy); an option the writer does not
        take raises :class:`~lazysignal.errors.UnsupportedOptionError` listing those it does.

    Raises
    ------
    FormatCapabilityError
        For a format that cannot be written, or ``chunks=`` for one that stores no chunks.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from lazysignal.signals import Signal1D
    >>> path = os.path.join(tempfile.mkdtemp(), "s.npy")
    >>> Signal1D(np.arange(4.0)).save(path)
    >>> np.load(path)
    array([0., 1., 2., 3.])
    """
    path = Path(filename)
    if not path.suffix:
        path = path.with_suffix(".hspy")
    module = format_by_name(writer) if writer else format_for_path(path, writing=True)
    spec = module.FORMAT
    if not spec.writes:
        raise FormatCapabilityError(
            f"Cannot save {str(path)!r}: the {spec.name} format is read-only. Choose another "
            "extension (e.g. .hspy or .zspy).")
    if chunks is not None and not spec.stores_chunks:
        raise FormatCapabilityError(
            f"chunks={chunks!r} for {str(path)!r}: the {spec.name} format does not store "
            "chunks; leave chunks= out (hspy and zspy store them).")
    if not passes_on_options(module.write):  # a writer with **options checks them itself
        check_options(format_options, accepted_options(module.write),
                      where=f"save({path.name!r}) with the {spec.name} writer")
    if path.exists():
        if overwrite is None:
            raise FileExistsError(f"{str(path)!r} exists; pass overwrite=True to replace it.")
        if not overwrite:
            return
    if chunks is not None:
        format_options["chunks"] = chunks
    if show_progressbar is None:
        show_progressbar = preferences.show_progressbar
    resumable = getattr(module, "resumable", None)

    def write(target: Path, extra: dict[str, Any]) -> None:
        with progress_context(show_progressbar):
            module.write(target, signal_to_dict(signal), **format_options, **extra)

    # Staged beside the target, moved into place when complete (see io/staging.py).
    staged_write(path, write, resume=resume,
                 resumable=bool(resumable and resumable(path, format_options)))
