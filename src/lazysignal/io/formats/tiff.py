"""TIFF images and stacks (``.tif``, ``.tiff``) through tifffile.

Reading: eager with tifffile; lazy through tifffile's zarr interface (``aszarr``), chunked
by page: ``chunks="auto"`` keeps pages whole and groups as many pages per chunk as dask's
``array.chunk-size`` allows. Every task opens the file, reads its pages and closes it again,
so the graph is picklable (``dask.distributed``) and no handle stays open.

Calibration, first match wins: the axes lazysignal writes into the JSON image description;
ImageJ metadata (``unit``, ``spacing``, ``finterval``) with the resolution tags; the
resolution tags alone (pixels per inch / centimetre).

Writing: :func:`tifffile.imwrite`, eager arrays directly, dask arrays streamed page by page.
"""

from __future__ import annotations

import os
from typing import Any

import dask.array as da
import numpy as np
import tifffile
import zarr
from dask.base import tokenize

from lazysignal.errors import FileFormatError, LazySignalError
from lazysignal.io.chunking import plan_chunks
from lazysignal.io.spec import AxisDict, FormatSpec, SignalDict, accepted_options, check_options

__all__ = ["FORMAT", "read", "write"]

FORMAT = FormatSpec("tiff", ("tif", "tiff"), writes=True, lazy=True, chunks=True, distributed=True)

#: Options ``write`` passes on to :func:`tifffile.imwrite` (those it sets itself excluded).
_TIFFFILE_OPTIONS = tuple(sorted(
    set(accepted_options(tifffile.imwrite)) - {"shape", "dtype", "metadata", "imagej"}))

_RES_UNITS = {2: "inch", 3: "cm"}
_AXIS_NAMES = {"X": "x", "Y": "y", "Z": "z", "T": "time", "C": "channel", "S": "sample",
               "I": "index", "Q": "index"}


class _TiffSeries:
    """An array-like over one TIFF series that opens the file for every read.

    Holds only the path and the series' shape and dtype, so it pickles small; ``da.from_array``
    calls ``__getitem__`` once per chunk, which reads only the pages that chunk covers.
    """

    def __init__(self, path: str, series: int, shape: tuple[int, ...], dtype: np.dtype):
        self.path, self.series = path, series
        self.shape, self.dtype, self.ndim = tuple(shape), np.dtype(dtype), len(shape)

    def __getitem__(self, key):
        try:
            with tifffile.TiffFile(self.path) as tf:
                store = tf.aszarr(series=self.series, level=0)
                try:
                    return np.asarray(zarr.open(store, mode="r")[key])
                finally:
                    store.close()
        except LazySignalError:
            raise
        except Exception as exc:  # tifffile's, zarr's or a codec's: none names the file
            raise _damaged(self.path, exc) from exc


def _damaged(path: str, exc: BaseException) -> BaseException:
    """Our error for a TIFF whose image data cannot be read."""
    return FileFormatError(
        f"{path!r}: the TIFF image data cannot be read ({type(exc).__name__}: {exc}); the "
        "file is truncated or damaged. Copy it again from its source.")


def _rational(value) -> float | None:
    if isinstance(value, tuple) and len(value) == 2:
        return value[0] / value[1] if value[1] else None
    return float(value) if value else None


def _axes_from_tags(tf: tifffile.TiffFile, series, shape) -> list[AxisDict]:
    letters = series.axes
    page = series.keyframe
    axes = []
    for letter, size in zip(letters, shape):
        axes.append(AxisDict(name=_AXIS_NAMES.get(letter, letter.lower()), units="",
                             navigate=letter not in "YXS", size=int(size), scale=1.0, offset=0.0))
    tags = page.tags
    unit = _RES_UNITS.get(int(tags["ResolutionUnit"].value), "") if "ResolutionUnit" in tags else ""
    ij = tf.imagej_metadata or {}
    if ij.get("unit"):
        unit = {"micron": "µm", "\\u00B5m": "µm", "um": "µm"}.get(ij["unit"], ij["unit"])
    for letter, tag in (("X", "XResolution"), ("Y", "YResolution")):
        if letter in letters and tag in tags:
            res = _rational(tags[tag].value)
            if res and res != 1.0:
                axes[letters.index(letter)].update(scale=1.0 / res, units=unit)
            elif unit and ij:
                axes[letters.index(letter)]["units"] = unit
    if "Z" in letters and ij.get("spacing"):
        axes[letters.index("Z")].update(scale=float(ij["spacing"]), units=unit)
    if "T" in letters and ij.get("finterval"):
        axes[letters.index("T")].update(scale=float(ij["finterval"]), units="s")
    return axes


def _stored_axes(tf: tifffile.TiffFile, shape) -> tuple[list[AxisDict] | None, dict]:
    """The axes and title lazysignal's writer stored in the JSON description, if any."""
    try:
        shaped = tf.shaped_metadata or ()
    except ValueError as exc:  # tifffile's parse of a damaged JSON description
        raise FileFormatError(
            f"{tf.filehandle.path!r}: expected a JSON image description (as lazysignal and "
            f"tifffile write); found one that does not parse ({exc}). The file is damaged."
        ) from exc
    for meta in shaped:
        ours = meta.get("lazysignal") if isinstance(meta, dict) else None
        if isinstance(ours, dict) and "axes" in ours:
            axes = ours["axes"]
            if [a.get("size") for a in axes] == list(shape):
                return [AxisDict(**a) for a in axes], ours
    return None, {}


def read(
    path: str | os.PathLike,
    *,
    lazy: bool = False,
    chunks: Any = "auto",
    distributed: bool = True,
    series: int = 0,
) -> list[SignalDict]:
    """Read one series (default the first) of a TIFF file.

    Parameters
    ----------
    path
        The ``.tif`` file.
    lazy
        Return a dask array reading pages on demand through tifffile's zarr interface.
    chunks
        Dask chunks (numpy order); ``"auto"`` keeps pages whole. Honoured exactly.
    distributed
        Accepted for the common signature: every task opens and closes the file itself,
        which works on threads and on ``dask.distributed`` workers alike.
    series
        Which tifffile series to read.

    Returns
    -------
    list of SignalDict

    Examples
    --------
    >>> import tempfile, os, numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "stack.tif")
    >>> data = np.arange(4 * 3 * 5, dtype="u2").reshape(4, 3, 5)
    >>> axes = [dict(name=n, units="nm", navigate=n == "z", size=s, scale=0.5, offset=0.0)
    ...         for n, s in zip("zyx", data.shape)]
    >>> write(p, {"data": data, "axes": axes, "metadata": {}, "original_metadata": {}})
    >>> s = read(p, lazy=True, chunks=(2, 3, 5))[0]
    >>> s["data"].chunks, bool((s["data"].compute() == data).all())
    (((2, 2), (3,), (5,)), True)
    """
    filename = os.fspath(path)
    try:
        tf = tifffile.TiffFile(filename)
    except tifffile.TiffFileError as exc:
        raise FileFormatError(f"{filename!r} is not a readable TIFF file: {exc}") from None
    with tf:
        try:
            if not 0 <= series < len(tf.series):
                raise FileFormatError(
                    f"{filename!r} has {len(tf.series)} image series; series={series} does not exist.")
            s = tf.series[series]
            shape, dtype = tuple(s.shape), np.dtype(s.dtype)
            axes, ours = _stored_axes(tf, shape)
            if axes is None:
                axes = _axes_from_tags(tf, s, shape)
            page_ndim = max(0, min(len(shape), len(s.keyframe.shape)))
            original: dict[str, Any] = {"axes": s.axes}
            if tf.imagej_metadata:
                original["ImageJ"] = dict(tf.imagej_metadata)
            tags: dict[str, Any] = {}
            for tag in s.keyframe.tags:
                value = tag.value
                if isinstance(value, (str, int, float, tuple)) and tag.name != "ImageDescription":
                    tags[tag.name] = value
            original["tags"] = tags
        except LazySignalError:
            raise
        except (ValueError, IndexError, KeyError, TypeError, tifffile.TiffFileError) as exc:
            # tifffile parses descriptions and tags lazily, as the series are built.
            raise FileFormatError(
                f"{filename!r}: the TIFF's tags or image description cannot be read "
                f"({type(exc).__name__}: {exc}); expected a well-formed TIFF header. The file "
                "is damaged.") from exc
        if not lazy:
            try:
                data = s.asarray()
            except LazySignalError:
                raise
            except (ValueError, OSError, IndexError, KeyError) as exc:
                raise _damaged(filename, exc) from exc
    if lazy:
        norm = plan_chunks(chunks, shape, dtype, frame_ndim=page_ndim, where=filename)
        source = _TiffSeries(filename, series, shape, dtype)
        data = da.from_array(source, chunks=norm, meta=np.empty((0,) * len(shape), dtype),
                             name="tiff-" + tokenize(filename, os.stat(filename).st_mtime_ns,
                                                     series, norm))
    metadata = {"General": {"original_filename": os.path.basename(filename)},
                "Signal": {"signal_type": ""}}
    if ours.get("title"):
        metadata["General"]["title"] = ours["title"]
    return [{"data": data, "axes": axes, "metadata": metadata, "original_metadata": original}]


def _pages(data: da.Array, page_ndim: int):
    """Yield the pages of a dask array in file order, computing one block row at a time.

    A block row (one block along the first axis, everything along the others) is the least
    that holds consecutive pages in C order without reading any block twice.
    """
    lead = data.ndim - page_ndim
    data = data.rechunk(data.chunks[:lead] + tuple((n,) for n in data.shape[lead:]))
    if lead == 0:
        yield np.asarray(data.compute())
        return
    for i in range(data.numblocks[0]):
        row = np.asarray(data.blocks[i].compute())
        yield from row.reshape((-1,) + row.shape[lead:])


def _jsonable(axis: AxisDict) -> dict:
    out: dict[str, Any] = {}
    for key in ("name", "units", "navigate", "size", "scale", "offset"):
        value = axis.get(key)
        if isinstance(value, np.generic):
            value = value.item()
        out[key] = value
    return out


def write(
    path: str | os.PathLike,
    signal: SignalDict,
    *,
    imagej: bool = False,
    **tifffile_options: Any,
) -> None:
    """Write a signal as a TIFF file (one page per image of the last two axes).

    Parameters
    ----------
    path
        Output file.
    signal
        Signal dictionary; dask data are written page by page, one block row (one block
        along the first axis) in memory at a time, never the whole array.
    imagej
        Write an ImageJ hyperstack (uint8, uint16 or float32 data; calibration as ImageJ
        ``unit``/``spacing``) instead of a TIFF with lazysignal's JSON description.
    tifffile_options
        Passed to :func:`tifffile.imwrite` (``compression=``, ``bigtiff=``...).

    Examples
    --------
    >>> import tempfile, os, numpy as np, dask.array as da
    >>> p = os.path.join(tempfile.mkdtemp(), "s.tif")
    >>> data = da.ones((3, 4, 5), dtype="f4", chunks=(1, 4, 5))
    >>> axes = [dict(name=n, units="", navigate=n == "z", size=s, scale=1.0, offset=0.0)
    ...         for n, s in zip("zyx", data.shape)]
    >>> write(p, {"data": data, "axes": axes, "metadata": {}, "original_metadata": {}})
    >>> float(read(p)[0]["data"].sum())
    60.0
    """
    check_options(tifffile_options, accepted_options(write, also=_TIFFFILE_OPTIONS),
                  where="tiff.write")
    filename = os.fspath(path)
    data = signal["data"]
    axes = signal["axes"]
    if data.ndim < 2:
        raise FileFormatError(
            f"Cannot save {filename!r} as TIFF: TIFF pages are 2-D, the data have shape "
            f"{data.shape}. Use .hspy, .zspy or .msa for spectra.")
    title = ((signal.get("metadata") or {}).get("General") or {}).get("title", "")
    x, y = axes[-1], axes[-2]
    sx, sy = float(x.get("scale", 1.0) or 1.0), float(y.get("scale", 1.0) or 1.0)
    options: dict[str, Any] = dict(photometric="minisblack")
    if sx > 0 and sy > 0:
        options.update(resolution=(1.0 / sx, 1.0 / sy), resolutionunit=1)
    if imagej:
        if data.ndim > 5:
            raise FileFormatError(f"ImageJ hyperstacks have at most 5 axes; the data have {data.ndim}.")
        metadata: dict[str, Any] = {"axes": {2: "YX", 3: "ZYX", 4: "TZYX", 5: "TZCYX"}[data.ndim]}
        x_units = x.get("units")
        if x_units:
            # ImageJ descriptions are ASCII: µm is spelt "micron" there.
            metadata["unit"] = {"µm": "micron", "μm": "micron", "um": "micron"}.get(
                x_units, x_units)
        if data.ndim >= 3:
            metadata["spacing"] = float(axes[-3].get("scale", 1.0))
        options["imagej"] = True
    else:
        metadata = {"lazysignal": {"axes": [_jsonable(a) for a in axes], "title": title}}
    options.update(tifffile_options)
    if isinstance(data, da.Array):
        tifffile.imwrite(filename, _pages(data, 2), shape=data.shape, dtype=data.dtype,
                         metadata=metadata, **options)
    else:
        tifffile.imwrite(filename, np.asarray(data), metadata=metadata, **options)
