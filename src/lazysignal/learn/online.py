"""The two passes every online algorithm (NMF, ORPCA, ORNMF) shares: learn, then project.

* :func:`learn` streams the fitted rows of the data, block after block, to a model's
  ``partial_fit`` (one read; Poisson scaling needs its sums first: one more read).
* :func:`project` computes the loadings of every pixel with the learnt factors (one read),
  and, when masked channels are to be reprojected, the least-squares factors of every
  channel in the same read.
* :func:`finish` scales back Poisson normalisation and marks masked results with NaN.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .passes import Unfolded, map_pass, stream_blocks
from .svd import Factorisation
from .treatments import Treatments, poisson_scales, sums_pass

__all__ = ["OnlineLearner", "prepare", "learn", "project", "finish"]


class OnlineLearner:
    """The state the online learners (ORPCA, ORNMF) share: ``rank``, a random generator, the
    basis ``W`` (channels x rank; ``L`` in Feng, Xu & Yan), the sufficient statistics ``A``
    (rank x rank) and ``B`` (channels x rank), and the outlier ``threshold``. The basis and
    statistics are None until the first ``partial_fit`` calls :meth:`_begin`.

    Examples
    --------
    >>> m = OnlineLearner(2, random_state=0)
    >>> m.W is None
    True
    >>> m._begin(np.eye(3, 2)); m._basis().shape, [s.shape for s in m._stats()]
    ((3, 2), [(2, 2), (3, 2)])
    """

    def __init__(self, rank: int, random_state: int | None = None):
        self.rank = int(rank)
        self.rng = np.random.default_rng(random_state)
        self.W: np.ndarray | None = None
        self.A: np.ndarray | None = None
        self.B: np.ndarray | None = None
        self.threshold = 0.0

    def _begin(self, basis: np.ndarray) -> None:
        """Start from ``basis`` with empty statistics."""
        self.W = basis
        self.A = np.zeros((self.rank, self.rank))
        self.B = np.zeros((basis.shape[0], self.rank))

    def _basis(self) -> np.ndarray:
        assert self.W is not None, "the first partial_fit sets the basis"
        return self.W

    def _stats(self) -> tuple[np.ndarray, np.ndarray]:
        assert self.A is not None and self.B is not None, "the first partial_fit sets A and B"
        return self.A, self.B


def prepare(u: Unfolded, tr: Treatments, show_progressbar: bool | None) -> tuple[Treatments, int]:
    """Poisson scales when asked (one read of sums); returns the reads spent."""
    if not tr.poisson:
        return tr, 0
    return poisson_scales(u, tr, sums_pass(u, tr, show_progressbar=show_progressbar)), 1


def learn(u: Unfolded, tr: Treatments, partial_fit: Callable[[np.ndarray], None], *,
          num_chunks: int | None = None, show_progressbar: bool | None = None) -> None:
    """Feed the fitted rows of ``num_chunks`` blocks at a time to ``partial_fit``."""
    group = max(1, int(num_chunks or 1))
    pending: list[np.ndarray] = []
    n_cols = u.n_cols
    for where, block in stream_blocks(u, show_progressbar=show_progressbar, label="Pass: learning"):
        loc = tr.local(where)
        rows = loc.fit_rows(loc.rows(block, n_cols))
        if rows.shape[0]:
            pending.append(rows)
        if len(pending) >= group:
            partial_fit(np.concatenate(pending))
            pending = []
    if pending:
        partial_fit(np.concatenate(pending))


def project(u: Unfolded, tr: Treatments, transform: Callable[[np.ndarray], np.ndarray], k: int, *,
            reproject_signal: bool,
            show_progressbar: bool | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """Loadings of every pixel (navigation order, flattened) and, with ``reproject_signal``,
    least-squares factors of every channel (else None)."""
    n_cols = u.n_cols

    def kernel(block: np.ndarray, loc: Treatments) -> np.ndarray:
        return transform(loc.rows(block, n_cols))

    extra = None
    if reproject_signal and tr.sig_keep is not None:
        def cross(block: np.ndarray, loc: Treatments,
                  rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            fit = loc.fit_rows(rows)
            full = loc.fit_rows(loc.rows(block, n_cols, all_channels=True))
            return fit.T @ fit, fit.T @ full

        extra = (cross, lambda *parts: tuple(sum(p[i] for p in parts) for i in range(2)))
    out = map_pass(u, kernel, local=tr.local, extra=extra, show_progressbar=show_progressbar,
                   label="Pass: loadings")
    if extra is None:
        return out.reshape(-1, k), None
    loadings, (gram, cross_sum) = out
    factors = np.linalg.lstsq(gram, cross_sum, rcond=None)[0].T
    return loadings.reshape(-1, k), factors


def finish(u: Unfolded, tr: Treatments, factors_fit: np.ndarray, loadings: np.ndarray,
           factors_all: np.ndarray | None, *, reproject_navigation: bool, reads: int,
           explained_variance: np.ndarray | None = None) -> Factorisation:
    """Assemble a :class:`Factorisation`: all channels, Poisson scaling undone, NaN masks."""
    k = factors_fit.shape[1]
    factors = np.full((u.n_cols, k), np.nan)
    keep = slice(None) if tr.sig_keep is None else tr.sig_keep
    factors[keep] = factors_fit
    if factors_all is not None:
        factors = factors_all
    loadings = np.array(loadings, dtype=float)
    if tr.poisson:
        row_scale, col_scale = tr.scales()
        factors = factors * col_scale[:, None]
        loadings *= row_scale.reshape(-1)[:, None]
    if tr.nav_keep is not None and not reproject_navigation:
        loadings[~tr.nav_keep.reshape(-1)] = np.nan
    ratio = None
    if explained_variance is not None:
        total = explained_variance.sum()
        ratio = explained_variance / total if total > 0 else np.zeros_like(explained_variance)
    return Factorisation(factors, loadings, explained_variance, ratio, None, reads=reads)


def noise_scale(rows: np.ndarray, k: int) -> float:
    """A robust estimate of the noise level: MAD of the residual after a rank-k fit."""
    if rows.shape[0] == 0:
        return 1.0
    _, _, vt = np.linalg.svd(rows, full_matrices=False)
    residual = rows - (rows @ vt[:k].T) @ vt[:k]
    mad = np.median(np.abs(residual - np.median(residual)))
    scale = 1.4826 * mad
    return float(scale) if scale > 0 else float(np.abs(rows).mean() or 1.0)


def robust_start(rows: np.ndarray, k: int, lam: float,
                 iterations: int = 10) -> tuple[np.ndarray, np.ndarray, float]:
    """A rank-k start on the first batch with its sparse outliers removed.

    Outliers are first judged against each channel's median and spread (MAD, both robust to
    them), then by
    alternating a rank-k SVD and a soft threshold; the noise level is the MAD of the
    cleaned residual. Returns ``(vt_k, s_k, threshold)``: basis (k x channels), singular
    values, and ``lam`` times the noise level.
    """
    dev = rows - np.median(rows, axis=0)
    coarse = lam * 1.4826 * np.median(np.abs(dev), axis=0)  # per channel: signal + noise spread
    e = np.sign(dev) * np.maximum(np.abs(dev) - coarse, 0.0)
    threshold = float(np.median(coarse))
    for i in range(iterations):
        _, s, vt = np.linalg.svd(rows - e, full_matrices=False)
        res = rows - ((rows - e) @ vt[:k].T) @ vt[:k]
        if i == 0 or i == iterations // 2:
            noise = 1.4826 * float(np.median(np.abs(res - np.median(res))))
            threshold = lam * noise if noise > 0 else threshold
        e = np.sign(res) * np.maximum(np.abs(res) - threshold, 0.0)
    # A floor (0.1 % of the RMS) for noise-free data: a zero threshold would make every
    # residual an outlier and the sparse part swallow the data.
    floor = 1e-3 * float(np.sqrt(np.mean(rows ** 2)))
    return vt[:k], s[:k], max(threshold, floor)
