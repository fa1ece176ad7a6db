"""The explicit list of format modules, checked against the format contract, and lookup by
extension or name.

Registration is checked in two steps, so that ``import lazysignal`` stays cheap (the format
modules import h5py, zarr and tifffile): importing this module checks that every listed module
exists (a misspelt name raises :class:`~lazysignal.errors.FormatRegistrationError` at import);
the first lookup imports them all and checks each against the contract
(:func:`lazysignal.io.spec.check_format_module`). Nothing is skipped: a broken format module
fails every lookup, with its name and what is wrong.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import sys
import threading
from types import ModuleType

from ..errors import FormatRegistrationError, UnknownFormatError
from .spec import FormatSpec, check_format_module

__all__ = ["FORMAT_MODULES", "format_for_path", "format_by_name", "format_modules",
           "known_extensions"]

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


def check_module_names(names: tuple[str, ...]) -> None:
    """Raise :class:`~lazysignal.errors.FormatRegistrationError` for a name that is no module
    (without importing any of them).

    Examples
    --------
    >>> check_module_names(("lazysignal.io.formats.npy",))
    >>> check_module_names(("lazysignal.io.formats.nyp",))
    Traceback (most recent call last):
    ...
    lazysignal.errors.FormatRegistrationError: The format registry lists 'lazysignal.io.formats.nyp', which is not a module. Fix the name in lazysignal.io.registry.FORMAT_MODULES.
    """
    for name in names:
        try:
            found = name in sys.modules or importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a missing parent package, a module without spec
            found = False
        if not found:
            raise FormatRegistrationError(
                f"The format registry lists {name!r}, which is not a module. Fix the name in "
                "lazysignal.io.registry.FORMAT_MODULES.")


def load_format_modules(names: tuple[str, ...]) -> tuple[ModuleType, ...]:
    """Import ``names`` and check each against the format contract; names and extensions must
    not clash.

    Examples
    --------
    >>> [m.FORMAT.name for m in load_format_modules(("lazysignal.io.formats.npy",))]
    ['npy']
    """
    check_module_names(names)
    modules = tuple(importlib.import_module(name) for name in names)
    owners: dict[str, str] = {}
    for module in modules:
        spec: FormatSpec = check_format_module(module)
        for key in {spec.name, *spec.extensions}:
            if key in owners and owners[key] != module.__name__:
                raise FormatRegistrationError(
                    f"{module.__name__!r} declares {key!r}, which {owners[key]!r} already "
                    "declares; format names and extensions must be unique.")
            owners[key] = module.__name__
    return modules


check_module_names(FORMAT_MODULES)

_loaded: tuple[ModuleType, ...] | None = None
_loading = threading.Lock()


def format_modules() -> tuple[ModuleType, ...]:
    """The registered format modules, imported and checked on first use.

    Examples
    --------
    >>> [m.FORMAT.name for m in format_modules()][:2]
    ['hspy', 'zspy']
    """
    global _loaded
    if _loaded is None:
        with _loading:
            if _loaded is None:
                _loaded = load_format_modules(FORMAT_MODULES)
    return _loaded


def known_extensions() -> list[str]:
    """All extensions some reader handles, sorted.

    Examples
    --------
    >>> "hspy" in known_extensions()
    True
    """
    return sorted({ext for m in format_modules() for ext in m.FORMAT.extensions})


def format_by_name(name: str) -> ModuleType:
    """The format module called ``name`` (or having ``name`` as an extension).

    Examples
    --------
    >>> format_by_name(".MRC").FORMAT.name
    'mrc'
    """
    key = name.lower().lstrip(".")
    for module in format_modules():
        if module.FORMAT.name == key or key in module.FORMAT.extensions:
            return module
    names = sorted(m.FORMAT.name for m in format_modules())
    raise UnknownFormatError(f"No file format called {name!r}; known formats: {', '.join(names)}.")


def format_for_path(path: str | os.PathLike, *, writing: bool = False) -> ModuleType:
    """The format module for ``path``, chosen by its extension.

    Examples
    --------
    >>> format_for_path("scan.blo").FORMAT.name
    'blockfile'
    """
    ext = os.path.splitext(os.fspath(path))[1].lower().lstrip(".")
    for module in format_modules():
        if ext in module.FORMAT.extensions and (module.FORMAT.writes or not writing):
            return module
    if writing:
        known = sorted({e for m in format_modules() if m.FORMAT.writes for e in m.FORMAT.extensions})
        raise UnknownFormatError(
            f"Cannot save {os.fspath(path)!r}: no writer for extension {ext!r}. "
            f"Formats that write: {', '.join(known)}."
        )
    raise UnknownFormatError(
        f"Cannot read {os.fspath(path)!r}: unknown extension {ext!r}. "
        f"Known extensions: {', '.join(known_extensions())}; or pass reader=NAME."
    )
