"""Which signal class fits a (signal dimension, signal_type) pair.

Subclasses register themselves with :func:`register_signal_class`; the registry is explicit
and only used to pick a class when a signal is built, loaded, reduced or re-typed.
"""

from __future__ import annotations

__all__ = ["register_signal_class", "signal_class_for", "registered_signal_types"]

_CLASSES: dict[tuple[int | None, str], type] = {}


def register_signal_class(cls: type) -> type:
    """Class decorator: make ``cls`` the class for its ``_signal_dimension``/``_signal_type``."""
    _CLASSES[(cls._signal_dimension, cls._signal_type)] = cls
    return cls


def signal_class_for(signal_dimension: int, signal_type: str = "") -> type:
    """The most specific registered class for a signal dimension and type.

    A type registered for another dimension is not used (an EDS spectrum summed over its
    energy axis is no longer an EDS spectrum); the fallback is the class for the dimension,
    then the base class.
    """
    for key in ((signal_dimension, signal_type or ""), (signal_dimension, ""), (None, "")):
        if key in _CLASSES:
            return _CLASSES[key]
    raise LookupError("No signal classes are registered; import lazysignal first.")


def registered_signal_types() -> dict[str, int | None]:
    """Known ``signal_type`` names and the signal dimension each needs."""
    return {stype: dim for (dim, stype) in _CLASSES if stype}
