"""The format contract: what a format module declares, what it must provide, the dictionaries
readers return, and the one check of keyword options every reader and writer goes through."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Protocol, TypedDict, runtime_checkable

from ..errors import FormatRegistrationError
from ..options import check_method_options

__all__ = [
    "FormatSpec",
    "FormatModule",
    "AxisDict",
    "SignalDict",
    "READ_PARAMETERS",
    "check_format_module",
    "accepted_options",
    "passes_on_options",
    "check_options",
]

#: Keyword parameters every ``read`` function takes (the front door always passes them).
READ_PARAMETERS: tuple[str, ...] = ("lazy", "chunks", "distributed")


@dataclass(frozen=True)
class FormatSpec:
    """Declaration of one file format; the front door (``load``/``save``) consults it.

    Parameters
    ----------
    name
        Short name, used by ``load(..., reader=name)`` and ``save(..., writer=name)``.
    extensions
        Lower-case extensions without the dot; the first one is the default on save.
    writes
        Whether the module has a ``write`` function. ``save`` to a format that does not write
        raises :class:`~lazysignal.errors.FormatCapabilityError`.
    lazy
        Whether ``read`` honours ``lazy=True``.
    chunks
        Whether ``read`` honours ``chunks=`` (for lazy reads). ``load`` rejects a ``chunks=``
        other than ``"auto"`` for a format that does not.
    distributed
        Whether lazy reads run on ``dask.distributed``: every task reads its own chunk by path,
        so the graph pickles small. ``load(distributed=True)`` for a format that does not
        (its lazy array holds the data read into memory) is an error.
    keeps_file_open
        Whether a lazy read keeps a handle open until ``close(path)`` (the module then has a
        ``close`` function; signals call it from ``close_file()``).
    memmap
        Whether ``distributed=False`` selects a memory-mapped read (binary formats).
        ``load(distributed=False)`` for a format without one is an error.
    stores_chunks
        Whether ``write`` stores chunks and takes ``chunks=`` (hspy, zspy).
    task_modules
        The modules a worker imports to run this format's lazy read tasks. A lazy load that
        finds a ``distributed.Client`` has its workers import them in the background while
        the load goes on, so the first compute's tasks do not wait for the imports.

    Examples
    --------
    >>> spec = FormatSpec("npy", ("npy",), writes=True, lazy=True, chunks=True,
    ...                   distributed=True, memmap=True)
    >>> spec.name, spec.memmap, spec.stores_chunks
    ('npy', True, False)
    """

    name: str
    extensions: tuple[str, ...]
    writes: bool
    lazy: bool
    chunks: bool
    distributed: bool
    keeps_file_open: bool = False
    memmap: bool = False
    stores_chunks: bool = False
    task_modules: tuple[str, ...] = ()


@runtime_checkable
class FormatModule(Protocol):
    """What every module of :mod:`lazysignal.io.formats` provides (``write`` and ``close``
    only where its :class:`FormatSpec` says it writes or keeps files open).

    ``read(path, *, lazy=False, chunks="auto", distributed=True, **its own options)`` returns
    a list of :class:`SignalDict`; ``write(path, signal_dict, *, its own options)`` writes
    exactly at ``path`` (the front door handles temporary files and overwriting).

    Examples
    --------
    >>> from lazysignal.io.formats import npy
    >>> isinstance(npy, FormatModule)
    True
    """

    FORMAT: FormatSpec

    def read(self, path: Any, *, lazy: bool = ..., chunks: Any = ...,
             distributed: bool = ...) -> list[SignalDict]:
        ...


def _keyword_names(function: Callable[..., Any]) -> tuple[list[str], bool]:
    """Names ``function`` takes by keyword (after its positional ones), and whether it has ``**``."""
    names, var_keyword = [], False
    for p in inspect.signature(function).parameters.values():
        if p.kind is p.VAR_KEYWORD:
            var_keyword = True
        elif p.kind is p.KEYWORD_ONLY:
            names.append(p.name)
    return names, var_keyword


def check_format_module(module: ModuleType) -> FormatSpec:
    """Check that ``module`` satisfies the format contract; return its spec.

    Raises
    ------
    FormatRegistrationError
        Naming the module and what is missing or inconsistent.

    Examples
    --------
    >>> from lazysignal.io.formats import mrc
    >>> check_format_module(mrc).name
    'mrc'
    >>> import types
    >>> check_format_module(types.ModuleType("halfdone"))
    Traceback (most recent call last):
    ...
    lazysignal.errors.FormatRegistrationError: Format module 'halfdone' does not satisfy the format contract: it has no FORMAT (a lazysignal.io.spec.FormatSpec). See docs/io.md, 'For format authors'.
    """
    name = module.__name__
    problems: list[str] = []
    spec = getattr(module, "FORMAT", None)
    if not isinstance(spec, FormatSpec):
        problems.append("it has no FORMAT (a lazysignal.io.spec.FormatSpec)")
    else:
        if not spec.extensions or any(
                e != e.lower() or e.startswith(".") or not e for e in spec.extensions):
            problems.append(f"FORMAT.extensions {spec.extensions!r} must be lower-case, without "
                            "dots, at least one")
        read = getattr(module, "read", None)
        if not callable(read):
            problems.append("it has no read function")
        else:
            keywords, _ = _keyword_names(read)
            missing = [p for p in READ_PARAMETERS if p not in keywords]
            if missing:
                problems.append(f"read does not take {', '.join(missing)} as keyword-only "
                                "parameters")
        write = getattr(module, "write", None)
        if spec.writes and not callable(write):
            problems.append("FORMAT.writes is true but it has no write function")
        if callable(write):
            keywords, _ = _keyword_names(write)
            if spec.stores_chunks != ("chunks" in keywords):
                problems.append("FORMAT.stores_chunks disagrees with write's chunks= parameter")
        if spec.keeps_file_open and not callable(getattr(module, "close", None)):
            problems.append("FORMAT.keeps_file_open is true but it has no close(path) function")
        if spec.memmap and not spec.distributed:
            problems.append("FORMAT.memmap needs FORMAT.distributed (distributed=False picks the "
                            "memory map over the per-task reads)")
    if problems:
        raise FormatRegistrationError(
            f"Format module {name!r} does not satisfy the format contract: "
            f"{'; '.join(problems)}. See docs/io.md, 'For format authors'.")
    assert isinstance(spec, FormatSpec)
    return spec


def accepted_options(function: Callable[..., Any], *, also: Iterable[str] = ()) -> list[str]:
    """The keyword options ``function`` accepts (keyword-only parameters, plus ``also``), sorted.

    Examples
    --------
    >>> def write(path, signal, *, compression="gzip", level=4):
    ...     pass
    >>> accepted_options(write)
    ['compression', 'level']
    """
    return sorted(set(_keyword_names(function)[0]) | set(also))


def passes_on_options(function: Callable[..., Any]) -> bool:
    """Whether ``function`` takes ``**options`` (and must then check them with
    :func:`check_options` itself; the front door checks only fixed signatures).

    Examples
    --------
    >>> passes_on_options(lambda path, *, level=1: None), passes_on_options(lambda path, **kw: None)
    (False, True)
    """
    return _keyword_names(function)[1]


def check_options(options: Mapping[str, Any], accepted: Iterable[str], *, where: str) -> None:
    """Raise :class:`~lazysignal.errors.UnsupportedOptionError` when ``options`` holds a name
    not in ``accepted``; the message names the unknown options and lists the accepted ones.

    The readers' and writers' name for :func:`lazysignal.options.check_method_options`, the one
    unknown-option check of lazysignal: an option is honoured or rejected, never silently ignored.

    Examples
    --------
    >>> check_options({"level": 4}, ["compression", "level"], where="the demo writer")
    >>> check_options({"levle": 4}, ["compression", "level"], where="the demo writer")
    Traceback (most recent call last):
    ...
    lazysignal.errors.UnsupportedOptionError: the demo writer got unknown options: 'levle'. It accepts: compression, level.
    """
    check_method_options(options, accepted, where=where)


class AxisDict(TypedDict, total=False):
    """One axis as readers return it: ``size``/``scale``/``offset`` or an ``axis`` array."""

    name: str | None
    units: str | None
    navigate: bool
    size: int
    scale: float
    offset: float
    axis: Any
    is_binned: bool
    _type: str  # the axis class as hspy/zspy store it ("UniformDataAxis", "DataAxis", ...)


class SignalDict(TypedDict, total=False):
    """What a reader returns for one signal, in numpy axis order for ``axes``."""

    data: Any
    axes: list[AxisDict]
    metadata: dict
    original_metadata: dict
    attributes: dict
    learning_results: dict
