"""The explicit list of format modules, and lookup by extension or name."""

from __future__ import annotations

import importlib
import os
from functools import cache
from types import ModuleType

from ..errors import UnknownFormatError

__all__ = ["FORMAT_MODULES", "format_for_path", "format_by_name", "known_extensions"]

#: One line per format; a new format adds its module here.
FORMAT_MODULES: tuple[str, ...] = (
    "lazysignal.io.formats.hspy",
    "lazysignal.io.formats.zspy",
    "lazysignal.io.formats.ripple",
    "lazysignal.io.formats.mrc",
    "lazysignal.io.formats.blockfile",
    "lazysignal.io.formats.mib",
    "lazysignal.io.formats.msa",
    "lazysignal.io.formats.tiff",
    "lazysignal.io.formats.npy",
)


@cache
def _modules() -> tuple[ModuleType, ...]:
    found = []
    for name in FORMAT_MODULES:
        try:
            found.append(importlib.import_module(name))
        except ModuleNotFoundError as exc:
            # A format module still being written must not break the others.
            if exc.name != name:
                raise
    return tuple(found)


def known_extensions() -> list[str]:
    """All extensions some reader handles, sorted.

    Examples
    --------
    >>> "hspy" in known_extensions()
    True
    """
    return sorted({ext for m in _modules() for ext in m.FORMAT.extensions})


def format_by_name(name: str) -> ModuleType:
    """The format module called ``name`` (or having ``name`` as an extension)."""
    key = name.lower().lstrip(".")
    for module in _modules():
        if module.FORMAT.name == key or key in module.FORMAT.extensions:
            return module
    names = sorted(m.FORMAT.name for m in _modules())
    raise UnknownFormatError(f"No file format called {name!r}; known formats: {', '.join(names)}.")


def format_for_path(path: str | os.PathLike, *, writing: bool = False) -> ModuleType:
    """The format module for ``path``, chosen by its extension."""
    ext = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    for module in _modules():
        if ext in module.FORMAT.extensions and (module.FORMAT.writes or not writing):
            return module
    if writing:
        known = sorted({e for m in _modules() if m.FORMAT.writes for e in m.FORMAT.extensions})
        raise UnknownFormatError(
            f"Cannot save {os.fspath(path)!r}: no writer for extension {ext!r}. "
            f"Formats that write: {', '.join(known)}."
        )
    raise UnknownFormatError(
        f"Cannot read {os.fspath(path)!r}: unknown extension {ext!r}. "
        f"Known extensions: {', '.join(known_extensions())}; or pass reader=NAME."
    )
