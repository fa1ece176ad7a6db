"""NMF streamed over navigation blocks with scikit-learn's ``MiniBatchNMF``.

One read learns (each block's fitted rows go to ``partial_fit``; ``n_epochs`` > 1 reads the
data again that many times), one read projects (``transform`` of every pixel). Poisson
scaling adds one read for its sums.
"""

from __future__ import annotations

import numpy as np

from ..errors import DecompositionError
from . import online
from .passes import Unfolded
from .svd import Factorisation
from .treatments import Treatments

__all__ = ["nmf_decomposition"]


def nmf_decomposition(u: Unfolded, tr: Treatments, *, output_dimension: int,
                      reproject_navigation: bool = True, reproject_signal: bool = False,
                      show_progressbar: bool | None = None, num_chunks: int | None = None,
                      n_epochs: int = 1, beta_loss: str | float = "frobenius", alpha_W: float = 0.0,
                      alpha_H: float | str = "same", l1_ratio: float = 0.0, forget_factor: float = 0.7,
                      random_state: int | None = None, max_iter: int = 200,
                      batch_iter: int = 30) -> Factorisation:
    """Non-negative factors and loadings, learnt block by block.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> x = rng.random((40, 2)) @ rng.random((2, 12))
    >>> f = nmf_decomposition(Unfolded(x, 1), Treatments(), output_dimension=2, random_state=0)
    >>> f.factors.shape, bool((f.factors >= 0).all() and (f.loadings >= 0).all())
    ((12, 2), True)
    """
    from sklearn.decomposition import MiniBatchNMF

    if n_epochs < 1:
        raise DecompositionError(f"n_epochs must be at least 1; got {n_epochs}.")
    tr, reads = online.prepare(u, tr, show_progressbar)
    model = MiniBatchNMF(n_components=output_dimension, beta_loss=beta_loss, alpha_W=alpha_W,
                         alpha_H=alpha_H, l1_ratio=l1_ratio, forget_factor=forget_factor,
                         random_state=random_state, max_iter=max_iter)

    def partial_fit(rows: np.ndarray) -> None:
        if (rows < 0).any():
            raise DecompositionError("NMF needs non-negative data; the data hold negative values. "
                                     "Remove the offset (s - s.min()) or use algorithm='SVD'.")
        for _ in range(int(batch_iter)):  # several steps per block read: better use of one read
            model.partial_fit(rows)

    for _ in range(int(n_epochs)):
        online.learn(u, tr, partial_fit, num_chunks=num_chunks, show_progressbar=show_progressbar)
    reads += int(n_epochs)
    loadings, factors_all = online.project(
        u, tr, lambda rows: model.transform(np.clip(rows, 0, None)), output_dimension,
        reproject_signal=reproject_signal, show_progressbar=show_progressbar)
    return online.finish(u, tr, model.components_.T, loadings, factors_all,
                         reproject_navigation=reproject_navigation, reads=reads + 1)
