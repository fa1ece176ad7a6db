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
from ..errors import InvalidArgumentError

__all__ = ["histogram", "bin_edges", "LAZY_REFUSED"]

#: Bin rules that need every value in memory at once.
LAZY_REFUSED = ("knuth", "blocks")


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
    parts = [dask.delayed(_block_percentiles)(b, qs) for b in data.to_delayed(optimize_graph=False).ravel()]
    return dask.delayed(_merge)(parts, qs)


def _stats(data, bins: Any, range_bins) -> dict[str, float]:
    """The statistics a bin rule needs, computed in ONE pass (numpy or dask).

    As numpy does, values outside ``range_bins`` (and non-finite ones) are left out.
    """
    lazy = is_lazy(data)
    xp = da if lazy else np
    values = data
    if data.dtype.kind in "fc" or range_bins is not None:
        keep = xp.isfinite(data) if data.dtype.kind in "fc" else xp.ones(data.shape, dtype=bool)
        if range_bins is not None:
            keep = keep & (data >= range_bins[0]) & (data <= range_bins[1])
        values = xp.where(keep, data.astype(float), np.nan)
        stats: dict[str, Any] = {"n": keep.sum()}
    else:
        stats = {"n": data.size}
    stats["lo"], stats["hi"] = xp.nanmin(values), xp.nanmax(values)
    if bins == "scott":
        stats["std"] = xp.nanstd(values)
    if bins in ("fd", "auto"):
        stats["q"] = _lazy_quartiles(values) if lazy else np.nanpercentile(values, [25, 75])
    keys = list(stats)
    # optimize_graph=False: keep the array and the delayed quartile branch on the same keys,
    # so each chunk is read once for all the statistics.
    computed = dask.compute(*[stats[k] for k in keys], optimize_graph=False) if lazy else \
        [stats[k] for k in keys]
    out = dict(zip(keys, computed))
    out["n"] = int(out["n"])
    return out


def _width(bins: str, st: dict[str, Any]) -> float:
    """numpy's bin width for a rule (numpy.lib.histograms), from the statistics."""
    n, ptp = st["n"], float(st["hi"]) - float(st["lo"])
    if bins == "scott":
        return (24.0 * np.pi**0.5 / n) ** (1.0 / 3.0) * float(st["std"])
    if bins == "sturges":
        return ptp / (np.log2(n) + 1.0)
    if bins == "sqrt":
        return ptp / np.sqrt(n)
    if bins == "rice":
        return ptp / (2.0 * n ** (1.0 / 3.0))
    q25, q75 = np.asarray(st["q"], dtype=float)
    fd = 2.0 * (q75 - q25) * n ** (-1.0 / 3.0)
    if bins == "fd":
        return fd
    sturges = ptp / (np.log2(n) + 1.0)
    return min(fd, sturges) if fd else sturges  # "auto"


def bin_edges(data, bins: Any = "fd", range_bins: tuple[float, float] | None = None,
              max_num_bins: int = 250) -> np.ndarray:
    """The bin edges ``histogram`` uses: numpy's rules, capped at ``max_num_bins``.

    Eager and lazy data go through the same statistics and formula (a lazy pass 1 when
    the edges are not known), so they give the same edges; see the module notes on "fd".

    Examples
    --------
    >>> bin_edges(np.arange(10.0), bins=3)
    array([0., 3., 6., 9.])
    """
    if isinstance(bins, str) and bins in LAZY_REFUSED:
        if is_lazy(data):
            raise InvalidArgumentError(
                f"bins={bins!r} is not available for lazy data: the {bins} rule needs all the values "
                "sorted in memory at once. Use bins='fd' or 'scott' (two passes over the data), an "
                "int or an array of edges, or compute() the signal first if it fits in memory.")
        return _astropy_like_edges(np.asarray(data).ravel(), bins, range_bins)
    if not isinstance(bins, str) and np.ndim(bins) == 1:
        return np.asarray(bins, dtype=float)
    if isinstance(bins, str) and bins not in ("fd", "scott", "auto", "sturges", "sqrt", "rice"):
        raise InvalidArgumentError(f"Unknown bins rule {bins!r}; use 'fd', 'scott', 'auto', 'sturges', 'sqrt', "
                         "'rice' (or 'knuth'/'blocks' on data in memory), an int or an array of edges.")
    st: dict[str, Any] = {}
    if not isinstance(bins, str) and range_bins is not None:
        lo, hi = float(range_bins[0]), float(range_bins[1])
    else:
        st = _stats(data, bins if isinstance(bins, str) else None, range_bins)
        lo, hi = (float(st["lo"]), float(st["hi"])) if range_bins is None else map(float, range_bins)
    if isinstance(bins, str):
        width = _width(bins, st) if st["n"] else 0.0
        if not np.isfinite(width):
            nbins = max_num_bins
        elif width > 0 and hi > lo:
            nbins = int(np.ceil((hi - lo) / width))
        else:
            nbins = 1
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
        counts, _ = np.histogram(np.asarray(data), bins=edges)
        return counts, edges
    counts, _ = da.histogram(data.ravel(), bins=edges)
    return counts, edges
