"""NanoMegas ASTAR blockfiles (``.blo``): 4D-STEM / precession diffraction scans.

Layout (``shared/FORMATS-binary.md`` section 2): a 240-byte header, a free-text note, a
virtual bright-field (VBF) image of NY x NX bytes at ``Data_offset_1``, then from
``Data_offset_2`` one frame per scan position: 6 bytes (``AA 55`` + u4 frame index) and
DP_SZ x DP_SZ uint8 pixels.

Reading is lazy two ways (:func:`lazysignal.io.backends.chunked_file.file_array`) and skips the
frame headers; writing streams a dask array block by block and is RosettaSciIO
compatible. A file shorter than its header says raises
:class:`~lazysignal.errors.TruncatedFileError`; ``pad=True`` reads the missing frames as
zeros instead (eager and lazy alike).
"""

from __future__ import annotations

import os
import warnings
from datetime import datetime, timedelta, timezone
from typing import Any

import dask
import dask.array as da
import numpy as np

from lazysignal.errors import FileFormatError, TruncatedFileError
from lazysignal.io.backends.chunked_file import file_array, read_file_array
from lazysignal.io.spec import AxisDict, FormatSpec, SignalDict

__all__ = ["FORMAT", "read", "write", "read_header"]

FORMAT = FormatSpec("blockfile", ("blo",), writes=True, lazy=True, chunks=True, distributed=True,
                    memmap=True)

_MAGIC = 0x0102
_FRAME_MAGIC = 0x55AA
_FRAME_HEADER = 6
_HEADER_SIZE = 240
_SERIAL_EPOCH = datetime(1899, 12, 30, tzinfo=timezone.utc)


def _header_dtype(endianness: str = "<") -> np.dtype:
    e = endianness
    fields = [
        ("ID", "S6"), ("MAGIC", e + "u2"), ("Data_offset_1", e + "u4"),
        ("Data_offset_2", e + "u4"), ("UNKNOWN1", e + "u4"), ("DP_SZ", e + "u2"),
        ("DP_rotation", e + "u2"), ("NX", e + "u2"), ("NY", e + "u2"),
        ("Scan_rotation", e + "u2"), ("SX", e + "f8"), ("SY", e + "f8"),
        ("Beam_energy", e + "u4"), ("SDP", e + "u2"), ("Camera_length", e + "u4"),
        ("Acquisition_time", e + "f8"),
    ]
    fields += [(f"Centering_N{i}", e + "f8") for i in range(8)]
    fields += [(f"Distortion_N{i:02d}", e + "f8") for i in range(14)]
    dt = np.dtype(fields)
    assert dt.itemsize == _HEADER_SIZE
    return dt


def _header_names() -> tuple[str, ...]:
    names = _header_dtype().names
    assert names is not None  # a structured dtype always has field names
    return names


def _default_header() -> dict[str, Any]:
    header: dict[str, Any] = {name: 0 for name in _header_names()}
    header.update(ID=b"IMGBLO", MAGIC=_MAGIC, Data_offset_1=0x1000, UNKNOWN1=131141,
                  Acquisition_time=25570.0)  # 1970-01-02, as RosettaSciIO writes
    return header


def read_header(path: str | os.PathLike, endianness: str = "<") -> dict[str, Any]:
    """The fixed header and the note of a blockfile, as plain Python values.

    Parameters
    ----------
    path
        The ``.blo`` file.
    endianness
        ``"<"`` (every known file) or ``">"``.

    Returns
    -------
    dict
        The header fields of FORMATS-binary 2.2 (``ID`` as bytes) plus ``Note`` (str).

    Raises
    ------
    FileFormatError
        When the file is too short for a header or does not start with ``IMGBLO``.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "a.blo")
    >>> ax = [dict(name=n, units=u, navigate=nav, size=s, scale=1.0, offset=0.0)
    ...       for n, u, nav, s in [("y", "nm", True, 2), ("x", "nm", True, 3),
    ...                             ("dy", "cm", False, 4), ("dx", "cm", False, 4)]]
    >>> write(p, {"data": np.zeros((2, 3, 4, 4), "u1"), "axes": ax, "metadata": {},
    ...           "original_metadata": {}})
    >>> h = read_header(p)
    >>> h["NX"], h["NY"], h["DP_SZ"], h["Data_offset_2"]
    (3, 2, 4, 4108)
    """
    filename = os.fspath(path)
    with open(filename, "rb") as f:
        raw = f.read(_HEADER_SIZE)
        if len(raw) < _HEADER_SIZE:
            raise FileFormatError(
                f"{filename!r} is not a blockfile: a blockfile starts with a {_HEADER_SIZE}-byte "
                f"header, the file has {len(raw)} bytes."
            )
        record = np.frombuffer(raw, dtype=_header_dtype(endianness))[0]
        header = {name: record[name].item() for name in record.dtype.names}
        if header["ID"] != b"IMGBLO":
            raise FileFormatError(
                f"{filename!r} is not a blockfile: expected the magic string b'IMGBLO' at "
                f"byte 0, found {header['ID']!r}."
            )
        note_len = max(0, int(header["Data_offset_1"]) - _HEADER_SIZE)
        header["Note"] = f.read(note_len).decode("latin-1").strip("\x00")
    if header["MAGIC"] != _MAGIC:
        warnings.warn(
            f"{filename!r}: unrecognised blockfile signature {header['MAGIC']:#06x} (expected "
            f"{_MAGIC:#06x}); reading anyway, check the result.",
            stacklevel=2,
        )
    return header


def _serial_date_to_iso(serial: float) -> tuple[str, str, str]:
    # Days since 1899-12-30 UTC; shown in the reader's local time zone, as RosettaSciIO does.
    moment = (_SERIAL_EPOCH + timedelta(days=float(serial))).astimezone()
    return moment.date().isoformat(), moment.time().isoformat(), moment.tzname() or ""


def _axes(header: dict, nav_keep: list[bool]) -> list[AxisDict]:
    sdp = 100.0 / header["SDP"] if header["SDP"] else 1.0
    nav = [AxisDict(name="y", units="nm", navigate=True, size=int(header["NY"]),
                    scale=float(header["SY"]), offset=0.0),
           AxisDict(name="x", units="nm", navigate=True, size=int(header["NX"]),
                    scale=float(header["SX"]), offset=0.0)]
    sig = [AxisDict(name=n, units="cm", navigate=False, size=int(header["DP_SZ"]), scale=sdp,
                    offset=0.0) for n in ("dy", "dx")]
    # A length-1 scan axis is dropped together with its own name and scale.
    return [a for a, keep in zip(nav, nav_keep) if keep] + sig


def read(
    path: str | os.PathLike,
    *,
    lazy: bool = False,
    chunks: Any = "auto",
    distributed: bool = True,
    pad: bool = False,
    endianness: str = "<",
) -> list[SignalDict]:
    """Read a blockfile.

    Parameters
    ----------
    path
        The ``.blo`` file.
    lazy
        Return a dask array that reads each chunk on demand.
    chunks
        Dask chunks of the returned array (numpy order, length-1 scan axes removed), honoured
        exactly; ``"auto"`` keeps frames whole.
    distributed
        True: each task ``pread``'s its chunk (picklable, for ``dask.distributed``).
        False: each task memory-maps its own chunk.
    pad
        Read the frames missing from a truncated file as zeros instead of raising
        :class:`~lazysignal.errors.TruncatedFileError` (same for lazy and eager reads).
    endianness
        Byte order of the header numbers.

    Returns
    -------
    list of SignalDict
        One uint8 signal ``(NY, NX, DP_SZ, DP_SZ)`` with the VBF image in
        ``original_metadata["virtual_bright_field"]``.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "a.blo")
    >>> data = np.arange(2 * 3 * 4 * 4, dtype="u1").reshape(2, 3, 4, 4)
    >>> ax = [dict(name=n, units=u, navigate=nav, size=s, scale=1.0, offset=0.0)
    ...       for n, u, nav, s in [("y", "nm", True, 2), ("x", "nm", True, 3),
    ...                             ("dy", "cm", False, 4), ("dx", "cm", False, 4)]]
    >>> write(p, {"data": data, "axes": ax, "metadata": {}, "original_metadata": {}})
    >>> s = read(p, lazy=True, chunks=(1, 3, 2, 4))[0]
    >>> s["data"].chunks
    ((1, 1), (3,), (2, 2), (4,))
    >>> bool((s["data"].compute() == data).all())
    True
    """
    filename = os.fspath(path)
    header = read_header(filename, endianness)
    ny, nx, dp = int(header["NY"]), int(header["NX"]), int(header["DP_SZ"])
    off1, off2 = int(header["Data_offset_1"]), int(header["Data_offset_2"])
    if off1 < _HEADER_SIZE or off2 < off1 + nx * ny:
        raise FileFormatError(
            f"{filename!r}: header offsets contradict the scan size: the VBF image of "
            f"{ny}x{nx} bytes at Data_offset_1={off1} must end before Data_offset_2={off2}."
        )
    size = os.path.getsize(filename)
    frame_bytes = _FRAME_HEADER + dp * dp
    if size < off2 + nx * ny * frame_bytes:
        complete = max(0, (size - off2) // frame_bytes)
        if not pad:
            raise TruncatedFileError(
                f"{filename!r} is truncated: its header describes {ny}x{nx} frames of "
                f"{dp}x{dp} bytes ({off2 + nx * ny * frame_bytes} bytes in all) but the file has "
                f"{size} bytes ({complete} complete frames). Pass pad=True to read the missing "
                "frames as zeros."
            )
        warnings.warn(
            f"{filename!r} is truncated ({complete} of {nx * ny} frames): missing frames read "
            "as zeros (pad=True).",
            stacklevel=2,
        )
    nav_keep = [ny != 1, nx != 1]
    nav_shape = tuple(n for n, keep in zip((ny, nx), nav_keep) if keep)
    shape = nav_shape + (dp, dp)
    kwargs: dict[str, Any] = dict(shape=shape, dtype="u1", offset=off2,
                                  frame_header=_FRAME_HEADER, pad=pad)
    data: da.Array | np.ndarray
    if lazy:
        data = file_array(filename, chunks=chunks, distributed=distributed, **kwargs)
    else:
        data = read_file_array(filename, **kwargs)

    with open(filename, "rb") as f:
        f.seek(off1)
        raw_vbf = np.frombuffer(f.read(nx * ny), dtype="u1")
    vbf = raw_vbf.reshape(ny, nx).reshape(nav_shape) if raw_vbf.size == nx * ny else None

    date, time, zone = _serial_date_to_iso(header["Acquisition_time"])
    metadata: dict[str, Any] = {
        "General": {"original_filename": os.path.basename(filename), "date": date,
                    "time": time, "time_zone": zone, "notes": header["Note"]},
        "Signal": {"signal_type": "diffraction"},
        "Acquisition_instrument": {"TEM": {
            "beam_energy": header["Beam_energy"] * 1e-3,
            "camera_length": header["Camera_length"] * 1e-4,
            "rotation": header["Scan_rotation"] * 1e-2,
        }},
    }
    original: dict[str, Any] = {"blockfile_header": header}
    if vbf is not None:
        original["virtual_bright_field"] = vbf
    return [{"data": data, "axes": _axes(header, nav_keep), "metadata": metadata,
             "original_metadata": original}]


# -- writing ---------------------------------------------------------------------------

_LENGTH_IN_M = {"m": 1.0, "cm": 1e-2, "mm": 1e-3, "um": 1e-6, "µm": 1e-6, "μm": 1e-6,
                "micron": 1e-6, "nm": 1e-9, "A": 1e-10, "Å": 1e-10, "pm": 1e-12}


def _convert(axis: AxisDict, target: str, kind: str) -> tuple[float, float]:
    scale, offset = float(axis.get("scale", 1.0)), float(axis.get("offset", 0.0))
    units = axis.get("units")
    if units in _LENGTH_IN_M:
        factor = _LENGTH_IN_M[units] / _LENGTH_IN_M[target]
        return scale * factor, offset * factor
    warnings.warn(
        f"Blockfiles store {kind} axes in {target}; axis {axis.get('name')!r} has units "
        f"{units!r}, which cannot be converted: its scale is saved unchanged.",
        stacklevel=4,
    )
    return scale, offset


def _header_for(signal: SignalDict, shape4: tuple[int, ...]) -> tuple[dict, str]:
    header = _default_header()
    stored = (signal.get("original_metadata") or {}).get("blockfile_header") or {}
    note = ""
    for key, value in stored.items():
        if key == "Note":
            note = value or ""
        elif key in header:
            header[key] = value
    axes = signal["axes"]
    nav = [a for a in axes if a.get("navigate")]
    sig = [a for a in axes if not a.get("navigate")]
    nav_scales = [_convert(a, "nm", "navigation")[0] for a in nav]
    sig_scales = [_convert(a, "cm", "signal")[0] for a in sig]
    ny, nx, dp_y, dp_x = shape4
    if dp_y != dp_x:
        raise FileFormatError(
            f"Blockfiles hold square diffraction patterns; the signal shape is ({dp_x}, {dp_y})."
        )
    if len(nav) == 2:
        sx, sy = nav_scales[1], nav_scales[0]
    elif len(nav) == 1:
        sx = sy = nav_scales[0]
    else:
        sx = sy = 1.0
    sdp = 100.0 / sig_scales[-1] if sig_scales and sig_scales[-1] else 0.0
    if not 0 <= sdp < 65536:
        warnings.warn(f"SDP {sdp} (100 / pattern scale in cm) does not fit a u2; stored as 0.",
                      stacklevel=3)
        sdp = 0.0
    off1 = int(header["Data_offset_1"])
    off2 = nx * ny + off1
    off2 += off2 % 16  # RosettaSciIO's rule (FORMATS-binary 2.5 step 5), kept for compatibility
    header.update(NX=nx, NY=ny, DP_SZ=dp_x, SX=sx, SY=sy, SDP=int(sdp), Data_offset_2=off2)
    return header, note


def _rescale(x, low: float, high: float):
    # Linear map of [low, high] onto [0, 255] with clipping, then truncation to uint8.
    x = x.clip(low, high).astype("f8")
    span = (high - low) or 1.0
    return ((x - low) / span * 255.0).astype("u1")


def _scaling_bounds(data, intensity_scaling) -> tuple[float, float] | None:
    """The input range mapped onto 0-255, or None for a plain cast."""
    if intensity_scaling is None:
        if data.dtype != np.uint8:
            warnings.warn(
                f"Blockfiles store uint8; the {data.dtype} data are cast without scaling, so "
                "values outside 0-255 wrap. Pass intensity_scaling= to rescale.",
                stacklevel=4,
            )
        return None
    if isinstance(intensity_scaling, str):
        if intensity_scaling == "dtype":
            if data.dtype.kind not in "iu":
                raise FileFormatError(
                    f"intensity_scaling='dtype' needs integer data, the data are {data.dtype}.")
            info = np.iinfo(data.dtype)
            return float(info.min), float(info.max)
        if intensity_scaling == "minmax":
            low, high = dask.compute(data.min(), data.max())
            return float(low), float(high)
        if intensity_scaling == "crop":
            return 0.0, 255.0
        raise FileFormatError(
            f"intensity_scaling must be None, 'dtype', 'minmax', 'crop' or (low, high); "
            f"got {intensity_scaling!r}.")
    low, high = intensity_scaling
    return float(low), float(high)


def _to_uint8(x, bounds):
    if bounds is None:
        return x.astype("u1")
    if bounds == (0.0, 255.0):
        # "crop": a plain clip, exact and without a float copy of every block.
        return x.clip(0, 255).astype("u1")
    return _rescale(x, *bounds)


class _FrameWriter:
    """``da.store`` target writing blocks of a (NY, NX, DP, DP) array into frames.

    Picklable (only path and layout), so blocks can be written by ``dask.distributed``
    workers; each block writes its own bytes with ``os.pwrite`` and the frame headers of the
    frames whose first pixel it holds.
    """

    def __init__(self, path: str, offset: int, shape: tuple[int, int, int, int]):
        self.path, self.offset, self.shape = path, offset, shape
        self.dp = shape[2]
        self.stride = _FRAME_HEADER + self.dp * self.dp
        self.record = np.dtype([("magic", "<u2"), ("index", "<u4"),
                                ("img", "u1", (self.dp, self.dp))])

    def __setitem__(self, key: tuple[slice, ...], value: np.ndarray) -> None:
        ys, xs, rs, cs = (range(*k.indices(n)) for k, n in zip(key, self.shape))
        value = np.asarray(value, dtype="u1")
        nx = self.shape[1]
        fd = os.open(self.path, os.O_WRONLY)
        try:
            if len(rs) == self.dp and len(cs) == self.dp:
                # Whole frames: each scan row of the block is one contiguous run of records.
                for j, y in enumerate(ys):
                    first = y * nx + xs.start
                    rec = np.empty(len(xs), dtype=self.record)
                    rec["magic"] = _FRAME_MAGIC
                    rec["index"] = np.arange(first, first + len(xs))
                    rec["img"] = value[j]
                    # ndarray has the buffer protocol; numpy declares __buffer__ for Python >= 3.12 only.
                    os.pwrite(fd, rec.view(np.uint8),  # type: ignore[arg-type]
                              self.offset + first * self.stride)
                return
            head = np.empty(1, dtype=[("magic", "<u2"), ("index", "<u4")])
            for j, y in enumerate(ys):
                for i, x in enumerate(xs):
                    frame = y * nx + x
                    base = self.offset + frame * self.stride
                    if rs.start == 0 and cs.start == 0:
                        head["magic"], head["index"] = _FRAME_MAGIC, frame
                        os.pwrite(fd, head.tobytes(), base)
                    for k, r in enumerate(rs):
                        pos = base + _FRAME_HEADER + r * self.dp + cs.start
                        os.pwrite(fd, value[j, i, k].tobytes(), pos)
        finally:
            os.close(fd)


def _navigator_for(signal: SignalDict, navigator, nav_shape: tuple[int, ...]):
    if navigator is None:
        return np.zeros(nav_shape, dtype="u1")
    if isinstance(navigator, str):
        if navigator != "navigator":
            raise FileFormatError(f"navigator must be 'navigator', None or an array; got {navigator!r}.")
        hs = (signal.get("metadata") or {}).get("_HyperSpy") or {}
        for key in ("navigator", "_sig_navigator"):  # ours (a signal), HyperSpy's (a dict)
            stored = hs.get(key)
            stored = stored.get("data") if isinstance(stored, dict) else getattr(stored, "data", None)
            if stored is not None and np.shape(stored) == nav_shape:
                return stored
        return None  # computed from the data while the frames are written
    if np.shape(navigator) != nav_shape:
        raise FileFormatError(
            f"The navigator's shape {np.shape(navigator)} does not match the navigation shape "
            f"{nav_shape} of the data."
        )
    return navigator


def write(
    path: str | os.PathLike,
    signal: SignalDict,
    *,
    intensity_scaling: Any = None,
    navigator: Any = "navigator",
    endianness: str = "<",
) -> None:
    """Write a 4D-STEM signal (or a single pattern, or a line scan) as a blockfile.

    Lazy data are written block by block from the dask graph (never computed whole); the
    VBF image is computed in the same pass.

    Parameters
    ----------
    path
        Output file.
    signal
        Signal dictionary with 0, 1 or 2 navigation axes and 2 square signal axes.
        Navigation axes are saved in nm and signal axes in cm (converted from length units).
    intensity_scaling
        For non-uint8 data: None (plain cast, with a warning), ``"dtype"`` (the dtype's range
        onto 0-255), ``"minmax"``, ``"crop"`` (clip to 0-255) or ``(low, high)``.
    navigator
        The VBF image: ``"navigator"`` (the navigator stored in ``metadata._HyperSpy``
        when it has the navigation shape, else the mean of each frame), None (zeros) or an array of the navigation shape.
    endianness
        Only ``"<"`` is written (every known reader expects it).

    Examples
    --------
    >>> import tempfile, os, numpy as np, dask.array as da
    >>> p = os.path.join(tempfile.mkdtemp(), "a.blo")
    >>> data = da.ones((4, 5, 8, 8), dtype="u1", chunks=(1, 5, 8, 8))
    >>> ax = [dict(name=n, units=u, navigate=nav, size=s, scale=0.5, offset=0.0)
    ...       for n, u, nav, s in [("y", "nm", True, 4), ("x", "nm", True, 5),
    ...                             ("dy", "cm", False, 8), ("dx", "cm", False, 8)]]
    >>> write(p, {"data": data, "axes": ax, "metadata": {}, "original_metadata": {}})
    >>> int(read(p)[0]["data"].sum())
    1280
    """
    if endianness != "<":
        raise FileFormatError("Blockfiles are written little-endian only (endianness='<').")
    filename = os.fspath(path)
    data = signal["data"]
    lazy = isinstance(data, da.Array)
    if data.ndim < 2 or data.ndim > 4:
        raise FileFormatError(
            f"Cannot save {filename!r} as a blockfile: it needs 2 signal axes and at most 2 "
            f"navigation axes; the data have shape {data.shape}."
        )
    nav_shape = tuple(data.shape[:-2])
    shape4 = (1,) * (4 - data.ndim) + tuple(data.shape)
    header, note = _header_for(signal, shape4)
    nav_img = _navigator_for(signal, navigator, nav_shape)

    if not lazy:
        # Eager data go through the same block writer, a few MiB of frames at a time.
        frames_per_block = max(1, (16 * 2**20) // max(1, shape4[2] * shape4[3] * data.itemsize))
        lead = {4: (max(1, frames_per_block // shape4[1]), -1), 3: (frames_per_block,), 2: ()}
        data = da.from_array(np.asarray(data), chunks=lead[data.ndim] + (-1, -1))
    data4 = data.reshape(shape4) if data.ndim < 4 else data
    bounds = _scaling_bounds(data4, intensity_scaling)
    frames = _to_uint8(data4, bounds)
    if nav_img is None:
        # The per-frame mean of the data as given, scaled like the frames (RosettaSciIO's VBF).
        nav_img = data4.mean(axis=(-2, -1))
        nav_img = nav_img if bounds is None else _rescale(nav_img, *bounds)
    elif bounds is not None and navigator is not None and not isinstance(navigator, str):
        nav_img = _rescale(da.asarray(navigator), *bounds)

    off1, off2 = int(header["Data_offset_1"]), int(header["Data_offset_2"])
    ny, nx = shape4[:2]
    with open(filename, "wb") as f:
        f.write(np.array([tuple(header[n] for n in _header_names())],
                         dtype=_header_dtype()).tobytes())
        room = off1 - _HEADER_SIZE
        f.write(note.encode("utf-8")[:room].ljust(room, b"\x00"))
        f.write(b"\x00" * (off2 - off1))
        f.truncate(off2 + ny * nx * (_FRAME_HEADER + shape4[2] * shape4[3]))

    target = _FrameWriter(filename, off2, shape4)
    # dask's stub wants an array; store only needs __setitem__, which _FrameWriter has.
    stored = da.store(frames, target, lock=False, compute=False)  # type: ignore[arg-type]
    # Eager input computes on local threads (no cluster round trip for in-memory data).
    scheduler = None if lazy else "threads"
    # One pass: the frames are written and the VBF reduced from the same blocks.
    _, vbf = dask.compute(stored, nav_img, scheduler=scheduler)
    vbf = np.asarray(vbf).astype("u1")
    with open(filename, "r+b") as f:
        f.seek(off1)
        f.write(np.ascontiguousarray(vbf.reshape(ny, nx)).tobytes())
