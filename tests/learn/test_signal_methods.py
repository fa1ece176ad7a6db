"""Signals built from the results, BSS, normalisation, print_info, progress, per-class defaults."""

import numpy as np
import pytest

from lazysignal.errors import DecompositionError
from lazysignal.signals import Signal1D


@pytest.fixture
def decomposed(rank3):
    s = Signal1D(rank3[0]).as_lazy(chunks=(4, 10, 48))
    s.axes_manager[0].name, s.axes_manager[1].name, s.axes_manager[2].name = "x", "y", "E"
    s.metadata.set_item("General.title", "cube")
    s.decomposition(output_dimension=4, print_info=False)
    return s


def test_factor_and_loading_signals(decomposed):
    lr = decomposed.learning_results
    factors, loadings = decomposed.get_decomposition_factors(), decomposed.get_decomposition_loadings()
    assert factors.axes_manager.navigation_shape == (4,) and factors.axes_manager.signal_shape == (48,)
    assert factors.axes_manager.signal_axes[0].name == "E"
    np.testing.assert_array_equal(factors.data, lr.factors.T)
    assert loadings.axes_manager.signal_shape == (10, 12)
    assert [a.name for a in loadings.axes_manager.signal_axes] == ["x", "y"]
    np.testing.assert_array_equal(loadings.data.reshape(4, -1), lr.loadings.T)


def test_model_components_and_laziness(decomposed, rank3):
    full = decomposed.get_decomposition_model()
    assert full.lazy and full.data.chunks[:2] == decomposed.data.chunks[:2]
    assert "model from decomposition with 4 components" in full.metadata.General.title
    two = decomposed.get_decomposition_model(2).data.compute()
    picked = decomposed.get_decomposition_model([0, 1]).data.compute()
    np.testing.assert_allclose(two, picked)
    lr = decomposed.learning_results
    np.testing.assert_allclose(two.reshape(-1, 48), lr.loadings[:, :2] @ lr.factors[:, :2].T)
    eager = Signal1D(rank3[0])
    eager.decomposition(output_dimension=4, print_info=False)
    assert not eager.get_decomposition_model().lazy
    with pytest.raises(DecompositionError, match="between 1 and 4"):
        decomposed.get_decomposition_model(9)


def test_model_includes_the_mean_for_pca(rank3):
    s = Signal1D(rank3[0] + 5.0).as_lazy(chunks=(6, 10, 48))  # a large offset: the mean matters
    s.decomposition(algorithm="PCA", output_dimension=3, print_info=False)
    model = s.get_decomposition_model().data.compute()
    np.testing.assert_allclose(model, rank3[1] + 5.0, atol=0.05)


def test_explained_variance_ratio_signal(decomposed):
    ratio = decomposed.get_explained_variance_ratio()
    np.testing.assert_array_equal(ratio.data, decomposed.learning_results.explained_variance_ratio)
    assert ratio.axes_manager.signal_axes[0].name == "Principal component index"
    assert 0.9 < ratio.data[:3].sum() <= 1.0


def test_normalize_components_keeps_the_model(decomposed):
    before = decomposed.get_decomposition_model().data.compute()
    decomposed.normalize_decomposition_components(target="loadings", function=np.max)
    np.testing.assert_allclose(decomposed.learning_results.loadings.max(axis=0), 1.0)
    np.testing.assert_allclose(decomposed.get_decomposition_model().data.compute(), before, atol=1e-12)
    with pytest.raises(DecompositionError, match="target"):
        decomposed.normalize_decomposition_components(target="both")


def test_blind_source_separation_recovers_the_peaks(rank3):
    s = Signal1D(rank3[0]).as_lazy(chunks=(4, 10, 48))
    s.decomposition(output_dimension=3, print_info=False)
    s.blind_source_separation(3, print_info=False, random_state=0)
    lr = s.learning_results
    assert lr.bss_algorithm == "sklearn_fastica" and lr.unmixing_matrix.shape == (3, 3)
    np.testing.assert_allclose(lr.bss_loadings @ lr.bss_factors.T, lr.loadings @ lr.factors.T, atol=1e-10)
    peaks = sorted(int(np.argmax(f)) for f in lr.bss_factors.T)
    x = np.linspace(0, 1, 48)
    assert all(abs(x[p] - c) < 0.05 for p, c in zip(peaks, (0.25, 0.5, 0.75)))
    s.blind_source_separation(3, on_loadings=True, print_info=False, random_state=0)
    assert s.learning_results.on_loadings is True
    with pytest.raises(TypeError, match="bogus"):
        s.blind_source_separation(3, bogus=1, print_info=False)
    with pytest.raises(DecompositionError, match="between 2 and"):
        s.blind_source_separation(5, print_info=False)


def test_methods_need_a_decomposition(rank3):
    s = Signal1D(rank3[0])
    for method in (s.get_decomposition_model, s.get_decomposition_factors, s.get_decomposition_loadings,
                   s.get_explained_variance_ratio, s.blind_source_separation):
        with pytest.raises(DecompositionError, match=r"s.decomposition\(\) first"):
            method()


def test_data_are_never_modified(rank3):
    x = rank3[0].copy()
    s = Signal1D(x)
    s.decomposition(normalize_poissonian_noise=True, navigation_mask=np.eye(10, 12, dtype=bool), print_info=False)
    s.undo_treatments()
    np.testing.assert_array_equal(s.data, rank3[0])


def test_print_info_and_progress(rank3, capsys):
    s = Signal1D(rank3[0]).as_lazy(chunks=(6, 10, 48))
    s.decomposition(output_dimension=3, show_progressbar=True)
    out = capsys.readouterr().out
    assert "algorithm=SVD" in out and "components=3 (1 read of the data)" in out  # blocks kept from pass 1
    assert "Pass 1/2" in out and "Pass 2/2" in out and "Completed" in out
    s.decomposition(output_dimension=3, print_info=False, show_progressbar=False)
    assert capsys.readouterr().out == ""


def test_poisson_default_is_a_class_attribute(rank3):
    class CountsSignal(Signal1D):
        _default_poisson_normalization = True

    s = CountsSignal(rank3[0])
    s.decomposition(output_dimension=3, print_info=False)
    assert s.learning_results.poissonian_noise_normalized is True
    s.decomposition(output_dimension=3, normalize_poissonian_noise=False, print_info=False)
    assert s.learning_results.poissonian_noise_normalized is False


def test_learning_results_attributes(decomposed):
    lr = decomposed.learning_results
    assert lr.decomposition_algorithm == "SVD" and lr.output_dimension == 4 and lr.centre is None
    assert lr.mean is None and lr.original_shape == (12, 10, 48) and lr.unfolded is True
    assert "algorithm=SVD" in repr(lr)
    with pytest.raises(AttributeError, match="no attribute 'fators'"):
        lr.fators  # noqa: B018
