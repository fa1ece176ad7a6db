"""The tree shared by ``.hspy`` (HDF5) and ``.zspy`` (zarr): HyperSpy's layout, version 3.3.

Both formats store the same tree (see ``shared/FORMATS.md``)::

    /                         attrs file_format ("HyperSpy" | "ZSpy"), file_format_version "3.3"
    /Experiments/<title>      attrs package, package_version; one group per signal
        data                  the n-D array, numpy order
        axis-0 .. axis-(n-1)  one group per numpy axis (attrs; dataset "axis" if non-uniform)
        metadata/ original_metadata/ learning_results/ attributes/

This module knows the tree and the value encodings; it never imports h5py or zarr. Each format
module hands it a :class:`TreeBackend` that does the few storage operations the tree needs
(make a group with its attributes, store a small array, read one back, read or write the big
``data`` array).
"""

from __future__ import annotations

import ast
import datetime
import math
import operator
import os
import warnings
from abc import ABC, abstractmethod
from typing import Any, Callable

import numpy as np

from ...errors import ChunksError, FileFormatError
from ..spec import AxisDict, SignalDict
from . import learning_results

__all__ = [
    "VERSION",
    "TreeBackend",
    "default_chunks",
    "group_name_for_title",
    "read_signals",
    "write_signal",
    "encode_axis",
    "decode_axis",
]

#: The layout version we write, as HyperSpy writes it (a string attribute).
VERSION = "3.3"

_NONE = "_None_"
_UNIFORM = "UniformDataAxis"
_NON_UNIFORM = "DataAxis"
_FUNCTIONAL = "FunctionalDataAxis"


class TreeBackend(ABC):
    """The storage operations the tree code needs; one subclass per library (h5py, zarr)."""

    #: Name used in messages ("hspy" / "zspy").
    format_name: str = ""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = os.fspath(path)

    # -- reading ---------------------------------------------------------------------------
    @abstractmethod
    def is_group(self, node: Any) -> bool:
        """Whether ``node`` is a group (as opposed to an array)."""

    @abstractmethod
    def load_array(self, array: Any) -> np.ndarray:
        """A small stored array as numpy (strings as ``str`` elements)."""

    @abstractmethod
    def data_array(self, array: Any, *, lazy: bool, chunks: Any) -> Any:
        """The signal's ``data`` array: numpy when not lazy, a dask array when lazy."""

    # -- writing ---------------------------------------------------------------------------
    @abstractmethod
    def create_group(self, parent: Any, name: str, attrs: dict) -> Any:
        """A new child group with all its attributes set at once (zip stores dislike rewrites)."""

    @abstractmethod
    def create_array(self, parent: Any, name: str, value: np.ndarray) -> None:
        """Store a small array (metadata values, non-uniform axes)."""

    @abstractmethod
    def write_data(self, parent: Any, name: str, data: Any, chunks: tuple[int, ...] | None) -> None:
        """Store the signal's ``data`` (numpy or dask) with ``chunks`` (``None``: library's choice)."""

    def encode_attr(self, value: Any) -> Any:
        """An attribute value the library can store (h5py takes numpy scalars as they are)."""
        return value

    def error(self, what: str) -> FileFormatError:
        """A :class:`FileFormatError` naming the file."""
        return FileFormatError(f"{self.path!r} is not a readable {self.format_name} file: {what}")


# ----------------------------------------------------------------------------------------------
# Chunks


def default_chunks(
    shape: tuple[int, ...], dtype: Any, signal_axes: list[int] | None, target_size: float
) -> tuple[int, ...] | None:
    """HyperSpy's default chunks for eager data: whole signals, about ``target_size`` bytes each.

    Each chunk holds whole signals (signal axes unsplit) and as many navigation positions as fit
    in ``target_size`` bytes, spread evenly over the navigation axes (an axis shorter than its
    share is taken whole and the rest is shared among the others). ``None`` means "let the
    storage library choose" (no signal axes known, or an empty array).

    Examples
    --------
    >>> default_chunks((256, 256, 1024), "float32", [2], 1e6)
    (15, 15, 1024)
    >>> default_chunks((10, 4096, 4096), "uint16", [1, 2], 1e6)
    (1, 4096, 4096)
    >>> default_chunks((3, 100), "float64", [1], 1e8)
    (3, 100)
    """
    if signal_axes is None or 0 in shape or len(shape) == 0:
        return None
    itemsize = np.dtype(dtype).itemsize
    sig = set(signal_axes)
    nav = [i for i in range(len(shape)) if i not in sig]
    signal_bytes = math.prod(shape[i] for i in sig) * itemsize
    per_chunk = int(target_size // signal_bytes)
    if per_chunk < 2 or not nav:
        return tuple(s if i in sig else 1 for i, s in enumerate(shape))
    if per_chunk > math.prod(shape[i] for i in nav):
        return tuple(shape)
    # Share `per_chunk` evenly (a cube root for 3 nav axes...); axes shorter than the share
    # are kept whole and the share is recomputed over the remaining axes until it settles.
    whole: list[int] = []
    while True:
        free = len(nav) - len(whole)
        side = int(math.floor((per_chunk / math.prod(shape[i] for i in whole)) ** (1 / free)))
        short = [i for i in nav if i not in whole and shape[i] < side]
        if not short:
            break
        whole.extend(short)
    return tuple(s if i in sig or i in whole else side for i, s in enumerate(shape))


# ----------------------------------------------------------------------------------------------
# Versions and names


def _parse_version(value: Any) -> tuple[int, ...]:
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, (float, np.floating)):
        value = str(round(float(value), 2))
    parts = str(value).strip().split(".")
    try:
        return tuple(int(p) for p in parts)
    except ValueError:
        raise ValueError(f"file_format_version {value!r} is not a version number") from None


def file_version(root: Any, backend: TreeBackend) -> tuple[int, ...]:
    """The layout version of a file, guessing 1.0 / 2.0 for files without the attribute."""
    if "file_format_version" in root.attrs:
        try:
            version = _parse_version(root.attrs["file_format_version"])
        except ValueError as exc:
            raise backend.error(str(exc)) from None
    elif "Experiments" in root:
        version = (1, 0)
    elif "Analysis" in root:
        version = (2, 0)
    else:
        found = sorted(root.keys())[:10]
        raise backend.error(
            "expected HyperSpy's layout (a root attribute 'file_format_version' and a group "
            f"'/Experiments'), found root entries {found}; was it written by HyperSpy or lazysignal?"
        )
    if version > _parse_version(VERSION):
        warnings.warn(
            f"{backend.path!r} was written with {backend.format_name} layout version "
            f"{'.'.join(map(str, version))}, newer than the {VERSION} this library knows; reading "
            "it anyway. Upgrade lazysignal if something is missing or wrong.",
            UserWarning,
            stacklevel=3,
        )
    return version


def group_name_for_title(title: str | None) -> str:
    """The ``/Experiments`` group name HyperSpy uses for a title.

    Examples
    --------
    >>> group_name_for_title("EDS/map"), group_name_for_title("")
    ('EDS-map', '__unnamed__')
    """
    return (title or "__unnamed__").replace("/", "-")


# ----------------------------------------------------------------------------------------------
# Axes


def encode_axis(axis: AxisDict, size: int, navigate_default: bool) -> dict:
    """Our axis dict as HyperSpy stores it (``_type``, ``None`` kept for the tree encoder)."""
    out: dict[str, Any] = {
        "name": axis.get("name"),
        "units": axis.get("units"),
        "navigate": bool(axis.get("navigate", navigate_default)),
        "is_binned": bool(axis.get("is_binned", False)),
    }
    if axis.get("axis") is not None:
        values = np.asarray(axis["axis"])
        if values.shape != (size,):
            raise ValueError(
                f"axis {axis.get('name')!r} has {values.shape[0] if values.ndim else 0} values "
                f"but its data dimension has {size}"
            )
        out["_type"] = _NON_UNIFORM
        out["axis"] = values
    else:
        out["_type"] = _UNIFORM
        out["size"] = int(size)
        out["scale"] = float(axis.get("scale", 1.0))
        out["offset"] = float(axis.get("offset", 0.0))
    return out


_OPS: dict[type[ast.AST], Callable[..., Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.Pow: operator.pow,
    ast.BitXor: operator.pow,  # sympy reads "x^2" as a power
    ast.USub: operator.neg,
    ast.UAdd: operator.pos,
}
_FUNCS: dict[str, Callable[..., Any]] = {
    name: getattr(np, name)
    for name in ("exp", "log", "log10", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh",
                 "arcsin", "arccos", "arctan")
}
_FUNCS.update(asin=np.arcsin, acos=np.arccos, atan=np.arctan, Abs=np.abs, abs=np.abs)
_CONSTANTS = {"pi": np.pi, "E": np.e}


def _evaluate(expression: str, names: dict[str, Any]) -> Any:
    """Evaluate an arithmetic expression over numpy values, allowing nothing else."""

    def visit(node: ast.AST) -> Any:
        if isinstance(node, ast.Expression):
            return visit(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)):
            return node.value
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.Name) and node.id in _CONSTANTS:
            return _CONSTANTS[node.id]
        if isinstance(node, ast.BinOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](visit(node.left), visit(node.right))
        if isinstance(node, ast.UnaryOp) and type(node.op) in _OPS:
            return _OPS[type(node.op)](visit(node.operand))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCS
            and not node.keywords
        ):
            return _FUNCS[node.func.id](*(visit(a) for a in node.args))
        raise ValueError(f"unsupported element {ast.dump(node)[:60]}")

    return visit(ast.parse(expression.replace("^", "**"), mode="eval"))


def decode_axis(stored: dict, size: int, backend: TreeBackend, where: str) -> AxisDict:
    """A stored axis (attrs already decoded) as our axis dict; functional axes are evaluated."""
    axis: AxisDict = {
        "name": stored.get("name"),
        "units": stored.get("units"),
        "navigate": bool(stored.get("navigate", True)),
        "is_binned": bool(stored.get("is_binned", False)),
    }
    kind = stored.get("_type", _UNIFORM if "axis" not in stored else _NON_UNIFORM)
    if kind == _FUNCTIONAL:
        x_stored = stored.get("x")
        if isinstance(x_stored, dict):
            x_axis = decode_axis(x_stored, size, backend, f"{where}/x")
            x = x_axis.get("axis")
            if x is None:
                x = x_axis["offset"] + x_axis["scale"] * np.arange(x_axis["size"])
        else:
            x = np.arange(size, dtype=float)
        reserved = {"_type", "name", "units", "navigate", "is_binned", "size", "expression", "x"}
        params = {k: v for k, v in stored.items() if k not in reserved}
        try:
            values = np.broadcast_to(
                np.asarray(_evaluate(str(stored["expression"]), {"x": x, **params}), float), x.shape
            ).copy()
        except (KeyError, ValueError, TypeError, SyntaxError, ZeroDivisionError) as exc:
            raise backend.error(
                f"{where}: cannot evaluate functional axis expression "
                f"{stored.get('expression')!r} ({exc})"
            ) from None
        axis["axis"] = values
    elif kind == _NON_UNIFORM or "axis" in stored:
        values = np.asarray(stored.get("axis"))
        if values.ndim != 1 or values.shape[0] != size:
            raise backend.error(
                f"{where}: non-uniform axis has {values.size} values, data dimension has {size}"
            )
        axis["axis"] = values
    elif kind == _UNIFORM:
        axis["size"] = int(stored.get("size", size))
        axis["scale"] = float(stored.get("scale", 1.0))
        axis["offset"] = float(stored.get("offset", 0.0))
        if axis["size"] != size:
            raise backend.error(f"{where}: axis size {axis['size']} but data dimension is {size}")
    else:
        raise backend.error(f"{where}: unknown axis type {kind!r}")
    return axis


# ----------------------------------------------------------------------------------------------
# Reading the tree


def _decode_attr(value: Any) -> Any:
    if isinstance(value, bytes):
        value = value.decode()
    if isinstance(value, np.bytes_):
        value = value.decode()
    if isinstance(value, str):
        return None if value == _NONE else value
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray) and value.dtype.kind == "S":
        return value.astype("U")
    return value


def _strip_count(key: str, prefix: str) -> str:
    """``_list_3_name`` -> ``name`` (the count sits between the prefix and the name)."""
    rest = key[len(prefix):]
    return rest[rest.index("_") + 1:] if "_" in rest else rest


def _ordered(children: dict) -> list:
    """The values of a ``_list_<n>_`` group's dict in index order (children named "0".."n-1")."""

    def index(key: str) -> tuple[int, Any]:
        return (0, int(key)) if key.isdigit() else (1, key)

    return [children[k] for k in sorted(children, key=index)]


def read_tree(group: Any, backend: TreeBackend) -> dict:
    """A stored metadata group as a nested dict, undoing every value encoding.

    Embedded signals (``_sig_<name>`` groups) come back as nested signal dicts under the same
    ``_sig_<name>`` key, as HyperSpy's own dictionaries hold them.
    """
    out: dict[str, Any] = {}
    for key, raw in group.attrs.items():
        value = _decode_attr(raw)
        if key.startswith("_list_empty_"):
            out[key[len("_list_empty_"):]] = []
        elif key.startswith("_tuple_empty_"):
            out[key[len("_tuple_empty_"):]] = ()
        elif key.startswith("_bs_"):
            out[key[len("_bs_"):]] = np.asarray(raw).tobytes()
        elif key.startswith("_datetime_"):  # layout < 2: "datetime.date(2020, 1, 2)"
            out[key[len("_datetime_"):]] = _legacy_datetime(key, str(value))
        elif key.startswith("_sig_"):
            continue
        else:
            out[key] = value
    for key in group.keys():
        node = group[key]
        if key.startswith("_ragged_shapes_"):
            continue
        if key.startswith("_sig_"):
            out[key] = read_signal_group(node, backend, lazy=False, chunks="auto", name=key)
        elif not backend.is_group(node):
            value = backend.load_array(node)
            if key.startswith("_list_"):
                out[key[len("_list_"):]] = value.tolist()
            elif key.startswith("_tuple_"):
                out[key[len("_tuple_"):]] = tuple(value.tolist())
            else:
                out[key] = value
        elif key.startswith("_hspy_AxesManager_"):
            out[key] = _ordered(read_tree(node, backend))
        elif key.startswith("_list_"):
            out[_strip_count(key, "_list_")] = _ordered(read_tree(node, backend))
        elif key.startswith("_tuple_"):
            out[_strip_count(key, "_tuple_")] = tuple(_ordered(read_tree(node, backend)))
        else:
            out[key] = read_tree(node, backend)
    return out


def _legacy_datetime(key: str, value: str) -> str:
    try:
        args = ast.literal_eval(value[value.index("("):])
        kind = datetime.date if key.startswith("_datetime_date") else datetime.time
        return kind(*args).isoformat()
    except (ValueError, SyntaxError, TypeError):
        return value


def _stored_axes(group: Any, ndim: int, backend: TreeBackend) -> list[dict]:
    """The stored axis dicts, from ``axis-i`` groups or a ``_list_<n>_axes`` group."""
    if all(f"axis-{i}" in group for i in range(ndim)):
        return [read_tree(group[f"axis-{i}"], backend) for i in range(ndim)]
    listed = f"_list_{ndim}_axes"
    if listed in group:
        return _ordered(read_tree(group[listed], backend))
    missing = [f"axis-{i}" for i in range(ndim) if f"axis-{i}" not in group]
    raise backend.error(f"{_name(group)}: data has {ndim} dimensions but {missing} are missing")


def _name(node: Any) -> str:
    return getattr(node, "name", None) or getattr(node, "path", "") or "/"


def read_signal_group(
    group: Any, backend: TreeBackend, *, lazy: bool, chunks: Any, name: str = "",
    version: tuple[int, ...] = (3, 3),
) -> SignalDict:
    """One ``/Experiments/<title>`` group (or embedded ``_sig_`` group) as a signal dict."""
    where = _name(group)
    meta_key, original_key = (
        ("mapped_parameters", "original_parameters") if version < (1, 2)
        else ("metadata", "original_metadata")
    )
    if "data" not in group or backend.is_group(group["data"]):
        raise backend.error(f"{where}: no 'data' array")
    stored_data = group["data"]
    shape = tuple(stored_data.shape)
    if "_ragged_shapes_data" in group or "ragged_shapes" in group:
        raise backend.error(
            f"{where}: ragged (variable-length) data is not supported by lazysignal yet"
        )
    data = backend.data_array(stored_data, lazy=lazy, chunks=chunks)
    axes = [
        decode_axis(stored, size, backend, f"{where}/axis-{i}")
        for i, (stored, size) in enumerate(zip(_stored_axes(group, len(shape), backend), shape))
    ]
    metadata = read_tree(group[meta_key], backend) if meta_key in group else {}
    original = read_tree(group[original_key], backend) if original_key in group else {}
    attributes = read_tree(group["attributes"], backend) if "attributes" in group else {}
    attributes["_lazy"] = bool(lazy)
    attributes.setdefault("ragged", False)
    learning_key = "learning_results" if "learning_results" in group else "mva_results"
    learning = learning_results.from_tree(read_tree(group[learning_key], backend)) if learning_key in group else {}
    if version < (1, 2):
        _upgrade_pre_1_2(metadata)
    general = metadata.get("General")
    if isinstance(general, dict) and general.get("title") == "__unnamed__":
        general["title"] = ""
    signal: SignalDict = {
        "data": data,
        "axes": axes,
        "metadata": metadata,
        "original_metadata": original,
        "attributes": attributes,
        "learning_results": learning,
    }
    signal["package"] = _decode_attr(group.attrs.get("package", "")) or ""  # type: ignore[typeddict-unknown-key]
    signal["package_version"] = _decode_attr(group.attrs.get("package_version", "")) or ""  # type: ignore[typeddict-unknown-key]
    return signal


def _upgrade_pre_1_2(metadata: dict) -> None:
    """Move the few keys layout 1.0/1.1 kept elsewhere to where current metadata has them."""
    if "_internal_parameters" in metadata:
        metadata["_HyperSpy"] = metadata.pop("_internal_parameters")
    for old, section, new in (
        ("name", "General", "title"), ("title", "General", "title"),
        ("original_filename", "General", "original_filename"),
        ("signal", "Signal", "signal_type"), ("signal_type", "Signal", "signal_type"),
        ("record_by", "Signal", "record_by"), ("signal_origin", "Signal", "signal_origin"),
    ):
        if old in metadata and not isinstance(metadata[old], dict):
            metadata.setdefault(section, {})[new] = metadata.pop(old)


def read_signals(root: Any, backend: TreeBackend, *, lazy: bool, chunks: Any) -> list[SignalDict]:
    """Every signal under ``/Experiments`` (groups holding a ``data`` array), in stored order."""
    version = file_version(root, backend)
    if "Experiments" not in root or not backend.is_group(root["Experiments"]):
        raise backend.error("no '/Experiments' group (HyperSpy's layout keeps signals there)")
    experiments = root["Experiments"]
    signals = []
    for name in experiments.keys():
        node = experiments[name]
        if backend.is_group(node) and "data" in node:
            signals.append(
                read_signal_group(node, backend, lazy=lazy, chunks=chunks, name=name,
                                  version=version)
            )
    if not signals:
        raise backend.error(
            f"'/Experiments' holds no signal (no group with a 'data' array); found "
            f"{sorted(experiments.keys())[:10]}"
        )
    return signals


# ----------------------------------------------------------------------------------------------
# Writing the tree


def _homogeneous(value: list | tuple) -> np.ndarray | None:
    """The flat array a list/tuple can be stored as, or ``None`` if it needs a group."""
    kinds = set()
    for item in value:
        if isinstance(item, (bool, np.bool_)):
            kinds.add("b")
        elif isinstance(item, (int, float, np.integer, np.floating)):
            kinds.add("n")
        elif isinstance(item, str):
            kinds.add("s")
        elif isinstance(item, complex | np.complexfloating):
            kinds.add("c")
        else:
            return None
    if len(kinds) != 1:
        return None
    array = np.asarray(value)
    return array if array.ndim == 1 and array.dtype != object else None


def _is_signal_dict(value: Any) -> bool:
    return isinstance(value, dict) and "data" in value


def write_tree(parent: Any, name: str, tree: dict, backend: TreeBackend) -> Any:
    """Store ``tree`` as group ``name`` of ``parent``, encoding each value HyperSpy's way."""
    attrs: dict[str, Any] = {}
    children: list[tuple[str, str, Any]] = []  # (kind, stored name, value)
    for key, value in tree.items():
        key = str(key)
        if _is_signal_dict(value) and key.startswith("_sig_"):
            children.append(("signal", key, value))
        elif isinstance(value, dict):
            children.append(("group", key, value))
        elif isinstance(value, np.ndarray) or hasattr(value, "compute") and hasattr(value, "dask"):
            children.append(("array", key, np.asarray(value)))
        elif value is None:
            attrs[key] = _NONE
        elif isinstance(value, bytes):
            if b"\x00" in value:
                encoded = backend.encode_attr(np.void(value))
                if encoded is None:
                    _warn_unstored(backend, key, value)
                else:
                    attrs["_bs_" + key] = encoded
            else:
                attrs[key] = value.decode()
        elif isinstance(value, (list, tuple)):
            prefix = "_list_" if isinstance(value, list) else "_tuple_"
            if not value:
                attrs[f"{prefix}empty_{key}"] = _NONE
                continue
            flat = _homogeneous(value)
            if flat is not None:
                children.append(("array", prefix + key, flat))
            else:
                items = {str(i): item for i, item in enumerate(value)}
                children.append(("group", f"{prefix}{len(value)}_{key}", items))
        elif isinstance(value, (str, bool, int, float, complex, np.generic)):
            attrs[key] = backend.encode_attr(value)
        else:
            _warn_unstored(backend, key, value)
    group = backend.create_group(parent, name, attrs)
    for kind, key, value in children:
        if kind == "group":
            write_tree(group, key, value, backend)
        elif kind == "signal":
            write_signal(group, key, value, backend, chunks=None, embedded=True)
        else:
            backend.create_array(group, key, value)
    return group


def _warn_unstored(backend: TreeBackend, key: str, value: Any) -> None:
    warnings.warn(
        f"Saving {backend.path!r}: metadata item {key!r} of type {type(value).__name__} has no "
        f"{backend.format_name} encoding and was not saved; convert it to a str, number, list or "
        "array to keep it.",
        UserWarning,
        stacklevel=4,
    )


def _signal_axes(signal: SignalDict, ndim: int) -> list[AxisDict]:
    axes = list(signal.get("axes") or [])
    if not axes:
        axes = [{"navigate": i < ndim - 1} for i in range(ndim)]  # type: ignore[misc]
    if len(axes) != ndim:
        raise ValueError(f"signal has {len(axes)} axes but its data has {ndim} dimensions")
    return axes


def write_signal(
    parent: Any, name: str, signal: SignalDict, backend: TreeBackend, *,
    chunks: tuple[int, ...] | None, embedded: bool = False,
) -> Any:
    """Store one signal dict as group ``name`` of ``parent`` (an ``/Experiments`` child).

    ``chunks`` is the chunk shape for ``data`` already decided by the caller (``None``: the
    library's default). An embedded (``_sig_``) signal stores its axes as a ``_list_<n>_axes``
    group, as HyperSpy does for signals inside metadata.
    """
    data = signal["data"]
    if data.dtype == object:
        raise TypeError(
            f"Saving {backend.path!r}: object (ragged) data cannot be saved to "
            f"{backend.format_name} by lazysignal yet; convert it to a numeric dtype."
        )
    shape = tuple(data.shape)
    axes = _signal_axes(signal, len(shape))
    stored_axes = [
        encode_axis(axis, size, navigate_default=i < len(shape) - 1)
        for i, (axis, size) in enumerate(zip(axes, shape))
    ]
    attrs = {}
    if not embedded:
        attrs = {
            "package": str(signal.get("package", "") or ""),
            "package_version": str(signal.get("package_version", "") or ""),
        }
    group = backend.create_group(parent, name, attrs)
    if embedded:
        write_tree(group, f"_list_{len(stored_axes)}_axes",
                   {str(i): a for i, a in enumerate(stored_axes)}, backend)
    else:
        for i, stored in enumerate(stored_axes):
            write_tree(group, f"axis-{i}", stored, backend)
    backend.write_data(group, "data", data, chunks)
    write_tree(group, "metadata", dict(signal.get("metadata") or {}), backend)
    write_tree(group, "original_metadata", dict(signal.get("original_metadata") or {}), backend)
    write_tree(group, "learning_results", learning_results.to_tree(signal.get("learning_results")), backend)
    attributes = dict(signal.get("attributes") or {})
    attributes.pop("learning_results", None)
    attributes["_lazy"] = bool(hasattr(data, "dask"))
    attributes["ragged"] = bool(attributes.get("ragged", False))
    write_tree(group, "attributes", attributes, backend)
    return group


def signal_axes_indices(signal: SignalDict, ndim: int) -> list[int]:
    """Numpy indices of the signal (non-navigation) axes, for the default chunk heuristic."""
    axes = _signal_axes(signal, ndim)
    return [i for i, a in enumerate(axes) if not a.get("navigate", i < ndim - 1)]


def resolve_write_chunks(
    signal: SignalDict, chunks: Any, target_size: float, backend: TreeBackend
) -> tuple[int, ...] | None:
    """The chunk shape to store ``data`` with: explicit, else the dask chunks, else the heuristic.

    Explicit ``chunks`` may use ``-1``/``None`` for "the whole axis"; a dask-style tuple of
    per-axis chunk tuples is accepted when regular (every chunk but the last equal).
    """
    data = signal["data"]
    shape = tuple(data.shape)
    if chunks is None or chunks is True:
        if hasattr(data, "dask"):
            return tuple(max(c[0], 1) if c else 1 for c in data.chunks)
        if chunks is True:
            return None
        return default_chunks(shape, data.dtype, signal_axes_indices(signal, len(shape)),
                              target_size)
    if isinstance(chunks, int):
        chunks = (chunks,) * len(shape)
    chunks = tuple(chunks)
    if len(chunks) != len(shape):
        raise ChunksError(
            f"Saving {backend.path!r}: chunks={chunks!r} has {len(chunks)} entries but the data "
            f"has {len(shape)} dimensions {shape}; give one chunk length per axis."
        )
    out = []
    for i, (c, size) in enumerate(zip(chunks, shape)):
        if isinstance(c, tuple):
            if len(set(c[:-1])) > 1 or (len(c) > 1 and c[-1] > c[0]) or sum(c) != size:
                raise ChunksError(
                    f"Saving {backend.path!r}: chunks for axis {i} ({c}) are not regular; "
                    f"{backend.format_name} stores one chunk length per axis."
                )
            c = c[0] if c else size
        if c is None or c == -1:
            c = size
        if not isinstance(c, (int, np.integer)) or c < 1:
            raise ChunksError(
                f"Saving {backend.path!r}: chunk length {c!r} for axis {i} must be a positive "
                "int, -1 or None."
            )
        out.append(int(min(c, max(size, 1))))
    return tuple(out)
