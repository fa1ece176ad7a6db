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
import math
import os
import shutil
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import dask.base
import numcodecs
import numpy as np

if TYPE_CHECKING:
    import dask.array as da

# dask.array is imported where graphs are built: a dask.distributed worker that unpickles a
# block reader then does not import it (0.3-0.5 s before its first task; see expressions).

from ...errors import FileChangedError, FileFormatError, MissingFileError, TruncatedFileError
from ...block_source import attach, scratch
from . import blosc_raw
from .chunk_grid import block_sizes, starts, valid_extent
from .row_sums import sum_leading

__all__ = ["ChunkLayout", "layout_of", "lazy_array", "store_array", "verified_chunks",
           "bank_chunks", "JOURNAL"]


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
    #: (device, inode) of the array's folder when loaded; reads refuse a store since replaced.
    identity: tuple[int, int] | None = None

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
    directory = os.path.join(store_root, array.path)
    stat = os.stat(directory) if os.path.isdir(directory) else None
    return ChunkLayout(directory, tuple(array.shape), tuple(meta.chunks), dtype.str, codec, fill,
                       separator, None if stat is None else (stat.st_dev, stat.st_ino))


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
        raise _missing(layout, path, index) from None
    check_encoded_chunk(layout, codec, raw, path, out.nbytes)
    if codec is None:
        out.reshape(-1).view(np.uint8)[:] = np.frombuffer(raw, np.uint8)
        return True
    try:
        decoder = _fast_decoder(layout, raw, out)
        if decoder is not None:
            decoder.decode(0, out.nbytes // decoder.typesize, out)
        else:
            codec.decode(raw, out=out)
    except Exception as exc:  # a codec's own error type says nothing about the file
        raise FileFormatError(
            f"{path!r}: chunk {index} of {layout.directory!r} does not decode with "
            f"{layout.codec}: {type(exc).__name__}: {exc}. The chunk file is damaged."
        ) from exc
    return True


def _fast_decoder(layout: ChunkLayout, raw: Any, out: np.ndarray) -> blosc_raw.FrameDecoder | None:
    """Our decoder of a zstd Blosc chunk (see ``blosc_raw``), or None: the codec decodes it."""
    if not (layout.codec and layout.codec.get("id") == "blosc" and out.flags.c_contiguous):
        return None
    frame = raw if isinstance(raw, np.ndarray) else np.frombuffer(raw, np.uint8)
    decoder = blosc_raw.FrameDecoder.for_frame(frame)
    return decoder if decoder is not None and out.nbytes % decoder.typesize == 0 else None


def _missing(layout: ChunkLayout, path: str, index: tuple[int, ...]) -> MissingFileError:
    return MissingFileError(
        f"{path!r} is missing: the zarr array {layout.directory!r} of shape {layout.shape} "
        f"needs chunk {index} (every chunk is written by HyperSpy and lazysignal); the store "
        "is incomplete (an interrupted copy or save?). Copy the store again, or save it "
        "again (resume=True completes an interrupted zspy save); for a store written "
        "without chunks equal to the fill value, load with missing_chunks='fill'.")


def check_encoded_chunk(layout: ChunkLayout, codec, raw: bytes | memoryview, path: str,
                        nbytes: int) -> None:
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


def _check_identity(layout: ChunkLayout) -> None:
    if layout.identity is not None:
        try:
            stat = os.stat(layout.directory)
        except FileNotFoundError:
            stat = None
        if stat is None or stat.st_ino != layout.identity[1]:  # inode only (see chunked_file)
            # A save replaced the store: its chunk files are another array's now.
            raise FileChangedError(
                f"{layout.directory!r} was replaced after it was loaded lazily (or removed); "
                "the lazy data cannot be read from it. Load the file again, or compute the "
                "data before overwriting its file.")


def _read_block(layout: ChunkLayout, block_starts, block_id: tuple[int, ...] = (),
                out: np.ndarray | None = None, missing: str = "raise") -> np.ndarray:
    lo = [block_starts[ax][i] for ax, i in enumerate(block_id)]
    hi = [block_starts[ax][i + 1] for ax, i in enumerate(block_id)]
    dtype = layout.np_dtype
    if out is None:
        out = np.empty([b - a for a, b in zip(lo, hi)], dtype)
    if out.size == 0:
        return out
    _check_identity(layout)
    codec = None if layout.codec is None else numcodecs.get_codec(layout.codec)
    edge: np.ndarray | None = None  # one buffer for the edge chunks, made when first needed
    for origin in itertools.product(*(range(a, b, c) for a, b, c in zip(lo, hi, layout.chunks))):
        index = tuple(o // c for o, c in zip(origin, layout.chunks))
        valid = valid_extent(origin, layout.chunks, layout.shape)
        region = tuple(slice(o - a, o - a + v) for o, a, v in zip(origin, lo, valid))
        target = out[region]
        whole = valid == layout.chunks and target.flags.c_contiguous
        if whole:
            buf = target
        else:
            if edge is None:
                edge = np.empty(layout.chunks, dtype)
            buf = edge
        if not _decode_into(layout, codec, index, buf, missing):
            target[...] = layout.fill_value
        elif not whole:
            target[...] = buf[tuple(slice(0, v) for v in valid)]
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
    import dask.array as da

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

    def sum_rows(self, block_id: tuple[int, ...], nreduce: int, sum_dtype: np.dtype) -> np.ndarray | None:
        """``np.sum(block, axis=tuple(range(nreduce)), dtype=sum_dtype, keepdims=True)``, bit for
        bit, decoding each chunk a MiB at a time into a cached buffer (see ``row_sums``); None
        when the chunks' codec or layout does not allow it."""
        return _sum_rows(self.layout, self.block_starts, block_id, nreduce, sum_dtype, self.missing)


def _sum_rows(layout: ChunkLayout, block_starts, block_id, nreduce, sum_dtype, missing):
    blosc = layout.codec is not None and layout.codec.get("id") == "blosc"
    if layout.codec is not None and not (blosc and blosc_raw.available()):
        return None
    lo = [block_starts[ax][i] for ax, i in enumerate(block_id)]
    hi = [block_starts[ax][i + 1] for ax, i in enumerate(block_id)]
    if any(b <= a for a, b in zip(lo, hi)):
        return None
    _check_identity(layout)
    dtype = layout.np_dtype
    nbytes = math.prod(layout.chunks) * dtype.itemsize
    row_bytes = math.prod(layout.chunks[nreduce:]) * dtype.itemsize

    @contextmanager
    def rows_of(origin):
        index = tuple(o // c for o, c in zip(origin, layout.chunks))
        path = layout.chunk_path(index)
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            if missing != "fill":
                raise _missing(layout, path, index) from None
            fd = None
        if fd is None:  # a chunk equal to the fill value, not written
            def fill(r0, k, out):
                out[...] = layout.fill_value
            yield fill
            return
        raw = None
        try:
            size = os.fstat(fd).st_size
            raw = scratch.take((size,), np.uint8)  # reused: a fresh buffer per chunk costs faults
            view, done = memoryview(raw), 0  # type: ignore[arg-type]  # ndarray is a Buffer
            while done < size:
                n = os.preadv(fd, [view[done:]], done)
                if n == 0:
                    break
                done += n
            check_encoded_chunk(layout, None if not blosc else layout.codec, view[:done], path, nbytes)
            if not blosc:
                flat = raw.reshape(-1)

                def copy(r0, k, out):
                    out.reshape(-1).view(np.uint8)[:] = flat[r0 * row_bytes:(r0 + k) * row_bytes]
                yield copy
                return
            _flags, typesize, _n, _block = blosc_raw.header(view[:16])
            if typesize < 1 or row_bytes % typesize:
                whole = scratch.take(layout.chunks, dtype)  # rows are not whole Blosc items
                try:
                    _decode_into(layout, numcodecs.get_codec(layout.codec), index, whole, missing)
                    rows = whole.reshape(-1, row_bytes // dtype.itemsize)

                    def copy_rows(r0, k, out):
                        out[...] = rows[r0:r0 + k]
                    yield copy_rows
                finally:
                    scratch.give(whole)
                return
            per_row = row_bytes // typesize
            try:
                decoder = blosc_raw.FrameDecoder.for_frame(raw[:done])
            except ValueError as exc:
                raise FileFormatError(f"{path!r}: chunk {index} of {layout.directory!r} is damaged: "
                                      f"{exc}.") from None

            def decode(r0, k, out):
                try:
                    if decoder is not None:
                        decoder.decode(r0 * per_row, k * per_row, out)
                    else:
                        blosc_raw.getitem(raw, r0 * per_row, k * per_row, out)
                except ValueError as exc:
                    raise FileFormatError(
                        f"{path!r}: chunk {index} of {layout.directory!r} does not decode with "
                        f"{layout.codec}: {exc}. The chunk file is damaged.") from None
            yield decode
        finally:
            os.close(fd)
            if raw is not None:
                scratch.give(raw)

    return sum_leading(lo, hi, layout.chunks, layout.shape, nreduce, dtype, sum_dtype, rows_of,
                       align=_first_blocksize(layout, lo) if blosc else None)


def _first_blocksize(layout: ChunkLayout, lo) -> int | None:
    """The Blosc block size of the block's first chunk (slabs end on its block edges)."""
    try:
        with open(layout.chunk_path(tuple(o // c for o, c in zip(lo, layout.chunks))), "rb") as f:
            head = f.read(16)
    except OSError:
        return None
    return blosc_raw.header(head)[3] if len(head) == 16 else None


#: A journal of the chunk files a resumable save completed: one ``key size crc32`` line per
#: chunk, appended after the file is in place (a resumed save trusts only journaled chunks
#: whose size and CRC-32 still match). Removed when the save completes.
JOURNAL = ".lazysignal-chunks"


def _append_journal(directory: str, key: str, data: bytes) -> None:
    line = f"{key} {len(data)} {zlib.crc32(data)}\n".encode()
    # One write on an O_APPEND descriptor: lines from parallel writers never interleave.
    fd = os.open(os.path.join(directory, JOURNAL), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line)
    finally:
        os.close(fd)


def verified_chunks(directory: str | os.PathLike) -> set[str]:
    """Keys of the journaled chunk files of an array folder that still match the journal.

    A chunk the journal does not list (its writer died before journaling it), or whose
    size or CRC-32 differ (cut short, damaged), is not trusted.

    Examples
    --------
    >>> import tempfile
    >>> d = tempfile.mkdtemp()
    >>> for key, data in (("0.0", b"abc"), ("0.1", b"defg")):
    ...     _ = open(os.path.join(d, key), "wb").write(data)
    ...     _append_journal(d, key, data)
    >>> _ = open(os.path.join(d, "0.1"), "wb").write(b"de")   # cut short after journaling
    >>> sorted(verified_chunks(d))
    ['0.0']
    """
    journal = os.path.join(directory, JOURNAL)
    entries: dict[str, tuple[int, int]] = {}
    try:
        with open(journal, "rb") as f:
            text = f.read().decode("ascii", "replace")
    except FileNotFoundError:
        return set()
    for line in text.splitlines():
        parts = line.split(" ")
        if len(parts) == 3 and parts[1].isdigit() and parts[2].isdigit():  # a torn last line
            entries[parts[0]] = (int(parts[1]), int(parts[2]))
    good = set()
    for key, (size, crc) in entries.items():
        try:
            with open(os.path.join(directory, *key.split("/")), "rb") as f:
                data = f.read()
        except (FileNotFoundError, NotADirectoryError):
            continue
        if len(data) == size and zlib.crc32(data) == crc:
            good.add(key)
    return good


def bank_chunks(store: str | os.PathLike, pool: str | os.PathLike) -> int:
    """Move the verified chunk files of every array of a partial store into ``pool``.

    The pool keeps, per array (same relative folder), the array's ``.zarray`` and a journal
    of the chunks it holds; a save that resumes takes chunks from it when its array's
    ``.zarray`` is the same. Returns the number of chunks banked.
    """
    store, pool = os.fspath(store), os.fspath(pool)
    banked = 0
    for folder, _dirs, files in os.walk(store):
        if ".zarray" not in files or JOURNAL not in files:
            continue
        dest = os.path.join(pool, os.path.relpath(folder, store))
        meta = open(os.path.join(folder, ".zarray"), "rb").read()
        if os.path.exists(os.path.join(dest, ".zarray")) and \
                open(os.path.join(dest, ".zarray"), "rb").read() != meta:
            shutil.rmtree(dest)  # another array now: its old chunks are of no use
        os.makedirs(dest, exist_ok=True)
        with open(os.path.join(dest, ".zarray"), "wb") as f:
            f.write(meta)
        for key in sorted(verified_chunks(folder)):
            src = os.path.join(folder, *key.split("/"))
            out = os.path.join(dest, *key.split("/"))
            os.makedirs(os.path.dirname(out), exist_ok=True)
            data = open(src, "rb").read()
            os.replace(src, out)
            _append_journal(dest, key, data)
            banked += 1
    return banked


class _ChunkFileTarget:
    """A ``da.store`` target: each block encodes its chunks and writes their files, no lock.

    With ``journal``, each chunk is written under a temporary name, renamed into place and
    then journaled (see :data:`JOURNAL`), so a killed save leaves complete, listed chunks.
    """

    def __init__(self, layout: ChunkLayout, journal: bool = False):
        self.layout, self.journal = layout, journal
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
            index = tuple(o // c for o, c in zip(origin, layout.chunks))
            path = layout.chunk_path(index)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            if not self.journal:
                with open(path, "wb") as f:
                    f.write(encoded)
                continue
            with open(path + ".partial", "wb") as f:
                f.write(encoded)
            os.replace(path + ".partial", path)
            _append_journal(layout.directory, _key(layout, index), bytes(encoded))


def _key(layout: ChunkLayout, index: tuple[int, ...]) -> str:
    """A chunk's key relative to its array folder, with ``/`` whatever the separator."""
    return os.path.relpath(layout.chunk_path(index), layout.directory).replace(os.sep, "/")


def _store_block(target: _ChunkFileTarget, block: np.ndarray, region: tuple) -> np.ndarray:
    target[region] = block
    return np.zeros(1, np.int8)


def _reuse_pool(layout: ChunkLayout, pool_dir: str) -> set[tuple[int, ...]]:
    """Move the pool's verified chunks of this array into place; their indices."""
    try:
        same = open(os.path.join(pool_dir, ".zarray"), "rb").read() == \
            open(os.path.join(layout.directory, ".zarray"), "rb").read()
    except FileNotFoundError:
        return set()
    if not same:  # shape, chunks, dtype or codec changed: nothing to reuse
        return set()
    reused = set()
    grid = [range(-(-n // c)) for n, c in zip(layout.shape, layout.chunks)]
    good = verified_chunks(pool_dir)
    for index in itertools.product(*grid):
        key = _key(layout, index)
        if key not in good:
            continue
        src = os.path.join(pool_dir, *key.split("/"))
        data = open(src, "rb").read()
        dest = layout.chunk_path(index)
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        os.replace(src, dest)
        _append_journal(layout.directory, key, data)
        reused.add(index)
    return reused


def store_array(layout: ChunkLayout, data: da.Array, *, scheduler: Any = None,
                journal: bool = False, pool_dir: str | None = None) -> int:
    """Write dask ``data`` into the array's chunk files, blocks aligned to the stored chunks.

    Every block covers whole stored chunks, so blocks write disjoint files in parallel with
    no lock (safe on dask.distributed workers that see the store's folder).

    ``journal`` journals every chunk written (a resumable save); ``pool_dir`` holds verified
    chunks of an interrupted save of the same array (:func:`bank_chunks`): they are moved
    into place, and the blocks they cover entirely are neither computed nor written.
    Returns the number of blocks computed and written.
    """
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph

    aligned = block_sizes(None, layout.shape, layout.chunks, layout.np_dtype, layout.directory)
    if data.chunks != aligned:
        # Multiples of the stored chunks stay as they are; anything else is rechunked.
        try:
            block_sizes(tuple(c for c in data.chunks), layout.shape, layout.chunks,
                        layout.np_dtype, layout.directory)
        except ValueError:
            data = data.rechunk(aligned)
    target = _ChunkFileTarget(layout, journal=journal)
    reused = _reuse_pool(layout, pool_dir) if pool_dir else set()
    if not reused:
        # dask's stub wants an array; store only needs __setitem__, which the target has.
        da.store(data, target, lock=False, compute=True,  # type: ignore[arg-type]
                 scheduler=scheduler)
        return math.prod(len(c) for c in data.chunks)
    bounds = starts(data.chunks)
    needed = []
    for block in itertools.product(*(range(len(c)) for c in data.chunks)):
        lo = [bounds[ax][i] for ax, i in enumerate(block)]
        hi = [bounds[ax][i + 1] for ax, i in enumerate(block)]
        covered = itertools.product(*(range(a // c, -(-b // c)) for a, b, c in
                                      zip(lo, hi, layout.chunks)))
        if not all(index in reused for index in covered):
            needed.append((block, tuple(slice(a, b) for a, b in zip(lo, hi))))
    if needed:
        # A layer of write tasks over the needed blocks only: the graph is culled to them, so
        # the blocks already on disk are not even read from their source.
        name = "store-resumed-" + dask.base.tokenize(data.name, [b for b, _ in needed])
        layer: dict[Any, Any] = {(name, i): (_store_block, target, (data.name,) + block, region)
                 for i, (block, region) in enumerate(needed)}
        # da.Array is a dask collection; dask's stubs do not say so to the DaskCollection protocol.
        graph = HighLevelGraph.from_collections(name, layer,
                                                dependencies=[data])  # type: ignore[list-item]
        da.Array(graph, name, chunks=((1,) * len(needed),), dtype=np.int8).compute(
            scheduler=scheduler)
    return len(needed)
