"""``load``: the front door for reading files into signals."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from ..errors import FormatCapabilityError
from ..lazy import warm_workers
from ..stacking import stack as stack_signals
from .registry import format_by_name, format_for_path
from .signal_dicts import signal_from_dict
from .spec import READ_PARAMETERS, FormatSpec, accepted_options, check_options, passes_on_options

__all__ = ["load", "expand_paths", "read_flags"]

if TYPE_CHECKING:
    from ..signal import BaseSignal

PathLike = str | os.PathLike


def expand_paths(filenames: PathLike | Sequence[PathLike]) -> list[Path]:
    """Paths from a path, a glob pattern or a list of either; missing files raise.

    Examples
    --------
    >>> expand_paths("/nonexistent/*.hspy")
    Traceback (most recent call last):
    ...
    FileNotFoundError: No file matches '/nonexistent/*.hspy'.
    """
    items = [filenames] if isinstance(filenames, (str, os.PathLike)) else list(filenames)
    paths: list[Path] = []
    for item in items:
        text = os.fspath(item)
        if glob.has_magic(text) and not os.path.exists(text):
            matches = sorted(glob.glob(text))
            if not matches:
                raise FileNotFoundError(f"No file matches {text!r}.")
            paths.extend(Path(m) for m in matches)
        else:
            if not os.path.exists(text):
                raise FileNotFoundError(f"No such file: {text!r}.")
            paths.append(Path(text))
    if not paths:
        raise FileNotFoundError("load() was given no file names.")
    return paths


def load(
    filenames: PathLike | Sequence[PathLike],
    *,
    lazy: bool = False,
    chunks: Any = "auto",
    distributed: bool | None = None,
    stack: bool = False,
    reader: str | None = None,
    signal_type: str | None = None,
    **format_options: Any,
) -> "BaseSignal | list[BaseSignal]":
    """Read one or several files into signals.

    Parameters
    ----------
    filenames
        A path, a glob pattern (``"part_*.hspy"``) or a list of them.
    lazy
        Return lazy signals: only headers are read now; chunks are read when computed.
    chunks
        Dask chunks for lazy data (tuple, int, dict or ``"auto"``; formats that store chunks
        keep them, or take a multiple).
    distributed
        ``None`` (default): what the format does best — every task reads its own chunk where
        the format can (picklable, bounded memory, works on dask.distributed). ``True``
        insists on that (an error for formats read into memory, such as .msa); ``False``
        memory-maps the file (binary formats only: an error for the others).
    stack
        Stack all files along a new navigation axis (lazily when ``lazy=True``).
    reader
        Format name or extension, overriding the file extension.
    signal_type
        Override the signal type stored in the file (e.g. ``"EDS_TEM"``).
    **format_options
        Passed to the format's reader (e.g. ``navigation_shape=`` for MRC); an option the
        reader does not take raises :class:`~lazysignal.errors.UnsupportedOptionError`
        listing those it does.

    Returns
    -------
    BaseSignal or list of BaseSignal
        One signal, or a list when several signals were read and not stacked.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> import lazysignal as ls
    >>> path = os.path.join(tempfile.mkdtemp(), "spectrum.npy")
    >>> np.save(path, np.arange(12.0).reshape(3, 4))
    >>> s = ls.load(path, lazy=True)
    >>> s.lazy, s.data.shape
    (True, (3, 4))
    """
    signals: list = []
    for path in expand_paths(filenames):
        module = format_by_name(reader) if reader else format_for_path(path)
        flags = read_flags(module.FORMAT, path, lazy=lazy, chunks=chunks, distributed=distributed)
        if not passes_on_options(module.read):  # a reader with **options checks them itself
            names = [n for n in accepted_options(module.read) if n not in READ_PARAMETERS]
            check_options(format_options, names,
                          where=f"load({path.name!r}) with the {module.FORMAT.name} reader")
        if lazy and flags["distributed"] and module.FORMAT.task_modules:
            warm_workers(module.FORMAT.task_modules)  # in the background, while this reads
        dicts = module.read(path, **flags, **format_options)
        for d in dicts:
            signal = signal_from_dict(d, signal_type=signal_type)
            if lazy and module.FORMAT.keeps_file_open:
                signal._file_closers.append(_closer(module, path))
            if not lazy and signal.lazy:
                signal.compute()
            signal.metadata.set_item("General.original_filename", path.name)
            if not signal.metadata.get_item("General.title", ""):
                signal.metadata.set_item("General.title", path.stem)
            signals.append(signal)
    if stack and len(signals) > 1:
        return stack_signals(signals, lazy=lazy)
    return signals[0] if len(signals) == 1 else signals


def read_flags(spec: FormatSpec, path: PathLike, *, lazy: bool, chunks: Any,
               distributed: bool | None) -> dict[str, Any]:
    """The ``lazy``/``chunks``/``distributed`` a reader gets, checked against its ``spec``.

    Raises :class:`~lazysignal.errors.FormatCapabilityError` for what the format cannot honour.

    Examples
    --------
    >>> from lazysignal.io.formats import msa, hspy
    >>> read_flags(msa.FORMAT, "s.msa", lazy=True, chunks="auto", distributed=None)
    {'lazy': True, 'chunks': 'auto', 'distributed': False}
    >>> read_flags(hspy.FORMAT, "a.hspy", lazy=True, chunks="auto", distributed=False)
    Traceback (most recent call last):
    ...
    lazysignal.errors.FormatCapabilityError: distributed=False for 'a.hspy': the hspy format has no memory-mapped read (its lazy reads always open the file per task, which also works on one machine). Leave distributed= out.
    """
    where = repr(os.fspath(path))
    if lazy and not spec.lazy:
        raise FormatCapabilityError(
            f"lazy=True for {where}: the {spec.name} format cannot be read lazily; load it "
            "with lazy=False.")
    if not (isinstance(chunks, str) and chunks == "auto") and not spec.chunks:
        raise FormatCapabilityError(
            f"chunks={chunks!r} for {where}: the {spec.name} reader does not take chunks=; "
            "leave it out and rechunk the loaded signal.")
    if distributed is None:
        distributed = spec.distributed
    elif distributed and not spec.distributed:
        raise FormatCapabilityError(
            f"distributed=True for {where}: the {spec.name} format is read into memory, so "
            "its lazy arrays hold the data instead of reading the file per task. Leave "
            "distributed= out.")
    elif not distributed and spec.distributed and not spec.memmap:
        raise FormatCapabilityError(
            f"distributed=False for {where}: the {spec.name} format has no memory-mapped read "
            "(its lazy reads always open the file per task, which also works on one "
            "machine). Leave distributed= out.")
    return {"lazy": lazy, "chunks": chunks, "distributed": bool(distributed)}


def _closer(module: ModuleType, path: Path) -> Callable[[], None]:
    def close() -> None:
        module.close(path)

    return close
