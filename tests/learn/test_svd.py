"""Exact SVD/PCA in two reads: against numpy's SVD, lazy == eager, masks, Poisson, reads."""

from collections import Counter

import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lazysignal.errors import DecompositionError, UnsupportedOptionError
from lazysignal.learn.passes import Unfolded
from lazysignal.learn.svd import svd_decomposition
from lazysignal.learn.treatments import Treatments
from lazysignal.signals import Signal1D, Signal2D
from lazysignal.testing import chunks_for


def _abs_close(a, b, **kw):
    np.testing.assert_allclose(np.abs(a), np.abs(b), **kw)


def _same_up_to_sign(a, b, atol):
    """Columns equal up to each column's sign."""
    for j in range(a.shape[1]):
        sign = np.sign(np.vdot(np.nan_to_num(a[:, j]), np.nan_to_num(b[:, j]))) or 1
        np.testing.assert_allclose(a[:, j], sign * b[:, j], atol=atol)


@pytest.mark.parametrize("centre", [None, "navigation", "signal"])
@pytest.mark.parametrize("shape", [(12, 10, 48), (2, 3, 48)])  # channels <= pixels, and pixels < channels
def test_svd_matches_numpy(rank3, centre, shape):
    data = make = rank3[0][: shape[0], : shape[1]]
    s = Signal1D(make)
    s.decomposition(centre=centre, print_info=False)
    x = data.reshape(-1, 48)
    if centre == "navigation":
        x = x - x.mean(axis=0)
    elif centre == "signal":
        x = x - x.mean(axis=1, keepdims=True)
    u, sv, vt = np.linalg.svd(x, full_matrices=False)
    lr = s.learning_results
    k = min(x.shape)
    top = 3  # the well-separated components (the rest is noise of equal size)
    np.testing.assert_allclose(lr.explained_variance[:k], sv ** 2 / x.shape[0], rtol=1e-6, atol=1e-12)
    _same_up_to_sign(lr.factors[:, :top] @ np.diag(1 / np.linalg.norm(lr.factors[:, :top], axis=0)),
                     vt[:top].T, atol=1e-6)
    np.testing.assert_allclose(lr.explained_variance_ratio.sum(), 1.0)
    model = s.get_decomposition_model()
    np.testing.assert_allclose(model.data, data, atol=1e-9)


@given(data=st.data(), algorithm=st.sampled_from(["SVD", "PCA"]),
       centre=st.sampled_from([None, "signal"]), poisson=st.booleans())
@settings(max_examples=15)
def test_lazy_equals_eager(rank3, data, algorithm, centre, poisson):
    x = rank3[0][:6, :5, :20]
    if algorithm == "PCA" or poisson:
        centre = None
    eager = Signal1D(x)
    eager.decomposition(algorithm=algorithm, centre=centre, normalize_poissonian_noise=poisson,
                        output_dimension=4, print_info=False)
    lazy = Signal1D(x).as_lazy(chunks=data.draw(chunks_for(x.shape)))
    lazy.decomposition(algorithm=algorithm, centre=centre, normalize_poissonian_noise=poisson,
                       output_dimension=4, print_info=False)
    a, b = eager.learning_results, lazy.learning_results
    np.testing.assert_allclose(b.explained_variance, a.explained_variance, rtol=1e-8)
    _same_up_to_sign(b.factors, a.factors, atol=1e-8)
    _same_up_to_sign(b.loadings, a.loadings, atol=1e-8)
    model = lazy.get_decomposition_model()
    assert model.lazy
    np.testing.assert_allclose(model.data.compute(), eager.get_decomposition_model().data, atol=1e-9)


def test_pca_matches_scikit_learn(rank3):
    from sklearn.decomposition import PCA

    x = rank3[0]
    s = Signal1D(x).as_lazy(chunks=(5, 10, 48))
    s.decomposition(algorithm="PCA", output_dimension=3, print_info=False)
    ref = PCA(3).fit(x.reshape(-1, 48))
    lr = s.learning_results
    np.testing.assert_allclose(lr.explained_variance, ref.explained_variance_, rtol=1e-8)
    np.testing.assert_allclose(lr.explained_variance_ratio, ref.explained_variance_ratio_, rtol=1e-8)
    _same_up_to_sign(lr.factors, ref.components_.T, atol=1e-8)
    np.testing.assert_allclose(lr.mean.ravel(), ref.mean_)
    assert lr.centre == "navigation"


@pytest.mark.parametrize("shape", [(12, 10, 48), (2, 3, 48)])
def test_poisson_matches_eager_formula(shape):
    rng = np.random.default_rng(3)
    x = rng.poisson(rng.random(shape[:2] + (3,)) @ (4 * rng.random((3, 48))) + 0.5).astype(float)
    plain, scaled = Signal1D(x), Signal1D(x).as_lazy(chunks=(1,) + shape[1:])
    plain.decomposition(output_dimension=3, print_info=False)
    scaled.decomposition(output_dimension=3, normalize_poissonian_noise=True, print_info=False)
    flat = x.reshape(-1, 48)
    a_g, b_h = flat.sum(axis=1), flat.sum(axis=0)
    y = flat / np.sqrt(a_g)[:, None] / np.sqrt(b_h)[None, :]
    u, sv, vt = np.linalg.svd(y, full_matrices=False)
    lr = scaled.learning_results
    assert lr.poissonian_noise_normalized is True
    np.testing.assert_allclose(lr.explained_variance, sv[:3] ** 2 / flat.shape[0], rtol=1e-8)
    # Factors and loadings are scaled back: the model is the SVD model of y, unscaled.
    ref_model = (u[:, :3] * sv[:3]) @ vt[:3] * np.sqrt(a_g)[:, None] * np.sqrt(b_h)[None, :]
    np.testing.assert_allclose(scaled.get_decomposition_model().data.compute().reshape(-1, 48), ref_model,
                               atol=1e-9)
    assert not np.allclose(np.abs(lr.factors), np.abs(plain.learning_results.factors), rtol=1e-2)


def test_negative_data_with_poisson_is_an_error():
    s = Signal1D(np.random.default_rng(0).standard_normal((4, 5, 8))).as_lazy()
    with pytest.raises(DecompositionError, match="non-negative.*normalize_poissonian_noise=False"):
        s.decomposition(normalize_poissonian_noise=True, print_info=False)


@pytest.mark.parametrize("lazy", [False, True])
def test_masked_fit_equals_fit_of_unmasked_pixels_alone(rank3, lazy):
    x = rank3[0]
    nav_mask = np.zeros((10, 12), bool)  # axes_manager.navigation_shape: x first
    nav_mask[3:6, 2:9] = True
    sig_mask = np.zeros(48, bool)
    sig_mask[40:] = True
    s = Signal1D(x)
    if lazy:
        s = s.as_lazy(chunks=(4, 5, 48))
    s.decomposition(output_dimension=3, navigation_mask=nav_mask, signal_mask=da.from_array(sig_mask),
                    reproject=False, print_info=False)
    keep = ~nav_mask.T.reshape(-1)
    alone = Signal1D(x.reshape(-1, 48)[keep][:, ~sig_mask])
    alone.decomposition(output_dimension=3, print_info=False)
    lr, ref = s.learning_results, alone.learning_results
    np.testing.assert_allclose(lr.explained_variance, ref.explained_variance, rtol=1e-8)
    _same_up_to_sign(lr.factors[~sig_mask], ref.factors, atol=1e-8)
    _same_up_to_sign(lr.loadings[keep], ref.loadings, atol=1e-8)
    assert np.isnan(lr.factors[sig_mask]).all() and np.isnan(lr.loadings[~keep]).all()
    assert lr.navigation_mask.shape == (12, 10) and lr.signal_mask.shape == (48,)


def test_reproject_gives_masked_pixels_and_channels_their_values(rank3):
    x, clean = rank3
    nav_mask = np.zeros((10, 12), bool)
    nav_mask[0, :4] = True
    sig_mask = np.zeros(48, bool)
    sig_mask[::7] = True
    for shape in [(12, 10), (2, 3)]:  # channel Gram and pixel Gram
        s = Signal1D(x[: shape[0], : shape[1]]).as_lazy(chunks=(1, shape[1], 48))
        mask = nav_mask[: shape[1], : shape[0]]
        s.decomposition(output_dimension=3, navigation_mask=mask, signal_mask=sig_mask, reproject="both",
                        print_info=False)
        model = s.get_decomposition_model().data.compute()
        assert not np.isnan(model).any()
        np.testing.assert_allclose(model, clean[: shape[0], : shape[1]], atol=0.05)


def test_at_most_two_reads_of_every_block(rank3, counted_array):
    x, reads = counted_array(rank3[0], chunks=(4, 5, 16))
    s = Signal1D(x)
    s.decomposition(output_dimension=3, normalize_poissonian_noise=True, print_info=False, cache_bytes=0)
    counts = Counter(reads)
    assert len(counts) == 3 * 2 * 3 and set(counts.values()) == {2}
    reads.clear()
    s.decomposition(algorithm="PCA", navigation_mask=np.zeros((10, 12), bool), reproject="both",
                    print_info=False, cache_bytes=0)
    assert set(Counter(reads).values()) == {2}
    reads.clear()
    s.get_decomposition_model().data.compute()  # built from the results alone
    assert reads == []


def test_blocks_kept_compressed_are_read_once(rank3, counted_array, capsys):
    x, reads = counted_array(rank3[0], chunks=(4, 5, 16))
    reference = Signal1D(rank3[0])
    reference.decomposition(output_dimension=3, print_info=False)
    s = Signal1D(x)
    s.decomposition(output_dimension=3)  # default budget: this small cube fits
    assert set(Counter(reads).values()) == {1} and "(1 read of the data)" in capsys.readouterr().out
    _same_up_to_sign(s.learning_results.loadings, reference.learning_results.loadings, atol=1e-8)
    x, reads = counted_array(rank3[0], chunks=(5, 10, 16))  # blocks of 50, 50 and 20 pixels
    s = Signal1D(x)
    s.decomposition(output_dimension=3, print_info=False, cache_bytes=36000)  # room for the small block only
    counts = Counter(reads)
    assert sorted(counts.values()) == [1, 1, 1, 2, 2, 2, 2, 2, 2]
    _same_up_to_sign(s.learning_results.loadings, reference.learning_results.loadings, atol=1e-8)


def test_two_dimensional_signal_and_navigation(rank3):
    x = rank3[0].reshape(12, 10, 6, 8)
    s = Signal2D(x)
    s.decomposition(output_dimension=3, print_info=False)
    lazy = Signal2D(x).as_lazy(chunks=(3, 10, 3, 8))
    lazy.decomposition(output_dimension=3, print_info=False)
    _same_up_to_sign(lazy.learning_results.factors, s.learning_results.factors, atol=1e-8)
    assert s.get_decomposition_factors().data.shape == (3, 6, 8)
    assert s.get_decomposition_loadings().data.shape == (3, 12, 10)
    np.testing.assert_allclose(lazy.get_decomposition_model().data.compute(), x, atol=0.06)


def test_array_level_function_on_a_bare_array(rank3):
    f = svd_decomposition(Unfolded(da.from_array(rank3[0], chunks=(3, 10, 48)), 2), Treatments(),
                          output_dimension=3)  # blocks kept compressed: one read
    assert f.reads == 1 and f.factors.shape == (48, 3) and f.loadings.shape == (120, 3)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"navigation_mask": np.zeros((12, 10), bool)}, DecompositionError, r"navigation shape \(10, 12\)"),
    ({"navigation_mask": np.zeros((10, 12), int)}, DecompositionError, "boolean"),
    ({"signal_mask": np.ones(48, bool)}, DecompositionError, "nothing to fit"),
    ({"svd_solver": "randomized"}, UnsupportedOptionError, "svd_solver"),
    ({"output_dimension": 49}, DecompositionError, "at most"),
    ({"algorithm": "MLPCA"}, DecompositionError, "SVD, PCA"),
    ({"centre": "pixels"}, DecompositionError, "centre"),
    ({"centre": "navigation", "normalize_poissonian_noise": True}, DecompositionError, "cannot be combined"),
    ({"num_chunks": 2}, DecompositionError, "online algorithms"),
    ({"reproject": "sideways"}, DecompositionError, "reproject"),
    ({"algorithm": "ORPCA"}, DecompositionError, "needs output_dimension"),
])
def test_bad_input(rank3, kwargs, error, match):
    s = Signal1D(rank3[0]).as_lazy()
    with pytest.raises(error, match=match):
        s.decomposition(print_info=False, **kwargs)


def test_unknown_option_is_a_type_error_naming_it(rank3):
    with pytest.raises(TypeError, match="'tol', 'bogus'"):
        Signal1D(rank3[0]).decomposition(tol=1, bogus=2, print_info=False)


@pytest.mark.parametrize("chunks", [(1, 2, 16), (2, 3, 5)])
def test_pixel_gram_with_split_signal_chunks(rank3, chunks):
    x = rank3[0][:2, :3]  # 6 pixels, 48 channels: the pixels x pixels Gram matrix
    eager = Signal1D(x)
    eager.decomposition(centre="navigation", print_info=False)
    lazy = Signal1D(x).as_lazy(chunks=chunks)
    lazy.decomposition(centre="navigation", print_info=False)
    np.testing.assert_allclose(lazy.learning_results.explained_variance, eager.learning_results.explained_variance,
                               rtol=1e-8, atol=1e-14)
    np.testing.assert_allclose(lazy.get_decomposition_model().data.compute(), x, atol=1e-10)


@pytest.mark.parametrize("poisson", [True, False])
@pytest.mark.parametrize("algorithm", ["SVD", "PCA"])
def test_pixel_gram_reads_once_when_blocks_are_kept(algorithm, poisson, counted_array):
    rng = np.random.default_rng(4)
    x = rng.poisson(rng.random((3, 4, 2)) @ (6 * rng.random((2, 60))) + 0.5).astype(float)  # 12 pixels < 60 channels
    eager = Signal1D(x)
    eager.decomposition(algorithm=algorithm, normalize_poissonian_noise=poisson, output_dimension=3, print_info=False)
    # Default budget: every block kept packed, one read. None: Gram read, factors read (+ Poisson sums read).
    for cache_bytes, expected in ((None, 1), (0, 3 if poisson else 2)):
        array, reads = counted_array(x, (1, 4, 20))
        lazy = Signal1D(array)
        options = {} if cache_bytes is None else {"cache_bytes": cache_bytes}
        lazy.decomposition(algorithm=algorithm, normalize_poissonian_noise=poisson, output_dimension=3,
                           print_info=False, **options)
        assert set(Counter(reads).values()) == {expected} and len(Counter(reads)) == 9
        a, b = eager.learning_results, lazy.learning_results
        np.testing.assert_allclose(b.explained_variance, a.explained_variance, rtol=1e-9)
        np.testing.assert_allclose(lazy.get_decomposition_model().data.compute(),
                                   eager.get_decomposition_model().data, atol=1e-9)


@pytest.mark.parametrize("algorithm", ["SVD", "PCA"])
@pytest.mark.parametrize("masked", [False, True])
def test_pixel_gram_blocks_that_do_not_span_navigation_rows(algorithm, masked):
    """12 pixels < 40 channels in (2, 3) navigation tiles of a (3, 4) navigation: the pixel Gram
    matrix assembled block by block is put back in navigation order (it was left in block
    order: loadings permuted, masks applied to the wrong pixels)."""
    rng = np.random.default_rng(5)
    x = rng.random((3, 4, 3)) @ rng.random((3, 40)) + 0.01 * rng.random((3, 4, 40))
    mask = np.zeros((4, 3), bool)  # axes_manager order
    if masked:
        mask[1:3, 1] = True
    kwargs = dict(algorithm=algorithm, output_dimension=3, navigation_mask=mask, print_info=False)
    eager, lazy = Signal1D(x), Signal1D(x).as_lazy(chunks=(2, 3, 40))
    eager.decomposition(**kwargs)
    lazy.decomposition(**kwargs)
    a, b = eager.learning_results, lazy.learning_results
    np.testing.assert_allclose(b.explained_variance, a.explained_variance, rtol=1e-9)
    _same_up_to_sign(b.loadings, a.loadings, atol=1e-9)
    _same_up_to_sign(b.factors, a.factors, atol=1e-9)
