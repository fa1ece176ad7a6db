"""NMF, ORPCA and ORNMF on the rank-3 dataset: accuracy, eager and lazy, reads, masks."""

from collections import Counter

import numpy as np
import pytest

from lazysignal.errors import DecompositionError
from lazysignal.signals import Signal1D

ONLINE = ["NMF", "ORPCA", "ORNMF"]
CHUNKS = [None, (3, 10, 48), (12, 2, 48), (5, 5, 16)]


def _relative_error(s, clean):
    model = s.get_decomposition_model().data
    model = np.asarray(model.compute() if hasattr(model, "compute") else model)
    return np.linalg.norm(model - clean) / np.linalg.norm(clean)


@pytest.mark.parametrize("algorithm", ["SVD", "PCA", *ONLINE])
@pytest.mark.parametrize("chunks", CHUNKS)
def test_rank3_reconstruction_within_tolerance(rank3, tolerance, algorithm, chunks):
    data, clean = rank3
    s = Signal1D(data) if chunks is None else Signal1D(data).as_lazy(chunks=chunks)
    seed = {"random_state": 0} if algorithm in ONLINE else {}
    s.decomposition(algorithm=algorithm, output_dimension=3, print_info=False, **seed)
    assert _relative_error(s, clean) < tolerance[algorithm]
    lr = s.learning_results
    assert lr.factors.shape == (48, 3) and lr.loadings.shape == (120, 3)
    assert lr.decomposition_algorithm == algorithm


@pytest.mark.parametrize("chunks", CHUNKS)
def test_ornmf_and_nmf_are_non_negative(rank3, chunks):
    for algorithm in ("ORNMF", "NMF"):
        s = Signal1D(rank3[0]) if chunks is None else Signal1D(rank3[0]).as_lazy(chunks=chunks)
        s.decomposition(algorithm=algorithm, output_dimension=3, print_info=False, random_state=0)
        assert s.learning_results.factors.min() >= 0 and s.learning_results.loadings.min() >= 0


def test_orpca_removes_sparse_outliers(rank3):
    data, clean = rank3
    spiky = data.copy()
    rng = np.random.default_rng(1)
    spiky.reshape(-1)[rng.choice(spiky.size, 60, replace=False)] += 20.0  # hot pixels
    robust = Signal1D(spiky).as_lazy(chunks=(4, 10, 48))
    robust.decomposition(algorithm="ORPCA", output_dimension=3, print_info=False)
    plain = Signal1D(spiky)
    plain.decomposition(output_dimension=3, print_info=False)
    assert _relative_error(robust, clean) < 0.02 < _relative_error(plain, clean)


@pytest.mark.parametrize("algorithm", ONLINE)
def test_one_read_to_learn_one_to_project(rank3, counted_array, algorithm):
    x, reads = counted_array(rank3[0], chunks=(4, 5, 48))
    s = Signal1D(x)
    s.decomposition(algorithm=algorithm, output_dimension=3, print_info=False)
    assert set(Counter(reads).values()) == {2} and len(Counter(reads)) == 6
    reads.clear()
    s.decomposition(algorithm=algorithm, output_dimension=3, normalize_poissonian_noise=True, print_info=False)
    assert set(Counter(reads).values()) == {3}  # Poisson sums need their own read before learning


def test_num_chunks_groups_blocks_per_step(rank3, tolerance):
    s = Signal1D(rank3[0]).as_lazy(chunks=(2, 10, 48))
    s.decomposition(algorithm="ORPCA", output_dimension=3, num_chunks=3, print_info=False)
    assert _relative_error(s, rank3[1]) < tolerance["ORPCA"]


@pytest.mark.parametrize("algorithm", ONLINE)
def test_masked_pixels_are_left_out_and_reprojected(rank3, tolerance, algorithm):
    data, clean = rank3
    mask = np.zeros((10, 12), bool)
    mask[:, :2] = True
    s = Signal1D(data).as_lazy(chunks=(4, 10, 48))
    s.decomposition(algorithm=algorithm, output_dimension=3, navigation_mask=mask, reproject=False,
                    print_info=False)
    assert np.isnan(s.learning_results.loadings.reshape(12, 10, 3)[:2]).all()
    assert not np.isnan(s.learning_results.loadings.reshape(12, 10, 3)[2:]).any()
    s.decomposition(algorithm=algorithm, output_dimension=3, navigation_mask=mask, print_info=False)
    assert _relative_error(s, clean) < tolerance[algorithm]


def test_online_algorithm_rejects_an_option_of_another(rank3):
    with pytest.raises(TypeError, match="lambda_"):
        Signal1D(rank3[0]).decomposition(algorithm="ORPCA", output_dimension=3, lambda_=1.0, print_info=False)


def test_nmf_on_negative_data_is_an_error():
    s = Signal1D(-np.ones((4, 4, 8))).as_lazy()
    with pytest.raises(DecompositionError, match="non-negative"):
        s.decomposition(algorithm="NMF", output_dimension=2, print_info=False)
