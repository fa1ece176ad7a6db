"""Blind source separation of decomposition components with scikit-learn's FastICA.

With factors ``F`` (channels x n) and loadings ``L`` (pixels x n), any invertible ``W``
gives the same model: ``L F^T = (L W^-1) (F W^T)^T``. FastICA finds the ``W`` that makes the
(differentiated) factors, or the loadings, most independent.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..errors import DecompositionError
from ..options import check_method_options

__all__ = ["unmix"]

_FASTICA_OPTIONS = {"algorithm", "fun", "fun_args", "max_iter", "tol", "w_init", "random_state",
                    "whiten_solver"}


def unmix(factors: np.ndarray, loadings: np.ndarray, n: int, *, algorithm: str = "sklearn_fastica",
          on_loadings: bool = False, diff_order: int = 1,
          **options: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(bss_factors, bss_loadings, unmixing_matrix)`` of the first ``n`` components.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> f, lo = rng.laplace(size=(50, 2)), rng.random((30, 2))
    >>> bf, bl, w = unmix(f, lo, 2, random_state=0)
    >>> bool(np.allclose(bl @ bf.T, lo @ f.T))
    True
    """
    from sklearn.decomposition import FastICA

    if algorithm != "sklearn_fastica":
        raise DecompositionError(f"algorithm={algorithm!r} is not known; use 'sklearn_fastica'.")
    check_method_options(options, _FASTICA_OPTIONS, where="blind_source_separation (FastICA)")
    if not 2 <= n <= factors.shape[1]:
        raise DecompositionError(f"number_of_components={n} must be between 2 and the {factors.shape[1]} "
                                 "decomposition components.")
    f, lo = factors[:, :n], loadings[:, :n]
    target = lo if on_loadings else f
    data = target[~np.isnan(target).any(axis=1)]
    if diff_order and not on_loadings:
        data = np.diff(data, n=diff_order, axis=0)
    ica = FastICA(n_components=n, whiten="unit-variance", **options)
    ica.fit(data)
    w = np.asarray(ica.components_, dtype=float)  # rows unmix the target's columns
    if on_loadings:
        bss_loadings, bss_factors = lo @ w.T, f @ np.linalg.inv(w)
        scaled = bss_loadings
    else:
        bss_factors, bss_loadings = f @ w.T, lo @ np.linalg.inv(w)
        scaled = bss_factors
    finite = np.nan_to_num(scaled)
    signs = np.sign(finite[np.argmax(np.abs(finite), axis=0), np.arange(n)])
    signs[signs == 0] = 1
    return bss_factors * signs, bss_loadings * signs, w * signs[:, None]
