"""Exact SVD and PCA in at most two reads of the data, through a Gram matrix.

The data matrix ``Y`` (pixels x channels, after masks, centring and Poisson scaling) is
factorised along its smaller side:

* channels <= pixels (spectrum images): the first read accumulates the channels x channels
  Gram matrix ``Y^T Y`` (and, in the same read, channel means, pixel and channel sums, the
  count of negative values); its eigenvectors are the factors. The second read projects each
  block on them to give the loadings ``Y V = U S``.
* pixels < channels (4D-STEM stacks with 65,536 channels): the first read accumulates the
  pixels x pixels Gram matrix ``Y Y^T`` block pair by block pair; its eigenvectors are the
  loadings, and the second read accumulates the factors ``Y^T U = V S``. Poisson scaling
  there needs the channel sums before the Gram matrix, so it costs one more read, unless
  that read keeps every block packed (``cache_bytes``): then the Gram matrix and the factors
  come from memory, one read in all, each block pair unpacked by its own task.

Both orientations follow HyperSpy's eager ``svd_pca``: the factors are unit vectors and the
loadings carry the singular values when channels <= pixels, the other way round otherwise
(PCA: always unit factors, as scikit-learn's PCA and the peer's);
``explained_variance`` is ``S**2 / n`` (``n`` fitted pixels; ``n - 1`` for PCA, as
scikit-learn), and ``explained_variance_ratio`` is the fraction of the total variance (all
components, not only those kept). Each component's sign makes the largest element (in
absolute value) of the side carrying the singular values positive.

Lazy and eager data run the same kernels (numpy blocks or dask blocks); lazy results equal
eager ones up to rounding.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any

import dask
import numpy as np
import scipy.linalg
from threadpoolctl import threadpool_limits

from ..errors import DecompositionError
from .passes import (Unfolded, as_rows, compute_pass, map_pass, pack_block, reduce_pass, slab_rows,
                     tree_combine, whole)
from .treatments import Treatments, sums_kernel, combine_sums, place_rows, poisson_scales, sums_pass

__all__ = ["Factorisation", "svd_decomposition", "flip_signs", "CACHE_BYTES"]

#: Default memory for keeping first-read blocks (compressed) for the second pass.
CACHE_BYTES = 256 * 2**20


@dataclass
class Factorisation:
    """What a decomposition algorithm returns (arrays in memory).

    ``factors``: (all channels, k); ``loadings``: (all pixels, k); ``mean``: HyperSpy's layout
    ((1, channels) for centre="navigation", (pixels, 1) for centre="signal") or None.
    """

    factors: np.ndarray
    loadings: np.ndarray
    explained_variance: np.ndarray | None = None
    explained_variance_ratio: np.ndarray | None = None
    mean: np.ndarray | None = None
    reads: int = 2
    #: Poisson scaling with centring: ``mean`` is the mean of the scaled data (as HyperSpy's
    #: ``normalize_poissonian_noise()`` then a centred decomposition leave it); in data units
    #: the mean at pixel i, channel j is ``mean * mean_row_scale[i] * mean_col_scale[j]``.
    mean_row_scale: np.ndarray | None = None
    mean_col_scale: np.ndarray | None = None


def flip_signs(scaled: np.ndarray, other: np.ndarray) -> None:
    """In place: make each column's largest-magnitude element of ``scaled`` positive.

    The columns are searched in row slabs, so no copy of ``scaled`` (the loadings of every
    pixel, maybe hundreds of MB) is made; ties go to the first row, as ``argmax``.

    Examples
    --------
    >>> a, b = np.array([[1.0], [-3.0]]), np.array([[2.0]])
    >>> flip_signs(a, b); a[:, 0].tolist(), b[0, 0]
    ([-1.0, 3.0], np.float64(-2.0))
    """
    if scaled.size == 0:
        return
    k = scaled.shape[1]
    largest, signs = np.full(k, -1.0), np.ones(k)
    step = max(1, 2**22 // max(k, 1))
    for a in range(0, scaled.shape[0], step):
        part = np.nan_to_num(scaled[a:a + step])
        at = np.argmax(np.abs(part), axis=0)
        values = part[at, np.arange(k)]
        better = np.abs(values) > largest
        largest[better], signs[better] = np.abs(values[better]), np.sign(values[better])
    signs[signs == 0] = 1
    scaled *= signs
    other *= signs


# ----------------------------------------------------------------------------------------------
# First read, channels x channels


def _gram_kernel(block: np.ndarray, tr: Treatments, n_cols: int) -> dict:
    x = as_rows(block, n_cols)
    fit_cols = x if tr.sig_keep is None else x[:, tr.sig_keep]
    fit_rows = tr.fit_rows(x)
    # Per-pixel sums are kept (navigation-sized) only when something needs them.
    need_rows = tr.poisson or tr.centre == "signal"
    row_sums = fit_cols.sum(axis=1) if need_rows else None
    out = {"rows": [row_sums] if need_rows else [], "cols": fit_rows.sum(axis=0), "n": fit_rows.shape[0],
           "negative": 0}
    if tr.poisson:
        assert row_sums is not None  # computed whenever poisson is set
        fitted = tr.fit_rows(fit_cols)
        if fitted.size and fitted.min() < 0:  # counted only when there is something to count
            out["negative"] = int(np.count_nonzero(fitted < 0))
        # Rows are scaled here; the channel scales are known after the read (applied to the Gram).
        sums = tr.fit_rows(row_sums)
        scale = (1.0 / np.sqrt(np.where(sums <= 0, 1.0, sums)))[:, None]
        if fit_rows.flags.writeable:  # a slab joined for this kernel (or a masked copy): scaled in place
            fit_rows *= scale
        else:  # a view of the data
            fit_rows = fit_rows * scale
    y = fit_rows if tr.sig_keep is None else fit_rows[:, tr.sig_keep]
    if tr.centre == "signal" and not tr.poisson:
        y = y - y.mean(axis=1, keepdims=True)
    # With Poisson scaling the pixels are centred after the channel scaling, whose scales come
    # only at the end of the read: the uncentred Gram matrix is kept and centred then.
    if tr.centre == "navigation":
        # Centred per block and merged with Chan's formula: no cancellation of a large mean.
        out["ycols"] = fit_rows.sum(axis=0)
        mean = y.mean(axis=0) if y.shape[0] else np.zeros(y.shape[1])
        d = y - mean
        out["mean"], out["gram"] = mean, d.T @ d
    else:
        out["gram"] = y.T @ y
    return out


def _fill(pieces: list[np.ndarray], out: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
    """The slab of ``pieces`` (its signal chunks, side by side) in ``out``, rows times ``scale``."""
    col = 0
    for p in pieces:
        if scale is None:
            out[:, col:col + p.shape[1]] = p
        else:  # converted and scaled in one pass
            np.multiply(p, scale, out=out[:, col:col + p.shape[1]])
        col += p.shape[1]
    return out


def _gram_pieces(pieces: list[np.ndarray], tr: Treatments, scratch: np.ndarray, n_cols: int) -> dict:
    """:func:`_gram_kernel` of a slab kept as its signal chunks' stored slabs (uint8 counts...).

    With neither masks nor centring, the sums are taken on the stored values (exact integer
    sums for integer types; no negative count for unsigned ones) and the Poisson row scaling
    is applied while the float64 slab is filled: one pass over it instead of three.
    """
    if tr.nav_keep is not None or tr.sig_keep is not None or tr.centre is not None:
        return _gram_kernel(_fill(pieces, scratch), tr, n_cols)
    acc = np.int64 if all(p.dtype.kind in "iu" for p in pieces) else np.float64
    out = {"rows": [], "cols": np.concatenate([p.sum(axis=0, dtype=acc) for p in pieces]).astype(np.float64),
           "n": scratch.shape[0], "negative": 0}
    if tr.poisson:
        sums = sum(p.sum(axis=1, dtype=acc) for p in pieces).astype(np.float64)
        out["rows"] = [sums]
        out["negative"] = sum(int(np.count_nonzero(p < 0)) for p in pieces
                              if p.dtype.kind != "u" and p.size and p.min() < 0)
        _fill(pieces, scratch, (1.0 / np.sqrt(np.where(sums <= 0, 1.0, sums)))[:, None])
    else:
        _fill(pieces, scratch)
    out["gram"] = scratch.T @ scratch
    return out


#: Rows converted to float64 at once when projecting stored slabs: stays in the CPU's cache.
_PROJECT_ROWS = 512


def _project_pieces(pieces: list[np.ndarray], tr: Treatments, basis: np.ndarray, n_cols: int) -> np.ndarray:
    """``tr.project`` of a slab kept as its signal chunks' stored slabs: each chunk's rows
    are converted a few hundred at a time (in cache) and multiplied by its part of the basis,
    instead of filling the whole float64 slab first."""
    if tr.nav_keep is not None or tr.sig_keep is not None or tr.centre is not None:
        return tr.project(_fill(pieces, np.empty((pieces[0].shape[0], n_cols))), n_cols, basis)
    weights = basis / tr.scales()[1][:, None] if tr.poisson else basis
    n_rows = pieces[0].shape[0]
    out = np.zeros((n_rows, basis.shape[1]))
    col = 0
    for p in pieces:
        w = p.shape[1]
        part, tmp = weights[col:col + w], np.empty((min(_PROJECT_ROWS, n_rows), w))
        for a in range(0, n_rows, _PROJECT_ROWS):
            rows = tmp[: min(_PROJECT_ROWS, n_rows - a)]
            rows[...] = p[a:a + rows.shape[0]]
            out[a:a + rows.shape[0]] += rows @ part
        col += w
    if tr.poisson:
        out /= tr.scales()[0][:, None]
    return out


def _combine_gram(*parts: dict) -> dict:
    out = combine_sums(*parts)
    counts = np.array([p["n"] for p in parts], dtype=float)
    n = counts.sum()
    out["n"] = int(n)
    if "mean" in parts[0]:
        means = np.array([p["mean"] for p in parts])
        mean = (counts[:, None] * means).sum(axis=0) / max(n, 1)
        delta = means - mean
        out["mean"] = mean
        out["ycols"] = np.sum([p["ycols"] for p in parts], axis=0)
        out["gram"] = sum(p["gram"] for p in parts) + (delta.T * counts) @ delta
    else:
        out["gram"] = sum(p["gram"] for p in parts)
    return out


# ----------------------------------------------------------------------------------------------
# First read, pixels x pixels


def _rows_kernel(block: np.ndarray, tr: Treatments, n_cols: int,
                 nav_ndim: int) -> tuple[np.ndarray, dict[str, Any]]:
    """Transformed rows of every pixel of the block (fitted channels) and pass sums."""
    block = whole(block, nav_ndim, n_cols)
    x = as_rows(block, n_cols)
    fit_cols = x if tr.sig_keep is None else x[:, tr.sig_keep]
    # Per-pixel centring of Poisson-scaled data (scales known before this read): the row sums
    # are weighted by the inverse channel scales, so rows / m is each pixel's mean times its scale.
    weighted = tr.poisson and tr.centre == "signal"
    row_sums = fit_cols @ (1.0 / tr.scales()[1][slice(None) if tr.sig_keep is None else tr.sig_keep]) \
        if weighted else fit_cols.sum(axis=1)
    sums: dict[str, Any] = {"rows": [row_sums], "cols": tr.fit_rows(x).sum(axis=0),
            "n": int(tr.fit_rows(fit_cols).shape[0]), "negative": 0}
    y = tr.rows(block, n_cols)  # scaled and centred per pixel; per-channel centring is J G J
    if tr.centre == "navigation":
        sums["ycols"] = tr.fit_rows(tr.rows(block, n_cols, all_channels=True)).sum(axis=0)
    return y, sums


def _pixel_gram(parts: list[Any], u: Unfolded, *,
                show_progressbar: bool | None) -> tuple[np.ndarray, dict]:
    """All-pixels x all-pixels Gram matrix of the transformed rows, and the pass sums.

    ``parts`` are per-block (rows, sums) pairs, delayed for lazy data: every block pair's
    product comes from one graph, so each block is read once.
    """
    ys = [p[0] for p in parts]
    pairs = list(itertools.combinations_with_replacement(range(len(ys)), 2))
    if u.lazy:
        products = [dask.delayed(_gram_pair)(ys[i], ys[j]) for i, j in pairs]
        sums = dask.delayed(_combine_rows_sums)(*[p[1] for p in parts])
        computed = compute_pass(*products, sums, show_progressbar=show_progressbar)
        blocks, sums = dict(zip(pairs, computed[:-1])), computed[-1]
    else:
        blocks = {(i, j): _gram_pair(ys[i], ys[j]) for i, j in pairs}
        sums = _combine_rows_sums(*[p[1] for p in parts])
    return _assembled(blocks, [where for where, _ in u.blocks()], u.nav_shape), sums


def _gram_pair(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return a @ b.T


def _packed_pixel_gram(u: Unfolded, tr: Treatments, *, show_progressbar: bool | None,
                       ) -> tuple[np.ndarray, dict, list[Any]]:
    """:func:`_pixel_gram` for lazy data, in one read at most: each block not already kept
    packed (``u``'s cache) is read and packed once by its own task, and each block pair's task
    unpacks the two blocks it multiplies. Memory is the packed blocks plus two unpacked blocks
    per running task, not every transformed block at once. Also returns the packed blocks."""
    n_cols, nav_ndim = u.n_cols, u.nav_ndim
    step = slab_rows(n_cols)
    packs = [block if isinstance(block, list) else dask.delayed(pack_block)(block, nav_ndim, step)
             for _, block in u.fused_blocks()]
    blocks = [(pack, tr.local(where)) for (where, _), pack in zip(u.fused_blocks(), packs)]
    pairs = list(itertools.combinations_with_replacement(range(len(blocks)), 2))
    products = [dask.delayed(_packed_pair)(*blocks[i], *blocks[j], n_cols, nav_ndim) for i, j in pairs]
    sums = dask.delayed(_combine_rows_sums)(*[dask.delayed(_block_sums)(*b, n_cols, nav_ndim) for b in blocks])
    computed = compute_pass(*products, sums, *packs, show_progressbar=show_progressbar)
    gram = _assembled(dict(zip(pairs, computed[: len(pairs)])), [where for where, _ in u.fused_blocks()],
                      u.nav_shape)
    return gram, computed[len(pairs)], list(computed[len(pairs) + 1:])


def _packed_pair(a: Any, loc_a: Treatments, b: Any, loc_b: Treatments, n_cols: int,
                 nav_ndim: int) -> np.ndarray:
    ya = loc_a.rows(whole(a, nav_ndim, n_cols), n_cols)
    yb = ya if b is a else loc_b.rows(whole(b, nav_ndim, n_cols), n_cols)
    return ya @ yb.T


def _block_sums(block: Any, loc: Treatments, n_cols: int, nav_ndim: int) -> dict[str, Any]:
    return _rows_kernel(block, loc, n_cols, nav_ndim)[1]


def _assembled(blocks: dict[tuple[int, int], np.ndarray], wheres: list[Any],
               nav_shape: tuple[int, ...]) -> np.ndarray:
    """The symmetric matrix from its upper block pairs ``(i, j)``, ``i <= j``, its rows and
    columns in navigation (C) order: block ``i`` holds the pixels of ``wheres[i]``, which
    need not be consecutive (a block of a 2-D navigation that does not span its rows).

    Examples
    --------
    >>> from lazysignal.learn.passes import Block
    >>> wheres = [Block((slice(0, 2), slice(0, 1))), Block((slice(0, 2), slice(1, 2)))]  # 2 x 2, by columns
    >>> g = _assembled({(0, 0): np.array([[0.0, 2], [2, 22]]), (0, 1): np.array([[1.0, 3], [21, 23]]),
    ...                 (1, 1): np.array([[11.0, 13], [13, 33]])}, wheres, (2, 2))
    >>> g.tolist()  # g[a, b] = 10 * a + b for pixels a <= b in C order
    [[0.0, 1.0, 2.0, 3.0], [1.0, 11.0, 21.0, 13.0], [2.0, 21.0, 22.0, 23.0], [3.0, 13.0, 23.0, 33.0]]
    """
    count = len(wheres)
    edges = np.cumsum([0] + [blocks[(i, i)].shape[0] for i in range(count)])
    gram = np.empty((edges[-1], edges[-1]))
    for (i, j), g in blocks.items():
        gram[edges[i]:edges[i + 1], edges[j]:edges[j + 1]] = g
        gram[edges[j]:edges[j + 1], edges[i]:edges[i + 1]] = g.T
    flat = np.arange(math.prod(nav_shape)).reshape(nav_shape)
    order = np.concatenate([flat[where.nav_slices].ravel() for where in wheres])
    if np.array_equal(order, np.arange(order.size)):
        return gram
    placed = np.empty_like(gram)
    placed[np.ix_(order, order)] = gram
    return placed


def _combine_rows_sums(*parts: dict) -> dict:
    out = combine_sums(*parts)
    out["n"] = sum(p["n"] for p in parts)
    if "ycols" in parts[0]:
        out["ycols"] = np.sum([p["ycols"] for p in parts], axis=0)
    return out


# ----------------------------------------------------------------------------------------------


def _add(*parts: Any) -> Any:
    return sum(parts)


def _check_k(output_dimension: int | None, available: int) -> int:
    if output_dimension is None:
        return available
    if output_dimension > available:
        raise DecompositionError(
            f"output_dimension={output_dimension} but the fitted data have only {available} "
            "components (min of fitted pixels and channels); ask for at most that many.")
    return int(output_dimension)


def _eig_desc(gram: np.ndarray, k: int | None = None) -> tuple[np.ndarray, np.ndarray, float]:
    """Eigenvalues (descending, clipped at 0) and eigenvectors of a Gram matrix, and the sum
    of all its eigenvalues (the total variance).

    With ``k`` well below the size only the ``k`` largest are computed (LAPACK's MRRR, a few
    times faster than the full decomposition of a 992 x 992 matrix); the total is then the trace.
    """
    m = gram.shape[0]
    # One BLAS thread for a small matrix: threads gain little there and, on a busy machine,
    # wait for each other (a 992 x 992 eigh measured 0.03 s alone, 0.5 s with two threads).
    with threadpool_limits(1 if m <= 4096 else None, user_api="blas"):
        if k is not None and 0 < k <= m // 4:
            w, v = scipy.linalg.eigh(gram, subset_by_index=[m - k, m - 1], driver="evr")
            return np.clip(w[::-1], 0.0, None), v[:, ::-1], float(np.trace(gram))
        w, v = np.linalg.eigh(gram)
    w = np.clip(w[::-1], 0.0, None)
    return w, v[:, ::-1], float(w.sum())


def svd_decomposition(u: Unfolded, tr: Treatments, *, output_dimension: int | None = None,
                      pca: bool = False, reproject_navigation: bool = True,
                      reproject_signal: bool = False, show_progressbar: bool | None = None,
                      cache_bytes: int = CACHE_BYTES) -> Factorisation:
    """Exact SVD (or PCA: ``pca=True``, centred per channel) of the unfolded data.

    Parameters
    ----------
    u
        The data (numpy or dask) with their navigation dimension.
    tr
        Masks, centring and whether to scale for Poisson noise (scales are computed here).
    output_dimension
        Components to keep (None: all, ``min(fitted pixels, fitted channels)``).
    pca
        Centre per channel and report variances with ``n - 1`` (scikit-learn's PCA).
    reproject_navigation, reproject_signal
        Give masked pixels loadings / masked channels factors by least squares (else NaN).
    cache_bytes
        Lazy data: memory for keeping the blocks of the first read losslessly packed
        (narrowest exact type, Blosc LZ4), so later passes need no other read of them; blocks
        that do not fit are read again. Pixels < channels: used with Poisson scaling only
        (its sums read), and only when every block fits. 0: always read again.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((30, 3)) @ rng.random((3, 8))
    >>> f = svd_decomposition(Unfolded(x, 1), Treatments())
    >>> np.allclose(f.loadings @ f.factors.T, x), f.reads
    (True, 2)
    """
    if pca:
        tr = tr.with_(centre="navigation")
    n_fit, m_fit = tr.n_fit_rows(u), tr.n_fit_cols(u)
    if m_fit <= n_fit:
        result = _by_channels(u, tr, output_dimension, pca, reproject_navigation, reproject_signal,
                              show_progressbar, cache_bytes)
    else:
        result = _by_pixels(u, tr, output_dimension, pca, reproject_navigation, reproject_signal,
                            show_progressbar, cache_bytes)
    return result


def _finish(u: Unfolded, tr: Treatments, factors: np.ndarray, loadings: np.ndarray,
            w_kept: np.ndarray, total: float, n: int, pca: bool,
            reproject_navigation: bool, reproject_signal: bool, scaled_side: str,
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    if scaled_side == "loadings":
        flip_signs(loadings, factors)
    else:
        flip_signs(factors, loadings)
    if tr.poisson:
        row_scale, col_scale = tr.scales()
        factors *= col_scale[:, None]
        loadings *= row_scale.reshape(-1)[:, None]
    if tr.nav_keep is not None and not reproject_navigation:
        loadings[~tr.nav_keep.reshape(-1)] = np.nan
    if tr.sig_keep is not None and not reproject_signal:
        factors[~tr.sig_keep] = np.nan
    denominator = max(n - 1, 1) if pca else max(n, 1)
    mean = None
    if tr.centre == "navigation":
        # Each channel's mean; with Poisson scaling, of the scaled data (see Factorisation).
        assert tr.mean is not None  # set with centre="navigation" before the fit
        mean = tr.mean[None, :]
    return factors, loadings, w_kept / denominator, (w_kept / total if total > 0 else np.zeros_like(w_kept)), mean


def _by_channels(u: Unfolded, tr: Treatments, output_dimension: int | None, pca: bool,
                 reproject_navigation: bool, reproject_signal: bool,
                 show_progressbar: bool | None, cache_bytes: int) -> Factorisation:
    n_cols = u.n_cols
    kernel = lambda b, loc: _gram_kernel(b, loc, n_cols)  # noqa: E731
    pieces = lambda p, loc, scratch: _gram_pieces(p, loc, scratch, n_cols)  # noqa: E731
    label = "Pass 1/2: Gram matrix and sums"
    if u.lazy and cache_bytes > 0:
        stats, kept = reduce_pass(u, kernel, _combine_gram, local=tr.local, show_progressbar=show_progressbar,
                                  label=label, cache_bytes=int(cache_bytes), pieces_kernel=pieces)
    else:
        stats, kept = reduce_pass(u, kernel, _combine_gram, local=tr.local, show_progressbar=show_progressbar,
                                  label=label, pieces_kernel=pieces), u
    n = stats["n"]
    gram = stats["gram"]
    if tr.poisson:
        tr = poisson_scales(u, tr, stats)
        col_scale = tr.scales()[1]
        cols = col_scale if tr.sig_keep is None else col_scale[tr.sig_keep]
        gram = gram / cols[:, None] / cols[None, :]
        if tr.centre == "signal":
            gram = _double_centred(gram)
    if tr.centre == "navigation":
        mean = stats["ycols"] / max(n, 1)
        tr = tr.with_(mean=mean / tr.scales()[1] if tr.poisson else mean)
    row_means = place_rows(u, stats["rows"]) / gram.shape[0] if tr.centre == "signal" and not tr.poisson else None
    k = _check_k(output_dimension, min(n, gram.shape[0]))
    w, v, total = _eig_desc(gram, k)
    v_k = np.ascontiguousarray(v[:, :k])

    # Per-pixel centring of Poisson-scaled data: each pixel's mean of its scaled fitted
    # channels (needs the channel scales, so it is found here, one more column of the product).
    mean_basis = np.full((gram.shape[0], 1), 1.0 / gram.shape[0]) if tr.centre == "signal" and tr.poisson else None

    def project(block: np.ndarray, loc: Treatments) -> np.ndarray:
        rows = loc.project(block, n_cols, v_k)
        if mean_basis is None:
            return rows
        return np.hstack([rows, loc.with_(centre=None).project(block, n_cols, mean_basis)])

    extra = None
    if reproject_signal and tr.sig_keep is not None:
        def cross(block: np.ndarray, loc: Treatments, rows: np.ndarray) -> np.ndarray:
            full = loc.rows(block, n_cols, all_channels=True)
            return loc.fit_rows(rows[:, :k]).T @ loc.fit_rows(full)  # not the means' column

        extra = (cross, _add)
    pieces_project = None if mean_basis is not None else (
        lambda p, loc: _project_pieces(p, loc, v_k, n_cols))  # noqa: E731
    out = map_pass(kept, project, local=tr.local, extra=extra, show_progressbar=show_progressbar,
                   pieces_kernel=pieces_project,
                   label="Pass 2/2: loadings" + (" (blocks kept from pass 1)" if kept.cached_fraction else ""))
    loadings, cross_sum = out if extra else (out, None)
    loadings = loadings.reshape(-1, loadings.shape[-1])
    if mean_basis is not None:  # each pixel's mean of its scaled fitted channels
        row_means = loadings[:, k]
        loadings = np.ascontiguousarray(loadings[:, :k])
    factors = np.full((n_cols, k), np.nan)
    keep = slice(None) if tr.sig_keep is None else tr.sig_keep
    factors[keep] = v_k
    if cross_sum is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            factors = (cross_sum / np.where(w[:k] > 0, w[:k], np.inf)[:, None]).T
    factors, loadings, ev, ratio, mean = _finish(u, tr, factors, loadings, w[:k], total, n, pca,
                                                 reproject_navigation, reproject_signal, "loadings")
    if row_means is not None:
        mean = row_means.reshape(-1, 1)
    reads = 1 if kept.cached_fraction == 1 else 2
    return Factorisation(factors, loadings, ev, ratio, mean, reads=reads, mean_row_scale=_row_scale(tr),
                         mean_col_scale=_col_scale(tr))


def _by_pixels(u: Unfolded, tr: Treatments, output_dimension: int | None, pca: bool,
               reproject_navigation: bool, reproject_signal: bool,
               show_progressbar: bool | None, cache_bytes: int) -> Factorisation:
    n_cols = u.n_cols
    reads = 2
    source = u
    if tr.poisson:
        # The channel sums must be known before the Gram matrix: a read of their own, which
        # also keeps the blocks packed when they fit ``cache_bytes`` (then no other read).
        if u.lazy and cache_bytes > 0:
            sums, source = reduce_pass(u, lambda b, loc: sums_kernel(b, loc, n_cols), combine_sums,
                                       local=tr.local, show_progressbar=show_progressbar,
                                       label="Pass 1/3: sums for Poisson scaling", cache_bytes=int(cache_bytes))
        else:
            sums = sums_pass(u, tr, show_progressbar=show_progressbar)
        tr = poisson_scales(u, tr, sums)
        reads = 3
    if u.lazy:
        kept_before = source.cached_fraction == 1
        if show_progressbar:
            print("Pixel Gram matrix and sums (blocks kept from pass 1)" if kept_before else
                  f"Pass {2 if tr.poisson else 1}: pixel Gram matrix and sums", flush=True)
        gram, stats, packs = _packed_pixel_gram(source, tr, show_progressbar=show_progressbar)
        reads = 1 if kept_before else (2 if tr.poisson else 1)
        # The factors pass takes the packed blocks from memory when they fit the budget.
        if kept_before or (cache_bytes > 0 and sum(p.nbytes for pack in packs for p in pack) <= cache_bytes):
            source = u.with_cache(packs)
        else:
            reads += 1
    else:
        parts = []
        for where, block in source.blocks():
            loc = tr.local(where)
            parts.append(dask.delayed(_rows_kernel, nout=2)(block, loc, n_cols, u.nav_ndim) if u.lazy
                         else _rows_kernel(block, loc, n_cols, u.nav_ndim))
        if u.lazy and show_progressbar:
            print(f"Pass {reads - 1}/{reads}: pixel Gram matrix and sums", flush=True)
        gram, stats = _pixel_gram(parts, u, show_progressbar=show_progressbar)
    n = stats["n"]
    keep = np.ones(u.n_rows, bool) if tr.nav_keep is None else tr.nav_keep.reshape(-1)
    if tr.centre == "navigation":
        # Centring channels = J G J over the fitted pixels, extended to every pixel.
        gram = _double_centred(gram, keep)
        tr = tr.with_(mean=stats["ycols"] / max(n, 1))
    w, v, total = _eig_desc(gram[np.ix_(keep, keep)])
    k = _check_k(output_dimension, min(n, tr.n_fit_cols(u)))
    w_k, u_k = w[:k], v[:, :k]
    with np.errstate(divide="ignore", invalid="ignore"):
        safe = np.where(w_k > w[0] * 1e-14, w_k, np.inf)
        loadings = gram[:, keep] @ u_k / safe  # fitted pixels: u_k; others: least squares
    loadings_nav = loadings.reshape(u.nav_shape + (k,))

    def factors_kernel(block: np.ndarray, loc: Treatments, lo: np.ndarray) -> np.ndarray:
        full = loc.rows(whole(block, u.nav_ndim, n_cols), n_cols, all_channels=True)
        return loc.fit_rows(full).T @ loc.fit_rows(lo)

    pieces = source.blocks()
    if u.lazy:
        f_parts = [dask.delayed(factors_kernel)(b, tr.local(wh), loadings_nav[wh.nav_slices].reshape(-1, k))
                   for wh, b in pieces]
        if show_progressbar:
            print("Factors (blocks kept in memory)" if source.cached_fraction == 1 else "Pass: factors", flush=True)
        (factors,) = compute_pass(tree_combine(f_parts, _add), show_progressbar=show_progressbar)
    else:
        factors = sum(factors_kernel(b, tr.local(wh), loadings_nav[wh.nav_slices].reshape(-1, k))
                      for wh, b in pieces)
    factors = np.array(factors, dtype=float)
    scaled_side = "factors"
    if pca:  # PCA (scikit-learn's, the peer's): unit factors whatever the orientation, S on the loadings
        sv = np.sqrt(w_k)
        nonzero = sv > 0
        factors[:, nonzero] /= sv[nonzero]
        loadings[:, nonzero] *= sv[nonzero]
        scaled_side = "loadings"
    factors, loadings, ev, ratio, mean = _finish(u, tr, factors, loadings, w_k, total, n, pca,
                                                 reproject_navigation, reproject_signal, scaled_side)
    if tr.centre == "signal":  # with Poisson, the row sums were weighted (see _rows_kernel)
        mean = (place_rows(u, stats["rows"]) / tr.n_fit_cols(u)).reshape(-1, 1)
        if tr.poisson:
            mean /= tr.scales()[0].reshape(-1, 1)
    return Factorisation(factors, loadings, ev, ratio, mean, reads=reads, mean_row_scale=_row_scale(tr),
                         mean_col_scale=_col_scale(tr))


def _double_centred(gram: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
    """``C G C`` with ``C = I - J/m``: the Gram matrix of the vectors behind ``G`` once their
    mean is subtracted, the mean taken over the ``keep`` vectors (all when None).

    Examples
    --------
    >>> y = np.array([[1.0, 2.0], [3.0, 5.0], [4.0, 0.0]])  # Gram of the rows, centred over rows
    >>> np.allclose(_double_centred(y @ y.T), (y - y.mean(axis=0)) @ (y - y.mean(axis=0)).T)
    True
    """
    r = (gram if keep is None else gram[:, keep]).mean(axis=1)
    c = (r if keep is None else r[keep]).mean()
    return gram - r[:, None] - r[None, :] + c


def _row_scale(tr: Treatments) -> np.ndarray | None:
    if tr.poisson and tr.centre is not None:
        return tr.scales()[0].reshape(-1).copy()
    return None


def _col_scale(tr: Treatments) -> np.ndarray | None:
    if tr.poisson and tr.centre is not None:
        return tr.scales()[1].copy()
    return None
