"""The data path every binary format shares: an array stored frame after frame in one file.

A binary detector file holds ``prod(navigation_shape)`` frames back to back, each frame
optionally preceded by a fixed-size header. :func:`file_array` turns such a file into a
dask array whose every task reads only its own chunk:

* ``distributed=True``: the task holds a small :class:`FileLayout` (path, offset, shape,
  dtype, header size) and the chunk's block index, opens the file, and ``os.preadv``'s the
  bytes it needs into a fresh buffer. Nothing in the graph is bigger than a few hundred
  bytes, so it pickles small and runs on any ``dask.distributed`` worker that sees the path.
* ``distributed=False``: the task maps the part of the file holding its chunk with
  :class:`numpy.memmap` and copies its chunk out. We never hand a whole ``np.memmap`` to
  ``da.from_array``: since dask 2024.12 that copies the whole file into memory.

The graph is one :class:`dask.blockwise.Blockwise` layer built by ``da.map_blocks`` over
block indices, so it stays compact whatever the number of chunks.
:func:`read_file_array` is the eager twin: one read straight into the result.
"""

from __future__ import annotations

import dataclasses
import math
import mmap
import os
from dataclasses import dataclass
from itertools import product
from typing import Any

import dask
import dask.array as da
import numpy as np
from dask.array.core import normalize_chunks
from dask.utils import parse_bytes

from ...array_ops import register_memmap_reader
from ...errors import ChunksError, FileChangedError, FileFormatError, TruncatedFileError
from ...block_source import attach

__all__ = ["FileLayout", "file_array", "read_file_array", "write_file_array", "normalize_file_chunks"]

#: Target size of an ``"auto"`` chunk read from a binary file (or dask's ``array.chunk-size``
#: when that is smaller). Smaller than dask's default:
#: reading into fresh buffers costs page faults, and glibc hands a freed buffer of a few MiB
#: back to the next read already faulted in, while tens of MiB are fresh maps every time
#: (2 GiB 4D-STEM, 2 threads: (s * mask).sum over signal 0.83 s / 259 MiB peak with 16 MiB
#: chunks, 1.51 s / 643 MiB with 64 MiB chunks).
AUTO_CHUNK_BYTES = 16 * 2**20


def _huge_page_size() -> int:
    """The kernel's PMD huge-page size (2 MiB on x86-64), a multiple of the map granularity."""
    try:
        with open("/sys/kernel/mm/transparent_hugepage/hpage_pmd_size") as f:
            size = int(f.read())
    except (OSError, ValueError):
        size = 2 * 2**20
    return max(size, mmap.ALLOCATIONGRANULARITY) // mmap.ALLOCATIONGRANULARITY * mmap.ALLOCATIONGRANULARITY


_HUGE_PAGE = _huge_page_size()

# Cost model used to pick how a block is read: one pread costs about this much
# (syscall + Python loop), and bytes move from the page cache at about this rate.
_READ_OVERHEAD_S = 20e-6
_BYTES_PER_S = 4e9
# A read that needs a copy afterwards (headers to strip, a frame to slice) never uses a
# scratch buffer larger than this, so memory stays bounded by the chunk, not the file.
_MAX_SCRATCH = 64 * 2**20


@dataclass(frozen=True)
class FileLayout:
    """Where an array's elements sit in a file.

    Element ``(n..., f...)`` (navigation index ``n``, frame index ``f``) is at byte
    ``offset + frame_header + ravel(n) * frame_stride + ravel(f) * itemsize``
    with ``frame_stride = frame_header + prod(frame_shape) * itemsize``.

    Examples
    --------
    >>> lay = FileLayout("x.bin", shape=(2, 3, 4), dtype="<u2", frame_header=8)
    >>> lay.frame_stride, lay.nbytes_needed
    (32, 64)
    """

    path: str
    shape: tuple[int, ...]
    dtype: Any
    offset: int = 0
    frame_header: int = 0
    frame_ndim: int = 2
    pad: bool = False
    #: (device, inode) of the file when it was loaded; reads refuse a file since replaced.
    identity: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "path", os.fspath(self.path))
        object.__setattr__(self, "shape", tuple(int(s) for s in self.shape))
        object.__setattr__(self, "dtype", np.dtype(self.dtype))
        fnd = min(int(self.frame_ndim), len(self.shape))
        object.__setattr__(self, "frame_ndim", fnd)
        if self.offset < 0 or self.frame_header < 0:
            raise FileFormatError(
                f"{self.path!r}: offset ({self.offset}) and frame_header ({self.frame_header}) "
                "must be >= 0."
            )

    @property
    def frame_shape(self) -> tuple[int, ...]:
        return self.shape[len(self.shape) - self.frame_ndim :]

    @property
    def nav_shape(self) -> tuple[int, ...]:
        return self.shape[: len(self.shape) - self.frame_ndim]

    @property
    def frame_bytes(self) -> int:
        return math.prod(self.frame_shape) * self.dtype.itemsize

    @property
    def frame_stride(self) -> int:
        return self.frame_header + self.frame_bytes

    @property
    def nbytes_needed(self) -> int:
        """File size the layout needs: ``offset`` plus every frame with its header."""
        return self.offset + math.prod(self.nav_shape) * self.frame_stride

    @property
    def byte_strides(self) -> tuple[int, ...]:
        """Byte distance between neighbours along each axis, in the file."""
        item = self.dtype.itemsize
        frame = [item] * self.frame_ndim
        for i in range(self.frame_ndim - 2, -1, -1):
            frame[i] = frame[i + 1] * self.frame_shape[i + 1]
        nav = [self.frame_stride] * len(self.nav_shape)
        for i in range(len(nav) - 2, -1, -1):
            nav[i] = nav[i + 1] * self.nav_shape[i + 1]
        return tuple(nav + frame)

    @property
    def first_byte(self) -> int:
        return self.offset + self.frame_header

    def check_size(self) -> None:
        """Raise :class:`TruncatedFileError` when the file is shorter than the layout."""
        try:
            found = os.path.getsize(self.path)
        except FileNotFoundError:
            raise FileNotFoundError(f"No such file: {self.path!r}") from None
        need = self.nbytes_needed
        if found < need and not self.pad:
            raise TruncatedFileError(
                f"{self.path!r} is truncated: its header describes {self.shape} "
                f"{self.dtype} ({need} bytes from the start of the file) but the file has "
                f"{found} bytes. Pass pad=True to read the missing part as zeros."
            )

    # -- reading one block ---------------------------------------------------------

    def read_block(self, starts: tuple[int, ...], stops: tuple[int, ...], *, mmap: bool,
                   out: np.ndarray | None = None) -> np.ndarray:
        """``array[starts:stops]`` (per axis): a new C-contiguous array, or with ``mmap`` a
        read-only view of a map of just that region (no copy; the map lives as long as the
        view, so resident memory is bounded by the blocks alive at once). With ``out`` (a
        C-contiguous array of the region's shape and dtype) the bytes are read into it."""
        lengths = tuple(b - a for a, b in zip(starts, stops))
        if 0 in lengths:
            return np.empty(lengths, dtype=self.dtype) if out is None else out
        strides = self.byte_strides
        base = self.first_byte + sum(a * s for a, s in zip(starts, strides))
        if mmap and out is None:
            end = base + _span(lengths, strides, self.dtype.itemsize)
            view = _map_view(self.path, self.dtype, lengths, base, end, strides, self.identity)
            if view is not None:
                return view
            # Past the end of a truncated file (pad=True): a map cannot cover that part.
        if out is None:
            out = np.empty(lengths, dtype=self.dtype)
        level, direct = _plan(lengths, self.shape, strides, self.dtype.itemsize)
        inner = lengths[level:]
        span = _span(inner, strides[level:], self.dtype.itemsize)
        # File positions of every read at once (a Python loop per read costs more than it).
        offsets = np.zeros(1, np.int64)
        for n, stride in zip(lengths[:level], strides[:level]):
            offsets = (offsets[:, None] + np.arange(n, dtype=np.int64) * stride).reshape(-1)
        positions = (offsets + base).tolist()
        rows = out.reshape((len(positions), -1))
        reader = _PreadReader(self)
        try:
            if direct:
                reader.read_rows(rows.view(np.uint8), positions)
            else:
                # Several reads into one scratch buffer, then one strided copy out of it.
                per = max(1, _MAX_SCRATCH // span)
                scratch = np.empty((min(per, len(positions)), span), dtype=np.uint8)
                for first in range(0, len(positions), per):
                    part = positions[first:first + per]
                    reader.read_rows(scratch[:len(part)], part)
                    rows[first:first + len(part)].reshape((len(part),) + inner)[...] = np.ndarray(
                        (len(part),) + inner, dtype=self.dtype, buffer=scratch,
                        strides=(span,) + strides[level:])
        finally:
            reader.close()
        return out


    def write_block(self, starts: tuple[int, ...], values: np.ndarray) -> None:
        """Write ``values`` at ``array[starts:starts + values.shape]`` in the file.

        Only the elements' bytes are written (frame headers and gaps are left alone), one
        ``pwrite`` per contiguous run.
        """
        values = np.ascontiguousarray(values, dtype=self.dtype)
        if values.size == 0:
            return
        strides = self.byte_strides
        item = self.dtype.itemsize
        lengths = values.shape
        # The outermost level from which the sub-block is one contiguous run of the file.
        level = len(lengths)
        expect = item
        for axis in range(len(lengths) - 1, -1, -1):
            if lengths[axis] > 1 and strides[axis] != expect:
                break
            expect *= lengths[axis]
            level = axis
        base = self.first_byte + sum(a * s for a, s in zip(starts, strides))
        fd = os.open(self.path, os.O_WRONLY | getattr(os, "O_BINARY", 0))
        try:
            for outer in product(*(range(n) for n in lengths[:level])):
                pos = base + sum(i * s for i, s in zip(outer, strides))
                # ndarray has the buffer protocol; numpy declares __buffer__ for Python >= 3.12 only.
                raw = values[outer + (Ellipsis,)].reshape(-1).view(np.uint8)
                buf = memoryview(raw)  # type: ignore[arg-type]
                done = 0
                while done < len(buf):
                    done += os.pwrite(fd, buf[done:], pos + done)
        finally:
            os.close(fd)

def _span(lengths, strides, itemsize) -> int:
    """Bytes from the first to the end of the last element of a strided region."""
    return sum((n - 1) * s for n, s in zip(lengths, strides)) + itemsize


def _plan(lengths, shape, strides, itemsize) -> tuple[int, bool]:
    """Choose the axis ``level`` below which one read covers a whole sub-block.

    Returns ``(level, direct)``: one read per index over the axes before ``level``;
    ``direct`` when those bytes are exactly the sub-block (read straight into the result).
    Among the levels, the cheapest by a simple cost model (reads x overhead + bytes /
    bandwidth, plus a copy when not direct) whose scratch buffer stays bounded.
    """
    ndim = len(lengths)
    needed = math.prod(lengths) * itemsize
    best = None
    for level in range(ndim + 1):
        sub = lengths[level:]
        span = _span(sub, strides[level:], itemsize) if sub else itemsize
        # C-contiguous sub-block: every stride is the product of the later lengths.
        contiguous = True
        expect = itemsize
        for n, s in zip(reversed(sub), reversed(strides[level:])):
            if n > 1 and s != expect:
                contiguous = False
                break
            expect *= n
        n_reads = math.prod(lengths[:level])
        if not contiguous and span > max(_MAX_SCRATCH, 0) and level < ndim:
            continue
        cost = n_reads * (_READ_OVERHEAD_S + span / _BYTES_PER_S)
        if not contiguous:
            cost += needed / _BYTES_PER_S  # the copy out of the scratch buffer
        if best is None or cost < best[0]:
            best = (cost, level, contiguous)
    assert best is not None
    return best[1], best[2]


def check_identity(path: str, identity: tuple[int, int] | None, stat: os.stat_result) -> None:
    """Raise :class:`FileChangedError` when ``path`` is no longer the file loaded lazily.

    A save replaces a file by renaming a new one over it: a lazy array built on the old
    file would otherwise read the new one's bytes as if they were its own.
    """
    # The inode only: a dask.distributed worker on another host may see another st_dev for
    # the same network file system, but the same inode.
    if identity is not None and stat.st_ino != identity[1]:
        raise FileChangedError(
            f"{path!r} was replaced after it was loaded lazily (another file is at that path "
            "now); the lazy data cannot be read from it. Load the file again, or compute the "
            "data before overwriting its file.")


class _PreadReader:
    """Reads byte ranges with ``os.preadv``; zero-fills past the end when padding."""

    def __init__(self, layout: FileLayout):
        self.layout = layout
        self.fd = os.open(layout.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            check_identity(layout.path, layout.identity, os.fstat(self.fd))
        except BaseException:
            os.close(self.fd)
            raise

    def read_into(self, buf: np.ndarray, pos: int) -> None:
        view = memoryview(buf)  # type: ignore[arg-type]  # ndarray is a Buffer (numpy stubs: 3.12+)
        done = 0
        total = len(view)
        while done < total:
            # preadv may return less than asked (Linux caps one call near 2 GiB).
            n = os.preadv(self.fd, [view[done:]], pos + done)
            if n == 0:
                break
            done += n
        if done < total:
            if not self.layout.pad:
                raise TruncatedFileError(
                    f"{self.layout.path!r} is truncated: expected {self.layout.nbytes_needed} "
                    f"bytes (the {total} bytes from byte {pos} were being read), found "
                    f"{os.fstat(self.fd).st_size}; the file shrank after it was opened, or is "
                    "truncated. Pass pad=True to read the missing part as zeros."
                )
            buf[done:] = 0

    def read_rows(self, rows: np.ndarray, positions: list[int]) -> None:
        """Row ``i`` of the C-contiguous uint8 ``rows`` from byte ``positions[i]``."""
        fd, size = self.fd, rows.shape[1]
        flat = rows.reshape(-1).data
        for i, pos in enumerate(positions):
            if os.preadv(fd, [flat[i * size:(i + 1) * size]], pos) != size:
                self.read_into(rows[i], pos)  # a short read: finish it (or pad / raise)

    def close(self) -> None:
        os.close(self.fd)


def _map_view(path: str, dtype: np.dtype, shape: tuple[int, ...], start: int, end: int,
              strides, identity: tuple[int, int] | None = None) -> np.ndarray | None:
    """A read-only array over bytes ``[start, end)`` of a file, through a map of only them
    (None when the file ends before ``end``: a map cannot cover what is not there).

    No byte is copied: a reduction reads the page cache directly. The map is widened to
    whole huge pages (2 MiB, within the file): the kernel then places it at an address
    congruent with the file offset, and where the page cache holds the file in huge folios
    (ext4 and xfs since Linux 6.x, after a sequential read) one fault maps 2 MiB instead of
    64 KiB. ``MADV_HUGEPAGE`` makes the reads that these maps cause themselves fill the
    cache in huge folios; without it, a file first read through small maps stays cached in
    small folios, and later signal-axis sums over it ran at 0.4-0.6x numpy in memory
    instead of 0.8-1x. (``MAP_POPULATE`` was measured slower: two threads populating maps
    contend on the process' map lock, while page faults proceed in parallel.)
    """
    with open(path, "rb") as f:
        stat = os.fstat(f.fileno())
        check_identity(path, identity, stat)
        file_size = stat.st_size
        if end > file_size:
            return None
        first = start - start % _HUGE_PAGE
        last = min(-(-end // _HUGE_PAGE) * _HUGE_PAGE, file_size)
        region = mmap.mmap(f.fileno(), last - first, flags=mmap.MAP_SHARED,
                           prot=mmap.PROT_READ, offset=first)
    try:
        # Pages this map faults in from disk are then read ahead into huge folios too.
        region.madvise(mmap.MADV_HUGEPAGE)
    except (AttributeError, OSError):  # no such advice on this platform or kernel
        pass
    view = np.ndarray(shape, dtype=dtype, buffer=region, offset=start - first, strides=strides)
    view.flags.writeable = False
    return view


class _BlockReader:
    """The callable every task runs: block index -> that block's data.

    Holds only the layout, the chunk boundaries and the mode, so the graph pickles small.
    """

    def __init__(self, layout: FileLayout, chunks: tuple[tuple[int, ...], ...], mmap: bool):
        self.layout = layout
        self.bounds = tuple(tuple(np.cumsum((0,) + c).tolist()) for c in chunks)
        self.mmap = mmap

    def __call__(self, block_id: tuple[int, ...] | None = None) -> np.ndarray:
        assert block_id is not None
        starts = tuple(b[i] for b, i in zip(self.bounds, block_id))
        stops = tuple(b[i + 1] for b, i in zip(self.bounds, block_id))
        return self.layout.read_block(starts, stops, mmap=self.mmap)

    #: ``read_into`` reads any sub-region of a block (see ``block_source``).
    reads_regions = True

    def read_into(self, block_id: tuple[int, ...], out: np.ndarray,
                  region: tuple[slice, ...] | None = None) -> np.ndarray:
        """Block ``block_id`` (or its ``region``, slices local to the block) read into ``out``."""
        starts = [b[i] for b, i in zip(self.bounds, block_id)]
        stops = [b[i + 1] for b, i in zip(self.bounds, block_id)]
        if region is not None:
            starts, stops = ([a + r.start for a, r in zip(starts, region)],
                             [a + r.stop for a, r in zip(starts, region)])
        return self.layout.read_block(tuple(starts), tuple(stops), mmap=False, out=out)

    def __reduce__(self):
        chunks = tuple(tuple(np.diff(b).tolist()) for b in self.bounds)
        return (_BlockReader, (self.layout, chunks, self.mmap))


def normalize_file_chunks(chunks, shape, dtype, frame_ndim: int = 2, path: str = "") -> tuple[tuple[int, ...], ...]:
    """Normalize ``chunks=`` like dask does; ``"auto"`` keeps frames whole.

    A dict names axes by position; missing axes are whole (``-1``) for frame axes and
    ``"auto"`` for navigation axes. Raises :class:`ChunksError` for chunks that do not
    fit ``shape``.

    Examples
    --------
    >>> normalize_file_chunks((1, 1, 72, 72), (2, 2, 144, 144), "u2")
    ((1, 1), (1, 1), (72, 72), (72, 72))
    >>> normalize_file_chunks("auto", (4, 8, 8), "u2")
    ((4,), (8,), (8,))
    """
    shape = tuple(int(s) for s in shape)
    ndim = len(shape)
    frame_ndim = min(frame_ndim, ndim)
    where = f" for {path!r}" if path else ""

    def fail(why: str) -> ChunksError:
        return ChunksError(
            f"chunks={chunks!r} does not fit the array{where} of shape {shape}: {why}. "
            "Give one entry per axis (an int, -1 for the whole axis, 'auto', or a tuple of "
            "block sizes summing to the axis length), a dict {axis: size}, or 'auto'."
        )

    default = ["auto"] * (ndim - frame_ndim) + [-1] * frame_ndim
    if chunks is None or (isinstance(chunks, str) and chunks == "auto"):
        spec: Any = tuple(default)
    elif isinstance(chunks, dict):
        spec = list(default)
        for k, v in chunks.items():
            if not isinstance(k, (int, np.integer)) or not -ndim <= k < ndim:
                raise fail(f"axis {k!r} does not exist")
            spec[k] = v
        spec = tuple(spec)
    elif isinstance(chunks, (int, np.integer)) and not isinstance(chunks, bool):
        spec = (int(chunks),) * ndim
    elif isinstance(chunks, (tuple, list)):
        if len(chunks) != ndim:
            raise fail(f"{len(chunks)} entries for {ndim} axes")
        spec = tuple(chunks)
    else:
        raise fail("unrecognised chunks specification")
    for entry, n in zip(spec, shape):
        if entry is None or entry == -1 or (isinstance(entry, str) and entry == "auto"):
            continue
        if isinstance(entry, bool):
            raise fail(f"{entry!r} is not a chunk size")
        if isinstance(entry, (int, np.integer)):
            if entry <= 0 and n > 0:
                raise fail(f"chunk size {entry} is not positive")
        elif isinstance(entry, (tuple, list)):
            if any((not isinstance(e, (int, np.integer))) or e < 0 for e in entry) or sum(entry) != n:
                raise fail(f"blocks {tuple(entry)} do not sum to the axis length {n}")
        else:
            raise fail(f"{entry!r} is not a chunk size")
    try:
        limit = min(AUTO_CHUNK_BYTES, parse_bytes(dask.config.get("array.chunk-size")))
        return normalize_chunks(spec, shape=shape, dtype=np.dtype(dtype), limit=limit)
    except (ValueError, TypeError, ZeroDivisionError) as exc:
        raise fail(str(exc)) from None


def _checked_layout(path, shape, dtype, offset, frame_header, frame_ndim, pad) -> FileLayout:
    """The layout the lazy and eager readers share, checked against the file's size."""
    layout = FileLayout(
        path, shape=tuple(shape), dtype=dtype, offset=int(offset),
        frame_header=int(frame_header), frame_ndim=frame_ndim, pad=pad,
    )
    layout.check_size()
    stat = os.stat(layout.path)
    return dataclasses.replace(layout, identity=(stat.st_dev, stat.st_ino))


def file_array(
    path: str | os.PathLike,
    *,
    shape: tuple[int, ...],
    dtype: Any,
    offset: int = 0,
    frame_header: int = 0,
    frame_ndim: int = 2,
    chunks: Any = "auto",
    distributed: bool = True,
    pad: bool = False,
) -> da.Array:
    """A lazy dask array over an array stored frame by frame in a file.

    Parameters
    ----------
    path
        The file.
    shape
        Full numpy shape ``(*navigation, *frame)``; a frame is the last ``frame_ndim`` axes.
    dtype
        Element type, with its byte order (``"<u2"``, ``">f4"``...).
    offset
        Byte position of the first frame (of its header when ``frame_header > 0``).
    frame_header
        Bytes before every frame's pixels (blockfile, MIB); they are skipped.
    frame_ndim
        Number of trailing axes that form a frame.
    chunks
        As dask's ``normalize_chunks``: a tuple, an int, a dict or ``"auto"`` (frames kept
        whole, navigation chunked to dask's ``array.chunk-size``). Honoured exactly.
    distributed
        True: each task reads its chunk with ``os.preadv`` (picklable, works on a
        ``dask.distributed`` cluster). False: each task memory-maps its own chunk.
    pad
        Read the part past the end of a truncated file as zeros instead of raising
        :class:`~lazysignal.errors.TruncatedFileError`.

    Returns
    -------
    dask.array.Array

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> data = np.arange(2 * 3 * 4 * 5, dtype="<u2").reshape(2, 3, 4, 5)
    >>> path = os.path.join(tempfile.mkdtemp(), "frames.bin")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"HEADER" + data.tobytes())
    >>> arr = file_array(path, shape=(2, 3, 4, 5), dtype="<u2", offset=6, chunks=(1, 2, 2, 5))
    >>> arr.chunks
    ((1, 1), (2, 1), (2, 2), (5,))
    >>> bool((arr.compute() == data).all())
    True
    """
    layout = _checked_layout(path, shape, dtype, offset, frame_header, frame_ndim, pad)
    norm = normalize_file_chunks(chunks, layout.shape, layout.dtype, layout.frame_ndim, layout.path)
    reader = _BlockReader(layout, norm, mmap=not distributed)
    name = "read-" + ("pread" if distributed else "memmap") + "-" + _token(layout, norm, distributed)
    return attach(da.map_blocks(
        reader,
        chunks=norm,
        dtype=layout.dtype,
        meta=np.empty((0,) * len(layout.shape), dtype=layout.dtype),
        name=name,
    ), reader)


def _token(layout: FileLayout, chunks, distributed: bool) -> str:
    from dask.base import tokenize

    try:
        stat = os.stat(layout.path)
        # The file's identity and modification time: a rewritten file gets a new key.
        ident = (stat.st_ino, stat.st_size, stat.st_mtime_ns)
    except OSError:
        ident = None
    return tokenize(layout, chunks, distributed, ident)


def read_file_array(
    path: str | os.PathLike,
    *,
    shape: tuple[int, ...],
    dtype: Any,
    offset: int = 0,
    frame_header: int = 0,
    frame_ndim: int = 2,
    pad: bool = False,
) -> np.ndarray:
    """Read the whole array eagerly into memory (the twin of :func:`file_array`).

    Without frame headers this is a single read straight into the result.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "a.bin")
    >>> np.arange(12, dtype="<f4").tofile(path)
    >>> read_file_array(path, shape=(3, 4), dtype="<f4")[2]
    array([ 8.,  9., 10., 11.], dtype=float32)
    """
    layout = _checked_layout(path, shape, dtype, offset, frame_header, frame_ndim, pad)
    return layout.read_block((0,) * len(layout.shape), layout.shape, mmap=False)


class _FileTarget:
    """A ``da.store`` target writing each block in place with ``pwrite`` (picklable)."""

    def __init__(self, layout: FileLayout):
        self.layout = layout
        self.shape = layout.shape
        self.dtype = layout.dtype
        self.ndim = len(layout.shape)

    def __setitem__(self, key, value) -> None:
        if not isinstance(key, tuple):
            key = (key,)
        starts = tuple(k.indices(n)[0] for k, n in zip(key, self.shape))
        self.layout.write_block(starts, np.asarray(value))


def write_file_array(
    path: str | os.PathLike,
    data: Any,
    *,
    offset: int = 0,
    frame_header: int = 0,
    frame_ndim: int = 2,
) -> None:
    """Write a numpy or dask array into an existing file, frame by frame, in place.

    The file must exist (the caller writes the file's own header first); it grows as
    needed. Frame headers are not written: their bytes are left as they are (zeros in
    a fresh file). Dask data is written block by block (``da.store``), never computed
    whole, so saving a lazy array needs memory for a few chunks only.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "out.bin")
    >>> with open(path, "wb") as f:
    ...     _ = f.write(b"HEAD")
    >>> data = da.arange(24, dtype="<u2", chunks=5).reshape(2, 3, 4)
    >>> write_file_array(path, data, offset=4)
    >>> read_file_array(path, shape=(2, 3, 4), dtype="<u2", offset=4)[1, 2]
    array([20, 21, 22, 23], dtype=uint16)
    """
    layout = FileLayout(
        os.fspath(path), shape=tuple(data.shape), dtype=data.dtype, offset=int(offset),
        frame_header=int(frame_header), frame_ndim=frame_ndim,
    )
    with open(layout.path, "r+b") as f:
        if os.fstat(f.fileno()).st_size < layout.nbytes_needed:
            f.truncate(layout.nbytes_needed)
    if isinstance(data, da.Array):
        # dask's stub wants an array; store only needs __setitem__, which _FileTarget has.
        da.store(data, _FileTarget(layout), lock=False)  # type: ignore[arg-type]
    else:
        layout.write_block((0,) * data.ndim, np.asarray(data))


def _memmap_as_dask(data: np.memmap, chunks: Any) -> da.Array:
    """A memmap of a whole file as per-chunk reads of that file (for ``array_ops.as_dask``)."""
    assert data.filename is not None  # a memmap opened on a file (what as_dask passes here)
    return file_array(data.filename, shape=data.shape, dtype=data.dtype, offset=data.offset,
                      frame_ndim=0, chunks=chunks, distributed=False)


register_memmap_reader(_memmap_as_dask)
