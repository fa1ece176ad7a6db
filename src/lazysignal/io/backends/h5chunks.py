"""Read and write HDF5 chunked datasets through their stored chunk bytes, in parallel.

HDF5 (and h5py on top of it) serialises every library call behind one global lock, so
a plain lazy read of a gzip-compressed dataset inflates one chunk at a time on one
core, whatever the number of dask workers. This module takes the filters out of
HDF5's hands for the common pipelines (deflate and/or shuffle, or none):

* reading, a task holds the lock only for ``read_direct_chunk`` (a raw ``pread`` of
  the compressed bytes), then inflates with ISA-L (which releases the GIL) and undoes
  the shuffle filter with a cache-blocked numpy byte copy (which also releases the
  GIL), so both cores work;
* writing, chunks are shuffled and deflated in the dask tasks (in parallel), and
  only ``write_direct_chunk`` runs under the lock.

Any other filter (lzf, szip, blosc, fletcher32, scale-offset, n-bit...) falls back to
h5py's own read or write for that dataset, still one task per block.

Tasks carry only a small picklable plan (path, dataset name, dtype, chunk grid) and
open the file themselves through a per-process cache of read-only handles, so the
graphs run on ``dask.distributed`` worker processes too. ``close(path)`` closes the
cached handles of a file.
"""

from __future__ import annotations

import functools
import itertools
import math
import os
import zlib
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import dask
import dask.array as da
import h5py
import numpy as np
from isal import igzip_lib, isal_zlib

from lazysignal.errors import FileChangedError, FileFormatError, LazySignalError

from ...lazy import CountProgress
from ...block_source import attach, scratch
from . import blosc_raw
from .chunk_grid import block_sizes as _normalise_chunks
from .chunk_grid import grow as _grow
from .chunk_grid import starts as _starts
from .chunk_grid import valid_extent as _valid
from .handles import HandleCache
from .hdf5_open import open_for_reading

__all__ = ["lazy_dataset", "write_dataset", "close", "isal_level"]

_DEFLATE = h5py.h5z.FILTER_DEFLATE
_SHUFFLE = h5py.h5z.FILTER_SHUFFLE
_FAST_FILTERS = frozenset({_DEFLATE, _SHUFFLE})
# Elements per slab in the byte (un)shuffle: 64 Ki elements keep a slab of the
# destination (<= 1 MiB for 16-byte items) in cache while its bytes are scattered.
_SHUFFLE_BLOCK = 1 << 16


# --------------------------------------------------------------------------- plans
@dataclass(frozen=True)
class _Plan:
    """What a task needs to read or write one dataset: small and picklable."""

    path: str
    name: str
    dtype: str  # numpy dtype string (byte order kept)
    shape: tuple[int, ...]
    stored: tuple[int, ...] | None  # stored chunk shape; None for a contiguous dataset
    # Filter pipeline in write order as (code, cd_values); None = not handled here
    # (h5py reads/writes the data itself).
    filters: tuple[tuple[int, tuple[int, ...]], ...] | None
    fill: Any
    starts: tuple[tuple[int, ...], ...]  # block boundaries per axis (len = nblocks + 1)
    stamp: tuple[int, ...] | None = None  # identity of the file the array was built from

    @property
    def np_dtype(self) -> np.dtype:
        return np.dtype(self.dtype)

    # The chunk-by-chunk paths run only when this module handles the filters, and _pipeline
    # handles none for a contiguous dataset: there, both are set.
    @property
    def chunk_shape(self) -> tuple[int, ...]:
        """``stored``, on the paths that read or write stored chunks directly."""
        assert self.stored is not None, "a dataset read chunk by chunk is chunked"
        return self.stored

    @property
    def pipeline(self) -> tuple[tuple[int, tuple[int, ...]], ...]:
        """``filters``, on the paths that decode or encode stored chunks directly."""
        assert self.filters is not None, "a dataset read chunk by chunk has a known pipeline"
        return self.filters


def _pipeline(dset: h5py.Dataset) -> tuple[tuple[int, tuple[int, ...]], ...] | None:
    """The dataset's filter pipeline if this module can decode it itself, else None.

    Handled: no filter, shuffle, deflate, or shuffle then deflate (what h5py makes for
    ``compression="gzip", shuffle=True``); anything else is left to h5py.
    """
    if dset.chunks is None or dset.dtype.kind not in "biufc":
        return None
    dcpl = dset.id.get_create_plist()
    filters = []
    for i in range(dcpl.get_nfilters()):
        code, _flags, values, _name = dcpl.get_filter(i)
        filters.append((int(code), tuple(int(v) for v in values)))
    codes = [code for code, _ in filters]
    if codes not in ([], [_SHUFFLE], [_DEFLATE], [_SHUFFLE, _DEFLATE]):
        return None
    if _SHUFFLE in codes and filters[0][1] and filters[0][1][0] != dset.dtype.itemsize:
        return None
    return tuple(filters)


# --------------------------------------------------------------------------- handles
class _OpenFile:
    __slots__ = ("file", "datasets")

    def __init__(self, file):
        self.file, self.datasets = file, {}


def _close_entry(entry: _OpenFile) -> None:
    if entry.file.id.valid:
        entry.file.close()


def _valid_entry(entry: _OpenFile) -> bool:
    return bool(entry.file.id.valid)


# Keyed by (absolute path, identity stamp): a lazy array reads the very file it was
# loaded from, even after a save replaced the path with a new file (as long as the handle
# stays cached: one evicted beyond the bound is reopened by path, and a replaced file then
# raises FileChangedError rather than being read). Bounded: see handles.HandleCache.
_handles: HandleCache[tuple[str, tuple[int, ...]], _OpenFile] = HandleCache("HDF5 files read by h5chunks", close=_close_entry)


def _open_stamp(file: h5py.File) -> tuple[int, int, int, int]:
    st = os.fstat(file.id.get_vfd_handle())
    return st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns


@contextmanager
def _dataset(path: str, name: str,
             stamp: tuple[int, ...] | None = None) -> Iterator[tuple[h5py.Dataset, tuple[int, ...]]]:
    """A read-only handle on ``path``'s dataset, cached per process and file identity, and
    leased: the file stays open until the ``with`` block ends.

    ``stamp`` (device, inode, size, mtime) is the identity seen when the lazy array was
    built. While this process keeps that file cached it reads the same bytes after the path
    is replaced; a process that opens the path (a dask.distributed worker, or this one after
    the handle was evicted) refuses a file whose identity differs, rather than silently
    reading other data.
    """
    entry = None
    if stamp is not None:
        key = (path, stamp)
        entry = _handles.get(key, _valid_entry)
    if entry is None:
        file = open_for_reading(path)
        opened = _open_stamp(file)
        if stamp is not None and opened != stamp:
            file.close()
            raise FileChangedError(
                f"{path!r} was replaced or rewritten after it was loaded lazily; the lazy "
                "data cannot be read from it any more. Load the file again (or compute the "
                "data before overwriting its file)."
            )
        key = (path, opened)
        entry = _handles.adopt(key, _OpenFile(file), _valid_entry)
    try:
        yield _cached_dataset(entry, name), key[1]
    finally:
        _handles.release(key, entry)


def _cached_dataset(entry: _OpenFile, name: str) -> h5py.Dataset:
    dset = entry.datasets.get(name)
    if dset is None:
        dset = entry.datasets[name] = entry.file[name]
    return dset


def read_dataset(path: str | os.PathLike, dataset_path: str) -> np.ndarray:
    """The whole dataset in memory, its chunks inflated in parallel (an eager read).

    Handles opened for this read are closed afterwards; handles that lazy arrays of the
    same file already held stay open.

    Examples
    --------
    >>> import tempfile, os, h5py, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "e.h5")
    >>> with h5py.File(path, "w") as f:
    ...     _ = f.create_dataset("x", data=np.arange(6.0), chunks=(2,), compression="gzip")
    >>> read_dataset(path, "x").tolist()
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    """
    key = os.path.abspath(os.fspath(path))
    before = {k for k in _handles.keys() if k[0] == key}
    try:
        return lazy_dataset(key, dataset_path).compute()
    finally:
        _handles.close_matching(lambda k: k[0] == key and k not in before)


def close(path: str | os.PathLike) -> bool:
    """Close this process' cached read handles on ``path``; True if one was open.

    Examples
    --------
    >>> close("/nonexistent/file.hspy")
    False
    """
    key = os.path.abspath(os.fspath(path))
    return _handles.close_matching(lambda k: k[0] == key) > 0


# --------------------------------------------------------------------------- shuffle
def _slabs(shape: tuple[int, ...]):
    """Index tuples cutting an array of ``shape`` into slabs of ~_SHUFFLE_BLOCK items."""
    ndim = len(shape)
    inner = 1
    ax = ndim - 1
    while ax > 0 and inner * shape[ax] <= _SHUFFLE_BLOCK:
        inner *= shape[ax]
        ax -= 1
    step = max(1, _SHUFFLE_BLOCK // max(inner, 1))
    for lead in itertools.product(*(range(n) for n in shape[:ax])):
        for i in range(0, shape[ax], step):
            yield lead + (slice(i, i + step),)


def _as_bytes(arr: np.ndarray) -> np.ndarray:
    """A uint8 view of ``arr`` with the item bytes as a trailing axis."""
    return arr.reshape(arr.shape + (1,)).view(np.uint8)


def _unshuffle_into(shuffled: np.ndarray, dst: np.ndarray) -> None:
    """Undo HDF5's shuffle: ``shuffled`` is (itemsize, *dst.shape) uint8 (a view is fine).

    Whole rows of a chunk (each plane's part contiguous) go through Blosc's vectorised
    unshuffle (``blosc_raw.unshuffle``); other crops take one strided byte copy per item
    byte, slab by slab so the destination slab stays in cache (numpy releases the GIL in
    these copies, so threads overlap).
    """
    isz = dst.dtype.itemsize
    if blosc_raw.available() and dst.flags.c_contiguous and shuffled[0].flags.c_contiguous:
        # Whole rows of the chunk: each plane's part is contiguous, Blosc's kernel takes it.
        blosc_raw.unshuffle(shuffled.reshape(isz, -1), dst)
        return
    if dst.flags.c_contiguous and shuffled.flags.c_contiguous:
        dst, shuffled = dst.reshape(-1), shuffled.reshape(isz, -1)
    out = _as_bytes(dst)
    for idx in _slabs(dst.shape):
        o = out[idx]
        for k in range(isz):
            o[..., k] = shuffled[(k,) + idx]


def _shuffle(raw: np.ndarray, itemsize: int) -> np.ndarray:
    """HDF5's shuffle of the bytes of contiguous items: byte k of every item, for each k."""
    n = raw.size // itemsize
    src = raw.reshape(n, itemsize)
    out = np.empty((itemsize, n), np.uint8)
    for idx in _slabs((n,)):
        s = src[idx]
        for k in range(itemsize):
            out[(k,) + idx] = s[:, k]
    return out.reshape(-1)


# --------------------------------------------------------------------------- reading
def _pread(fd: int, offset: int, size: int, plan: _Plan, origin) -> bytes:
    parts, done = [], 0
    while done < size:
        part = os.pread(fd, size - done, offset + done)
        if not part:
            raise FileFormatError(
                f"{plan.path}: dataset {plan.name!r}, chunk at {origin} ends past the end of the "
                "file; the file is truncated.")
        parts.append(part)
        done += len(part)
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _pread_chunk_into(plan: _Plan, dsid, fd: int, origin: tuple[int, ...], dst: np.ndarray,
                      part: tuple[slice, ...] | None = None) -> None:
    """An unfiltered chunk: ``preadv`` its bytes from the file, outside HDF5's lock."""
    dtype, stored = plan.np_dtype, plan.chunk_shape
    info = dsid.get_chunk_info_by_coord(origin)
    if info.byte_offset is None:
        dst[...] = plan.fill  # never written: HDF5 reads the fill value
        return
    valid = _valid(origin, stored, plan.shape)
    direct = part is None and valid == stored and dst.flags.c_contiguous
    buf = dst if direct else np.empty(stored, dtype)
    # numpy declares ndarray.__buffer__ for Python >= 3.12 only (we check as 3.11).
    view = memoryview(buf.reshape(-1).view(np.uint8))  # type: ignore[arg-type]
    done = 0
    while done < len(view):
        n = os.preadv(fd, [view[done:]], info.byte_offset + done)
        if n == 0:
            raise FileFormatError(
                f"{plan.path}: dataset {plan.name!r}, chunk at {origin} ends past the end of the "
                "file; the file is truncated.")
        done += n
    if not direct:
        dst[...] = buf[part if part is not None else tuple(slice(0, v) for v in valid)]


def _read_chunk_into(plan: _Plan, dsid, origin: tuple[int, ...], dst: np.ndarray,
                     fd: int | None = None, part: tuple[slice, ...] | None = None) -> None:
    """Decode the stored chunk at ``origin`` and write its in-bounds part (or ``part``, slices
    in the chunk's coordinates) into ``dst``."""
    if fd is not None and not plan.filters:
        _pread_chunk_into(plan, dsid, fd, origin, dst, part)
        return
    scratches: list[np.ndarray] = []  # reused buffers, handed back when the chunk is decoded
    try:
        _decode_chunk_into(plan, dsid, origin, dst, fd, scratches, part)
    finally:
        for buf in scratches:
            scratch.give(buf)


def _pread_scratch(fd: int, offset: int, size: int, plan: _Plan, origin) -> np.ndarray:
    """``size`` bytes from ``offset`` into a reused buffer (a fresh one per chunk costs faults)."""
    buf = scratch.take((size,), np.uint8)
    view, done = memoryview(buf), 0  # type: ignore[arg-type]  # ndarray is a Buffer (numpy stubs: 3.12+)
    while done < size:
        n = os.preadv(fd, [view[done:]], offset + done)
        if n == 0:
            scratch.give(buf)
            raise FileFormatError(
                f"{plan.path}: dataset {plan.name!r}, chunk at {origin} ends past the end of the "
                "file; the file is truncated.")
        done += n
    return buf


#: Inflated output is taken this many bytes at a time, into a reused buffer.
_INFLATE_PIECE = 1 << 20


def _inflate_into(packed, out: np.ndarray, plan: _Plan, origin) -> np.ndarray:
    """Inflate a zlib stream into ``out`` (uint8), returning the filled part.

    ``isal_zlib.decompress`` returns a new ``bytes`` of the whole chunk: tens of MiB of
    fresh pages, one fault per 4 KiB, which cost as much as the inflating itself (a 62 MiB
    chunk: 130-150 ms against 77 ms). Taken a MiB at a time, each piece reuses the memory
    the previous one freed, and is copied while it is still in cache.
    """
    inflater = igzip_lib.IgzipDecompressor(flag=igzip_lib.DECOMP_ZLIB)
    pos, total = 0, len(out)
    piece = inflater.decompress(packed, _INFLATE_PIECE)  # releases the GIL
    while piece:
        n = len(piece)
        if pos + n > total:
            break
        out[pos:pos + n] = np.frombuffer(piece, np.uint8)
        pos += n
        if inflater.eof:
            break
        piece = inflater.decompress(b"", _INFLATE_PIECE)
    if pos != total or not inflater.eof:
        raise FileFormatError(
            f"{plan.path}: dataset {plan.name!r}, chunk at {origin}: its deflate stream "
            f"{'ends early' if not inflater.eof else 'holds more'} ({pos} bytes inflated, "
            f"{total} expected). The file is corrupt; try reading it with h5py to confirm.")
    return out


def _inflated_chunk(plan: _Plan, dsid, origin: tuple[int, ...], fd: int | None,
                    scratches: list[np.ndarray]) -> tuple[Any, set[int]] | None:
    """The stored chunk's bytes with deflate undone (still shuffled if the shuffle applies),
    and the filters applied to it; None for a chunk never written (it reads as the fill)."""
    full_nbytes = math.prod(plan.chunk_shape) * plan.np_dtype.itemsize
    if fd is not None:
        # The chunk's place in the file comes from HDF5 (under its lock); its bytes are read
        # with preadv outside the lock, so reads overlap with other tasks' HDF5 calls.
        info = dsid.get_chunk_info_by_coord(origin)
        if info.byte_offset is None:
            return None  # never written: HDF5 reads the fill value
        mask = info.filter_mask
        buf = _pread_scratch(fd, info.byte_offset, info.size, plan, origin)
        scratches.append(buf)
    else:
        try:
            mask, buf = dsid.read_direct_chunk(origin)  # the only call under HDF5's lock
        except (RuntimeError, MemoryError, OSError):  # h5py's error for an unallocated chunk varies
            if dsid.get_chunk_info_by_coord(origin).byte_offset is None:
                return None  # never written: HDF5 reads the fill value
            raise
    codes = {code for i, (code, _) in enumerate(plan.pipeline) if not (mask >> i) & 1}
    if _DEFLATE in codes:
        buf = _inflate_into(buf, scratch.take((full_nbytes,), np.uint8), plan, origin)
        scratches.append(buf)
    if len(buf) != full_nbytes:
        raise FileFormatError(
            f"{plan.path}: dataset {plan.name!r}, chunk at {origin}: decoded to {len(buf)} "
            f"bytes, expected {full_nbytes} (chunk shape {plan.chunk_shape}, {plan.np_dtype}). "
            "The file is corrupt; try reading it with h5py to confirm.")
    return buf, codes


def _decode_chunk_into(plan: _Plan, dsid, origin: tuple[int, ...], dst: np.ndarray, fd: int | None,
                       scratches: list[np.ndarray], part: tuple[slice, ...] | None = None) -> None:
    dtype = plan.np_dtype
    stored = plan.chunk_shape
    # A compressed chunk is inflated whole, but only the part a read needs is unshuffled.
    crop = part if part is not None else tuple(slice(0, v) for v in _valid(origin, stored, plan.shape))
    got = _inflated_chunk(plan, dsid, origin, fd, scratches)
    if got is None:
        dst[...] = plan.fill
        return
    buf, codes = got
    if _SHUFFLE in codes and dtype.itemsize > 1:
        src = np.frombuffer(buf, np.uint8).reshape((dtype.itemsize,) + stored)
        _unshuffle_into(src[(slice(None),) + crop], dst)
    else:
        dst[...] = np.frombuffer(buf, dtype).reshape(stored)[crop]


def _read_block(plan: _Plan, block_id: tuple[int, ...] = (), out: np.ndarray | None = None,
                region: tuple[slice, ...] | None = None) -> np.ndarray:
    lo = [plan.starts[ax][i] for ax, i in enumerate(block_id)]
    hi = [plan.starts[ax][i + 1] for ax, i in enumerate(block_id)]
    if region is not None:  # slices local to the block
        lo, hi = [a + r.start for a, r in zip(lo, region)], [a + r.stop for a, r in zip(lo, region)]
    try:
        with _dataset(plan.path, plan.name, plan.stamp) as (dset, _):
            return _read_region(plan, dset, lo, hi, out)
    except LazySignalError:
        raise
    except (RuntimeError, OSError, KeyError, ValueError) as exc:
        # HDF5's errors for a file cut or damaged after it was opened ("wrong B-tree
        # signature", "addr overflow"...) name neither the file nor what was expected.
        size = os.stat(plan.path).st_size if os.path.exists(plan.path) else "no"
        raise FileFormatError(
            f"{plan.path!r}: dataset {plan.name!r}, block {tuple(lo)}:{tuple(hi)} cannot be "
            f"read ({type(exc).__name__}: {exc}); expected the HDF5 file as it was loaded, "
            f"found {size} bytes on disk. The file was damaged or cut short.") from exc


def _read_region(plan: _Plan, dset: h5py.Dataset, lo: list[int], hi: list[int],
                 out: np.ndarray | None = None) -> np.ndarray:
    """The block ``[lo, hi)``, into ``out`` (C-contiguous, the block's shape) when given."""
    if plan.filters is None:
        if out is None:
            return dset[tuple(slice(a, b) for a, b in zip(lo, hi))]
        dset.read_direct(out, source_sel=tuple(slice(a, b) for a, b in zip(lo, hi)))
        return out
    if out is None:
        out = np.empty([b - a for a, b in zip(lo, hi)], plan.np_dtype)
    if out.size == 0:
        return out
    dsid = dset.id
    # The OS handle of a plain (sec2) file: unfiltered chunks are read with preadv.
    fd = dset.file.id.get_vfd_handle() if dset.file.driver == "sec2" else None
    stored = plan.chunk_shape
    # [lo, hi) need not follow the chunk grid (a region of a block): each stored chunk it
    # touches gives the part inside it.
    firsts = [(a // c) * c for a, c in zip(lo, stored)]
    for origin in itertools.product(*(range(f, b, c) for f, b, c in zip(firsts, hi, stored))):
        valid = _valid(origin, stored, plan.shape)
        first = [max(a, o) for a, o in zip(lo, origin)]
        end = [min(b, o + v) for b, o, v in zip(hi, origin, valid)]
        region = tuple(slice(f - a, e - a) for f, e, a in zip(first, end, lo))
        whole = all(f == o and e == o + v for f, e, o, v in zip(first, end, origin, valid))
        part = None if whole else tuple(slice(f - o, e - o) for f, e, o in zip(first, end, origin))
        _read_chunk_into(plan, dsid, origin, out[region], fd, part)
    return out


def lazy_dataset(path: str | os.PathLike, dataset_path: str, *, chunks: Any = None) -> da.Array:
    """A dask array over an HDF5 dataset, decompressed in parallel.

    Parameters
    ----------
    path
        The HDF5 file.
    dataset_path
        The dataset's path inside the file, e.g. ``"Experiments/title/data"``.
    chunks
        ``None`` (default): one block per stored chunk. A tuple (one entry per axis) of
        multiples of the stored chunk shape, ``-1`` for a whole axis, or explicit block
        sizes whose edges fall on stored-chunk boundaries; a dict ``{axis: size}``;
        ``"auto"``: multiples of the stored chunks near dask's ``array.chunk-size``.
        A contiguous (unchunked) dataset accepts any dask ``chunks``.

    Returns
    -------
    dask.array.Array
        Each task reads its stored chunks (gzip/deflate and shuffle decoded outside the
        HDF5 lock; other filters through h5py). Tasks carry only the path and dataset
        name, so the array computes on ``dask.distributed`` worker processes.

    Raises
    ------
    lazysignal.errors.ChunksError
        When ``chunks`` does not align with the stored chunks.

    Examples
    --------
    >>> import tempfile, os, h5py, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "d.h5")
    >>> with h5py.File(path, "w") as f:
    ...     _ = f.create_dataset("x", data=np.arange(100.0).reshape(10, 10),
    ...                          chunks=(4, 10), compression="gzip", shuffle=True)
    >>> x = lazy_dataset(path, "x")
    >>> x.chunks
    ((4, 4, 2), (10,))
    >>> float(x.sum().compute())
    4950.0
    >>> lazy_dataset(path, "x", chunks=(8, -1)).chunks
    ((8, 2), (10,))
    >>> close(path)
    True
    """
    path = os.path.abspath(os.fspath(path))
    with _dataset(path, dataset_path) as (dset, stamp):
        shape, dtype = tuple(dset.shape), dset.dtype
        stored = None if dset.chunks is None else tuple(dset.chunks)
        filters = None if stored is None else _pipeline(dset)
        fill = dset.fillvalue if dtype.kind in "biufc" else None
    where = f"dataset {dataset_path!r} in {path}"
    if stored is None:
        blocks = da.core.normalize_chunks("auto" if chunks is None else chunks, shape, dtype=dtype)
    else:
        blocks = _normalise_chunks(chunks, shape, stored, dtype, where)
    plan = _Plan(path, dataset_path, dtype.str, shape, stored, filters,
                 None if fill is None else fill.item() if hasattr(fill, "item") else fill,
                 _starts(blocks), stamp)
    name = "h5chunks-" + dask.base.tokenize(path, dataset_path, stamp, blocks)
    reader = _BlockReader(plan)
    return attach(da.map_blocks(reader, dtype=dtype, chunks=blocks, name=name,
                                meta=np.empty((0,) * len(shape), dtype)), reader)


class _BlockReader:
    """The task function (block index -> block), and the array's block source: a reduction
    that keeps nothing of the block reads it into a reused buffer (see ``block_source``)."""

    #: ``read_into`` reads any sub-region of a block: compressed chunks are inflated whole,
    #: but only the region is unshuffled and copied (see ``block_source``).
    reads_regions = True

    def __init__(self, plan: _Plan):
        self.plan = plan

    def __call__(self, block_id: tuple[int, ...] = ()) -> np.ndarray:
        return _read_block(self.plan, block_id)

    def read_into(self, block_id: tuple[int, ...], out: np.ndarray,
                  region: tuple[slice, ...] | None = None) -> np.ndarray:
        return _read_block(self.plan, block_id, out, region)

    def sum_rows(self, block_id: tuple[int, ...], nreduce: int, sum_dtype: np.dtype) -> np.ndarray | None:
        """The block's sum over its ``nreduce`` leading axes, a slab of rows at a time, bit for
        bit numpy's (see ``h5_rows``); None when the layout does not allow it."""
        from .h5_rows import sum_rows  # it builds on this module

        return sum_rows(self.plan, block_id, nreduce, sum_dtype)


# --------------------------------------------------------------------------- writing
def isal_level(zlib_level: int) -> int | None:
    """The ISA-L level used for a gzip (zlib) level; None means zlib itself (level 0).

    ISA-L has levels 0-3; on HyperSpy-like float data its level 1 compresses as well as
    zlib level 4 (HDF5's default) at ~5x the speed, its level 3 is slower and no
    smaller. Any level gives a standard zlib stream, which HDF5's deflate filter reads.

    Examples
    --------
    >>> [isal_level(z) for z in (0, 1, 4, 6, 7, 9)]
    [None, 1, 1, 1, 2, 3]
    """
    if zlib_level <= 0:
        return None
    return 1 if zlib_level <= 6 else 2 if zlib_level <= 8 else 3


def _encode_chunk(plan: _Plan, level: int | None, chunk: np.ndarray) -> np.ndarray:
    """Apply the plan's filters (in write order) to one full stored chunk."""
    chunk = np.ascontiguousarray(chunk, dtype=plan.np_dtype)
    buf = chunk.reshape(-1).view(np.uint8)
    for code, _values in plan.pipeline:
        if code == _SHUFFLE and chunk.dtype.itemsize > 1:
            buf = _shuffle(buf, chunk.dtype.itemsize)
        elif code == _DEFLATE:  # both release the GIL
            # ndarray is a Buffer; numpy declares __buffer__ for Python >= 3.12 only.
            packed = (zlib.compress(buf, 0) if level is None  # type: ignore[arg-type]
                      else isal_zlib.compress(buf, level))
            buf = np.frombuffer(packed, np.uint8)
    return buf


def _encode_region(plan: _Plan, level, block: np.ndarray, lo: tuple[int, ...]):
    """Split an aligned block into stored chunks, pad edges, encode: [(origin, bytes)]."""
    out = []
    hi = tuple(a + n for a, n in zip(lo, block.shape))
    for origin in itertools.product(*(range(a, b, c) for a, b, c in zip(lo, hi, plan.chunk_shape))):
        valid = _valid(origin, plan.chunk_shape, plan.shape)
        part = block[tuple(slice(o - a, o - a + v) for o, a, v in zip(origin, lo, valid))]
        if valid != plan.chunk_shape:  # edge chunk: stored full size, padded with the fill value
            full = np.full(plan.chunk_shape, plan.fill, plan.np_dtype)
            full[tuple(slice(0, v) for v in valid)] = part
            part = full
        out.append((origin, _encode_chunk(plan, level, part)))
    return out


class _DirectChunkTarget:
    """A ``da.store`` target: encodes in the calling task, writes under h5py's lock."""

    def __init__(self, dset: h5py.Dataset, plan: _Plan, level):
        self.dset, self.plan, self.level = dset, plan, level
        self.shape, self.dtype = dset.shape, dset.dtype

    def __setitem__(self, region, block):
        lo = tuple(0 if s.start is None else s.start for s in region)
        for origin, data in _encode_region(self.plan, self.level, np.asarray(block), lo):
            self.dset.id.write_direct_chunk(origin, data)


def _distributed_client(data):
    """The dask.distributed Client that would compute ``data``, if any."""
    try:
        from distributed import Client
    except ImportError:  # pragma: no cover - distributed is a dependency
        return None
    get = dask.base.get_scheduler(collections=[data])
    # A Client's own get, or lazysignal's progress-showing wrapper around one.
    owner = getattr(get, "__self__", None) or getattr(get, "client", None)
    return owner if isinstance(owner, Client) else None


def _aligned(data: da.Array, stored: tuple[int, ...]) -> da.Array:
    """``data`` with block edges on the stored-chunk grid (rechunked only if needed)."""
    for c, s in zip(data.chunks, stored):
        if np.any(np.cumsum(c)[:-1] % s):
            return data.rechunk(stored)
    return data


def write_dataset(group: h5py.Group, name: str, data: Any, *, chunks: Any,
                  compression: Any = "gzip", compression_opts: Any = 4,
                  shuffle: bool = True) -> h5py.Dataset:
    """Create a chunked dataset and write ``data`` with chunks encoded in parallel.

    The dataset is created by h5py's ``create_dataset`` with the same ``chunks``,
    ``compression``, ``compression_opts`` and ``shuffle``, so its layout and filter
    pipeline are exactly h5py's and any HDF5 reader (HyperSpy included) reads it.
    Chunks are shuffled and deflated (ISA-L, see ``isal_level``) in worker threads or
    processes; only the raw chunk writes hold HDF5's lock. A dask array is streamed:
    blocks are computed in parallel and written as they come, so memory stays bounded.
    Filters other than gzip/shuffle are written through h5py.

    Parameters
    ----------
    group
        An h5py group (or file) open for writing.
    name
        The new dataset's name.
    data
        A numpy or dask array.
    chunks
        The stored chunk shape (tuple), as for ``h5py.Group.create_dataset``.
    compression, compression_opts, shuffle
        As for ``h5py.Group.create_dataset``; default gzip level 4 with shuffle, like
        HyperSpy. ``compression=None`` stores the chunks uncompressed.

    Returns
    -------
    h5py.Dataset

    Examples
    --------
    >>> import tempfile, os, h5py, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "w.h5")
    >>> a = np.arange(60.0).reshape(6, 10)
    >>> with h5py.File(path, "w") as f:
    ...     d = write_dataset(f, "x", a, chunks=(4, 4))
    ...     d.compression, d.shuffle, bool((d[()] == a).all())
    ('gzip', True, True)
    """
    if compression is None:
        compression_opts = None
    dset = group.create_dataset(name, shape=data.shape, dtype=data.dtype, chunks=chunks,
                                compression=compression, compression_opts=compression_opts,
                                shuffle=shuffle)
    if dset.size == 0:
        return dset
    filters = _pipeline(dset)
    fill = dset.fillvalue
    plan = _Plan(os.path.abspath(dset.file.filename), dset.name, dset.dtype.str,
                 tuple(dset.shape), None if dset.chunks is None else tuple(dset.chunks),
                 filters, fill.item() if hasattr(fill, "item") else fill, ())
    level = None
    for code, values in filters or ():
        if code == _DEFLATE:
            level = isal_level(values[0] if values else 4)
    is_dask = isinstance(data, da.Array)
    client = _distributed_client(data) if is_dask else None
    if plan.stored is None or filters is None:
        # h5py encodes (one block at a time, so memory stays bounded for dask data)
        if client is not None:
            _write_distributed(client, data, _Identity(), functools.partial(_h5py_write, dset))
        elif is_dask:
            da.store(data, dset, lock=True)
        else:
            dset[...] = data
        return dset
    if is_dask:
        src = _aligned(data, plan.stored)
    else:  # tasks of several stored chunks (~16 MiB) so tiny chunks do not mean many tasks
        data = np.asarray(data)
        src = da.from_array(data, chunks=_grow(data.shape, plan.stored, data.itemsize, 1 << 24))
    if client is None:
        target = _DirectChunkTarget(dset, plan, level)
        # dask's stub wants an array; store only needs __setitem__, which the target has.
        da.store(src, target, lock=False,  # type: ignore[arg-type]
                 scheduler=None if is_dask else "threads")
    else:
        _write_distributed(client, src, functools.partial(_encode_region, plan, level),
                           functools.partial(_direct_write, dset))
    return dset


class _Identity:
    """Picklable task body for the h5py fallback: ship the block back as it is."""

    def __call__(self, block, lo):
        return lo, block


def _h5py_write(dset, result) -> None:
    lo, block = result
    dset[tuple(slice(a, a + n) for a, n in zip(lo, block.shape))] = block


def _direct_write(dset, result) -> None:
    for origin, chunk in result:
        dset.id.write_direct_chunk(origin, chunk)


def _write_distributed(client, src: da.Array, task, write) -> None:
    """Run ``task(block, origin)`` on the cluster, a bounded number in flight, and
    ``write`` each result here as it comes (HDF5 handles stay in this process)."""
    from distributed import as_completed

    run = dask.delayed(task, pure=True)
    starts = _starts(src.chunks)
    blocks = src.to_delayed()
    todo = deque(run(blocks[idx], tuple(starts[ax][i] for ax, i in enumerate(idx)))
                 for idx in np.ndindex(*blocks.shape))
    window = 2 * max(1, sum(client.nthreads().values()))
    # The futures are made here a window at a time, so a bar must count them here too.
    progress = CountProgress(len(todo)) if getattr(
        dask.base.get_scheduler(collections=[src]), "client", None) is client else None
    first = [client.compute(todo.popleft()) for _ in range(min(window, len(todo)))]
    running = as_completed(first, loop=client.loop)
    for future in running:
        write(future.result())
        future.release()
        if progress is not None:
            progress.step()
        if todo:
            running.add(client.compute(todo.popleft()))
