"""The fast data path of zarr v2 directory stores (``.zspy``): chunk files read and written directly.

zarr-python 3 decodes chunks through an asynchronous codec pipeline that costs about twice the
CPU of the codec itself. A zarr v2 chunk is one file holding the compressed bytes of a full
chunk (edge chunks are padded), so a task can read the file and decompress it straight into
its output buffer with the store's numcodecs codec (Blosc releases the GIL), and a writer can
compress a block's chunks in its own task and write their files with no lock: each chunk file
belongs to exactly one block.

Used for directory stores whose arrays have no filters and C order; anything else (zip
stores, filters, F order, object dtypes) goes through zarr itself.
"""

from __future__ import annotations

import itertools
import os
from dataclasses import dataclass
from typing import Any

import dask.array as da
import dask.base
import numcodecs
import numpy as np

from ...errors import FileFormatError, MissingFileError, TruncatedFileError
from .block_source import attach
from .chunk_grid import block_sizes, starts, valid_extent

__all__ = ["ChunkLayout", "layout_of", "lazy_array", "store_array"]


@dataclass(frozen=True)
class ChunkLayout:
    """Where a zarr v2 array's chunk files are and how they are encoded: small and picklable."""

    directory: str  # the array's folder inside the store
    shape: tuple[int, ...]
    chunks: tuple[int, ...]
    dtype: str
    codec: dict | None  # numcodecs config; None = uncompressed
    fill_value: Any
    separator: str

    def chunk_path(self, index: tuple[int, ...]) -> str:
        key = self.separator.join(str(i) for i in index) if index else "0"
        return os.path.join(self.directory, key)

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)


def layout_of(array: Any, store_root: str) -> ChunkLayout | None:
    """The direct-access layout of a zarr v2 array in a directory store, or None if unsupported.

    Examples
    --------
    >>> import tempfile, zarr
    >>> root = tempfile.mkdtemp()
    >>> z = zarr.create_array(root, shape=(4, 6), chunks=(2, 6), dtype="f8", zarr_format=2)
    >>> layout_of(z, root).chunks
    (2, 6)
    """
    meta = array.metadata
    if getattr(meta, "zarr_format", None) != 2 or meta.filters or meta.order != "C":
        return None
    dtype = np.dtype(meta.dtype.to_native_dtype() if hasattr(meta.dtype, "to_native_dtype")
                     else meta.dtype)
    if dtype.kind not in "biufc" or not meta.chunks:
        return None
    codec = None if meta.compressor is None else meta.compressor.get_config()
    fill = meta.fill_value
    fill = 0 if fill is None else fill.item() if hasattr(fill, "item") else fill
    separator = getattr(meta, "dimension_separator", ".") or "."
    return ChunkLayout(os.path.join(store_root, array.path), tuple(array.shape),
                       tuple(meta.chunks), dtype.str, codec, fill, separator)


def _decode_into(layout: ChunkLayout, codec, index: tuple[int, ...], out: np.ndarray,
                 missing: str = "raise") -> bool:
    """Decode chunk ``index`` into ``out`` (a full-chunk C buffer); False when it is missing
    and ``missing="fill"``.

    A missing chunk file raises :class:`MissingFileError` by default: HyperSpy (zarr 2) and
    lazysignal write every chunk, so a gap is a lost file, not a chunk of fill values
    (``missing="fill"`` reads stores written with zarr 3's default, which skips chunks equal
    to the fill value). A chunk whose
    size or encoded header disagrees with the array's metadata raises
    :class:`TruncatedFileError` / :class:`FileFormatError` instead of decoding garbage.
    """
    path = layout.chunk_path(index)
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except FileNotFoundError:
        if missing == "fill":
            return False
        raise MissingFileError(
            f"{path!r} is missing: the zarr array {layout.directory!r} of shape {layout.shape} "
            f"needs chunk {index} (every chunk is written by HyperSpy and lazysignal); the store "
            "is incomplete (an interrupted copy or save?). Copy the store again, or save it "
            "again (resume=True completes an interrupted zspy save); for a store written "
            "without chunks equal to the fill value, load with missing_chunks='fill'."
        ) from None
    check_encoded_chunk(layout, codec, raw, path, out.nbytes)
    if codec is None:
        out.reshape(-1).view(np.uint8)[:] = np.frombuffer(raw, np.uint8)
        return True
    try:
        codec.decode(raw, out=out)
    except Exception as exc:  # a codec's own error type says nothing about the file
        raise FileFormatError(
            f"{path!r}: chunk {index} of {layout.directory!r} does not decode with "
            f"{layout.codec}: {type(exc).__name__}: {exc}. The chunk file is damaged."
        ) from exc
    return True


def check_encoded_chunk(layout: ChunkLayout, codec, raw: bytes, path: str, nbytes: int) -> None:
    """Raise when an encoded chunk's size disagrees with what it must hold.

    Uncompressed chunks hold exactly ``nbytes``; a Blosc frame's 16-byte header records the
    decoded and the encoded size, which must be ``nbytes`` and ``len(raw)`` (a chunk cut
    short by a killed writer fails here; Blosc itself would decode the part it has).
    """
    if codec is None:
        if len(raw) != nbytes:
            raise TruncatedFileError(
                f"{path!r}: an uncompressed chunk of {layout.directory!r} must hold {nbytes} "
                f"bytes; the file has {len(raw)}.")
        return
    if layout.codec and layout.codec.get("id") == "blosc":
        if len(raw) < 16:
            raise TruncatedFileError(
                f"{path!r}: a Blosc chunk starts with a 16-byte header; the file has "
                f"{len(raw)} bytes.")
        decoded, encoded = int.from_bytes(raw[4:8], "little"), int.from_bytes(raw[12:16], "little")
        if decoded != nbytes or encoded != len(raw):
            raise TruncatedFileError(
                f"{path!r}: expected a Blosc chunk of {nbytes} bytes decoded, {encoded} bytes "
                f"encoded (as its header says); found a header for {decoded} decoded bytes and "
                f"a file of {len(raw)} bytes. The chunk file is cut short or damaged.")


def _read_block(layout: ChunkLayout, block_starts, block_id: tuple[int, ...] = (),
                out: np.ndarray | None = None, missing: str = "raise") -> np.ndarray:
    lo = [block_starts[ax][i] for ax, i in enumerate(block_id)]
    hi = [block_starts[ax][i + 1] for ax, i in enumerate(block_id)]
    dtype = layout.np_dtype
    if out is None:
        out = np.empty([b - a for a, b in zip(lo, hi)], dtype)
    if out.size == 0:
        return out
    codec = None if layout.codec is None else numcodecs.get_codec(layout.codec)
    scratch = None
    for origin in itertools.product(*(range(a, b, c) for a, b, c in zip(lo, hi, layout.chunks))):
        index = tuple(o // c for o, c in zip(origin, layout.chunks))
        valid = valid_extent(origin, layout.chunks, layout.shape)
        region = tuple(slice(o - a, o - a + v) for o, a, v in zip(origin, lo, valid))
        target = out[region]
        whole = valid == layout.chunks and target.flags.c_contiguous
        if not whole and scratch is None:
            scratch = np.empty(layout.chunks, dtype)
        buf = target if whole else scratch
        if not _decode_into(layout, codec, index, buf, missing):
            target[...] = layout.fill_value
        elif not whole:
            target[...] = scratch[tuple(slice(0, v) for v in valid)]
    return out


def lazy_array(layout: ChunkLayout, *, chunks: Any = None, missing: str = "raise") -> da.Array:
    """A dask array whose tasks read and decode their chunk files directly.

    ``chunks``: None (or "auto") for the stored chunks, or multiples of them (see
    :func:`lazysignal.io.backends.chunk_grid.block_sizes`). ``missing``: ``"raise"`` (a
    missing chunk file raises :class:`~lazysignal.errors.MissingFileError`) or ``"fill"``
    (it reads as the fill value, as zarr does).

    Examples
    --------
    >>> import tempfile, zarr, numpy as np
    >>> root = tempfile.mkdtemp()
    >>> z = zarr.create_array(root, shape=(5, 6), chunks=(2, 6), dtype="f8", zarr_format=2)
    >>> z[...] = np.arange(30.0).reshape(5, 6)
    >>> x = lazy_array(layout_of(z, root))
    >>> x.chunks, float(x.sum().compute())
    (((2, 2, 1), (6,)), 435.0)
    """
    where = f"zarr array {layout.directory!r}"
    request = None if chunks in (None, "auto") else chunks
    blocks = block_sizes(request, layout.shape, layout.chunks, layout.np_dtype, where)
    block_starts = starts(blocks)
    stamp = [os.stat(layout.directory).st_mtime_ns] if os.path.isdir(layout.directory) else []
    if missing not in ("raise", "fill"):
        raise ValueError(f"missing must be 'raise' or 'fill', not {missing!r}")
    name = "zarr-chunks-" + dask.base.tokenize(layout, blocks, stamp, missing)
    reader = _BlockReader(layout, block_starts, missing)
    return attach(da.map_blocks(reader, dtype=layout.np_dtype, chunks=blocks, name=name,
                                meta=np.empty((0,) * len(layout.shape), layout.np_dtype)), reader)


class _BlockReader:
    """Picklable task function: reads one block given its block index."""

    def __init__(self, layout: ChunkLayout, block_starts, missing: str = "raise"):
        self.layout, self.block_starts, self.missing = layout, block_starts, missing

    def __call__(self, block_id: tuple[int, ...] = ()) -> np.ndarray:
        return _read_block(self.layout, self.block_starts, block_id, missing=self.missing)

    #: Also the array's block source: reads a whole block into a given buffer (``block_source``).
    reads_regions = False

    def read_into(self, block_id: tuple[int, ...], out: np.ndarray, region: None = None) -> np.ndarray:
        return _read_block(self.layout, self.block_starts, block_id, out, missing=self.missing)


class _ChunkFileTarget:
    """A ``da.store`` target: each block encodes its chunks and writes their files, no lock."""

    def __init__(self, layout: ChunkLayout):
        self.layout = layout
        self.shape, self.dtype = layout.shape, layout.np_dtype

    def __setitem__(self, region, block) -> None:
        layout = self.layout
        block = np.asarray(block, dtype=layout.np_dtype)
        lo = tuple(0 if s.start is None else s.start for s in region)
        hi = tuple(a + n for a, n in zip(lo, block.shape))
        codec = None if layout.codec is None else numcodecs.get_codec(layout.codec)
        for origin in itertools.product(*(range(a, b, c) for a, b, c in zip(lo, hi, layout.chunks))):
            valid = valid_extent(origin, layout.chunks, layout.shape)
            part = block[tuple(slice(o - a, o - a + v) for o, a, v in zip(origin, lo, valid))]
            if valid != layout.chunks:  # edge chunks are stored full size, padded
                full = np.full(layout.chunks, layout.fill_value, layout.np_dtype)
                full[tuple(slice(0, v) for v in valid)] = part
                part = full
            part = np.ascontiguousarray(part)
            encoded = part.tobytes() if codec is None else codec.encode(part)
            path = layout.chunk_path(tuple(o // c for o, c in zip(origin, layout.chunks)))
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(encoded)


def store_array(layout: ChunkLayout, data: da.Array, *, scheduler: Any = None) -> None:
    """Write dask ``data`` into the array's chunk files, blocks aligned to the stored chunks.

    Every block covers whole stored chunks, so blocks write disjoint files in parallel with
    no lock (safe on dask.distributed workers that see the store's folder).
    """
    aligned = block_sizes(None, layout.shape, layout.chunks, layout.np_dtype, layout.directory)
    if data.chunks != aligned:
        # Multiples of the stored chunks stay as they are; anything else is rechunked.
        try:
            block_sizes(tuple(c for c in data.chunks), layout.shape, layout.chunks,
                        layout.np_dtype, layout.directory)
        except ValueError:
            data = data.rechunk(aligned)
    da.store(data, _ChunkFileTarget(layout), lock=False, compute=True, scheduler=scheduler)
