"""Line intensities from a spectrum array: window sums, eagerly or in one lazy pass.

:func:`line_intensities` sums every window of a :class:`~lazysignal.xray.windows.WindowPlan`
and combines them into one ``(navigation..., n_lines)`` array. For a dask array it returns a
:class:`SharedLineSums`, whose lazy ``array`` reads only the signal chunks that hold a window
(chunks holding none are never read): each needed chunk is summed over all windows as soon
as it is read, the partial sums of a navigation block are added and combined into all line
intensities at once, and each block's result is kept (``result()``, ``complete``). Every
line map of one call is a slice of that array, so computing them together reads each needed
chunk once; the signal layer hands the kept result to the maps not yet computed. Arrays only:
nothing here sees a signal.
"""

from __future__ import annotations

import functools
import itertools
import threading
import uuid
from collections.abc import Sequence
from typing import Any

import dask.array as da
from dask.highlevelgraph import HighLevelGraph
import numpy as np

from .windows import WindowPlan

__all__ = ["window_sums", "combine_windows", "line_intensities", "SharedLineSums", "result_dtype"]


def result_dtype(dtype: Any) -> np.dtype:
    """The maps' dtype: floating/complex input keeps its dtype, integers give float64 (as eXSpy)."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind in "fc" else np.dtype("float64")


def window_sums(block: np.ndarray, ranges: Sequence[tuple[int, int]], first_channel: int = 0,
                out: np.ndarray | None = None) -> np.ndarray:
    """Add to ``out`` (made when None) the sums of ``block`` over each channel range.

    ``block`` holds channels ``first_channel`` onwards of the last axis; ranges are global
    channel numbers and are clipped to the block, so partial sums of several signal chunks
    add up to the whole window.

    Examples
    --------
    >>> window_sums(np.arange(10.0)[None], [(2, 4), (8, 12)], first_channel=0).tolist()
    [[5.0, 17.0]]
    >>> window_sums(np.arange(5.0, 10.0)[None], [(2, 4), (8, 12)], first_channel=5).tolist()
    [[0.0, 17.0]]
    """
    accumulate = np.promote_types(result_dtype(block.dtype), np.float64)
    if out is None:
        out = np.zeros(block.shape[:-1] + (len(ranges),), dtype=accumulate)
    n = block.shape[-1]
    for k, (a, b) in enumerate(ranges):
        lo, hi = max(a - first_channel, 0), min(b - first_channel, n)
        if hi > lo:
            out[..., k] += block[..., lo:hi].sum(axis=-1, dtype=accumulate)
    return out


def combine_windows(sums: np.ndarray, plan: WindowPlan, dtype: Any) -> np.ndarray:
    """Line intensities from window sums: signal window minus scaled background windows."""
    lines = sums[..., list(plan.signal)].copy()
    for i, (left, right, factor) in enumerate(zip(plan.left, plan.right, plan.factor)):
        if left >= 0:
            lines[..., i] -= (sums[..., left] + sums[..., right]) * factor
    return lines.astype(dtype, copy=False)


def _needed_chunks(bounds: np.ndarray, plan: WindowPlan) -> list[int]:
    """Indices of the signal chunks (bounds[j], bounds[j+1]) that overlap a non-empty range."""
    return [j for j in range(len(bounds) - 1)
            if any(b > a and a < bounds[j + 1] and b > bounds[j] for a, b in plan.ranges)]


class SharedLineSums:
    """All line intensities of one call, computed once per navigation block and kept.

    Parameters
    ----------
    source
        The spectrum array, shape ``(navigation..., channels)``.
    plan
        The windows to sum and how to combine them.

    Attributes
    ----------
    array
        Lazy ``(navigation..., n_lines)`` intensities, one chunk per navigation block; each
        computed block is also kept here, so once all are, ``result()`` needs no reading.
    needed_chunks
        The signal-chunk indices that hold a window (the only ones read).

    Examples
    --------
    >>> from lazysignal.xray.windows import WindowPlan
    >>> plan = WindowPlan(((2, 4),), (0,), (-1,), (-1,), (0.0,))
    >>> x = da.arange(20.0, chunks=5).reshape(2, 10).rechunk((1, 5))
    >>> shared = SharedLineSums(x, plan)
    >>> shared.needed_chunks, shared.array.compute().ravel().tolist()
    ([0], [5.0, 25.0])
    """

    def __init__(self, source: da.Array, plan: WindowPlan):
        self.source = source
        self.plan = plan
        self.dtype = result_dtype(source.dtype)
        self.bounds = np.concatenate([[0], np.cumsum(source.chunks[-1])]).astype(int)
        self.needed_chunks = _needed_chunks(self.bounds, plan)
        self._nav_chunks = source.chunks[:-1]
        self._cache: dict[tuple[int, ...], np.ndarray] = {}
        self._lock = threading.Lock()
        nav_chunks = source.chunks[:-1]
        token = uuid.uuid4().hex
        parts_name, name = f"xray-window-sums-{token}", f"xray-lines-{token}"
        # One task per (navigation block, needed signal chunk) taking the chunk's own key, so
        # dask fuses it with the read: a chunk is summed over every window as soon as it is
        # read, then freed. One task per navigation block adds those partial sums and combines
        # them into all line intensities.
        summer = functools.partial(window_sums, ranges=plan.ranges)
        layer: dict = {}
        for b in itertools.product(*(range(len(c)) for c in nav_chunks)):
            parts = []
            for j in self.needed_chunks:
                key = (parts_name, *b, j)
                layer[key] = (functools.partial(summer, first_channel=int(self.bounds[j])), (source.name, *b, j))
                parts.append(key)
            layer[(name, *b, 0)] = (functools.partial(self._finish, b), *parts)
        graph = HighLevelGraph.from_collections(name, layer, dependencies=[source])  # type: ignore[list-item]
        self.array = da.Array(graph, name, chunks=nav_chunks + ((plan.n_lines,),),
                              meta=np.empty((0,) * source.ndim, dtype=self.dtype))

    @property
    def complete(self) -> bool:
        """Whether every navigation block has been computed (and is kept)."""
        return len(self._cache) == int(np.prod([len(c) for c in self._nav_chunks]))

    def result(self) -> np.ndarray:
        """The whole ``(navigation..., n_lines)`` array from the kept blocks (all computed)."""
        nav_chunks = self._nav_chunks
        out = np.empty(tuple(sum(c) for c in nav_chunks) + (self.plan.n_lines,), dtype=self.dtype)
        starts = [np.concatenate([[0], np.cumsum(c)]).astype(int) for c in nav_chunks]
        for b in itertools.product(*(range(len(c)) for c in nav_chunks)):
            where = tuple(slice(s[i], s[i + 1]) for s, i in zip(starts, b))
            out[where] = self._cache[b]
        return out

    def _finish(self, nav_index: tuple[int, ...], *parts: np.ndarray) -> np.ndarray:
        shape = tuple(c[i] for c, i in zip(self._nav_chunks, nav_index))
        sums = functools.reduce(np.add, parts) if parts else np.zeros(shape + (len(self.plan.ranges),))
        lines = combine_windows(sums, self.plan, self.dtype)
        with self._lock:
            self._cache[nav_index] = lines
        return lines

    def __getstate__(self) -> dict[str, Any]:
        # Sent to another process (dask.distributed) inside the graph's tasks: the arrays (whose
        # graphs hold these tasks), the kept blocks and the lock stay here.
        state = {k: v for k, v in self.__dict__.items() if k not in ("source", "array", "_lock")}
        state["_cache"] = {}
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()


def line_intensities(data: Any, plan: WindowPlan) -> "np.ndarray | SharedLineSums":
    """Intensities ``(navigation..., n_lines)``: a numpy array, or a :class:`SharedLineSums`.

    Examples
    --------
    >>> from lazysignal.xray.windows import WindowPlan
    >>> plan = WindowPlan(((0, 2), (3, 4), (5, 6)), (0,), (1,), (2,), (1.0,))
    >>> line_intensities(np.array([[4.0, 4.0, 0.0, 1.0, 0.0, 1.0]]), plan).tolist()
    [[6.0]]
    """
    if isinstance(data, da.Array):
        return SharedLineSums(data, plan)
    data = np.asarray(data)
    return combine_windows(window_sums(data, plan.ranges), plan, result_dtype(data.dtype))
