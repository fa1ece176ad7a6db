"""Passes over the data: the one way decomposition algorithms read a dataset.

The data of a decomposition are an n-D array (numpy or dask) whose first ``nav_ndim`` axes
navigate; algorithms see it unfolded as a matrix of ``N`` pixels (rows) by ``M`` channels
(columns). Nothing here knows about signals.

A *pass* reads every navigation block once:

* :func:`reduce_pass` applies a kernel to each block and combines the small per-block results
  with a tree of ``combine`` calls, all in ONE dask graph computed once (a shared input is
  read once), so on a ``dask.distributed`` client the reduction runs on the workers.
* :func:`map_pass` applies a kernel to each block and returns the per-block results, placed
  back in navigation order (e.g. loadings, one row per pixel).
* :func:`stream_blocks` hands blocks to a Python loop one after the other (online
  algorithms that update a model sample by sample), reading a few blocks at a time in
  parallel; memory is bounded by those few blocks.

Blocks keep the signal axes whole (dask chunks are merged along the signal axes, never
split along navigation), so every kernel sees whole spectra/images of its pixels.
"""

from __future__ import annotations

import itertools
import math
import threading
from functools import cached_property
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import dask
import dask.array as da
import dask.local
import dask.threaded
import numpy as np
from numcodecs import Blosc
from threadpoolctl import threadpool_limits

from ..array_ops import is_lazy
from ..block_source import source_of
from ..lazy import CountProgress, compute_arrays, distributed_client, resolve_progress
from ..preferences import preferences

__all__ = ["Unfolded", "Block", "SourceChunk", "narrowest", "pack_block", "compute_pass", "reduce_pass",
           "map_pass", "stream_blocks", "tree_combine"]

#: Rows per block when numpy data are walked through (bounds the float64 temporaries).
EAGER_BLOCK_BYTES = 64 * 2**20


@dataclass(frozen=True)
class Block:
    """Where a block sits: slices over the navigation axes (numpy order)."""

    nav_slices: tuple[slice, ...]

    def take(self, nav_array: np.ndarray | None) -> np.ndarray | None:
        """The block's rows of a navigation-shaped array, flattened (None stays None)."""
        return None if nav_array is None else np.asarray(nav_array[self.nav_slices]).reshape(-1)


_CODEC = Blosc(cname="lz4", clevel=1, shuffle=Blosc.SHUFFLE)
_BYTES = Blosc(cname="lz4", clevel=1, shuffle=Blosc.NOSHUFFLE)  # one-byte items: nothing to shuffle

#: Integer types a real slab may fit in, smallest first (counts are mostly small integers).
_INTEGER_TYPES = tuple(np.dtype(t) for t in ("u1", "i1", "u2", "i2", "i4"))


def narrowest(rows: np.ndarray) -> np.ndarray:
    """``rows`` in the smallest dtype that holds every value exactly (``rows`` itself if none).

    Exactly means the values compare equal (-0.0 may come back as 0.0). Counts stored as
    float64 are small integers: as uint8 they take an eighth of the memory and compress better.
    A sample picks the candidate; the whole array is then checked, so the result always converts
    back to the same values (NaN and infinities keep the dtype).

    Examples
    --------
    >>> narrowest(np.array([[0.0, 3.0], [45.0, 7.0]])).dtype
    dtype('uint8')
    >>> narrowest(np.array([0.5, -1.0])).dtype, narrowest(np.array([0.1])).dtype
    (dtype('float32'), dtype('float64'))
    """
    if rows.dtype.kind not in "fiu" or rows.size == 0:
        return rows
    # Spread over rows and columns alike (a plain stride can fall on one column).
    sample = rows.reshape(-1)[(np.arange(min(rows.size, 4096), dtype=np.int64) * 2654435761) % rows.size]
    candidates: list[np.dtype] = []
    with np.errstate(all="ignore"):
        if np.all(np.isfinite(sample)) and np.all(sample == np.rint(sample)):
            low, high = sample.min(), sample.max()
            candidates += [t for t in _INTEGER_TYPES
                           if np.iinfo(t).min <= low and high <= np.iinfo(t).max][:1]
        if (rows.dtype.kind == "f" and rows.dtype.itemsize > 4
                and np.array_equal(sample.astype(np.float32), sample, equal_nan=True)):
            candidates.append(np.dtype(np.float32))
        for dtype in candidates:
            if dtype.itemsize >= rows.dtype.itemsize:
                continue
            narrow = rows.astype(dtype)
            if np.array_equal(narrow, rows, equal_nan=dtype.kind == "f"):
                return narrow
    return rows


class Packed:
    """One chunk of a block kept losslessly compressed, in row slabs.

    Each slab is stored in the narrowest dtype that holds it exactly (:func:`narrowest`) and
    compressed with Blosc LZ4 (+ shuffle). One-byte slabs are kept as they are unless LZ4
    halves the first of them: float64 counts take an eighth of their size as uint8, and LZ4
    would take only a quarter off that (file A: 260 MB -> 198 MB) for ~0.8 s of CPU per 2 GB
    packed and unpacked; very regular counts still compress (and fit a cache budget).
    A task holds its block packed and unpacks one slab at a time, so its memory is about one
    slab plus the packed block; the packed block is also what a later pass can reuse instead
    of reading the data again.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> noisy, regular = rng.poisson(3.0, (400, 50)).astype(float), np.ones((400, 50))
    >>> [type(Packed(a, 1, 100).slabs[0][1]).__name__ for a in (noisy, regular)]
    ['ndarray', 'bytes']
    """

    def __init__(self, array: np.ndarray, nav_ndim: int, step: int, budget: int | None = None):
        array = np.asarray(array)
        self.n_rows = math.prod(array.shape[:nav_ndim])
        self.n_cols = array.size // max(self.n_rows, 1)
        self.dtype, self.step = array.dtype, int(step)
        rows = array.reshape(self.n_rows, self.n_cols)
        self.slabs: list[tuple[np.dtype, bytes | np.ndarray]] = []
        self.complete = True
        n_slabs, size = -(-self.n_rows // self.step), 0
        raw_bytes: bool | None = None  # decided on the first one-byte slab
        for a in range(0, self.n_rows, step):
            slab = np.ascontiguousarray(rows[a:a + step])
            narrow = narrowest(slab)
            kept: bytes | np.ndarray
            if narrow.dtype.itemsize == 1 and raw_bytes is not False:
                if raw_bytes is None:
                    kept = bytes(_BYTES.encode(narrow))
                    raw_bytes = 2 * len(kept) > narrow.nbytes
                if raw_bytes:
                    kept = narrow.copy() if narrow is slab else narrow  # not a view of the caller's buffer
                    kept.flags.writeable = False
            else:
                kept = bytes((_BYTES if narrow.dtype.itemsize == 1 else _CODEC).encode(narrow))
            self.slabs.append((narrow.dtype, kept))
            size += len(kept) if isinstance(kept, bytes) else kept.nbytes
            # Over budget, or on course to be: the rest is not packed (the caller reads again).
            if budget is not None and max(size, size * n_slabs // len(self.slabs)) > budget:
                self.complete, self.slabs = False, []
                return

    @classmethod
    def within(cls, array: np.ndarray, nav_ndim: int, step: int, budget: int) -> "Packed | None":
        """The array packed, or None as soon as its packed size goes (or heads) over ``budget``.

        Examples
        --------
        >>> counts = np.zeros((100, 8))
        >>> Packed.within(counts, 1, 10, budget=10_000) is not None, Packed.within(counts, 1, 10, budget=10)
        (True, None)
        """
        packed = cls(array, nav_ndim, step, budget)
        return packed if packed.complete else None

    @property
    def nbytes(self) -> int:
        """Compressed size."""
        return sum(len(b) if isinstance(b, bytes) else b.nbytes for _, b in self.slabs)

    def slab(self, i: int) -> np.ndarray:
        """Slab ``i`` as stored (maybe a narrower dtype than the data's; read-only)."""
        dtype, packed = self.slabs[i]
        if isinstance(packed, np.ndarray):
            return packed
        codec = _BYTES if dtype.itemsize == 1 else _CODEC
        return np.frombuffer(codec.decode(packed), dtype=dtype).reshape(-1, self.n_cols)


@dataclass(frozen=True)
class SourceChunk:
    """A chunk of a file-backed array read through the back end's block source (see
    :mod:`lazysignal.block_source`): into a buffer of the caller's, without a dask graph."""

    source: Any
    block_id: tuple[int, ...]
    shape: tuple[int, ...]
    dtype: np.dtype

    def read(self, into: np.ndarray | None = None) -> np.ndarray:
        out = np.empty(self.shape, self.dtype) if into is None else into
        return self.source.read_into(self.block_id, out)


class Deferred:
    """A block's signal chunks (dask arrays, or :class:`SourceChunk`) that its own task reads,
    one after the other.

    Not a dask collection, so the scheduler does not read chunks ahead as separate tasks: a
    task holds only its own block, which bounds memory to the blocks in flight. A block of
    several chunks (a signal split in chunks) is packed chunk by chunk as read (see
    :class:`Packed`), each read into one buffer of the task, reused from chunk to chunk, when
    the file's back end offers it (less CPU than a fresh array from a dask task each), so the
    task never holds more than one of its chunks unpacked; a block of one chunk is used as read
    (packing it would only cost time, unless a later pass keeps it). (Chunks of one block never
    share a stored chunk, as signal chunks of a loaded file are the stored ones.)
    """

    def __init__(self, arrays: list, nav_ndim: int, step: int):
        self.arrays, self.nav_ndim, self.step = arrays, nav_ndim, step

    def materialise(self) -> list[Packed] | np.ndarray:
        """The block: one chunk as it comes (a compact numpy array), several packed one by one."""
        if len(self.arrays) == 1:
            return _compact(_read(self.arrays[0]))
        packed = []
        buffer = None  # one buffer for all the block's chunks (same shape but maybe the last)
        for array in self.arrays:
            if isinstance(array, SourceChunk):
                if buffer is None or buffer.size < math.prod(array.shape) or buffer.dtype != array.dtype:
                    buffer = np.empty(math.prod(array.shape), array.dtype)
                chunk = array.read(buffer[: math.prod(array.shape)].reshape(array.shape))
                packed.append(Packed(chunk, self.nav_ndim, self.step))
            else:
                packed.append(Packed(_read(array), self.nav_ndim, self.step))
        return packed


def _read(array: Any) -> np.ndarray:
    if isinstance(array, SourceChunk):
        return array.read()
    (value,) = dask.compute(array, scheduler="sync")
    return np.asarray(value)


def pack_block(block: Any, nav_ndim: int, step: int) -> list[Packed]:
    """A block (a :class:`Deferred`, an array, or its chunks) as a list of :class:`Packed` chunks.

    Examples
    --------
    >>> [p.n_rows for p in pack_block(np.ones((6, 4)), 1, 4)]
    [6]
    """
    block = materialise(block)
    pieces = block if isinstance(block, list) else [block]
    return [p if isinstance(p, Packed) else Packed(p, nav_ndim, step) for p in pieces]


def _compact(array: np.ndarray) -> np.ndarray:
    """``array``, copied when it is a view of a larger array (a piece of a stored chunk), so
    the larger one can go."""
    owner = array
    while isinstance(owner.base, np.ndarray):
        owner = owner.base
    return array.copy() if owner is not array and owner.nbytes > array.nbytes else array


def materialise(block: Any) -> Any:
    """A block as numpy (one array or its signal chunks), computing a :class:`Deferred`."""
    return block.materialise() if isinstance(block, Deferred) else block


@dataclass(frozen=True)
class Unfolded:
    """An n-D array seen as (pixels x channels); ``nav_ndim`` leading axes navigate.

    Examples
    --------
    >>> u = Unfolded(np.zeros((4, 5, 10)), nav_ndim=2)
    >>> u.nav_shape, u.sig_shape, u.n_rows, u.n_cols
    ((4, 5), (10,), 20, 10)
    """

    data: Any
    nav_ndim: int

    @property
    def nav_shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape[: self.nav_ndim])

    @property
    def sig_shape(self) -> tuple[int, ...]:
        return tuple(self.data.shape[self.nav_ndim:])

    @property
    def n_rows(self) -> int:
        return math.prod(self.nav_shape)

    @property
    def n_cols(self) -> int:
        return math.prod(self.sig_shape)

    @property
    def lazy(self) -> bool:
        return is_lazy(self.data)

    def blocks(self) -> list[tuple[Block, Any]]:
        """(where, block) pairs: a block is a numpy row slab, a delayed chunk, or a list of
        the delayed signal chunks of one navigation block."""
        return self._pieces

    def fused_blocks(self) -> list[tuple[Block, Any]]:
        """Like :meth:`blocks`, but lazy blocks are :class:`Deferred`: each task reads its own."""
        return self.__dict__.get("_fused_override") or self._fused

    @cached_property
    def _fused(self) -> list[tuple[Block, Any]]:
        if not self.lazy:
            return self._pieces
        data = self._sig_ready()
        out = []
        for where, _ in self._pieces:
            index = tuple(int(np.searchsorted(np.cumsum(c), s.start, side="right"))
                          for c, s in zip(data.chunks[: self.nav_ndim], where.nav_slices))
            grid = [range(len(c)) for c in data.chunks[self.nav_ndim:]]
            ids = [index + tuple(j) for j in itertools.product(*grid)]
            source = source_of(data)  # only the loaded array itself has one, not derived arrays
            arrays = ([SourceChunk(source, i, tuple(c[k] for c, k in zip(data.chunks, i)), data.dtype) for i in ids]
                      if source is not None else [data.blocks[i] for i in ids])
            out.append((where, Deferred(arrays, self.nav_ndim, slab_rows(self.n_cols))))
        return out

    def _sig_ready(self) -> Any:
        data = self.data
        sig_axes = range(self.nav_ndim, data.ndim)
        if len(sig_axes) > 1 and any(len(data.chunks[i]) > 1 for i in sig_axes):
            data = data.rechunk({i: -1 for i in sig_axes})
        return data

    def with_cache(self, kept: list) -> "Unfolded":
        """The same data whose blocks with a kept (compressed) copy are served from it."""
        if not any(k is not None for k in kept):
            return self
        new = Unfolded(self.data, self.nav_ndim)
        pieces = []
        for (where, block), k in zip(self._pieces, kept):
            pieces.append((where, block if k is None else k))
        new.__dict__["_pieces"] = pieces
        new.__dict__["_fused_override"] = [(where, block if k is not None else fused)
                                           for (where, block), k, (_, fused) in zip(pieces, kept, self._fused)]
        new.__dict__["cached_blocks"] = sum(k is not None for k in kept)
        return new

    @property
    def cached_fraction(self) -> float:
        """Fraction of the blocks served from memory (0 when nothing is kept)."""
        return self.__dict__.get("cached_blocks", 0) / max(len(self._pieces), 1)

    @cached_property
    def _pieces(self) -> list[tuple[Block, Any]]:
        if self.lazy:
            # Pieces of a multi-axis signal do not concatenate in C order: those are merged
            # (a merge only: each source chunk is still read once).
            data = self._sig_ready()
            bounds = [np.cumsum((0,) + c) for c in data.chunks[: self.nav_ndim]]
            delayed = data.to_delayed(optimize_graph=True)
            out = []
            for index in np.ndindex(*delayed.shape[: self.nav_ndim]):
                where = Block(tuple(slice(int(b[i]), int(b[i + 1])) for b, i in zip(bounds, index)))
                pieces = list(delayed[index].ravel())  # the signal's chunks of this block, in order
                out.append((where, pieces if len(pieces) > 1 else pieces[0]))
            return out
        data = np.asarray(self.data)
        if self.nav_ndim == 0:
            return [(Block(()), data)]
        first = self.nav_shape[0]
        row_bytes = max(self.n_cols * 8 * math.prod(self.nav_shape[1:]), 1)
        step = max(1, min(first, EAGER_BLOCK_BYTES // row_bytes))
        rest = tuple(slice(0, n) for n in self.nav_shape[1:])
        return [(Block((slice(a, min(a + step, first)),) + rest), data[a:a + step])
                for a in range(0, first, step)]


def as_rows(block: np.ndarray, n_cols: int) -> np.ndarray:
    """A block as a float64 (rows x channels) matrix (a view when it already is one)."""
    return np.asarray(block, dtype=np.float64).reshape(-1, n_cols)


#: Rows of a block handled at once by a kernel: bounds the float64 temporaries of a task.
SLAB_BYTES = 32 * 2**20


def slab_rows(n_cols: int) -> int:
    """Rows per slab: about :data:`SLAB_BYTES` of float64."""
    return max(1, SLAB_BYTES // (8 * max(n_cols, 1)))


def row_slabs(block: Any, nav_ndim: int, n_cols: int, *,
              reuse: bool = False) -> Iterator[tuple[int, int, np.ndarray]]:
    """``(start, stop, rows)`` slabs of a block (one array, or its signal chunks in order,
    arrays or :class:`Packed`).

    Signal chunks are joined one slab at a time, so a task never holds a merged copy of its
    block, only its chunks and one slab. With ``reuse`` every joined slab is written into
    the same buffer (no fresh 32 MiB array, and its page faults, per slab): the consumer must
    be done with a slab before asking for the next. Joined slabs are writeable (the consumer
    may overwrite them); a block used as it is gives read-only views, as they are its data.

    Examples
    --------
    >>> pieces = [Packed(np.arange(6.0).reshape(3, 2), 1, 2), Packed(np.ones((3, 1)), 1, 2)]
    >>> [(a, b, rows.tolist(), rows.flags.writeable) for a, b, rows in row_slabs(pieces, 1, 3, reuse=True)]
    [(0, 2, [[0.0, 1.0, 1.0], [2.0, 3.0, 1.0]], True), (2, 3, [[4.0, 5.0, 1.0]], True)]
    """
    block = materialise(block)
    pieces = block if isinstance(block, list) else [block]
    buffer: np.ndarray | None = None

    def target(shape: tuple[int, int], dtype: np.dtype) -> np.ndarray:
        nonlocal buffer
        if not reuse:
            return np.empty(shape, dtype)
        if buffer is None or buffer.shape[0] < shape[0] or buffer.shape[1] != shape[1] or buffer.dtype != dtype:
            buffer = np.empty(shape, dtype)
        return buffer[: shape[0]]

    if isinstance(pieces[0], Packed):
        # Unpacked pieces are written into one slab of the data's type (at least float64,
        # what the kernels compute in): one copy, whatever the packed types.
        step, n_rows = pieces[0].step, pieces[0].n_rows
        dtype = np.promote_types(pieces[0].dtype, np.float64)
        width = sum(p.n_cols for p in pieces)
        for i, a in enumerate(range(0, n_rows, step)):
            b = min(a + step, n_rows)
            rows = target((b - a, width), dtype)
            col = 0
            for p in pieces:
                rows[:, col:col + p.n_cols] = p.slab(i)
                col += p.n_cols
            yield a, b, rows
        return
    first = np.asarray(pieces[0])
    n_rows = math.prod(first.shape[:nav_ndim])
    views = [np.asarray(p).reshape(n_rows, -1) for p in pieces]
    step = slab_rows(n_cols)
    for a in range(0, n_rows, step):
        b = min(a + step, n_rows)
        if len(views) == 1:
            rows = views[0][a:b].view()
            rows.flags.writeable = False
        else:
            parts = [v[a:b] for v in views]
            rows = np.concatenate(parts, axis=1, out=target((b - a, sum(v.shape[1] for v in parts)),
                                                            np.result_type(*parts)))
        yield a, b, rows


def whole(block: Any, nav_ndim: int, n_cols: int) -> np.ndarray:
    """A block (one array or its signal chunks) as one (rows x channels) array."""
    block = materialise(block)
    if not isinstance(block, list):
        return np.asarray(block)
    if len(block) == 1 and not isinstance(block[0], Packed):
        return np.asarray(block[0])
    return np.concatenate([rows for _, _, rows in row_slabs(block, nav_ndim, n_cols)])


#: ``pieces_kernel(pieces, loc, scratch)`` of :func:`reduce_pass`: a slab given as the stored
#: slabs of its signal chunks (narrow types: uint8 counts...), and a float64 buffer of the
#: slab's shape the kernel may fill; ``pieces_kernel(pieces, loc)`` of :func:`map_pass`.
PiecesKernel = Callable[..., Any]


def packed_slabs(block: Any) -> Iterator[tuple[int, int, list[np.ndarray]]] | None:
    """``(start, stop, pieces)`` of a block kept as :class:`Packed` signal chunks: each slab as
    its chunks store it (the narrowest exact type), not joined; None for other blocks.

    Examples
    --------
    >>> block = [Packed(np.arange(6.0).reshape(3, 2), 1, 2), Packed(np.ones((3, 1)), 1, 2)]
    >>> [(a, b, [p.dtype.name for p in pieces]) for a, b, pieces in packed_slabs(block)]
    [(0, 2, ['uint8', 'uint8']), (2, 3, ['uint8', 'uint8'])]
    """
    if not isinstance(block, list) or not block or not all(isinstance(p, Packed) for p in block):
        return None
    step, n_rows = block[0].step, block[0].n_rows
    return ((a, min(a + step, n_rows), [p.slab(i) for p in block])
            for i, a in enumerate(range(0, n_rows, step)))


def _slabbed_reduce(kernel: Callable[..., Any], combine: Callable[..., Any], nav_ndim: int,
                    n_cols: int, pieces_kernel: PiecesKernel | None = None) -> Callable[[Any, Any], Any]:
    def run(block: Any, loc: Any) -> Any:
        if not hasattr(loc, "slab"):
            return kernel(whole(block, nav_ndim, n_cols), loc)
        block = materialise(block)
        slabs = packed_slabs(block) if pieces_kernel is not None else None
        if slabs is not None and pieces_kernel is not None:
            scratch = np.empty((min(block[0].step, block[0].n_rows), n_cols))
            parts = [pieces_kernel(pieces, loc.slab(a, b), scratch[: b - a]) for a, b, pieces in slabs]
        else:
            parts = [kernel(rows, loc.slab(a, b)) for a, b, rows in row_slabs(block, nav_ndim, n_cols, reuse=True)]
        out = combine(*parts)
        if isinstance(out, dict) and out.get("rows"):  # per-pixel values: one array per block
            out["rows"] = [np.concatenate(out["rows"])]
        return out
    return run


def _slabbed_map(kernel: Callable[..., Any],
                 extra: tuple[Callable[..., Any], Callable[..., Any]] | None, nav_ndim: int,
                 n_cols: int, pieces_kernel: PiecesKernel | None = None) -> Callable[[Any, Any], tuple[np.ndarray, Any]]:
    def run(block: Any, loc: Any) -> tuple[np.ndarray, Any]:
        if not hasattr(loc, "slab"):
            rows_in = whole(block, nav_ndim, n_cols)
            rows = kernel(rows_in, loc)
            return rows, (extra[0](rows_in, loc, rows) if extra else None)
        block = materialise(block)
        slabs = packed_slabs(block) if pieces_kernel is not None and extra is None else None
        if slabs is not None and pieces_kernel is not None:
            return np.concatenate([pieces_kernel(pieces, loc.slab(a, b)) for a, b, pieces in slabs]), None
        outs, extras = [], []
        for a, b, rows_in in row_slabs(block, nav_ndim, n_cols, reuse=True):
            local = loc.slab(a, b)
            rows = kernel(rows_in, local)
            outs.append(rows)
            if extra:
                extras.append(extra[0](rows_in, local, rows))
        return np.concatenate(outs), (extra[1](*extras) if extra else None)
    return run


def tree_combine(parts: Sequence[Any], combine: Callable[..., Any], split_every: int = 8) -> Any:
    """Combine delayed parts with ``combine(*group)`` in a tree of fan-in ``split_every``.

    Examples
    --------
    >>> parts = [dask.delayed(n) for n in range(20)]
    >>> tree_combine(parts, lambda *p: sum(p)).compute()
    190
    """
    parts = list(parts)
    while len(parts) > 1:
        parts = [dask.delayed(combine)(*parts[i:i + split_every])
                 for i in range(0, len(parts), split_every)]
    return parts[0]


def reduce_pass(u: Unfolded, kernel: Callable[..., Any], combine: Callable[..., Any], *,
                local: Callable[[Block], Any] | None = None, show_progressbar: bool | None = None,
                label: str = "", cache_bytes: int = 0, pieces_kernel: PiecesKernel | None = None) -> Any:
    """``combine`` over ``kernel(block, local(where))`` for every block: one read of the data.

    ``local(where)`` builds, when the graph is built, the small per-block arguments (the
    block's slice of a navigation mask...), so tasks carry only their own part.

    With ``cache_bytes`` (lazy data), each task also keeps its block losslessly compressed
    (Blosc LZ4 + shuffle) when that takes at most ``cache_bytes / number of blocks``; the
    result is then ``(reduced, cached)`` where ``cached.blocks()`` serves those blocks from
    memory in a later pass instead of reading them again.

    ``pieces_kernel(pieces, local, scratch)``, when given, replaces ``kernel`` for blocks kept
    as packed signal chunks: it gets each slab as its chunks store it (see
    :func:`packed_slabs`) and a float64 buffer of the slab's shape, so it can sum narrow
    values and fill the buffer with what it multiplies (one pass over the slab, not three).

    Examples
    --------
    >>> u = Unfolded(da.ones((6, 4), chunks=(2, 4)), nav_ndim=1)
    >>> reduce_pass(u, lambda b, w: b.sum(), lambda *p: sum(p))
    np.float64(24.0)
    """
    pieces = u.fused_blocks()
    local = local or (lambda where: where)
    run = _slabbed_reduce(kernel, combine, u.nav_ndim, u.n_cols, pieces_kernel)
    if not u.lazy:
        result = combine(*[run(block, local(where)) for where, block in pieces])
        return (result, u) if cache_bytes else result
    if cache_bytes:
        budget = cache_bytes // max(len(pieces), 1)
        parts = [dask.delayed(_run_and_keep, nout=2)(run, block, local(where), budget)
                 for where, block in pieces]
        _announce(label, show_progressbar)
        computed = compute_pass(tree_combine([p[0] for p in parts], combine), *[p[1] for p in parts],
                            show_progressbar=show_progressbar)
        return computed[0], u.with_cache(list(computed[1:]))
    parts = [dask.delayed(run)(block, local(where)) for where, block in pieces]
    _announce(label, show_progressbar)
    (result,) = compute_pass(tree_combine(parts, combine), show_progressbar=show_progressbar)
    return result


_SERIAL = {"sync", "synchronous", "single-threaded"}


def compute_pass(*collections: Any, show_progressbar: bool | None) -> tuple[Any, ...]:
    """``compute_arrays``, with one BLAS thread per call while dask threads run tasks side by
    side: the tasks already fill the cores, and BLAS threads of two tasks at once only wait
    for each other (measured on 2 cores: 20 % more CPU for the Gram matrices of file A, and a
    128 x 65,536 block pair product 10-50x slower).

    Examples
    --------
    >>> compute_pass(da.ones(4).sum(), show_progressbar=False)
    (np.float64(4.0),)
    """
    named = preferences.scheduler or dask.config.get("scheduler", None)
    if (isinstance(named, str) and named.lower() in _SERIAL) or distributed_client() is not None:
        return compute_arrays(*collections, show_progressbar=show_progressbar)
    with threadpool_limits(1, user_api="blas"):
        return compute_arrays(*collections, show_progressbar=show_progressbar)


def _run_and_keep(run: Callable[[Any, Any], Any], block: Any, loc: Any,
                  budget: int) -> tuple[Any, list[Packed] | None]:
    """``run(block, loc)`` and the block packed for a later pass (None when over ``budget``)."""
    shape = (block.nav_ndim, block.step) if isinstance(block, Deferred) else None
    block = materialise(block)
    result = run(block, loc)
    if isinstance(block, np.ndarray) and shape is not None:
        # One chunk, used as read: packed for the later pass only if it fits.
        packed = Packed.within(block, shape[0], shape[1], budget)
        return result, None if packed is None else [packed]
    pieces = block if isinstance(block, list) else [block]
    if not all(isinstance(p, Packed) for p in pieces) or sum(p.nbytes for p in pieces) > budget:
        return result, None
    return result, pieces


def map_pass(u: Unfolded, kernel: Callable[..., Any], *, local: Callable[[Block], Any] | None = None,
             show_progressbar: bool | None = None, label: str = "",
             extra: tuple[Callable[..., Any], Callable[..., Any]] | None = None,
             pieces_kernel: PiecesKernel | None = None) -> Any:
    """``kernel(block, local(where)) -> (rows of the block, k)`` for every block, assembled
    in navigation order as an array of shape ``nav_shape + (k,)``: one read of the data.

    ``extra=(kernel2, combine2)`` also reduces ``kernel2(block, local(where), rows)`` over the
    blocks in the same read (``rows`` is what ``kernel`` returned for that block).
    ``pieces_kernel(pieces, local)`` (without ``extra``) replaces ``kernel`` for blocks kept as
    packed signal chunks, slab by slab, as in :func:`reduce_pass`.

    On threads (or synchronously) each task writes its rows straight into the result, so the
    result is the only navigation-sized array held (a 16 GiB cube's loadings are 268 MB for
    two components); on a ``dask.distributed`` client or in worker processes the rows come
    back per block and are placed afterwards.

    Examples
    --------
    >>> u = Unfolded(da.arange(12.0, chunks=4).reshape(3, 4), nav_ndim=1)
    >>> map_pass(u, lambda b, w: b.sum(axis=1, keepdims=True))[:, 0].tolist()
    [6.0, 22.0, 38.0]
    """
    pieces = u.fused_blocks()
    local = local or (lambda where: where)
    both = _slabbed_map(kernel, extra, u.nav_ndim, u.n_cols, pieces_kernel)
    if not u.lazy:
        results = [both(block, local(where)) for where, block in pieces]
        rows_list = [r for r, _ in results]
        out = _placed(u, pieces, rows_list)
        return (out, extra[1](*[e for _, e in results])) if extra else out
    if _in_process():
        holder: list[np.ndarray] = []  # the result, allocated by the first task (k unknown before)

        def write(block: Any, loc: Any, where: Block) -> Any:
            rows, reduced = both(block, loc)
            with _ALLOCATE:
                if not holder:
                    holder.append(np.empty(u.nav_shape + (rows.shape[1],), dtype=rows.dtype))
            target = holder[0][where.nav_slices]
            target[...] = rows.reshape(target.shape)
            return reduced

        parts = [dask.delayed(write)(block, local(where), where) for where, block in pieces]
        _announce(label, show_progressbar)
        if extra:
            (reduced,) = compute_pass(tree_combine(parts, extra[1]), show_progressbar=show_progressbar)
            return holder[0], reduced
        compute_pass(*parts, show_progressbar=show_progressbar)
        return holder[0]
    split = [dask.delayed(both, nout=2)(block, local(where)) for where, block in pieces]
    rows_parts = [p[0] for p in split]
    reduced = tree_combine([p[1] for p in split], extra[1]) if extra else None
    _announce(label, show_progressbar)
    computed = compute_pass(*rows_parts, *([reduced] if extra else []), show_progressbar=show_progressbar)
    out = _placed(u, pieces, list(computed[: len(rows_parts)]))
    return (out, computed[-1]) if extra else out


_ALLOCATE = threading.Lock()


def _placed(u: Unfolded, pieces: list[tuple[Block, Any]], rows_list: list[np.ndarray]) -> np.ndarray:
    k = rows_list[0].shape[1]
    out = np.empty(u.nav_shape + (k,), dtype=rows_list[0].dtype)
    for (where, _), rows in zip(pieces, rows_list):
        out[where.nav_slices] = rows.reshape(out[where.nav_slices].shape)
    return out


def _in_process() -> bool:
    """Whether dask runs tasks in this process (threads or synchronously): tasks can then
    write into an array of the caller."""
    if distributed_client() is not None:
        return False
    named = preferences.scheduler or dask.config.get("scheduler", None)
    if named is None:
        return True
    if isinstance(named, str):
        return named.lower() in _SERIAL | {"threads", "threading"}
    return named in (dask.threaded.get, dask.local.get_sync)


def stream_blocks(u: Unfolded, *, show_progressbar: bool | None = None,
                  label: str = "") -> Iterator[tuple[Block, np.ndarray]]:
    """Yield (where, numpy block) in navigation order, reading a few blocks at a time.

    Each group of blocks is computed together (in parallel on threads or on a distributed
    client); only that group is in memory while the caller works on it.

    Examples
    --------
    >>> u = Unfolded(da.ones((6, 4), chunks=(2, 4)), nav_ndim=1)
    >>> [block.shape for _, block in stream_blocks(u)]
    [(2, 4), (2, 4), (2, 4)]
    """
    pieces = u.blocks()
    if not u.lazy:
        yield from pieces
        return
    group = max(1, (dask.config.get("num_workers", None) or _cpu_count()))
    _announce(label, show_progressbar)
    bar = CountProgress(len(pieces)) if resolve_progress(show_progressbar) else None
    for start in range(0, len(pieces), group):
        chunk = pieces[start:start + group]
        groups = [b if isinstance(b, list) else [b] for _, b in chunk]
        flat = compute_arrays(*[p for g in groups for p in g], show_progressbar=False)
        start = 0
        for (where, _), g in zip(chunk, groups):
            value = list(flat[start:start + len(g)])
            start += len(g)
            yield where, whole(value if len(value) > 1 else value[0], u.nav_ndim, u.n_cols)
            if bar is not None:
                bar.step()


def _cpu_count() -> int:
    import os

    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def _announce(label: str, show_progressbar: bool | None) -> None:
    if label and resolve_progress(show_progressbar):
        print(label, flush=True)


def lazy_array(x: Any) -> bool:
    """Whether ``x`` is a dask array (re-exported for the algorithms)."""
    return isinstance(x, da.Array)
