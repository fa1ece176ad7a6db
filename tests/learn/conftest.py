"""A synthetic rank-3 dataset with known factors and loadings, plus noise."""

import numpy as np
import pytest

#: Relative Frobenius error of the rank-3 model against the noise-free data, per algorithm.
#: Exact SVD/PCA and ORPCA reach the noise floor (~0.3 %); the online NMFs converge more slowly.
TOLERANCE = {"SVD": 0.01, "PCA": 0.01, "ORPCA": 0.01, "NMF": 0.10, "ORNMF": 0.10}


def make_rank3(nav=(12, 10), channels=48, noise=0.01, seed=0):
    """(data, clean) with data = loadings @ factors + noise, everything non-negative."""
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, channels)
    factors = np.stack([np.exp(-((x - c) / 0.08) ** 2) for c in (0.25, 0.5, 0.75)])  # 3 peaks
    loadings = rng.random(nav + (3,))
    clean = loadings @ factors
    data = clean + noise * rng.standard_normal(clean.shape)
    return np.clip(data, 0, None), clean


@pytest.fixture(scope="session")
def tolerance():
    return TOLERANCE


@pytest.fixture(scope="module")
def rank3():
    return make_rank3()


def counted(data, chunks):
    """A dask array over ``data`` that records the location of every block it hands out."""
    import dask.array as da

    reads = []

    def record(block, block_info=None):
        reads.append(tuple(block_info[0]["chunk-location"]))
        return block

    x = da.from_array(data, chunks=chunks).map_blocks(record, dtype=data.dtype)
    return x, reads


@pytest.fixture(scope="module")
def counted_array():
    return counted
