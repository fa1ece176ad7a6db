"""Quantum Detectors Merlin ``.mib`` files (Medipix 4D-STEM frames).

A ``.mib`` file is a sequence of frames, each an ASCII header of ``H`` bytes (384 for a
single chip, 768 for a quad) followed by the pixels (``shared/FORMATS-binary.md`` section 5).
Frames are read lazily two ways through :func:`lazysignal.io.backends.chunked_file.file_array`,
which skips every frame header. Processed data (``U08``, ``U16``, ``U32``: counter depth
1/6, 12 and 24 bits) are supported; raw ``R64`` frames raise a clear error.

As RosettaSciIO does, each frame is flipped vertically, the scan shape comes from
``navigation_shape=``, the companion ``.hdr`` file or the frame time stamps (5.5), and
length-1 axes are dropped.
"""

from __future__ import annotations

import os
import warnings
from typing import TYPE_CHECKING, Any

import numpy as np

from lazysignal.errors import FileFormatError, TruncatedFileError
from lazysignal.io.backends.chunked_file import file_array, read_file_array
from lazysignal.io.chunking import plan_chunks
from lazysignal.io.spec import AxisDict, FormatSpec, SignalDict

if TYPE_CHECKING:
    import dask.array as da

__all__ = ["FORMAT", "read", "read_frame_header", "parse_hdr"]

FORMAT = FormatSpec("mib", ("mib",), writes=False, lazy=True, chunks=True, distributed=True,
                    memmap=True)

_DTYPES = {"U08": ">u1", "U16": ">u2", "U32": ">u4"}
_DEPTH = {"U08": "1 or 6-bit", "U16": "12-bit", "U32": "24-bit"}
# Time stamps read to guess the scan line length (as RosettaSciIO: the first 10000 frames).
_MAX_TIMESTAMPS = 10000


def read_frame_header(path: str | os.PathLike) -> dict[str, Any]:
    """Parse the first frame header of a ``.mib`` file.

    Returns
    -------
    dict
        ``head_size``, ``rows``, ``cols``, ``pixel_type``, ``dtype`` (None for raw),
        ``chips``, ``detector_geometry``, ``counter_depth``, ``exposure_s``, ``timestamp``,
        ``file_size``, ``frame_size`` (header + pixels) and ``fields`` (all comma fields).

    Raises
    ------
    FileFormatError
        When the file does not start with a Merlin ``MQ1`` header.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "f.mib")
    >>> head = ("MQ1,000001,00384,01,0004,0002,U16,   1x1,01,2021-04-15 14:43:47.008505,"
    ...         "0.001000,0,0,0" + ",0" * 8 + ",MQ1A,2021-04-15T13:43:47.008505401Z,"
    ...         "1000000ns,12,").encode().ljust(384, b"\\0")
    >>> with open(p, "wb") as f:
    ...     _ = f.write(head + np.arange(8, dtype=">u2").tobytes())
    >>> h = read_frame_header(p)
    >>> h["rows"], h["cols"], h["dtype"], h["frame_size"]
    (2, 4, '>u2', 400)
    """
    filename = os.fspath(path)
    size = os.path.getsize(filename)
    with open(filename, "rb") as f:
        raw = f.read(384)
        fields = raw.decode("ascii", errors="replace").split(",")
        if len(fields) < 8 or fields[0] != "MQ1":
            raise FileFormatError(
                f"{filename!r} is not a Merlin .mib file: expected a frame header starting "
                f"with 'MQ1,', found {raw[:16]!r}."
            )
        try:
            head_size = int(fields[2])
        except ValueError:
            raise FileFormatError(
                f"{filename!r}: header length field {fields[2]!r} is not a number.") from None
        if head_size > 384:
            f.seek(0)
            raw = f.read(head_size)
            fields = raw.decode("ascii", errors="replace").split(",")
    try:
        rows, cols = int(fields[5]), int(fields[4])
        pixel_type = fields[6]
        tail = fields[-5:]  # MQ1A, UTC time stamp, exposure in ns, counter depth, padding
        exposure_ns = float(tail[2][:-2]) if tail[2].endswith("ns") else float("nan")
        depth = int(tail[3]) if tail[3].strip().isdigit() else None
    except (ValueError, IndexError):
        raise FileFormatError(
            f"{filename!r}: malformed Merlin frame header {raw[:80]!r}...") from None
    dtype = _DTYPES.get(pixel_type)
    bytes_per_pixel = np.dtype(dtype).itemsize if dtype else None
    geometry = fields[7].strip()
    return {
        "fields": fields[:-1],
        "head_size": head_size,
        "chips": int(fields[3]),
        "rows": rows,
        "cols": cols,
        "pixel_type": pixel_type,
        "dtype": dtype,
        "raw": pixel_type == "R64",
        "dynamic_range": _DEPTH.get(pixel_type, f"raw, counter depth {depth}"),
        "detector_geometry": geometry,
        "counter_depth": depth,
        "exposure_s": exposure_ns * 1e-9,
        "timestamp": tail[1],
        "file_size": size,
        "frame_size": head_size + rows * cols * bytes_per_pixel if bytes_per_pixel else None,
    }


def parse_hdr(path: str | os.PathLike) -> dict[str, str]:
    """Read a Merlin ``.hdr`` companion file into ``{label: value}``.

    Examples
    --------
    >>> import tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "a.hdr")
    >>> with open(p, "w") as f:
    ...     _ = f.write("HDR,\\t\\nFrames in Acquisition (Number):\\t8\\nEnd\\t   ")
    >>> parse_hdr(p)
    {'Frames in Acquisition (Number)': '8'}
    """
    result = {}
    with open(path, encoding="latin-1", errors="replace") as f:
        for line in f:
            line = line.rstrip("\r\n")
            if line.startswith("HDR") or line.startswith("End") or "\t" not in line:
                continue
            key, value = line.split("\t", 1)
            result[key.rstrip(":")] = value
    return result


def _companion_hdr(filename: str) -> str | None:
    stem = os.path.splitext(filename)[0]
    for ext in (".hdr", ".HDR"):
        if os.path.exists(stem + ext):
            return stem + ext
    return None


def _line_length_from_timestamps(filename: str, props: dict, n_frames: int) -> int:
    """1 + index of the first time-stamp gap longer than the mean gap (a new scan line)."""
    count = min(n_frames, _MAX_TIMESTAMPS)
    if count < 2:
        return 1
    stamps = np.empty(count, dtype="datetime64[ns]")
    with open(filename, "rb") as f:
        for i in range(count):
            f.seek(i * props["frame_size"])
            fields = f.read(props["head_size"]).decode("ascii", errors="replace").split(",")
            stamps[i] = np.datetime64(fields[-4].rstrip("Z"), "ns")
    gaps = np.diff(stamps).astype(np.float64)
    above = np.flatnonzero(gaps - gaps.mean() > 0)
    return int(above[0]) + 1 if above.size else 1


def _navigation_shape(filename, props, hdr, navigation_shape, first, last, in_file):
    """Numpy navigation shape (before squeezing), following FORMATS-binary 5.5."""
    n_load = last - first
    if navigation_shape is None:
        if hdr is not None and "Frames in Acquisition (Number)" in hdr:
            total = int(hdr["Frames in Acquisition (Number)"])
            line = int(hdr.get("Frames per Trigger (Number)", "1") or 1)
        else:
            total, line = in_file, 1
        if line == 1:
            line = _line_length_from_timestamps(filename, props, in_file)
        if total == 0:
            return (n_load,)
        navigation_shape = (line, total // line)
    navigation_shape = tuple(int(n) for n in navigation_shape)
    needed = int(np.prod(navigation_shape))
    if needed > in_file:
        # Interrupted acquisition: keep the complete scan lines only.
        if first == 0 and len(navigation_shape) > 1:
            x = navigation_shape[0]
            warnings.warn(
                f"{filename!r}: the scan needs {needed} frames but the file holds {in_file}; "
                f"reading the {in_file // x} complete lines.", stacklevel=3)
            return (in_file // x, x)
        return (n_load,)
    if n_load < needed:
        warnings.warn(
            f"{filename!r}: navigation_shape {navigation_shape} needs {needed} frames but "
            f"frames {first}:{last} were selected; reading them as a stack of {n_load}.",
            stacklevel=3)
        return (n_load,)
    return navigation_shape[::-1]


def read(
    path: str | os.PathLike,
    *,
    lazy: bool = False,
    chunks: Any = "auto",
    distributed: bool = True,
    navigation_shape: tuple[int, ...] | None = None,
    first_frame: int | None = None,
    last_frame: int | None = None,
) -> list[SignalDict]:
    """Read a Quantum Detectors Merlin ``.mib`` file.

    Parameters
    ----------
    path
        The ``.mib`` file; a ``.hdr`` file with the same stem is used when present.
    lazy
        Return a dask array that reads each chunk on demand.
    chunks
        Dask chunks of the returned array (numpy order), honoured exactly; ``"auto"`` keeps
        frames whole.
    distributed
        True: each task ``pread``'s its chunk (picklable); False: each task memory-maps it.
    navigation_shape
        Scan shape in HyperSpy order ``(x, y)``; by default from the ``.hdr`` file and the
        frame time stamps.
    first_frame, last_frame
        Frames to read, with Python slice semantics.

    Returns
    -------
    list of SignalDict
        One signal ``(*scan, rows, cols)`` of big-endian unsigned integers.

    Raises
    ------
    FileFormatError
        For a file that is not a Merlin file, or raw (``R64``) frames.
    TruncatedFileError
        When the file holds not even one complete frame.

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "f.mib")
    >>> head = ("MQ1,000001,00384,01,0004,0002,U08,   1x1,01,2021-04-15 14:43:47.008505,"
    ...         "0.001000,0,0,0" + ",0" * 8 + ",MQ1A,2021-04-15T13:43:47.008505401Z,"
    ...         "1000000ns,6,").encode().ljust(384, b"\\0")
    >>> with open(p, "wb") as f:
    ...     for i in range(6):
    ...         _ = f.write(head + np.full(8, i, dtype="u1").tobytes())
    >>> s = read(p, lazy=True, navigation_shape=(3, 2))[0]
    >>> s["data"].shape, int(s["data"][1, 2].sum().compute())
    ((2, 3, 2, 4), 40)
    """
    filename = os.fspath(path)
    props = read_frame_header(filename)
    if props["raw"]:
        raise FileFormatError(
            f"{filename!r} holds raw (R64) Merlin frames (counter depth "
            f"{props['counter_depth']}), which lazysignal does not decode. Save processed "
            "frames (U08/U16/U32) from the Merlin software, or decode them with LiberTEM."
        )
    if props["dtype"] is None:
        raise FileFormatError(
            f"{filename!r}: unknown Merlin pixel type {props['pixel_type']!r}; expected one of "
            f"{', '.join(sorted(_DTYPES))} or R64."
        )
    in_file = props["file_size"] // props["frame_size"]
    if in_file == 0:
        raise TruncatedFileError(
            f"{filename!r} is truncated: one frame needs {props['frame_size']} bytes "
            f"({props['head_size']} header + {props['rows']}x{props['cols']} pixels), the file "
            f"has {props['file_size']}."
        )
    first, last, _ = slice(first_frame, last_frame).indices(in_file)
    last = max(first, last)
    hdr_path = _companion_hdr(filename)
    hdr = parse_hdr(hdr_path) if hdr_path else None
    nav = _navigation_shape(filename, props, hdr, navigation_shape, first, last, in_file)
    nav = tuple(n for n in nav if n != 1)  # length-1 axes are dropped
    shape = nav + (props["rows"], props["cols"])
    kwargs: dict[str, Any] = dict(shape=shape, dtype=props["dtype"],
                                  offset=first * props["frame_size"],
                                  frame_header=props["head_size"])
    data: da.Array | np.ndarray
    if lazy:
        if not (isinstance(chunks, str) and chunks == "auto"):
            # The frames are flipped vertically below: ask the file for the mirrored row blocks
            # so that the flipped array has exactly the chunks requested.
            norm = list(plan_chunks(chunks, shape, props["dtype"], frame_ndim=2, where=filename))
            norm[-2] = norm[-2][::-1]
            chunks = tuple(norm)
        data = file_array(filename, chunks=chunks, distributed=distributed, **kwargs)
    else:
        data = read_file_array(filename, **kwargs)
    data = data[..., ::-1, :]

    date, _, time = props["timestamp"].partition("T")
    general = {"original_filename": os.path.basename(filename), "date": date,
               "time": time.rstrip("Z")}
    if time.endswith("Z"):
        general["time_zone"] = "UTC"
    metadata = {
        "General": general,
        "Signal": {"signal_type": "electron_diffraction"},
        "Acquisition_instrument": {"dwell_time": props["exposure_s"]},
    }
    mib_properties = {k: v for k, v in props.items() if k != "fields"}
    mib_properties.update(path=filename, number_of_frames_in_file=in_file,
                          navigation_shape=nav, first_frame=first)
    original = {"mib_properties": mib_properties, "frame_header": props["fields"]}
    if hdr is not None:
        original["hdr_file"] = hdr
    axes = [AxisDict(name="", units="", navigate=True, size=n, scale=1.0, offset=0.0) for n in nav]
    axes += [AxisDict(name="", units="", navigate=False, size=n, scale=1.0, offset=0.0)
             for n in shape[-2:]]
    return [{"data": data, "axes": axes, "metadata": metadata, "original_metadata": original}]
