"""Online robust PCA (Feng, Xu & Yan, "Online robust PCA via stochastic optimization", NIPS 2013).

Each pixel ``z`` (a row of fitted channels) is split into a low-rank part ``L r`` and a sparse
part ``e`` by minimising ``0.5 ||z - L r - e||^2 + lambda1/2 ||r||^2 + lambda2 ||e||_1``
(alternating a ridge solve for ``r`` and a soft threshold for ``e``); the sufficient
statistics ``A = sum r r^T`` and ``B = sum (z - e) r^T`` then update the basis ``L`` by block
coordinate descent. Rows are processed a mini-batch at a time, with fixed iteration counts, so
the algorithm always terminates: one read learns, one read projects.

Scales: ``lambda1`` is relative to the mean energy of a component of ``L``; ``lambda2`` is in
units of the noise level, estimated (MAD of a rank-k residual) on the first batch.
"""

from __future__ import annotations

import numpy as np

from . import online
from .passes import Unfolded
from .svd import Factorisation
from .treatments import Treatments

__all__ = ["orpca_decomposition", "OnlineRobustPCA"]


def _soft(x: np.ndarray, t: float) -> np.ndarray:
    return np.sign(x) * np.maximum(np.abs(x) - t, 0.0)


class OnlineRobustPCA(online.OnlineLearner):
    """The ORPCA model; ``partial_fit(rows)`` learns, ``transform(rows)`` projects.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((200, 3)) @ rng.random((3, 20))
    >>> m = OnlineRobustPCA(3); m.partial_fit(x)
    >>> r = m.transform(x); bool(np.abs(r @ m.basis().T - x).max() < 0.05)
    True
    """

    def __init__(self, rank: int, *, lambda1: float = 1e-3, lambda2: float = 3.0, inner_iter: int = 10,
                 bcd_sweeps: int = 3, random_state: int | None = None):
        super().__init__(rank, random_state)
        self.lambda1, self.lambda2 = float(lambda1), float(lambda2)
        self.inner_iter, self.bcd_sweeps = int(inner_iter), int(bcd_sweeps)

    def _ridge(self) -> float:
        return self.lambda1 * float(np.mean(np.sum(self._basis() ** 2, axis=0))) + 1e-300

    def _solve(self, z: np.ndarray, iterations: int, ridge: bool = True) -> tuple[np.ndarray, np.ndarray]:
        # Minimising over e first leaves a Huber regression for r; iteratively reweighted
        # least squares solves it in a few steps where alternating r/e steps crawl (a spike
        # on a high-leverage channel is shed only a little per alternation).
        L = self._basis()
        reg = (self._ridge() if ridge else 0.0) * np.eye(self.rank)
        r = np.linalg.solve(L.T @ L + reg, L.T @ z.T).T
        t = self.threshold
        for _ in range(iterations):
            res = np.abs(z - r @ L.T)
            w = np.where(res <= t, 1.0, t / np.maximum(res, 1e-300))
            if t <= 0 or w.min() == 1.0:
                break
            a = np.einsum("pm,mk,ml->pkl", w, L, L) + reg
            r = np.linalg.solve(a, ((w * z) @ L)[..., None])[..., 0]
        res = z - r @ L.T
        return r, np.sign(res) * np.maximum(np.abs(res) - t, 0.0)

    def partial_fit(self, z: np.ndarray) -> None:
        """Learn from a batch of rows (pixels x channels)."""
        if self.W is None:
            vt, s, self.threshold = online.robust_start(z, self.rank, self.lambda2)
            k = vt.shape[0]
            L = np.zeros((z.shape[1], self.rank))
            L[:, :k] = vt.T * (s / np.sqrt(max(z.shape[0], 1)))
            if k < self.rank:
                L[:, k:] = self.rng.normal(scale=1e-3 * (s[0] if s.size else 1.0), size=(z.shape[1], self.rank - k))
            self._begin(L)
        r, e = self._solve(z, self.inner_iter)
        A, B = self._stats()
        A += r.T @ r  # in place: self.A and self.B accumulate
        B += (z - e).T @ r
        a = A + self._ridge() * np.eye(self.rank)
        L = self._basis()
        for _ in range(self.bcd_sweeps):
            for j in range(self.rank):
                L[:, j] += (B[:, j] - L @ a[:, j]) / a[j, j]

    def basis(self) -> np.ndarray:
        """The learnt basis with orthonormal columns (channels x rank)."""
        q, _ = np.linalg.qr(self._basis())
        return q

    def transform(self, z: np.ndarray) -> np.ndarray:
        """Coefficients of rows on :meth:`basis` after removing their sparse part."""
        saved, self.W = self.W, self.basis()
        try:
            r, _ = self._solve(z, self.inner_iter, ridge=False)
        finally:
            self.W = saved
        return r


def orpca_decomposition(u: Unfolded, tr: Treatments, *, output_dimension: int,
                        reproject_navigation: bool = True, reproject_signal: bool = False,
                        show_progressbar: bool | None = None, num_chunks: int | None = None,
                        lambda1: float = 1e-3, lambda2: float = 3.0, inner_iter: int = 10,
                        bcd_sweeps: int = 3, random_state: int | None = None) -> Factorisation:
    """ORPCA over the data: orthonormal factors, loadings ordered by explained variance.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((100, 2)) @ rng.random((2, 10))
    >>> f = orpca_decomposition(Unfolded(x, 1), Treatments(), output_dimension=2)
    >>> bool(np.abs(f.loadings @ f.factors.T - x).max() < 0.05)
    True
    """
    tr, reads = online.prepare(u, tr, show_progressbar)
    model = OnlineRobustPCA(output_dimension, lambda1=lambda1, lambda2=lambda2, inner_iter=inner_iter,
                            bcd_sweeps=bcd_sweeps, random_state=random_state)
    online.learn(u, tr, model.partial_fit, num_chunks=num_chunks, show_progressbar=show_progressbar)
    basis = model.basis()
    saved, model.W = model.W, basis
    loadings, factors_all = online.project(u, tr, lambda rows: model._solve(rows, inner_iter, ridge=False)[0],
                                           output_dimension, reproject_signal=reproject_signal,
                                           show_progressbar=show_progressbar)
    model.W = saved
    # Rotate to the principal axes of the low-rank part: loadings @ basis.T = U S (basis W)^T.
    keep = np.ones(u.n_rows, bool) if tr.nav_keep is None else tr.nav_keep.reshape(-1)
    fit = loadings[keep]
    w2, rot = np.linalg.eigh(fit.T @ fit)
    rot = rot[:, ::-1]
    n = max(int(keep.sum()), 1)
    factors_fit, loadings = basis @ rot, loadings @ rot
    if factors_all is not None:
        factors_all = factors_all @ rot
    return online.finish(u, tr, factors_fit, loadings, factors_all, reproject_navigation=reproject_navigation,
                         reads=reads + 2, explained_variance=np.clip(w2[::-1], 0, None) / n)
