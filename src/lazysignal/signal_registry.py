"""Which signal class fits a (signal dimension, signal_type) pair: one function decides.

Subclasses register themselves with :func:`register_signal_class`; :func:`signal_class_for`
is the only place a class is chosen, whether a signal is built, loaded, reduced, mapped in
place or re-typed. Laziness is not part of the choice: one class holds numpy or dask data
(``s.lazy`` tells which, and the repr says ``Lazy...``).

Examples
--------
>>> from lazysignal.signal_registry import signal_class_for
>>> signal_class_for(1).__name__, signal_class_for(2, "EDS").__name__, signal_class_for(1, "EDS").__name__
('Signal1D', 'Signal2D', 'EDSSpectrum')
"""

from __future__ import annotations

import importlib

from .errors import SignalTypeError

__all__ = ["register_signal_class", "signal_class_for", "registered_signal_types"]

_CLASSES: dict[tuple[int | None, str], type] = {}


def register_signal_class(cls: type) -> type:
    """Class decorator: make ``cls`` the class for its ``_signal_dimension``/``_signal_type``."""
    _CLASSES[(getattr(cls, "_signal_dimension"), getattr(cls, "_signal_type"))] = cls
    return cls


def signal_class_for(signal_dimension: int, signal_type: str | None = "", *, strict: bool = False) -> type:
    """The most specific registered class for a signal dimension and type.

    Parameters
    ----------
    signal_dimension
        Number of signal axes.
    signal_type
        ``metadata.Signal.signal_type`` ("" or None: none).
    strict
        False (building, loading from a file, reducing): a type that is unknown, or
        registered for another dimension, falls back to the class for the dimension (an EDS
        spectrum summed over its energy axis is no longer an EDS spectrum), then to the base
        class. True (a type the user asked for: ``set_signal_type``, ``load(signal_type=)``):
        those raise :class:`~lazysignal.errors.SignalTypeError` listing the known types.

    Examples
    --------
    >>> from lazysignal.signal_registry import signal_class_for
    >>> signal_class_for(1, "nonsense").__name__
    'Signal1D'
    >>> signal_class_for(1, "nonsense", strict=True)
    Traceback (most recent call last):
    ...
    lazysignal.errors.SignalTypeError: Unknown signal_type 'nonsense'; known: EDS (1 signal dimension(s)), ...
    """
    _register_builtin_classes()
    signal_type = signal_type or ""
    if strict and signal_type:
        known = registered_signal_types()
        if signal_type not in known:
            listed = ", ".join(f"{t} ({d} signal dimension(s))" for t, d in sorted(known.items()))
            raise SignalTypeError(f"Unknown signal_type {signal_type!r}; known: {listed or 'none'}. "
                                  "Use '' for a plain signal.")
        if known[signal_type] not in (None, signal_dimension):
            raise SignalTypeError(
                f"signal_type {signal_type!r} needs {known[signal_type]} signal dimension(s); this "
                f"signal has {signal_dimension}. Use as_signal1D/as_signal2D first.")
    for key in ((signal_dimension, signal_type), (signal_dimension, ""), (None, "")):
        if key in _CLASSES:
            return _CLASSES[key]
    raise LookupError("No signal classes are registered; import lazysignal first.")


def registered_signal_types() -> dict[str, int | None]:
    """Known ``signal_type`` names and the signal dimension each needs.

    Examples
    --------
    >>> from lazysignal.signal_registry import registered_signal_types
    >>> registered_signal_types()["EDS_TEM"]
    1
    """
    _register_builtin_classes()
    return {stype: dim for (dim, stype) in _CLASSES if stype}


def _register_builtin_classes() -> None:
    # The classes of ``lazysignal.signals`` register when that package is imported. A process
    # may reach the registry without it (``python -m lazysignal``, a dask worker, a script that
    # imports ``lazysignal.io`` directly, since ``import lazysignal`` loads its API on first
    # use): importing it here makes every lookup see all built-in classes.
    global _BUILTIN_REGISTERED
    if not _BUILTIN_REGISTERED:
        _BUILTIN_REGISTERED = True
        importlib.import_module("lazysignal.signals")


_BUILTIN_REGISTERED = False
