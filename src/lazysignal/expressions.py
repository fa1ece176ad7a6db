"""Recognising the reductions users write, and running them as fused kernels.

Users write ``(s * mask).sum(axis=s.axes_manager.signal_axes)`` (a virtual image),
``s.isig[a:b].sum(axis=-1)``, ``(s * weights).sum()`` over navigation, or
``s.inav[roi].sum()``. Evaluated as written, dask reads every block into a fresh buffer,
multiplies it by the constant (another block-sized array), and sums. This module is the
one place that recognises these shapes and evaluates them faster, with the same result:

* **where they are written down** -- :func:`note_binary` (a lazy array times a constant
  numpy array) and :func:`note_index` (a lazy array sliced with unit-step slices) attach a
  small record to the lazy result; the signal layer calls them from its one arithmetic
  operator and its one slicer;
* **where they are reduced** -- :func:`fast_reduce`, called by
  :func:`lazysignal.array_ops.reduce`, looks through those records down to the array they
  started from, and when that array was read by one of our back ends (it carries a
  :mod:`~lazysignal.io.backends.block_source`) or a constant multiplies it, builds one task
  per block that reads only the part of the block the result depends on into a reused
  buffer, multiplies and sums it there, and returns the small partial sum.

What changes and what does not:

* Integer (and boolean) products are summed exactly, so where the constant is zero nothing
  contributes: the read shrinks to the constant's bounding box along the reduced axes (a
  disk of radius 32 in a 256 x 256 frame: 6 % of the pixels, 25 % of the bytes). Results are
  bit for bit those of the plain evaluation (integer sums are exact in any order).
* Floating-point results are summed exactly as dask sums the plain expression: the same
  blocks, the same numpy call on each, the same tree of partial sums; only the memory the
  block is read into changes. Bit for bit equal again (``tests/test_expressions.py``).
* Anything else (other reductions, other operators, fancy indexing, arrays we did not read
  and that no constant multiplies) goes the plain way.

Examples
--------
>>> import numpy as np, dask.array as da
>>> x = da.from_array(np.arange(2 * 3 * 4 * 4, dtype=np.uint16).reshape(2, 3, 4, 4), chunks=(1, 3, 4, 4))
>>> mask = np.zeros((4, 4), bool); mask[1:3, 1:3] = True
>>> product = note_binary("mul", x, mask, x * mask)
>>> fast = fast_reduce("sum", product, (2, 3))
>>> bool((fast.compute() == (x.compute() * mask).sum(axis=(2, 3))).all()), fast.dtype
(True, dtype('uint64'))
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from dask.base import tokenize

from .block_source import scratch, source_of

if TYPE_CHECKING:
    import dask.array as da

# dask.array is imported where graphs are built, not at module level: a dask.distributed
# worker unpickling a fused task (or a tree step) imports this module, and importing
# dask.array (with scipy.sparse and scipy.fft behind it) costs a worker 0.3-0.5 s before its
# first task, inside the user's timing. Workers then never import it for these sums.

__all__ = ["note_binary", "note_index", "fast_reduce", "describe"]

_ATTR = "_lazysignal_expression"


@dataclass(frozen=True, eq=False)
class _Product:
    """``base * constant``: ``constant`` is numpy, with ``base.ndim`` axes (1 where it broadcasts)."""

    base: da.Array
    constant: np.ndarray


@dataclass(frozen=True, eq=False)
class _Window:
    """``base[region]``: ``region`` has one unit-step slice (start, stop) per axis of ``base``."""

    base: da.Array
    region: tuple[slice, ...]


# --------------------------------------------------------------------------- recording
def note_binary(opname: str, left: Any, right: Any, result: Any) -> Any:
    """Record ``result = left * right`` when one side is lazy and the other a numpy array.

    Returns ``result`` (with the record attached when it applies).
    """
    import dask.array as da

    if opname != "mul" or not isinstance(result, da.Array):
        return result
    lazy, const = (left, right) if isinstance(left, da.Array) else (right, left)
    if not isinstance(lazy, da.Array) or not isinstance(const, np.ndarray):
        return result
    if const.dtype.kind not in "biuf" or const.ndim > lazy.ndim or result.shape != lazy.shape:
        return result
    const = const.reshape((1,) * (lazy.ndim - const.ndim) + const.shape)
    if any(c not in (1, n) for c, n in zip(const.shape, lazy.shape)):
        return result
    # A copy, as dask's graph holds one: changing the mask afterwards changes neither.
    setattr(result, _ATTR, _Product(lazy, np.array(const, copy=True)))
    return result


def note_index(base: Any, index: tuple, result: Any) -> Any:
    """Record ``result = base[index]`` when every entry of ``index`` is a unit-step slice."""
    import dask.array as da

    if not isinstance(base, da.Array) or not isinstance(result, da.Array):
        return result
    if len(index) != base.ndim or not all(isinstance(k, slice) for k in index):
        return result
    region = []
    for k, n in zip(index, base.shape):
        start, stop, step = k.indices(n)
        if step != 1 or stop <= start:
            return result
        region.append(slice(start, stop))
    if tuple(r.stop - r.start for r in region) != result.shape:
        return result
    setattr(result, _ATTR, _Window(base, tuple(region)))
    return result


def describe(array: Any) -> str:
    """How :func:`fast_reduce` sees ``array`` (for docs and debugging).

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> x = da.ones((4, 6), chunks=2)
    >>> describe(note_index(x, (slice(None), slice(1, 3)), x[:, 1:3]))
    'window (slice(0, 4, None), slice(1, 3, None)) of a dask array'
    """
    parts = []
    record = getattr(array, _ATTR, None)
    if isinstance(record, _Product):
        parts.append(f"product with a {record.constant.dtype} constant of shape {record.constant.shape}")
        array, record = record.base, getattr(record.base, _ATTR, None)
    if isinstance(record, _Window):
        parts.append(f"window {record.region}")
        array = record.base
    parts.append("a block source" if source_of(array) is not None else "a dask array")
    return " of ".join(parts)


# --------------------------------------------------------------------------- reducing
def fast_reduce(name: str, data: Any, axes: tuple[int, ...]) -> da.Array | None:
    """The fused evaluation of ``reduce(name, data, axes)``, or None for the plain one.

    Only ``"sum"`` (and ``"nansum"`` of integers, which is the same thing) is fused.
    """
    import dask.array as da

    if not isinstance(data, da.Array) or not axes or 0 in data.shape:
        return None
    if name != "sum" and not (name == "nansum" and data.dtype.kind in "biu"):
        return None
    if data.dtype.kind not in "biuf":
        return None
    const, base, region = None, data, None
    record = getattr(base, _ATTR, None)
    if isinstance(record, _Product):
        const, base = record.constant, record.base
        record = getattr(base, _ATTR, None)
    if isinstance(record, _Window):
        base, region = record.base, record.region
    source = source_of(base)
    if source is None and const is None:
        return None  # nothing to gain: dask already reads only the blocks a window needs
    if region is None:
        region = tuple(slice(0, n) for n in base.shape)
    exact = data.dtype.kind in "biu"
    window = list(region)
    if const is not None and exact:
        # Where an integer constant is zero nothing contributes: shrink to its bounding box.
        for ax in axes:
            if const.shape[ax] > 1:
                other = tuple(i for i in range(const.ndim) if i != ax)
                hit = np.flatnonzero(np.any(const != 0, axis=other))
                if hit.size == 0:
                    hit = np.zeros(1, int)  # all zero: one pixel (times zero) stands for the rest
                r = window[ax]
                window[ax] = slice(r.start + int(hit[0]), r.start + int(hit[-1]) + 1)
    return _fused_sum(base, source, tuple(region), tuple(window), const, axes, data.dtype, exact)


def _pieces(chunks: tuple[int, ...], start: int, stop: int) -> list[tuple[int, int, int]]:
    """(block index, first, end) local to each block of ``chunks`` meeting ``[start, stop)``."""
    out, lo = [], 0
    for i, n in enumerate(chunks):
        a, b = max(start, lo), min(stop, lo + n)
        if a < b:
            out.append((i, a - lo, b - lo))
        lo += n
    return out


def _accumulator(dtype: np.dtype) -> np.dtype:
    """The dtype numpy's (and dask's) sum gives for ``dtype``."""
    return np.sum(np.zeros(1, dtype)).dtype


def _partial_dtype(dtype: np.dtype, count: int, acc: np.dtype) -> np.dtype:
    """32-bit partial sums for 8/16-bit integers when ``count`` values cannot overflow them
    (the cast to 32 bits is cheaper than to 64); the result is the same."""
    if dtype.kind in "ui" and dtype.itemsize <= 2:
        info = np.iinfo(dtype)
        if count * max(abs(int(info.min)), int(info.max)) < 2**31:
            return np.dtype(np.uint32 if dtype.kind == "u" else np.int32)
    if dtype.kind == "b" and count < 2**31:
        return np.dtype(np.int32)
    return acc


class _FusedBlock:
    """The task of one partial sum: read (or take) the block's window, multiply, sum.

    Small and picklable: the block source, the per-axis pieces, the constant (a mask).
    """

    def __init__(self, source, base: da.Array, pieces, region_start, const, axes, dtype, acc, exact,
                 keepdims: bool = True):
        self.keepdims = keepdims
        self.source, self.pieces, self.axes, self.region_start = source, pieces, axes, region_start
        self.base_dtype, self.base_chunks = base.dtype, base.chunks
        self.const, self.dtype, self.acc, self.exact = const, dtype, acc, exact

    def _const_block(self, lo: list[int], hi: list[int]):
        if self.const is None:
            return None
        # Constant coordinates are relative to the region (the constant multiplies base[region]).
        index = tuple(slice(0, 1) if c == 1 else slice(a - r, b - r)
                      for c, a, b, r in zip(self.const.shape, lo, hi, self.region_start))
        return self.const[index]

    def kernel(self, values: np.ndarray, lo: list[int], hi: list[int]) -> np.ndarray:
        const = self._const_block(lo, hi)
        product = values if const is None else values * const
        if product.dtype != self.dtype:
            product = product.astype(self.dtype)
        count = math.prod(product.shape[ax] for ax in self.axes)
        partial = _partial_dtype(self.dtype, count, self.acc) if self.exact else self.acc
        total = np.sum(product, axis=self.axes, dtype=partial, keepdims=self.keepdims)
        return total.astype(self.acc, copy=False)

    def full_id(self, block_id) -> tuple[int, ...]:
        """The block index with the dropped reduced axes (one block each) put back."""
        if len(block_id) < len(self.pieces):
            ids = iter(block_id)
            block_id = tuple(0 if ax in self.axes else next(ids) for ax in range(len(self.pieces)))
        return tuple(block_id)

    def bounds(self, block_id):
        """Base block index, local slices of the read, global [lo, hi) per axis."""
        base_id, local, lo, hi = [], [], [], []
        for ax, i in enumerate(self.full_id(block_id)):
            b, first, end, glo = self.pieces[ax][i]
            base_id.append(b)
            local.append(slice(first, end))
            lo.append(glo)
            hi.append(glo + end - first)
        return tuple(base_id), tuple(local), lo, hi

    #: (axis, output block -> piece indices) when a task sums several small blocks.
    groups: tuple[int, list[list[int]]] | None = None

    #: (levels, split) when a task also adds its blocks' partial sums up the first ``levels``
    #: levels of dask's tree (a whole subtree: see ``_folded``).
    fold: tuple[int, int] | None = None

    def __call__(self, block_id=None):
        if self.fold is not None:
            return self._subtree(block_id)
        if self.groups is None:
            return self.one(block_id)
        # Several blocks along one kept axis: their sums side by side (no arithmetic changes).
        axis, groups = self.groups
        full = list(self.full_id(block_id))
        parts = []
        for piece in groups[full[axis]]:
            full[axis] = piece
            parts.append(self.one(tuple(full)))
        kept = axis - sum(1 for ax in self.axes if ax < axis) if not self.keepdims else axis
        return np.concatenate(parts, axis=kept)

    def _subtree(self, block_id):
        """The partial sum of one subtree of dask's tree: ``split ** levels`` consecutive blocks
        along each reduced axis (fewer at the end), each summed as a task of its own would,
        then joined and summed ``levels`` times in groups of ``split`` as the tree's tasks
        would (``_sum_group``): the same numbers, a few tasks instead of many."""
        assert self.fold is not None
        levels, split = self.fold
        full = list(self.full_id(block_id))
        span = split ** levels
        axes = sorted(self.axes)
        ranges = [range(full[ax] * span, min((full[ax] + 1) * span, len(self.pieces[ax]))) for ax in axes]
        items: dict[tuple[int, ...], np.ndarray] = {}
        for combo in itertools.product(*ranges):
            for ax, i in zip(axes, combo):
                full[ax] = i
            items[tuple(i - r.start for i, r in zip(combo, ranges))] = self.one(tuple(full))
        for _ in range(levels):
            grouped: dict[tuple[int, ...], list] = {}
            for index in sorted(items):
                grouped.setdefault(tuple(i // split for i in index), []).append(index)
            items = {g: _sum_group(_nest_items(items, members), self.axes, True, self.acc)
                     for g, members in grouped.items()}
        (total,) = items.values()
        return total

    def one(self, block_id):
        base_id, local, lo, hi = self.bounds(block_id)
        streamed = self._streamed(base_id, local)
        if streamed is not None:
            return streamed
        if getattr(self.source, "reads_regions", False):
            shape, region = tuple(s.stop - s.start for s in local), local
        else:  # the source reads whole blocks: read it, then take the window
            shape, region = tuple(c[i] for c, i in zip(self.base_chunks, base_id)), None
        buf = scratch.take(shape, self.base_dtype)
        try:
            values = self.source.read_into(base_id, buf, region)
            return self.kernel(values if region is not None else values[local], lo, hi)
        finally:
            scratch.give(buf)

    def _streamed(self, base_id, local):
        """A plain sum of a whole block over its leading axes, from a source that decodes and
        sums it a slab of rows at a time (``sum_rows``: numpy's result, bit for bit); else None."""
        sum_rows = getattr(self.source, "sum_rows", None)
        if sum_rows is None or self.const is not None or self.dtype != self.base_dtype:
            return None
        if self.axes != tuple(range(len(self.axes))):
            return None
        sizes = [c[i] for c, i in zip(self.base_chunks, base_id)]
        if any(s.start != 0 or s.stop != n for s, n in zip(local, sizes)):
            return None
        count = math.prod(sizes[ax] for ax in self.axes)
        partial = _partial_dtype(self.dtype, count, self.acc) if self.exact else self.acc
        total = sum_rows(base_id, len(self.axes), partial)
        if total is None:
            return None
        total = total.astype(self.acc, copy=False)
        return total if self.keepdims else total.reshape(total.shape[len(self.axes):])


def _fused_sum(base: da.Array, source, region, window, const, axes, dtype, exact) -> da.Array | None:
    import dask.array as da

    acc = _accumulator(dtype)
    per_axis = []
    for ax, (w, c) in enumerate(zip(window, base.chunks)):
        found = _pieces(c, w.start, w.stop)
        if not found:
            return None
        # (base block, first, end, global first) per output block along this axis.
        lo = [sum(c[:i]) for i in range(len(c) + 1)]
        per_axis.append([(b, a, e, lo[b] + a) for b, a, e in found])
    # One block along every reduced axis: each task's sum is final (the tree would only add
    # a task per block summing one element), so the tasks drop the reduced axes themselves.
    final = all(len(per_axis[ax]) == 1 for ax in axes)
    chunks = tuple((1,) * len(p) if ax in axes else tuple(e - a for _, a, e, _ in p)
                   for ax, p in enumerate(per_axis) if not (final and ax in axes))
    if const is not None:
        # Only the part of the constant inside the window travels with the tasks.
        const = np.ascontiguousarray(const[tuple(
            slice(0, 1) if c == 1 else slice(w.start - r.start, w.stop - r.start)
            for c, w, r in zip(const.shape, window, region))])
    task = _FusedBlock(source, base, per_axis, [w.start for w in window], const, axes,
                       np.dtype(dtype), acc, exact, keepdims=not final)
    split, depth = _tree_shape([len(p) for p in per_axis], axes)
    levels = 0
    if source is not None:
        if final or exact:
            # Not for a float tree: it would join partials several kept blocks wide, and numpy
            # may add the same numbers in another order over a wider array.
            chunks = _grouped(task, per_axis, axes, base.dtype.itemsize, chunks, final)
        if not final and task.groups is None:
            levels = _subtree_levels(per_axis, axes, split, depth)
            if levels:
                task.fold = (levels, split)
                chunks = tuple((1,) * math.ceil(len(p) / split ** levels) if ax in axes else c
                               for ax, (p, c) in enumerate(zip(per_axis, chunks)))
    meta = np.empty((0,) * len(chunks), acc)
    token = tokenize(base.name, region, window, const, axes, dtype, final, levels)
    dropped = {"drop_axis": list(axes)} if final else {}
    if source is not None:
        # One task per output block calling ``task(block_id)`` -- map_blocks would wrap each
        # call in a dask.array helper, which a worker would import dask.array to unpickle.
        from dask.highlevelgraph import HighLevelGraph

        name = "fused-sum-" + token
        layer: dict = {(name,) + idx: (task, list(idx)) for idx in np.ndindex(*(len(c) for c in chunks))}
        partials = da.Array(HighLevelGraph.from_collections(name, layer, dependencies=[]), name,
                            chunks=chunks, dtype=acc, meta=meta)
    else:
        partials = da.map_blocks(_OnBlock(task), base[window], chunks=chunks, dtype=acc, meta=meta,
                                 name="fused-sum-" + token, **dropped)
    return partials if final else _sum_partials(partials, axes, acc, depth - levels)


def _tree_shape(numblocks: list[int], axes: tuple[int, ...]) -> tuple[int, int]:
    """(split per reduced axis, depth) of dask's tree for a sum over ``axes`` of blocks
    ``numblocks`` (``_tree_reduce``'s normalisation of the configured ``split_every``)."""
    import dask

    split = max(int(dask.config.get("split_every", 4) ** (1 / (len(axes) or 1))), 2)
    depth = 1
    for ax, count in enumerate(numblocks):
        if ax in axes:
            depth = int(max(depth, math.ceil(math.log(count, split))))
    return split, depth


#: Read tasks covering subtrees stay at least this many: coarser ones balance worse between
#: workers (a zspy navigation sum on two workers at load 5, best of 3: 16 tasks 1.86 s,
#: 8 tasks 2.25 s, one task per block 1.88 s).
SUBTREE_TASKS = 16


def _subtree_levels(per_axis, axes, split: int, depth: int) -> int:
    """How many levels of the tree each read task adds up itself (0: one block per task).

    On a cluster every task and every partial sum moved between workers costs scheduler and
    network time (a zspy navigation sum: 32 read tasks and 28 tree tasks). A read task
    covering a whole subtree of the tree computes the same numbers with fewer tasks; the
    subtrees stay small enough to leave ``SUBTREE_TASKS`` read tasks, and the last level (the
    aggregate) always remains a task of its own.
    """
    kept = math.prod(len(p) for ax, p in enumerate(per_axis) if ax not in axes)
    levels = 0
    while levels + 1 < depth:
        span = split ** (levels + 1)
        tasks = kept * math.prod(math.ceil(len(per_axis[ax]) / span) for ax in axes)
        if tasks < SUBTREE_TASKS:
            break
        levels += 1
    return levels


#: A fused task reads about this much at least: a task costs scheduler time (a few ms on a
#: busy cluster) whatever it does, and a masked read of a 16 MiB block may be 4 MiB.
TASK_BYTES = 32 * 2**20


def _grouped(task: _FusedBlock, per_axis, axes, itemsize: int, chunks, final: bool):
    """Let each task sum several consecutive small blocks along the last kept axis.

    Sets ``task.groups`` and returns the output chunks. Blocks along a kept axis are
    independent sums, so grouping them changes which task computes a number, not the number.
    """
    kept = [ax for ax in range(len(per_axis)) if ax not in axes and len(per_axis[ax]) > 1]
    if not kept:
        return chunks
    axis = kept[-1]
    largest = [max(e - a for _, a, e, _ in p) for p in per_axis]
    block_bytes = math.prod(largest) * itemsize
    total = block_bytes * math.prod(len(p) for p in per_axis)
    per_task = max(1, TASK_BYTES // max(block_bytes, 1))
    # Keep enough tasks for every worker to have several.
    per_task = min(per_task, max(1, int(total // (block_bytes * 8))))
    n = len(per_axis[axis])
    if per_task <= 1:
        return chunks
    count = math.ceil(n / per_task)
    bounds = [round(i * n / count) for i in range(count + 1)]
    groups = [list(range(a, b)) for a, b in zip(bounds[:-1], bounds[1:])]
    task.groups = (axis, groups)
    out_axis = axis - sum(1 for ax in axes if ax < axis) if final else axis
    sizes = [e - a for _, a, e, _ in per_axis[axis]]
    chunks = list(chunks)
    chunks[out_axis] = tuple(sum(sizes[i] for i in g) for g in groups)
    return tuple(chunks)


def _sum_partials(partials: da.Array, axes: tuple[int, ...], acc: np.dtype,
                  depth: int | None = None) -> da.Array:
    """The partial sums added up by the same tree as dask's own ``sum`` of the plain expression.

    ``partials`` is what dask's chunk step makes (one keepdims sum per block). The tree is
    dask's ``_tree_reduce`` step by step -- the same ``split_every`` groups, the groups'
    partials concatenated as ``_concatenate2`` does and summed by ``np.sum`` with the same
    arguments, so the same numbers -- built here with task functions of this module, so that
    the tasks need neither dask.array nor its imports on a worker.
    """
    import dask.array as da
    from dask.highlevelgraph import HighLevelGraph

    # ``depth`` levels remain (fewer than dask's when read tasks added up whole subtrees).
    n, full_depth = _tree_shape(list(partials.numblocks), axes)
    depth = full_depth if depth is None else depth
    split = {ax: n for ax in axes}
    token = tokenize(partials.name, axes, acc, n, depth)
    x = partials
    for level in range(depth):
        last = level == depth - 1
        name = f"sum-{'aggregate' if last else 'partial'}-{level}-{token}"
        groups = [[list(range(i, min(i + split.get(ax, 1), count)))
                   for i in range(0, count, split.get(ax, 1))] for ax, count in enumerate(x.numblocks)]
        layer: dict = {}
        for index in itertools.product(*(range(len(g)) for g in groups)):
            members = [groups[ax][i] for ax, i in enumerate(index)]
            out = index if not last else tuple(i for ax, i in enumerate(index) if ax not in axes)
            layer[(name,) + out] = (_sum_group, _nested(x.name, members, axes), axes, not last, acc)
        chunks = tuple((1,) * len(g) if ax in axes else c for ax, (g, c) in enumerate(zip(groups, x.chunks))
                       if not (last and ax in axes))
        graph = HighLevelGraph.from_collections(name, layer, dependencies=[x])  # type: ignore[list-item]
        x = da.Array(graph, name, chunks=chunks, dtype=acc, meta=np.empty((0,) * len(chunks), acc))
    return x


def _nested(name: str, members: list[list[int]], axes: tuple[int, ...], ax: int = 0, prefix=()):
    """Keys of a group's blocks as nested lists over the reduced axes (dask's ``lol_tuples``)."""
    if ax == len(members):
        return (name,) + prefix
    if ax in axes:
        return [_nested(name, members, axes, ax + 1, prefix + (i,)) for i in members[ax]]
    return _nested(name, members, axes, ax + 1, prefix + (members[ax][0],))


def _nest_items(items: dict, members: list[tuple[int, ...]]):
    """The items of a group as nested lists over the reduced axes (outer axis first)."""
    if not members[0]:
        return items[members[0]]
    firsts = sorted({m[0] for m in members})
    return [_nest_items({k[1:]: v for k, v in items.items() if k[0] == f},
                        [m[1:] for m in members if m[0] == f]) for f in firsts]


def _concatenated(parts, axes: list[int]) -> np.ndarray:
    """Nested lists of arrays joined along ``axes`` (outer list first), as dask's ``_concatenate2``."""
    if not isinstance(parts, list):
        return parts
    if len(axes) > 1:
        parts = [_concatenated(p, axes[1:]) for p in parts]
    return np.concatenate(parts, axis=axes[0])


def _sum_group(parts, axes: tuple[int, ...], keepdims: bool, acc: np.dtype) -> np.ndarray:
    """One step of the tree: a group of partial sums, joined and summed (dask's aggregate)."""
    return np.sum(_concatenated(parts, sorted(axes)), axis=axes, keepdims=keepdims, dtype=acc)


class _OnBlock:
    """The fused kernel on the blocks of a dask array (no block source: only the constant helps)."""

    def __init__(self, task: _FusedBlock):
        self.task = task

    def __call__(self, values, block_id=None):
        _, _, lo, hi = self.task.bounds(block_id)
        return self.task.kernel(values, lo, hi)
