"""Online robust NMF (Zhao & Tan, "Online nonnegative matrix factorization with outliers",
IEEE Trans. Signal Process. 2016).

Each pixel ``v`` is split into ``W h + r`` with ``h >= 0`` and a sparse outlier part ``r``,
minimising ``0.5 ||v - W h - r||^2 + lambda ||r||_1`` by alternating a projected gradient
step on ``h`` and a soft threshold on ``r``; the statistics ``A = sum h h^T`` and
``B = sum (v - r) h^T`` update ``W`` by projected block coordinate descent onto
``{w >= 0, ||w|| <= 1}``. Fixed iteration counts: it always terminates. Factors and
loadings are non-negative. ``lambda_`` is in units of the noise level (first batch).
"""

from __future__ import annotations

import numpy as np

from . import online
from .passes import Unfolded
from .svd import Factorisation
from .treatments import Treatments

__all__ = ["ornmf_decomposition", "OnlineRobustNMF"]


class OnlineRobustNMF(online.OnlineLearner):
    """The ORNMF model; ``partial_fit(rows)`` learns, ``transform(rows)`` projects (h >= 0).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((300, 2)) @ rng.random((2, 15))
    >>> m = OnlineRobustNMF(2, random_state=0); m.partial_fit(x)
    >>> h = m.transform(x); bool(h.min() >= 0 and m.W.min() >= 0)
    True
    """

    def __init__(self, rank: int, *, lambda_: float = 3.0, inner_iter: int = 3, bcd_sweeps: int = 3,
                 batch_iter: int = 200, random_state: int | None = None):
        super().__init__(rank, random_state)
        self.lambda_ = float(lambda_)
        self.inner_iter, self.bcd_sweeps, self.batch_iter = int(inner_iter), int(bcd_sweeps), int(batch_iter)

    def _solve(self, v: np.ndarray, iterations: int,
               start: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        # h by HALS (exact coordinate steps, fast even when components overlap), r by soft threshold.
        W = self._basis()
        wtw = W.T @ W
        diag = np.maximum(np.diag(wtw), 1e-300)
        if start is None:
            h, r = np.maximum(np.linalg.lstsq(W, v.T, rcond=None)[0].T, 0.0), np.zeros_like(v)
        else:
            h, r = start
        for _ in range(iterations):
            target = (v - r) @ W
            for j in range(self.rank):
                h[:, j] = np.maximum(h[:, j] + (target[:, j] - h @ wtw[:, j]) / diag[j], 0.0)
            res = v - h @ W.T
            r = np.sign(res) * np.maximum(np.abs(res) - self.threshold, 0.0)
        return h, r

    def partial_fit(self, v: np.ndarray) -> None:
        """Learn from a batch of rows (pixels x channels)."""
        if self.W is None:
            vt, _, self.threshold = online.robust_start(v, self.rank, self.lambda_)
            W = np.abs(vt.T)
            if W.shape[1] < self.rank:
                W = np.hstack([W, self.rng.random((v.shape[1], self.rank - W.shape[1]))])
            W += 1e-3 * self.rng.random(W.shape)
            self._begin(W / np.linalg.norm(W, axis=0))
        a0, b0 = self._stats()
        state = None
        for _ in range(self.batch_iter):
            # Re-solve the batch (warm start) with the updated basis; it counts once in A and B.
            h, r = state = self._solve(v, self.inner_iter, state)
            self.A, self.B = a0 + h.T @ h, b0 + (v - r).T @ h
            self._update_basis()

    def _update_basis(self) -> None:
        W = self._basis()
        A, B = self._stats()
        for _ in range(self.bcd_sweeps):
            for j in range(self.rank):
                if A[j, j] <= 0:
                    continue
                w = np.maximum(W[:, j] + (B[:, j] - W @ A[:, j]) / A[j, j], 0.0)
                W[:, j] = w / max(1.0, float(np.linalg.norm(w)))

    def transform(self, v: np.ndarray) -> np.ndarray:
        """Non-negative coefficients of rows, outliers removed."""
        return self._solve(v, self.inner_iter)[0]


def ornmf_decomposition(u: Unfolded, tr: Treatments, *, output_dimension: int,
                        reproject_navigation: bool = True, reproject_signal: bool = False,
                        show_progressbar: bool | None = None, num_chunks: int | None = None,
                        lambda_: float = 3.0, inner_iter: int = 3, bcd_sweeps: int = 3,
                        batch_iter: int = 200, random_state: int | None = None) -> Factorisation:
    """ORNMF over the data: non-negative factors (unit norm at most) and loadings.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((200, 2)) @ rng.random((2, 10))
    >>> f = ornmf_decomposition(Unfolded(x, 1), Treatments(), output_dimension=2, random_state=0)
    >>> bool(f.factors.min() >= 0 and f.loadings.min() >= 0)
    True
    """
    tr, reads = online.prepare(u, tr, show_progressbar)
    model = OnlineRobustNMF(output_dimension, lambda_=lambda_, inner_iter=inner_iter, bcd_sweeps=bcd_sweeps,
                            batch_iter=batch_iter, random_state=random_state)
    online.learn(u, tr, model.partial_fit, num_chunks=num_chunks, show_progressbar=show_progressbar)
    loadings, factors_all = online.project(u, tr, model.transform, output_dimension,
                                           reproject_signal=reproject_signal, show_progressbar=show_progressbar)
    if factors_all is not None:
        factors_all = np.maximum(factors_all, 0.0)
    return online.finish(u, tr, model._basis().copy(), loadings, factors_all, reproject_navigation=reproject_navigation,
                         reads=reads + 2)
