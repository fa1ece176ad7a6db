"""``load``: the front door for reading files into signals."""

from __future__ import annotations

import glob
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..stacking import stack as stack_signals
from .registry import format_by_name, format_for_path
from .signal_dicts import signal_from_dict

__all__ = ["load", "expand_paths"]

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
    distributed: bool = True,
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
        For binary formats: every task reads its own chunk (picklable, bounded memory, works
        on dask.distributed); ``False`` memory-maps the file instead.
    stack
        Stack all files along a new navigation axis (lazily when ``lazy=True``).
    reader
        Format name or extension, overriding the file extension.
    signal_type
        Override the signal type stored in the file (e.g. ``"EDS_TEM"``).
    **format_options
        Passed to the format's reader (e.g. ``navigation_shape=`` for MRC).

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
        dicts = module.read(path, lazy=lazy, chunks=chunks, distributed=distributed, **format_options)
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


def _closer(module, path: Path):
    def close() -> None:
        module.close(path)

    return close
