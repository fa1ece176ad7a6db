"""What a format module declares about itself, and the dictionaries readers return."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypedDict

__all__ = ["FormatSpec", "AxisDict", "SignalDict"]


@dataclass(frozen=True)
class FormatSpec:
    """Declaration of one file format.

    Parameters
    ----------
    name
        Short name, used by ``load(..., reader=name)``.
    extensions
        Lower-case extensions without the dot; the first one is the default on save.
    writes
        Whether the module has a ``write`` function.
    lazy, chunks, distributed
        Whether ``read`` honours ``lazy=True``, ``chunks=`` and ``distributed=True``.
    keeps_file_open
        Whether a lazy read keeps a handle open until ``close_file()``.

    Examples
    --------
    >>> FormatSpec("npy", ("npy",), writes=False, lazy=True, chunks=True, distributed=True).name
    'npy'
    """

    name: str
    extensions: tuple[str, ...]
    writes: bool
    lazy: bool
    chunks: bool
    distributed: bool
    keeps_file_open: bool = False


class AxisDict(TypedDict, total=False):
    """One axis as readers return it: ``size``/``scale``/``offset`` or an ``axis`` array."""

    name: str
    units: str | None
    navigate: bool
    size: int
    scale: float
    offset: float
    axis: Any
    is_binned: bool


class SignalDict(TypedDict, total=False):
    """What a reader returns for one signal, in numpy axis order for ``axes``."""

    data: Any
    axes: list[AxisDict]
    metadata: dict
    original_metadata: dict
    attributes: dict
    learning_results: dict
