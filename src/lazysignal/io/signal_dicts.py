"""Conversion between signals and the plain dictionaries that format modules read and write."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeGuard, cast

import dask.array as da

from ..signal_registry import signal_class_for
from .spec import AxisDict, SignalDict

__all__ = ["signal_from_dict", "signal_to_dict"]

if TYPE_CHECKING:
    from ..signal import BaseSignal

_SIG = "_sig_"


def signal_from_dict(d: SignalDict, *, signal_type: str | None = None) -> "BaseSignal":
    """Build the fitting signal class from a reader's dictionary.

    Embedded signals (metadata keys ``_sig_<name>``, e.g. the navigator) become signals.

    Examples
    --------
    >>> import numpy as np
    >>> signal_from_dict({"data": np.zeros((2, 5)), "axes": [
    ...     {"size": 2, "navigate": True}, {"size": 5, "navigate": False}]})
    <Signal1D, title: , dimensions: (2|5)>
    """
    axes = [dict(a) for a in d.get("axes") or [{"size": n, "navigate": False} for n in d["data"].shape]]
    metadata = _signals_in(d.get("metadata") or {})
    if signal_type is not None:
        metadata.setdefault("Signal", {})["signal_type"] = signal_type
    stype = metadata.get("Signal", {}).get("signal_type", "") or ""
    signal_dim = sum(1 for a in axes if not a.get("navigate", False))
    # A type the caller asked for must exist; one read from a file falls back quietly.
    cls = signal_class_for(signal_dim, stype, strict=signal_type is not None)
    attributes = d.get("attributes") or {}
    signal = cls(d["data"], axes, metadata, d.get("original_metadata") or {},
                 ragged=bool(attributes.get("ragged", False)))
    if d.get("learning_results"):
        signal.learning_results = d["learning_results"]
    return signal


def signal_to_dict(signal: "BaseSignal") -> SignalDict:
    """The dictionary a writer takes: data, numpy-order axes, metadata with ``_sig_`` signals.

    Examples
    --------
    >>> import numpy as np
    >>> from lazysignal.signals import Signal1D
    >>> sorted(signal_to_dict(Signal1D(np.zeros(4))))
    ['attributes', 'axes', 'data', 'metadata', 'original_metadata']
    """
    d: SignalDict = {
        "data": signal.data,
        # as_dicts (signal layer, which cannot import io.spec) gives AxisDict's keys.
        "axes": cast("list[AxisDict]", signal.axes_manager.as_dicts()),
        "metadata": _signals_out(signal.metadata.as_dictionary()),
        "original_metadata": _signals_out(signal.original_metadata.as_dictionary()),
        "attributes": {"_lazy": isinstance(signal.data, da.Array), "ragged": signal.ragged},
    }
    learning = getattr(signal, "learning_results", None)
    if learning:
        d["learning_results"] = learning
    return d


def _is_stored_signal(value: object) -> TypeGuard[SignalDict]:
    # A signal saved inside metadata: a dict with its data (and its axes, metadata...).
    return isinstance(value, dict) and "data" in value


def _signals_in(tree: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if key.startswith(_SIG) and _is_stored_signal(value):
            out[key[len(_SIG):]] = signal_from_dict(value)
        elif isinstance(value, dict):
            out[key] = _signals_in(value)
        else:
            out[key] = value
    return out


def _signals_out(tree: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        if _is_signal(value):
            out[_SIG + key] = signal_to_dict(value)
        elif isinstance(value, dict):
            out[key] = _signals_out(value)
        else:
            out[key] = value
    return out


def _is_signal(value: Any) -> bool:
    # Duck-typed: this module is imported by the signal class itself (for ``save``).
    return hasattr(value, "axes_manager") and hasattr(value, "metadata") and hasattr(value, "data")
