"""The chunk planner: the one place where lazysignal chooses a chunking.

Rules, in order:

1. Signal axes are whole (one chunk) where possible, because nearly every signal
   operation (map, fft, plotting a pixel, a navigator) needs the whole signal of a pixel.
   Only when one signal alone is larger than the target are signal axes split, slowest
   (first numpy) signal axis first.
2. A chunk holds about ``target_bytes`` (``preferences.chunk_target_bytes``, 100 MiB by
   default): large enough that per-task overhead is negligible, small enough that
   ``workers x chunk`` fits in memory.
3. Navigation is split from the slowest axis: the fast (last) navigation axes stay whole
   so a chunk is a contiguous run of pixels.
4. When the data are large enough, there are at least as many chunks as workers, so
   every worker has work.
5. When re-planning an existing chunking (``previous=``), navigation chunk sizes are
   rounded to a multiple of the previous ones, so a rechunk only merges chunks (cheap)
   instead of splitting and re-merging every one.

Everything here works on shapes and numbers; nothing sees an array or a signal.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import dask.array as da
import numpy as np

from .errors import ChunksError
from .preferences import preferences

__all__ = ["plan_chunks", "normalize", "chunk_table", "default_workers", "MIN_CHUNK_BYTES"]

#: Below this many bytes a chunk is not split further just to give workers work.
MIN_CHUNK_BYTES = 1 << 20


def default_workers() -> int:
    """How many workers a computation will use: the preference, else the CPU count."""
    if preferences.num_workers:
        return int(preferences.num_workers)
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _even(size: int, chunk: int) -> tuple[int, ...]:
    """``size`` split into chunks of at most ``chunk``, as equal as possible."""
    chunk = max(1, min(int(chunk), size)) if size else 1
    if size == 0:
        return (0,)
    n = math.ceil(size / chunk)
    base, extra = divmod(size, n)
    return tuple(base + 1 if i < extra else base for i in range(n))


def _regular(size: int, chunk: int) -> tuple[int, ...]:
    """``size`` split into chunks of exactly ``chunk`` (the last one shorter)."""
    if size == 0:
        return (0,)
    chunk = max(1, min(int(chunk), size))
    full, rest = divmod(size, chunk)
    return (chunk,) * full + ((rest,) if rest else ())


def plan_chunks(
    shape: Sequence[int],
    signal_ndim: int,
    itemsize: int | np.dtype | str = 8,
    *,
    target_bytes: int | None = None,
    workers: int | None = None,
    nav_chunks: Any = "auto",
    sig_chunks: Any = -1,
    previous: Sequence[Sequence[int]] | None = None,
) -> tuple[tuple[int, ...], ...]:
    """Choose dask chunks (numpy order) for data of ``shape`` with ``signal_ndim`` signal axes.

    Parameters
    ----------
    shape
        Numpy shape, navigation axes first.
    signal_ndim
        Number of trailing signal axes.
    itemsize
        Bytes per element, or a dtype.
    target_bytes
        Target bytes per chunk (default: ``preferences.chunk_target_bytes``).
    workers
        Workers to give work to (default: :func:`default_workers`).
    nav_chunks, sig_chunks
        ``"auto"`` (planned), ``-1``/``None`` (whole axis), an int (chunk length), or a
        tuple with one such entry per navigation / signal axis in numpy order. The default
        ``sig_chunks=-1`` keeps signals whole; ``"auto"`` splits them only if one signal
        exceeds the target.
    previous
        The current chunks (numpy order, dask form), to plan a cheap rechunk.

    Returns
    -------
    tuple of tuples
        Explicit dask chunks.

    Examples
    --------
    >>> plan_chunks((512, 512, 992), 1, 8, target_bytes=64 * 2**20, workers=2)[:2]
    ((16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16, 16), (512,))
    >>> plan_chunks((4, 10), 1, 8, workers=2)          # tiny data: one chunk
    ((4,), (10,))
    >>> plan_chunks((64, 64, 256, 256), 2, 2, target_bytes=2**24, workers=2)[1:]
    ((64,), (256,), (256,))
    """
    shape = tuple(int(n) for n in shape)
    ndim = len(shape)
    if not 0 <= signal_ndim <= ndim:
        raise ChunksError(f"signal_ndim={signal_ndim} does not fit a shape of {ndim} dimensions {shape}.")
    itemsize = np.dtype(itemsize).itemsize if not isinstance(itemsize, (int, np.integer)) else int(itemsize)
    target = int(target_bytes or preferences.chunk_target_bytes)
    workers = int(workers or default_workers())
    nav_ndim = ndim - signal_ndim
    nav_shape, sig_shape = shape[:nav_ndim], shape[nav_ndim:]
    nav_spec = _per_axis(nav_chunks, nav_ndim, "nav_chunks")
    sig_spec = _per_axis(sig_chunks, signal_ndim, "sig_chunks")

    # Signal axes first: whole unless told otherwise, or "auto" and one signal is too big.
    sig_sizes = _fixed_or_auto(sig_spec, sig_shape)
    auto_sig = [i for i, c in enumerate(sig_sizes) if c is None]
    if auto_sig:
        fixed = int(np.prod([c for c in sig_sizes if c is not None], dtype=np.int64)) * itemsize
        budget = max(1, target // max(fixed, 1))
        # Fast (last) signal axes whole first; split the slowest ones.
        for i in reversed(auto_sig):
            take = min(sig_shape[i], budget)
            sig_sizes[i] = take
            budget = max(1, budget // max(take, 1))
    sig_whole = _filled(sig_sizes)
    sig_bytes = int(np.prod(sig_whole, dtype=np.int64)) * itemsize if signal_ndim else itemsize

    nav_sizes = _fixed_or_auto(nav_spec, nav_shape)
    auto_nav = [i for i, c in enumerate(nav_sizes) if c is None]
    if auto_nav:
        fixed = int(np.prod([c for c in nav_sizes if c is not None], dtype=np.int64))
        pixels = max(1, target // max(sig_bytes * fixed, 1))
        for i in reversed(auto_nav):
            take = min(nav_shape[i], pixels)
            nav_sizes[i] = max(take, 1)
            pixels = max(1, pixels // max(take, 1))
        nav_sizes = _enough_chunks(nav_sizes, nav_shape, auto_nav, sig_bytes, workers, shape, sig_whole,
                                   itemsize)
        if previous is not None:
            prev_nav = [tuple(p) for p in list(previous)[:nav_ndim]]
            for i in auto_nav:
                nav_sizes[i] = _align(nav_sizes[i], prev_nav[i], nav_shape[i])

    nav_whole = _filled(nav_sizes)
    chunks = []
    for i, n in enumerate(nav_shape):
        split = _even if i in auto_nav and previous is None else _regular
        chunks.append(split(n, nav_whole[i]))
    for i, n in enumerate(sig_shape):
        chunks.append(_even(n, sig_whole[i]) if i in auto_sig else _regular(n, sig_whole[i]))
    return tuple(chunks)


def _filled(sizes: list[int | None]) -> list[int]:
    """Chunk sizes once every "auto" entry has been decided."""
    if any(c is None for c in sizes):
        raise AssertionError(f"undecided chunk sizes {sizes}")
    return [int(c) for c in sizes if c is not None]


def _per_axis(spec: Any, n: int, name: str) -> list[Any]:
    if isinstance(spec, dict):
        return [spec.get(i, -1) for i in range(n)]
    if isinstance(spec, (tuple, list)):
        if len(spec) != n:
            raise ChunksError(f"{name} has {len(spec)} entries; this signal has {n} such axes. "
                              "Give one entry per axis in numpy order, or a single value.")
        return list(spec)
    return [spec] * n


def _fixed_or_auto(spec: list[Any], shape: tuple[int, ...]) -> list[int | None]:
    out: list[int | None] = []
    for s, n in zip(spec, shape):
        if s == "auto":
            out.append(None)
        elif s is None or s == -1:
            out.append(max(n, 1))
        elif isinstance(s, (int, np.integer)) and s > 0:
            out.append(min(int(s), max(n, 1)))
        else:
            raise ChunksError(f"Chunk entry {s!r} is not understood: use 'auto', -1 (whole axis) "
                              "or a positive int.")
    return out


def _enough_chunks(nav_sizes, nav_shape, auto_nav, sig_bytes, workers, shape, sig_sizes, itemsize):
    """Split navigation further until every worker gets a chunk (if chunks stay >= 1 MiB)."""
    total = int(np.prod(shape, dtype=np.int64)) * itemsize
    sig_chunks = int(np.prod([math.ceil(n / c) for n, c in zip(shape[len(nav_shape):], sig_sizes)] or [1]))

    def count() -> int:
        nav = int(np.prod([math.ceil(n / c) for n, c in zip(nav_shape, nav_sizes)] or [1]))
        return nav * sig_chunks

    while count() < workers and total // (count() * 2) >= MIN_CHUNK_BYTES:
        # Halve the slowest auto axis that can still be split.
        for i in auto_nav:
            if nav_sizes[i] > 1:
                nav_sizes[i] = math.ceil(nav_sizes[i] / 2)
                break
        else:
            break
    return nav_sizes


def _align(size: int, previous: tuple[int, ...], n: int) -> int:
    """Round ``size`` to a multiple (or divisor) of a regular previous chunk length."""
    p = previous[0] if previous else n
    if len(set(previous[:-1])) > 1 or p <= 0:
        return size
    if size >= p:
        return min(n, (size // p) * p)
    # Smaller than before: take a divisor of the previous length so chunks split evenly.
    for d in range(size, 0, -1):
        if p % d == 0:
            return d
    return size


def normalize(chunks: Any, shape: Sequence[int], dtype: Any = "f8") -> tuple[tuple[int, ...], ...]:
    """Explicit dask chunks for any ``chunks=`` argument dask accepts.

    Raises
    ------
    ChunksError
        When the chunks do not fit the shape, saying what was expected.

    Examples
    --------
    >>> normalize((2, -1), (5, 3))
    ((2, 2, 1), (3,))
    """
    try:
        return da.core.normalize_chunks(chunks, tuple(shape), dtype=np.dtype(dtype))
    except (ValueError, TypeError) as exc:
        raise ChunksError(f"chunks={chunks!r} do not fit data of shape {tuple(shape)}: {exc}. "
                          "Give one entry per numpy axis: an int, -1 for a whole axis, or 'auto'.") from exc


def chunk_table(chunks: Sequence[Sequence[int]], itemsize: int, names: Sequence[str] | None = None) -> str:
    """A small text table of a chunking: per axis, the chunk sizes and the number of chunks.

    Examples
    --------
    >>> print(chunk_table(((2, 2), (10,)), 8, ["y", "E"]))
    axis  size  chunks  chunk sizes
    y        4       2  2 x2
    E       10       1  10
    2 chunks of at most 160 B (320 B in all)
    """
    names = list(names) if names is not None else [f"axis {i}" for i in range(len(chunks))]
    width = max([4] + [len(n) for n in names])
    lines = [f"{'axis':<{width}}  size  chunks  chunk sizes"]
    for name, c in zip(names, chunks):
        sizes = _runs(c)
        lines.append(f"{name:<{width}}  {sum(c):>4}  {len(c):>6}  {sizes}")
    n = int(np.prod([len(c) for c in chunks]))
    biggest = int(np.prod([max(c) if c else 0 for c in chunks])) * itemsize
    total = int(np.prod([sum(c) for c in chunks])) * itemsize
    lines.append(f"{n} chunks of at most {bytes_text(biggest)} ({bytes_text(total)} in all)")
    return "\n".join(lines)


def _runs(c: Sequence[int]) -> str:
    parts, i = [], 0
    while i < len(c):
        j = i
        while j + 1 < len(c) and c[j + 1] == c[i]:
            j += 1
        parts.append(f"{c[i]} x{j - i + 1}" if j > i else f"{c[i]}")
        i = j + 1
    return ", ".join(parts)


def bytes_text(n: float) -> str:
    """Bytes in binary units, e.g. ``'62.00 MiB'``."""
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{int(n)} B" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return f"{n} B"  # pragma: no cover
