"""Ripple / Lispix: a ``.rpl`` text header beside a ``.raw`` binary file (FORMATS-binary 3).

The ``.raw`` data go through :mod:`lazysignal.io.backends.chunked_file`, so a lazy read is a
per-chunk read (``distributed=True``) or a per-task memory map (``distributed=False``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dask.array as da
import numpy as np

from ...errors import FileFormatError, MissingFileError, TruncatedFileError
from ..backends.chunked_file import file_array, read_file_array, write_file_array
from ..spec import AxisDict, FormatSpec, SignalDict, accepted_options, check_options
from ..backends.metadata import set_item

__all__ = ["FORMAT", "read", "write", "parse_rpl"]

FORMAT = FormatSpec(
    "ripple", ("rpl",), writes=True, lazy=True, chunks=True, distributed=True, memmap=True
)

_INT_KEYS = {"width", "height", "depth", "offset"}
_FLOAT_KEYS = {
    "ev-per-chan", "detector-peak-width-ev", "energy-resolution",
    "depth-origin", "width-origin", "height-origin",
    "depth-scale", "width-scale", "height-scale",
    "beam-energy", "convergence-angle", "collection-angle",
    "elevation-angle", "azimuth-angle", "live-time", "tilt-stage",
}
_CHOICES = {
    "data-type": ("signed", "unsigned", "float"),
    "data-length": ("1", "2", "4", "8"),
    "byte-order": ("little-endian", "big-endian", "dont-care"),
    "record-by": ("vector", "image", "dont-care"),
}
_KIND = {"signed": "i", "unsigned": "u", "float": "f"}
_ORDER = {"little-endian": "<", "big-endian": ">", "dont-care": "="}
_WRITABLE = {"uint8", "uint16", "int32", "int64", "float32", "float64"}
# metadata path (under Acquisition_instrument.TEM) for each instrument key
_INSTRUMENT = {
    "beam-energy": ("beam_energy",),
    "convergence-angle": ("convergence_angle",),
    "collection-angle": ("Detector", "EELS", "collection_angle"),
    "elevation-angle": ("Detector", "EDS", "elevation_angle"),
    "azimuth-angle": ("Detector", "EDS", "azimuth_angle"),
    "live-time": ("Detector", "EDS", "live_time"),
    "tilt-stage": ("Stage", "tilt_alpha"),
    "detector-peak-width-ev": ("Detector", "EDS", "energy_resolution_MnKa"),
    "energy-resolution": ("Detector", "EDS", "energy_resolution_MnKa"),
}


def _inca_to_rpl(lines: list[str]) -> list[str]:
    """Rewrite the Oxford INCA variant (3.5) into plain ``key<TAB>value`` lines."""
    text = "".join(lines[1:])
    text = text.replace("(MLX::", "").replace(" : ", "\t").replace(" :", "\t").replace(" ", "\t")
    text = text.lower().strip().replace(")", "\n")
    out = [lines[0]]
    for line in text.split("\n"):
        if line.strip().startswith("record-by"):
            for choice in _CHOICES["record-by"]:
                if choice in line:
                    line = f"record-by\t{choice}"
        out.append(line + "\n")
    return out


def parse_rpl(path: str | os.PathLike) -> dict[str, Any]:
    """Parse a ``.rpl`` header into a dict of typed values and validate it.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.rpl")
    >>> with open(p, "w") as f:
    ...     _ = f.write("key\\tvalue\\nwidth\\t3\\nheight\\t2\\ndepth\\t4\\noffset\\t0\\n"
    ...                 "data-type\\tunsigned\\ndata-length\\t2\\nbyte-order\\tdont-care\\n"
    ...                 "record-by\\tvector\\n")
    >>> info = parse_rpl(p)
    >>> info["width"], info["record-by"], info["data-length"]
    (3, 'vector', '2')
    """
    path = os.fspath(path)
    with open(path, encoding="latin-1", errors="replace") as f:
        lines = f.readlines()
    if lines and "(" in lines[0]:
        lines = _inca_to_rpl(lines)
    info: dict[str, Any] = {}
    for number, raw in enumerate(lines, 1):
        line = raw.split(";", 1)[0]
        if not line.strip():
            continue
        if "\t" not in line:
            raise FileFormatError(
                f"{path!r} line {number}: expected 'key<TAB>value', found {raw.rstrip()!r}. "
                "Every non-comment line of a .rpl file needs a tab between key and value."
            )
        key, value = (item.strip() for item in line.split("\t")[:2])
        if key.lower() == "data-length":
            key = "data-length"
        try:
            if key in _INT_KEYS:
                info[key] = int(value)
            elif key in _FLOAT_KEYS:
                info[key] = float(value)
            else:
                info[key] = value
        except ValueError:
            raise FileFormatError(
                f"{path!r} line {number}: {key!r} should be a number, found {value!r}."
            ) from None
    _validate(info, path)
    return info


def _validate(info: dict[str, Any], path: str) -> None:
    for key in ("width", "height", "depth", "data-type", "data-length", "record-by"):
        if key not in info:
            raise FileFormatError(f"{path!r}: the .rpl header has no {key!r} key; it is required.")
    info.setdefault("offset", 0)
    info.setdefault("byte-order", "dont-care")
    for key, choices in _CHOICES.items():
        if info[key] not in choices:
            raise FileFormatError(
                f"{path!r}: {key} is {info[key]!r}; expected one of {', '.join(choices)}."
            )
    if info["depth"] == 1 and info["record-by"] != "dont-care":
        raise FileFormatError(
            f"{path!r}: depth is 1 but record-by is {info['record-by']!r}; a single image "
            "needs record-by 'dont-care'."
        )
    if info["data-type"] == "float" and int(info["data-length"]) < 4:
        raise FileFormatError(
            f"{path!r}: float data need data-length 4 or 8, found {info['data-length']}."
        )
    if info["data-length"] == "1" and info["byte-order"] != "dont-care":
        raise FileFormatError(
            f"{path!r}: one-byte data need byte-order 'dont-care', found {info['byte-order']!r}."
        )
    for key in ("width", "height", "depth"):
        if info[key] < 1:
            raise FileFormatError(f"{path!r}: {key} is {info[key]}; it must be at least 1.")


def _dtype(info: dict[str, Any]) -> np.dtype:
    length = int(info["data-length"])
    return np.dtype(f"{_ORDER[info['byte-order']]}{_KIND[info['data-type']]}{length}")


def _raw_path(path: str) -> str:
    stem = os.path.splitext(path)[0]
    for ext in (".raw", ".RAW"):
        if os.path.exists(stem + ext):
            return stem + ext
    raise MissingFileError(
        f"No data file beside {path!r}: expected {stem + '.raw'!r} (or .RAW), found none."
    )


def _layout(info: dict[str, Any]) -> tuple[list[str], list[bool]]:
    """Per numpy axis of the .raw: the rpl key naming it and whether it navigates."""
    if info["record-by"] == "vector":
        return ["height", "width", "depth"], [True, True, False]
    if info["record-by"] == "image":
        return ["depth", "height", "width"], [True, False, False]
    return ["height", "width"], [False, False]


def read(
    path: str | os.PathLike,
    *,
    lazy: bool = False,
    chunks: Any = "auto",
    distributed: bool = True,
    pad: bool = False,
    **format_options: Any,
) -> list[SignalDict]:
    """Read a ``.rpl`` / ``.raw`` pair.

    Parameters
    ----------
    path
        The ``.rpl`` file; the data file is the ``.raw`` (or ``.RAW``) with the same stem.
    lazy, chunks, distributed
        See :func:`lazysignal.io.backends.chunked_file.file_array`; ``chunks`` applies to the
        shape after length-1 axes are removed.
    pad
        Read a truncated ``.raw`` with zeros for the missing part instead of raising.

    Returns
    -------
    list of one SignalDict

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "si.rpl")
    >>> data = np.arange(24, dtype=np.uint16).reshape(2, 3, 4)
    >>> axes = [{"name": n, "units": u, "navigate": nav, "size": s, "scale": 1.0, "offset": 0.0}
    ...         for n, u, nav, s in [("y", "nm", True, 2), ("x", "nm", True, 3), ("E", "eV", False, 4)]]
    >>> write(p, {"data": data, "axes": axes, "metadata": {"General": {"title": "si"}}})
    >>> sig = read(p, lazy=True)[0]
    >>> sig["data"].shape, [a["name"] for a in sig["axes"]], sig["metadata"]["General"]["title"]
    ((2, 3, 4), ['y', 'x', 'E'], 'si')
    """
    path = os.fspath(path)
    check_options(format_options, accepted_options(read), where="ripple.read")
    info = parse_rpl(path)
    raw = _raw_path(path)
    keys, navigate = _layout(info)
    full_shape = [info[k] for k in keys]
    keep = [i for i, n in enumerate(full_shape) if n > 1] or [len(full_shape) - 1]
    shape = tuple(full_shape[i] for i in keep)
    keys = [keys[i] for i in keep]
    navigate = [navigate[i] for i in keep]
    if not any(not n for n in navigate):
        navigate[-1] = False  # a lone axis is the signal
    frame_ndim = sum(not n for n in navigate)
    dtype = _dtype(info)
    kw: dict[str, Any] = dict(shape=shape, dtype=dtype, offset=info["offset"],
                              frame_ndim=frame_ndim, pad=pad)
    data: da.Array | np.ndarray
    try:
        if lazy:
            data = file_array(raw, chunks=chunks, distributed=distributed, **kw)
        else:
            data = read_file_array(raw, **kw)
    except TruncatedFileError as exc:
        # The header may be what is wrong (a damaged width or depth): name it too.
        raise TruncatedFileError(
            f"{os.fspath(path)!r} describes more data than its data file holds: {exc}") from None

    axes: list[AxisDict] = []
    for key, nav, size in zip(keys, navigate, shape):
        scale = info.get(f"{key}-scale")
        if scale is None and key == "depth":
            scale = info.get("ev-per-chan")
        units = info.get(f"{key}-units", "")
        axes.append(
            AxisDict(
                name=str(info.get(f"{key}-name", key)),
                units=None if units == "<undefined>" else units,
                navigate=nav,
                size=int(size),
                scale=float(1.0 if scale is None else scale),
                offset=float(info.get(f"{key}-origin", 0.0)),
            )
        )
    metadata: dict[str, Any] = {
        "General": {
            "original_filename": os.path.basename(path),
            "title": info.get("title", ""),
            "date": info.get("date", ""),
            "time": info.get("time", ""),
        },
        "Signal": {"signal_type": info.get("signal", "")},
    }
    for key, where in _INSTRUMENT.items():
        if key in info:
            set_item(metadata, ("Acquisition_instrument", "TEM") + where, info[key])
    return [SignalDict(data=data, axes=axes, metadata=metadata, original_metadata=dict(info))]


def _get(tree: dict, path: str, default: Any = None) -> Any:
    for key in path.split("."):
        if not isinstance(tree, dict) or key not in tree:
            return default
        tree = tree[key]
    return tree


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("lazysignal")
    except Exception:  # not installed: still write a valid comment line
        return "unknown"


def write(path: str | os.PathLike, signal: SignalDict, *, encoding: str = "latin-1", **format_options: Any) -> None:
    """Write a signal as a ``.rpl`` header and a ``.raw`` data file (FORMATS-binary 3.4).

    The header's keys, their order and formatting follow RosettaSciIO's writer, so
    HyperSpy reads the pair unchanged. Lazy data are written chunk by chunk. Both files
    are written under temporary names first and then moved into place, so a failed
    save leaves any previous pair intact.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "img.rpl")
    >>> axes = [{"name": n, "units": None, "navigate": False, "size": s, "scale": 1.0, "offset": 0.0}
    ...         for n, s in [("y", 2), ("x", 3)]]
    >>> write(p, {"data": np.zeros((2, 3), "f4"), "axes": axes, "metadata": {}})
    >>> parse_rpl(p)["record-by"], os.path.getsize(p[:-4] + ".raw")
    ('dont-care', 24)
    """
    check_options(format_options, accepted_options(write), where="ripple.write")
    path = os.fspath(path)
    data = signal["data"]
    axes = list(signal["axes"])
    md = signal.get("metadata", {}) or {}
    if data.dtype.name not in _WRITABLE:
        raise FileFormatError(
            f"Cannot save {path!r} as ripple: dtype {data.dtype.name} is not supported; "
            f"use one of {', '.join(sorted(_WRITABLE))} (e.g. change_dtype first)."
        )
    if data.ndim > 3:
        raise FileFormatError(
            f"Cannot save {path!r} as ripple: it holds at most 3 dimensions, the data have "
            f"{data.ndim} {data.shape}. Use .hspy, .zspy or .mrc."
        )
    if len(axes) != data.ndim:
        raise FileFormatError(f"{path!r}: {len(axes)} axes for data of shape {data.shape}.")
    sig = [i for i, a in enumerate(axes) if not a.get("navigate", False)]
    nav = [i for i, a in enumerate(axes) if a.get("navigate", False)]
    dim = data.ndim
    depth_i: int | None
    if len(sig) == 1:
        record_by = "vector"
        depth_i, order = sig[0], nav + sig
        width_i = nav[-1] if nav else None
        height_i = nav[0] if len(nav) == 2 else None
        depth = axes[depth_i]["size"]
    elif len(sig) == 2:
        height_i, width_i = sig
        depth_i = nav[0] if nav else None
        record_by = "image" if dim == 3 else "dont-care"
        order = nav + sig
        depth = axes[depth_i]["size"] if depth_i is not None else 1
    else:
        raise FileFormatError(
            f"Cannot save {path!r} as ripple: it needs 1 or 2 signal axes, found {len(sig)}."
        )
    width = axes[width_i]["size"] if width_i is not None else 1
    height = axes[height_i]["size"] if height_i is not None else 1
    kind = {"u": "unsigned", "i": "signed", "f": "float"}[data.dtype.kind]
    byte_order = {"=": "dont-care", "|": "dont-care", "<": "little-endian", ">": "big-endian"}[
        data.dtype.byteorder
    ]
    keys: dict[str, Any] = {
        "width": width, "height": height, "depth": depth, "offset": 0,
        "data-type": kind, "data-length": str(data.dtype.itemsize), "byte-order": byte_order,
        "record-by": record_by,
        "signal": _get(md, "Signal.signal_type", ""),
        "date": _get(md, "General.date", ""),
        "time": _get(md, "General.time", ""),
        "title": _get(md, "General.title", ""),
    }
    if record_by == "vector" and depth_i is not None:  # always set for vectors
        keys["ev-per-chan"] = int(round(axes[depth_i].get("scale", 1.0)))
    for key, index, size in (("depth", depth_i, depth), ("height", height_i, height), ("width", width_i, width)):
        if size > 1 and index is not None:
            ax = axes[index]
            units = ax.get("units")
            keys[f"{key}-scale"] = ax.get("scale", 1.0)
            keys[f"{key}-origin"] = ax.get("offset", 0.0)
            keys[f"{key}-units"] = "<undefined>" if units is None else units
            keys[f"{key}-name"] = "<undefined>" if ax.get("name") is None else ax.get("name")
    signal_type = keys["signal"] or ""
    if signal_type == "EELS":
        tem = _get(md, "Acquisition_instrument.TEM")
        if isinstance(tem, dict):
            for key in ("beam-energy", "convergence-angle", "collection-angle"):
                value = _get(tem, ".".join(_INSTRUMENT[key]))
                if value is not None:
                    keys[key] = value
    if "EDS" in signal_type:
        mic = _get(md, "Acquisition_instrument." + ("SEM" if signal_type == "EDS_SEM" else "TEM"))
        if isinstance(mic, dict):
            for key in ("beam-energy", "elevation-angle", "tilt-stage", "azimuth-angle",
                        "live-time", "detector-peak-width-ev"):
                value = _get(mic, ".".join(_INSTRUMENT[key]))
                if value is not None:
                    keys[key] = value

    text = f";File created by lazysignal version {_version()}\nkey\tvalue\n"
    text += "".join(f"{k}\t{v if isinstance(v, str) else str(v)}\n" for k, v in sorted(keys.items()))

    raw_path = os.path.splitext(path)[0] + ".raw"
    ordered = data.transpose(order) if order != list(range(dim)) else data
    tmp_rpl, tmp_raw = path + ".tmp-lazysignal", raw_path + ".tmp-lazysignal"
    try:
        with open(tmp_rpl, "w", encoding=encoding, errors="ignore", newline="\n") as f:
            f.write(text)
        Path(tmp_raw).write_bytes(b"")
        if isinstance(ordered, da.Array):
            write_file_array(tmp_raw, ordered, frame_ndim=1)
        else:
            np.ascontiguousarray(ordered).tofile(tmp_raw)
        os.replace(tmp_raw, raw_path)
        os.replace(tmp_rpl, path)
    finally:
        for tmp in (tmp_rpl, tmp_raw):
            if os.path.exists(tmp):
                os.remove(tmp)
