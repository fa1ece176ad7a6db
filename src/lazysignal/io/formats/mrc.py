"""MRC / MRC2014 (``.mrc``, ``.ali``): header by FORMATS-binary 1.2-1.6, data via chunked_file.

The 1024-byte main header is decoded here; FEI1/FEI2 extended-header records are decoded
with :mod:`mrcfile`'s record layouts. The data block (``NZ`` frames of ``NY x NX``) goes
through :func:`lazysignal.io.backends.chunked_file.file_array`, so lazy reads are per chunk and
picklable. ``navigation_shape=(x, y, ...)`` folds the frame stack into a scan, as the
4D-STEM files written by Velox and by scripts need.
"""

from __future__ import annotations

import math
import os
import re
from typing import Any, TypeVar

import dask.array as da
import numpy as np

from ...errors import FileFormatError, TruncatedFileError
from ..backends import direct_electron
from ..backends.chunked_file import file_array, read_file_array, write_file_array
from ..spec import AxisDict, FormatSpec, SignalDict, accepted_options, check_options
from ..backends.metadata import set_item

__all__ = ["FORMAT", "read", "write", "read_header"]

FORMAT = FormatSpec("mrc", ("mrc", "ali"), writes=True, lazy=True, chunks=True, distributed=True,
                    memmap=True)

HEADER_BYTES = 1024

#: The main header with RosettaSciIO's field names (its ``std_header``), FORMATS-binary 1.2.
_STD_FIELDS: list[tuple[Any, ...]] = [
    ("NX", "u4"), ("NY", "u4"), ("NZ", "u4"), ("MODE", "u4"),
    ("NXSTART", "u4"), ("NYSTART", "u4"), ("NZSTART", "u4"),
    ("MX", "u4"), ("MY", "u4"), ("MZ", "u4"),
    ("Xlen", "f4"), ("Ylen", "f4"), ("Zlen", "f4"),
    ("ALPHA", "f4"), ("BETA", "f4"), ("GAMMA", "f4"),
    ("MAPC", "u4"), ("MAPR", "u4"), ("MAPS", "u4"),
    ("AMIN", "f4"), ("AMAX", "f4"), ("AMEAN", "f4"),
    ("ISPG", "u2"), ("NSYMBT", "u2"), ("NEXT", "u4"), ("CREATID", "u2"), ("EXTRA", "V30"),
    ("NINT", "u2"), ("NREAL", "u2"), ("EXTRA2", "V28"),
    ("IDTYPE", "u2"), ("LENS", "u2"), ("ND1", "u2"), ("ND2", "u2"), ("VD1", "u2"), ("VD2", "u2"),
    ("TILTANGLES", "f4", (6,)),
    ("XORIGIN", "f4"), ("YORIGIN", "f4"), ("ZORIGIN", "f4"),
    ("CMAP", "S4"), ("STAMP", "S4"), ("RMS", "f4"), ("NLABL", "u4"), ("LABELS", "S800"),
]


def _std_dtype(order: str) -> np.dtype:
    fields = [(f[0], order + f[1] if f[1][0] in "uif" else f[1]) + tuple(f[2:]) for f in _STD_FIELDS]
    dt = np.dtype(fields)
    assert dt.itemsize == HEADER_BYTES
    return dt


_T = TypeVar("_T")


def _tail(items: list[_T], n: int) -> list[_T]:
    # The last n entries (names and calibrations are taken from the end after squeezing).
    return items[len(items) - n:]


_MODES = {0: "i1", 1: "i2", 2: "f4", 4: "c8", 6: "u2", 12: "f2"}
_MODE_NAMES = {3: "complex int16", 101: "4-bit packed"}
_IMOD_STAMP = 1146047817

# FEI1/FEI2 record fields copied into metadata: (record field, metadata path, factor).
_FEI_METADATA = [
    ("HT", ("Acquisition_instrument", "TEM", "beam_energy"), 1e-3),
    ("Alpha tilt", ("Acquisition_instrument", "TEM", "Stage", "tilt_alpha"), 1.0),
    ("Beta tilt", ("Acquisition_instrument", "TEM", "Stage", "tilt_beta"), 1.0),
    ("Magnification", ("Acquisition_instrument", "TEM", "magnification"), 1.0),
    ("Camera length", ("Acquisition_instrument", "TEM", "camera_length"), 1e3),
    ("Dwell time", ("Acquisition_instrument", "TEM", "dwell_time"), 1.0),
]
# FEI legacy (Agard-style) 128-byte record, FORMATS-binary 1.6.
_FEI_LEGACY = np.dtype([
    ("a_tilt", "<f4"), ("b_tilt", "<f4"), ("x_stage", "<f4"), ("y_stage", "<f4"),
    ("z_stage", "<f4"), ("x_shift", "<f4"), ("y_shift", "<f4"), ("defocus", "<f4"),
    ("exp_time", "<f4"), ("mean_int", "<f4"), ("tilt_axis", "<f4"), ("pixel_size", "<f4"),
    ("magnification", "<f4"), ("unused", "V76"),
])
_NAV_LABEL = re.compile(r"lazysignal navigation_shape=\(([\d, ]*)\)")


def _byte_order(raw: bytes) -> str:
    stamp = raw[212:214]
    if stamp in (b"\x44\x44", b"\x44\x41"):
        return "<"
    if stamp == b"\x11\x11":
        return ">"
    # No valid stamp (older writers): little-endian unless MODE only makes sense swapped.
    mode_le = int.from_bytes(raw[12:16], "little")
    mode_be = int.from_bytes(raw[12:16], "big")
    return ">" if mode_le not in _MODES and mode_be in _MODES else "<"


def read_header(path: str | os.PathLike) -> dict[str, Any]:
    """Decode an MRC file's main header (and what it implies) without reading data.

    Returns a dict with ``std_header`` (RosettaSciIO's field names), ``byte_order``,
    ``dtype``, ``shape`` (NZ, NY, NX), ``data_offset``, ``exttyp``, ``nversion``,
    ``ispg``, ``nsymbt``, ``labels`` and ``extended`` (FEI records decoded, or None).

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "a.mrc")
    >>> ax = [{"name": n, "units": "nm", "navigate": False, "size": 4, "scale": 0.5, "offset": 0.0}
    ...       for n in "yx"]
    >>> write(p, {"data": np.zeros((4, 4), "f4"), "axes": ax, "metadata": {}})
    >>> h = read_header(p)
    >>> h["shape"], h["dtype"], h["data_offset"], h["nversion"]
    ((1, 4, 4), dtype('float32'), 1024, 20140)
    """
    path = os.fspath(path)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        raw = f.read(HEADER_BYTES)
        if len(raw) < HEADER_BYTES:
            raise TruncatedFileError(
                f"{path!r} has {size} bytes; an MRC file needs at least its 1024-byte header."
            )
        order = _byte_order(raw)
        std = np.frombuffer(raw, dtype=_std_dtype(order))[0]
        i4 = np.dtype(order + "i4")
        nx, ny, nz, mode = (int(v) for v in np.frombuffer(raw, i4, count=4))
        ispg = int(np.frombuffer(raw, i4, count=1, offset=88)[0])
        nsymbt = int(np.frombuffer(raw, i4, count=1, offset=92)[0])
        nversion = int(np.frombuffer(raw, i4, count=1, offset=108)[0])
        exttyp = raw[104:108].rstrip(b"\0 ").decode("ascii", "replace")
        if min(nx, ny, nz) < 0 or nsymbt < 0:
            raise FileFormatError(
                f"{path!r}: the header gives NX, NY, NZ = {nx}, {ny}, {nz} and NSYMBT = {nsymbt}; "
                "none can be negative. Is this an MRC file?"
            )
        if mode not in _MODES:
            what = _MODE_NAMES.get(mode, "unknown")
            raise FileFormatError(
                f"{path!r}: MRC mode {mode} ({what}) is not supported; supported modes: "
                f"{', '.join(f'{m} ({np.dtype(d)})' for m, d in _MODES.items())}."
            )
        dtype = np.dtype(order + _MODES[mode])
        if mode == 0:
            imod_stamp = int(np.frombuffer(raw, i4, count=1, offset=152)[0])
            imod_flags = int(np.frombuffer(raw, i4, count=1, offset=156)[0])
            if imod_stamp == _IMOD_STAMP and not imod_flags & 1:
                dtype = np.dtype("u1")  # IMOD: mode 0 is unsigned unless flagged signed
        extended = None
        if nsymbt:
            ext = f.read(nsymbt)
            if len(ext) < nsymbt:
                raise TruncatedFileError(
                    f"{path!r}: the header announces a {nsymbt}-byte extended header; the file "
                    f"has {size} bytes, fewer than the {HEADER_BYTES + nsymbt} that needs."
                )
            extended = _decode_extended(ext, exttyp, nsymbt, order)
    nlabl = min(int(std["NLABL"]), 10)
    labels = [
        raw[224 + 80 * i : 304 + 80 * i].rstrip(b"\0 ").decode("latin-1") for i in range(nlabl)
    ]
    std_header = {}
    for name in std.dtype.names:
        value = std[name]
        if isinstance(value, (bytes, np.bytes_)):
            value = bytes(value).hex()
        elif isinstance(value, np.void):
            value = value.tobytes().hex()
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        else:
            value = value.item()
        std_header[name] = value
    return {
        "std_header": std_header, "byte_order": order, "dtype": dtype, "mode": mode,
        "shape": (nz, ny, nx), "data_offset": HEADER_BYTES + nsymbt, "exttyp": exttyp,
        "nversion": nversion, "ispg": ispg, "nsymbt": nsymbt, "labels": labels,
        "extended": extended, "file_size": size,
    }


def _decode_extended(ext: bytes, exttyp: str, nsymbt: int, order: str) -> dict[str, Any] | None:
    """The first record of a known extended header, as a plain dict."""
    if exttyp in ("FEI1", "FEI2"):
        from mrcfile.dtypes import get_ext_header_dtype

        dt = get_ext_header_dtype(exttyp.encode(), "<" if order == "<" else ">")
        if dt is None or len(ext) < dt.itemsize:
            return None
        size = int.from_bytes(ext[:4], "little" if order == "<" else "big")
        stride = size if size >= dt.itemsize else dt.itemsize
        record = np.frombuffer(ext, dtype=dt, count=1)[0]
        return {"type": exttyp, "record_size": stride, "records": len(ext) // stride,
                "first": _record_dict(record)}
    if nsymbt == 131072:  # FEI legacy: 1024 records of 128 bytes
        record = np.frombuffer(ext, dtype=_FEI_LEGACY, count=1)[0]
        first = _record_dict(record)
        first.pop("unused", None)
        return {"type": "fei_legacy", "record_size": 128, "records": 1024, "first": first}
    return None


def _record_dict(record: np.void) -> dict[str, Any]:
    out = {}
    for name in record.dtype.names or ():
        value = record[name]
        if isinstance(value, (bytes, np.bytes_)):
            value = bytes(value).rstrip(b"\0").decode("latin-1")
        elif isinstance(value, np.void):
            value = value.tobytes().hex()
        elif isinstance(value, np.ndarray):
            value = value.tolist()
        else:
            value = value.item()
        out[name] = value
    return out


def _calibration(header: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """(scale, offset) per axis x, y, z in nm, FORMATS-binary 1.5 (and 1.6 FEI legacy)."""
    std = header["std_header"]
    ext = header["extended"]
    if ext is not None and ext["type"] == "fei_legacy":
        pixel = float(np.float32(ext["first"]["pixel_size"])) * 1e9
        return {"x": (pixel, 0.0), "y": (pixel, 0.0), "z": (1.0, 0.0)}
    cal = {}
    for axis, length, m, origin in (("x", "Xlen", "MX", "XORIGIN"), ("y", "Ylen", "MY", "YORIGIN"),
                                    ("z", "Zlen", "MZ", "ZORIGIN")):
        length_v, m_v = float(std[length]), int(std[m])
        if axis == "z":
            scale = length_v / m_v / 10 if (length_v and m_v) else 1.0
        else:
            scale = length_v / m_v / 10 if m_v else 1.0
        cal[axis] = (scale, float(std[origin]) / 10)
    return cal


def read(
    path: str | os.PathLike,
    *,
    lazy: bool = False,
    chunks: Any = "auto",
    distributed: bool = True,
    pad: bool = False,
    navigation_shape: tuple[int, ...] | None = None,
    **format_options: Any,
) -> list[SignalDict]:
    """Read an MRC file.

    Parameters
    ----------
    path
        The file.
    lazy, chunks, distributed, pad
        See :func:`lazysignal.io.backends.chunked_file.file_array`; ``chunks`` applies to the
        final shape (after ``navigation_shape`` and squeezing).
    navigation_shape
        Navigation shape in HyperSpy order ``(x, y, ...)`` whose product is NZ: the
        frame stack becomes a scan, numpy shape ``(*reversed(navigation_shape), NY, NX)``.
        Files written by lazysignal remember their navigation shape in a label; a Direct
        Electron movie (``*_movie.mrc``) takes its scan from the ``*_info.txt`` beside it,
        as HyperSpy does (see :mod:`lazysignal.io.backends.direct_electron`).

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "stack.mrc")
    >>> ax = [{"name": n, "units": u, "navigate": nav, "size": s, "scale": 1.0, "offset": 0.0}
    ...       for n, u, nav, s in [("z", None, True, 6), ("y", "nm", False, 4), ("x", "nm", False, 5)]]
    >>> write(p, {"data": np.arange(120, dtype="u2").reshape(6, 4, 5), "axes": ax, "metadata": {}})
    >>> sig = read(p, lazy=True, navigation_shape=(3, 2))[0]
    >>> sig["data"].shape, [a["name"] for a in sig["axes"]]
    ((2, 3, 4, 5), ['', 'z', 'y', 'x'])
    """
    check_options(format_options, accepted_options(read), where="mrc.read")
    path = os.fspath(path)
    header = read_header(path)
    nz, ny, nx = header["shape"]
    if navigation_shape is None:
        for label in header["labels"]:
            match = _NAV_LABEL.search(label)
            if match and match.group(1).strip():
                guess = tuple(int(v) for v in match.group(1).split(",") if v.strip())
                if math.prod(guess) == nz:
                    navigation_shape = guess
    cal = _calibration(header)
    names: list[str] = ["z", "y", "x"]
    units: list[str | None] = [None, "nm", "nm"]
    navigate = [True, False, False]
    scales: list[float] = [cal["z"][0], cal["y"][0], cal["x"][0]]
    offsets: list[float] = [cal["z"][1], cal["y"][1], cal["x"][1]]
    if navigation_shape is not None:
        navigation_shape = tuple(int(n) for n in navigation_shape)
        if math.prod(navigation_shape) != nz or not navigation_shape:
            raise FileFormatError(
                f"{path!r} holds NZ = {nz} frames; navigation_shape={navigation_shape} has "
                f"{math.prod(navigation_shape)} positions. Give a shape whose product is {nz}."
            )
        shape = tuple(navigation_shape[::-1]) + (ny, nx)
        extra = len(navigation_shape) - 1
        names = [""] * extra + names
        no_units: list[str | None] = [None] * extra
        units = no_units + units
        navigate = [True] * extra + navigate
        scales = [1.0] * extra + scales
        offsets = [0.0] * extra + offsets
    else:
        shape = (nz, ny, nx)
    de = None
    info_path = direct_electron.info_file_for(path) if navigation_shape is None else None
    if info_path is not None:
        # A Direct Electron movie: its scan shape and axes are in the *_info.txt beside it.
        de = direct_electron.movie_layout(path, info_path, nz)
        shape = tuple(de["nav"]) + (ny, nx)
        names, units, navigate, scales = de["names"], de["units"], de["navigate"], de["scales"]
        offsets = [0.0] * len(names)
    keep = [i for i, n in enumerate(shape) if n != 1] or [len(shape) - 1]
    # After squeezing, names and calibrations are taken from the end of the list.
    names, units, navigate = _tail(names, len(keep)), _tail(units, len(keep)), _tail(navigate, len(keep))
    scales, offsets = _tail(scales, len(keep)), _tail(offsets, len(keep))
    shape = tuple(shape[i] for i in keep)
    frame_ndim = min(2, len(shape))
    kw: dict[str, Any] = dict(shape=shape, dtype=header["dtype"], offset=header["data_offset"], frame_ndim=frame_ndim, pad=pad)
    data: da.Array | np.ndarray
    if lazy:
        data = file_array(path, chunks=chunks, distributed=distributed, **kw)
    else:
        data = read_file_array(path, **kw)
    axes = [
        AxisDict(name=n, units=u, navigate=nav, size=int(s), scale=float(sc), offset=float(o))
        for n, u, nav, s, sc, o in zip(names, units, navigate, shape, scales, offsets)
    ]
    if not any(not a["navigate"] for a in axes):
        axes[-1]["navigate"] = False
    metadata: dict[str, Any] = {
        "General": {"original_filename": os.path.basename(path), "title": ""},
        "Signal": {"signal_type": ""},
    }
    original: dict[str, Any] = {"std_header": header["std_header"]}
    ext = header["extended"]
    if ext is not None:
        original["extended_header"] = ext
        rec = ext["first"]
        if ext["type"] == "fei_legacy":
            tem = ("Acquisition_instrument", "TEM")
            set_item(metadata, tem + ("Stage", "tilt_alpha"), rec["a_tilt"])
            set_item(metadata, tem + ("Stage", "tilt_beta"), rec["b_tilt"])
            for axis in "xyz":
                set_item(metadata, tem + ("Stage", axis), rec[f"{axis}_stage"])
            set_item(metadata, tem + ("Detector", "Camera", "exposure"), rec["exp_time"])
            set_item(metadata, tem + ("magnification",), rec["magnification"])
        else:
            for field, where, factor in _FEI_METADATA:
                if field in rec and isinstance(rec[field], (int, float)):
                    set_item(metadata, where, rec[field] * factor)
    if header["labels"]:
        original["labels"] = header["labels"]
    if de is not None:
        original["de_metadata"] = de["original"]
        for key, value in de["metadata"].items():
            metadata.setdefault(key, {}).update(value)
    return [SignalDict(data=data, axes=axes, metadata=metadata, original_metadata=original)]


_WRITE_MODES = {"int8": 0, "int16": 1, "float32": 2, "complex64": 4, "uint16": 6, "float16": 12}


def write(path: str | os.PathLike, signal: SignalDict, *, labels: list[str] | None = None,
          **format_options: Any) -> None:
    """Write an MRC2014 file (FORMATS-binary 1.8), little-endian.

    The frames are the last two axes; every other axis is flattened into NZ (its shape
    is kept in a label so lazysignal reads the scan back; other readers take
    ``navigation_shape=``). uint8 data are widened to uint16 (mode 6). Lazy data are
    streamed chunk by chunk; the statistics fields then hold the "not computed"
    sentinels.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "img.mrc")
    >>> ax = [{"name": n, "units": "nm", "navigate": False, "size": 3, "scale": 0.25, "offset": 1.0}
    ...       for n in "yx"]
    >>> write(p, {"data": np.eye(3, dtype="f4"), "axes": ax, "metadata": {}})
    >>> back = read(p)[0]
    >>> float(back["data"].trace()), back["axes"][1]["scale"], back["axes"][1]["offset"]
    (3.0, 0.25, 1.0)
    """
    check_options(format_options, accepted_options(write), where="mrc.write")
    path = os.fspath(path)
    data = signal["data"]
    axes = list(signal.get("axes") or [])
    if data.dtype == np.uint8:
        data = data.astype("<u2")
    name = data.dtype.name
    if name not in _WRITE_MODES:
        raise FileFormatError(
            f"Cannot save {path!r} as MRC: dtype {name} has no MRC mode; MRC stores "
            f"{', '.join(_WRITE_MODES)} (and uint8, widened). Change the dtype first."
        )
    if data.ndim < 2:
        raise FileFormatError(f"Cannot save {path!r} as MRC: it stores images; the data are {data.ndim}-D.")
    if len(axes) not in (0, data.ndim):
        raise FileFormatError(f"{path!r}: {len(axes)} axes for data of shape {data.shape}.")
    ny, nx = (int(n) for n in data.shape[-2:])
    nav_shape = tuple(int(n) for n in data.shape[:-2])
    nz = math.prod(nav_shape)
    little = data.dtype.newbyteorder("<")

    def axis(i: int) -> dict:
        return dict(axes[i]) if axes else {}

    def in_angstrom(ax: dict, key: str, default: float) -> float:
        value = float(ax.get(key, default) or default) if key == "scale" else float(ax.get(key, 0.0) or 0.0)
        return value * 10.0

    x_ax, y_ax = axis(data.ndim - 1), axis(data.ndim - 2)
    z_ax = axis(data.ndim - 3) if data.ndim == 3 else {}
    header = np.zeros(1, dtype=_std_dtype("<"))[0]
    header["NX"], header["NY"], header["NZ"] = nx, ny, nz
    header["MODE"] = _WRITE_MODES[name]
    header["MX"], header["MY"], header["MZ"] = nx, ny, nz
    header["Xlen"] = in_angstrom(x_ax, "scale", 1.0) * nx
    header["Ylen"] = in_angstrom(y_ax, "scale", 1.0) * ny
    header["Zlen"] = in_angstrom(z_ax, "scale", 1.0) * nz if z_ax else 0.0
    header["ALPHA"] = header["BETA"] = header["GAMMA"] = 90.0
    header["MAPC"], header["MAPR"], header["MAPS"] = 1, 2, 3
    if isinstance(data, da.Array) or data.size == 0 or data.dtype.kind == "c":
        header["AMIN"], header["AMAX"], header["AMEAN"], header["RMS"] = 0.0, -1.0, -2.0, -1.0
    else:
        values = np.asarray(data, dtype=np.float64)
        header["AMIN"], header["AMAX"] = values.min(), values.max()
        header["AMEAN"], header["RMS"] = values.mean(), values.std()
    header["XORIGIN"] = in_angstrom(x_ax, "offset", 0.0)
    header["YORIGIN"] = in_angstrom(y_ax, "offset", 0.0)
    header["ZORIGIN"] = in_angstrom(z_ax, "offset", 0.0) if z_ax else 0.0
    header["CMAP"] = b"MAP "
    header["STAMP"] = b"\x44\x44"
    texts = list(labels or [])
    texts.insert(0, "lazysignal navigation_shape=(" + ", ".join(str(n) for n in nav_shape[::-1]) + ")"
                 if len(nav_shape) > 1 else "lazysignal")
    texts = texts[:10]
    header["NLABL"] = len(texts)
    header["LABELS"] = b"".join(t.encode("latin-1", "replace")[:80].ljust(80) for t in texts)
    raw = bytearray(header.tobytes())
    raw[88:92] = (0).to_bytes(4, "little")  # ISPG 0: an image stack
    raw[92:96] = (0).to_bytes(4, "little")  # NSYMBT 0: no extended header
    raw[108:112] = (20140).to_bytes(4, "little")  # NVERSION
    if name == "int8":
        raw[152:156] = _IMOD_STAMP.to_bytes(4, "little")
        raw[156:160] = (1).to_bytes(4, "little")  # IMOD flag: bytes are signed
    tmp = path + ".tmp-lazysignal"
    try:
        with open(tmp, "wb") as f:
            f.write(bytes(raw))
        # The frames are C-ordered after the header whatever the navigation shape, so
        # the data are written in their own shape (no reshape, no rechunk of lazy data).
        if isinstance(data, da.Array):
            write_file_array(tmp, data.astype(little), offset=HEADER_BYTES)
        else:
            with open(tmp, "ab") as f:
                np.ascontiguousarray(data, dtype=little).tofile(f)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
