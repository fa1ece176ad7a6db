"""Histograms of all the values of an array, eagerly or lazily in at most two passes.

Pass 1 (lazy only, skipped when both the bin edges are known): the statistics the bin
rule needs (min, max, count, and the standard deviation for ``"scott"`` or the quartiles
for ``"fd"``), all in one ``dask.compute``. Pass 2: the counts, one ``numpy.histogram``
per chunk, summed.

``"fd"`` on lazy data takes its quartiles from dask's per-chunk percentiles merged
(approximate when there are several chunks); the bin count is then capped by
``max_num_bins``, which is where large data end up, so lazy and eager agree there. For
identical edges on small data pass an int or an array. ``"knuth"`` and ``"blocks"`` need
the whole sorted data in memory and are refused on lazy data.
"""

from __future__ import annotations

from typing import Any

import dask
import dask.array as da
import numpy as np

from ..array_ops import is_lazy

__all__ = ["histogram", "bin_edges", "LAZY_REFUSED"]

#: Bin rules that need every value in memory at once.
LAZY_REFUSED = ("knuth", "blocks")
_RULES = ("fd", "scott", "auto", "sturges", "rice", "sqrt", "doane", "stone")


def _block_percentiles(block: np.ndarray, qs: np.ndarray):
    values = block[np.isfinite(block)] if block.dtype.kind in "fc" else block.ravel()
    if values.size == 0:
        return None
    return np.percentile(values.astype(float), qs), values.size


def _merge(parts, qs: np.ndarray) -> np.ndarray:
    from dask.array.percentile import merge_percentiles

    parts = [p for p in parts if p is not None]
    if not parts:
        return np.array([np.nan, np.nan])
    if len(parts) == 1:
        values = parts[0][0]
    else:
        values = merge_percentiles(qs, [qs] * len(parts), [p[0] for p in parts], method="linear",
                                   Ns=[p[1] for p in parts])
    return np.interp([25.0, 75.0], qs, values)


def _lazy_quartiles(data):
    """Quartiles from per-chunk percentiles merged by weight (exact for one chunk)."""
    qs = np.linspace(0, 100, 201)
    parts = [dask.delayed(_block_percentiles)(b, qs) for b in data.to_delayed().ravel()]
    return dask.delayed(_merge)(parts, qs)


def bin_edges(data, bins: Any = "fd", range_bins: tuple[float, float] | None = None,
              max_num_bins: int = 250) -> np.ndarray:
    """The bin edges ``histogram`` uses (numpy's rules; a lazy pass 1 when needed).

    Examples
    --------
    >>> bin_edges(np.arange(10.0), bins=3)
    array([0., 3., 6., 9.])
    """
    if isinstance(bins, str) and bins in LAZY_REFUSED:
        if is_lazy(data):
            raise ValueError(
                f"bins={bins!r} is not available for lazy data: the {bins} rule needs all the values "
                "sorted in memory at once. Use bins='fd' or 'scott' (two passes over the data), an "
                "int or an array of edges, or compute() the signal first if it fits in memory.")
        return _astropy_like_edges(np.asarray(data).ravel(), bins, range_bins)
    if not is_lazy(data):
        flat = np.asarray(data).ravel()
        flat = flat[np.isfinite(flat)] if flat.dtype.kind == "f" else flat
        if isinstance(bins, str):
            edges = np.histogram_bin_edges(flat, bins=bins, range=range_bins)
            if edges.size - 1 > max_num_bins:
                edges = np.histogram_bin_edges(flat, bins=max_num_bins, range=range_bins)
            return edges
        return np.histogram_bin_edges(flat, bins=bins, range=range_bins)
    if not isinstance(bins, str):
        if np.ndim(bins) == 1:
            return np.asarray(bins, dtype=float)
        if range_bins is not None:
            return np.linspace(float(range_bins[0]), float(range_bins[1]), int(bins) + 1)
    # Reductions over every axis at once: no ravel, which would rechunk an n-d array.
    finite = da.isfinite(data) if data.dtype.kind in "fc" else None
    stats: dict[str, Any] = {"n": finite.sum() if finite is not None else data.size}
    if range_bins is None:
        stats["lo"], stats["hi"] = da.nanmin(data), da.nanmax(data)
    if bins == "scott":
        stats["std"] = da.nanstd(data)
    elif bins in ("fd", "auto"):
        stats["q"] = _lazy_quartiles(data)
    keys = list(stats)
    values = dict(zip(keys, dask.compute(*[stats[k] for k in keys])))
    values["n"] = int(values["n"])
    lo, hi = (float(values["lo"]), float(values["hi"])) if range_bins is None else map(float, range_bins)
    if isinstance(bins, str):
        n = int(values["n"])
        width = None
        if bins == "scott":
            width = (24.0 * np.pi**0.5 / n) ** (1.0 / 3.0) * float(values["std"])
        elif bins in ("fd", "auto"):
            q25, q75 = np.asarray(values["q"], dtype=float)
            width = 2.0 * (q75 - q25) * n ** (-1.0 / 3.0)
            if bins == "auto":
                sturges = (hi - lo) / (np.log2(n) + 1.0)
                width = min(width, sturges) if width > 0 else sturges
        elif bins == "sturges":
            nbins = int(np.ceil(np.log2(n) + 1))
        elif bins == "sqrt":
            nbins = int(np.ceil(np.sqrt(n)))
        elif bins == "rice":
            nbins = int(np.ceil(2 * n ** (1 / 3)))
        else:
            raise ValueError(f"bins={bins!r} is not available for lazy data; use 'fd', 'scott', "
                             "'sturges', 'sqrt', 'rice', an int or an array of edges.")
        if width is not None:
            ok = np.isfinite(width) and width > 0 and hi > lo
            nbins = int(np.ceil((hi - lo) / width)) if ok else (max_num_bins if hi > lo else 1)
        nbins = max(1, min(nbins, max_num_bins))
    else:
        nbins = int(bins)
    if lo == hi:  # numpy's convention for constant data
        lo, hi = lo - 0.5, hi + 0.5
    return np.linspace(lo, hi, nbins + 1)


def _astropy_like_edges(flat: np.ndarray, bins: str, range_bins) -> np.ndarray:
    try:
        from astropy.stats import histogram as astro_histogram
    except ImportError as exc:
        raise ValueError(f"bins={bins!r} needs astropy, which is not installed; use 'fd' or 'scott'.") from exc
    _, edges = astro_histogram(flat, bins=bins, range=range_bins)
    return edges


def histogram(data, bins: Any = "fd", range_bins: tuple[float, float] | None = None,
              max_num_bins: int = 250) -> tuple[Any, np.ndarray]:
    """Counts and edges of the values of ``data`` (numpy or dask; lazy counts stay lazy).

    Examples
    --------
    >>> counts, edges = histogram(da.arange(10, chunks=3), bins=2)
    >>> counts.compute().tolist(), edges.tolist()
    ([5, 5], [0.0, 4.5, 9.0])
    """
    edges = bin_edges(data, bins, range_bins, max_num_bins)
    if not is_lazy(data):
        counts, _ = np.histogram(np.asarray(data).ravel(), bins=edges)
        return counts, edges
    counts, _ = da.histogram(data.ravel(), bins=edges)
    return counts, edges
