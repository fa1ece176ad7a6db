"""Poisson scaling with centring: scaled first, then centred (HyperSpy's two steps), on every path.

HyperSpy's ``decomposition`` refuses ``normalize_poissonian_noise=True`` with a ``centre``; so
does our signal method. The array-level SVD takes the combination and means HyperSpy's
``normalize_poissonian_noise()`` followed by ``decomposition(centre=...)`` on the scaled data:
checked against a plain numpy formula (both Gram orientations, masks, eager and lazy over
drawn chunkings) and against the peer running those two steps itself. PCA with Poisson
scaling (allowed by both) is checked against the peer's eager scikit-learn PCA.
"""

import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from peer import run_peer

from lazysignal.errors import DecompositionError
from lazysignal.learn.passes import Unfolded
from lazysignal.learn.svd import svd_decomposition
from lazysignal.learn.treatments import Treatments
from lazysignal.signals import Signal1D
from lazysignal.testing import chunks_for

#: (navigation shape, channels): channels <= pixels (channel Gram), pixels < channels (pixel Gram).
SHAPES = [((12, 10), 40), ((3, 4), 40)]


def counts(nav, channels, seed=0):
    rng = np.random.default_rng(seed)
    x = np.linspace(0, 1, channels)
    peaks = np.stack([np.exp(-((x - c) / 0.1) ** 2) for c in (0.25, 0.5, 0.75)])
    return rng.poisson(20 * rng.random(nav + (3,)) @ peaks + 2.0).astype(float)


def reference(x, centre, nav_keep=None, sig_keep=None):
    """The peer's two steps in numpy: Keenan-Kotula scaling, then centring of the scaled data,
    then the SVD of the fitted part; results scaled back, and the model's mean term."""
    flat = x.reshape(-1, x.shape[-1])
    nk = np.ones(flat.shape[0], bool) if nav_keep is None else nav_keep.reshape(-1)
    sk = np.ones(flat.shape[1], bool) if sig_keep is None else sig_keep
    r = np.sqrt(flat[:, sk].sum(axis=1))
    c = np.sqrt(flat[nk].sum(axis=0))
    y = flat / r[:, None] / c[None, :]
    if centre == "signal":
        mu = y[:, sk].mean(axis=1)
        y = y - mu[:, None]
        mean_term = np.outer(r * mu, c)
    else:
        mu = y[nk].mean(axis=0)
        y = y - mu[None, :]
        mean_term = np.outer(r, mu * c)
    u, s, vt = np.linalg.svd(y[nk][:, sk], full_matrices=False)
    loadings = (y[:, sk] @ vt.T) * r[:, None]  # every pixel, projected: U S
    factors = (y[nk].T @ u) / s * c[:, None]  # every channel, least squares: V
    if nk.sum() < sk.sum():  # pixels < channels: the factors carry S (HyperSpy's orientation)
        loadings, factors = loadings / s, factors * s
    return dict(ev=s ** 2 / nk.sum(), factors=factors, loadings=loadings, mean_term=mean_term)


def _same_up_to_sign(a, b, rtol=1e-7):
    for j in range(a.shape[1]):
        sign = np.sign(np.vdot(a[:, j], b[:, j])) or 1
        np.testing.assert_allclose(a[:, j], sign * b[:, j], rtol=rtol, atol=rtol * np.abs(b[:, j]).max())


def _mean_term(f):
    """The mean in data units: the scaled data's mean times the pixels' and channels' scales."""
    return f.mean * f.mean_row_scale[:, None] * f.mean_col_scale[None, :]


def _check(f, ref, k, model_of=None):
    """The first ``k`` components and the mean term as the reference has them."""
    np.testing.assert_allclose(f.explained_variance[:k], ref["ev"][:k], rtol=1e-7)
    _same_up_to_sign(f.factors[:, :k], ref["factors"][:, :k])
    _same_up_to_sign(f.loadings[:, :k], ref["loadings"][:, :k])
    np.testing.assert_allclose(_mean_term(f), ref["mean_term"], rtol=1e-9)
    if model_of is not None:  # every component: the data back
        np.testing.assert_allclose(f.loadings @ f.factors.T + _mean_term(f), model_of.reshape(f.loadings.shape[0], -1),
                                   rtol=1e-8, atol=1e-8)


@pytest.mark.parametrize("centre", ["signal", "navigation"])
@pytest.mark.parametrize("nav, channels", SHAPES)
def test_eager_equals_numpy_formula(centre, nav, channels):
    x = counts(nav, channels)
    k = 3
    f = svd_decomposition(Unfolded(x, 2), Treatments(centre=centre, poisson=True), output_dimension=k)
    _check(f, reference(x, centre), k)
    full = svd_decomposition(Unfolded(x, 2), Treatments(centre=centre, poisson=True))
    assert full.factors.shape[1] == min(int(np.prod(nav)), channels)
    _check(full, reference(x, centre), k, model_of=x)


@pytest.mark.parametrize("centre", ["signal", "navigation"])
@pytest.mark.parametrize("nav, channels", SHAPES)
def test_masks_and_reprojection_equal_numpy_formula(centre, nav, channels):
    x = counts(nav, channels, seed=1)
    nav_keep = np.ones(nav, bool)
    nav_keep[1, 1:3] = False
    sig_keep = np.ones(channels, bool)
    sig_keep[-6:] = False
    tr = Treatments(nav_keep=nav_keep, sig_keep=sig_keep, centre=centre, poisson=True)
    for data in (x, da.from_array(x, chunks=(2, 3, 16))):
        f = svd_decomposition(Unfolded(data, 2), tr, output_dimension=3, reproject_signal=True)
        _check(f, reference(x, centre, nav_keep, sig_keep), 3)


@given(data=st.data(), centre=st.sampled_from(["signal", "navigation"]), shape=st.sampled_from(SHAPES),
       cache=st.sampled_from([0, None]))
@settings(max_examples=20, deadline=None)
def test_lazy_equals_eager_over_chunkings(data, centre, shape, cache):
    nav, channels = shape
    x = counts(nav, channels, seed=2)
    tr = Treatments(centre=centre, poisson=True)
    eager = svd_decomposition(Unfolded(x, 2), tr, output_dimension=3)
    kwargs = {} if cache is None else {"cache_bytes": cache}
    # Channel chunks of at least 8: a (1, 1, 1) chunking of this cube is 4,800 blocks, seconds of
    # scheduling per example, and tests nothing the navigation splits do not.
    chunks = data.draw(chunks_for(x.shape[:2])) + (data.draw(st.sampled_from([8, 13, 20, channels])),)
    lazy = svd_decomposition(Unfolded(da.from_array(x, chunks=chunks), 2), tr, output_dimension=3, **kwargs)
    np.testing.assert_allclose(lazy.explained_variance, eager.explained_variance, rtol=1e-9)
    _same_up_to_sign(lazy.factors, eager.factors, rtol=1e-8)
    _same_up_to_sign(lazy.loadings, eager.loadings, rtol=1e-8)
    np.testing.assert_allclose(_mean_term(lazy), _mean_term(eager), rtol=1e-10)
    _check(lazy, reference(x, centre), 3)


PEER_TWO_STEPS = """
import hyperspy.api as hs, numpy as np
out = {{}}
for name in {names!r}:
    data = np.load({folder!r} + "/" + name + ".npy")
    for centre in ("signal", "navigation"):
        s = hs.signals.Signal1D(data.copy())
        s.normalize_poissonian_noise()
        s.decomposition(centre=centre, output_dimension=3, print_info=False)
        lr = s.learning_results
        out[name + "/" + centre] = dict(ev=np.asarray(lr.explained_variance[:3]).tolist(),
                                        factors=np.asarray(lr.factors[:, :3]).tolist(),
                                        loadings=np.asarray(lr.loadings[:, :3]).tolist(),
                                        mean=np.asarray(lr.mean).ravel().tolist(),
                                        root_aG=np.asarray(s._root_aG).ravel().tolist(),
                                        root_bH=np.asarray(s._root_bH).ravel().tolist())
    refused = {{}}
    for lazy in (False, True):
        for centre in ("signal", "navigation"):
            s = hs.signals.Signal1D(data.copy())
            if lazy:
                s = s.as_lazy()
            try:
                s.decomposition(normalize_poissonian_noise=True, centre=centre, output_dimension=3,
                                print_info=False)
                refused[f"{{lazy}}/{{centre}}"] = None
            except ValueError as exc:
                refused[f"{{lazy}}/{{centre}}"] = str(exc)
    out[name + "/refused"] = refused
    s = hs.signals.Signal1D(data.copy())
    s.decomposition(normalize_poissonian_noise=True, algorithm="sklearn_pca", output_dimension=3, print_info=False)
    lr = s.learning_results
    out[name + "/pca"] = dict(ev=np.asarray(lr.explained_variance).tolist(), factors=np.asarray(lr.factors).tolist(),
                              loadings=np.asarray(lr.loadings).tolist(), mean=np.asarray(lr.mean).ravel().tolist())
emit(out)
"""


def test_same_as_the_peer(tmp_path):
    """The peer's own two steps (scale the data, then a centred SVD of it) give our array-level
    results in scaled units; its decomposition refuses the combination, as ours does; its PCA
    with Poisson scaling equals ours (both store the mean of the scaled data;
    the model adds it back with the pixels' and channels' scales, stored beside it)."""
    names = {f"shape{i}": counts(nav, channels, seed=3 + i) for i, (nav, channels) in enumerate(SHAPES)}
    for name, x in names.items():
        np.save(tmp_path / f"{name}.npy", x)
    peer = run_peer(PEER_TWO_STEPS.format(names=list(names), folder=str(tmp_path)))
    for name, x in names.items():
        for centre in ("signal", "navigation"):
            got = peer[f"{name}/{centre}"]
            r, c = np.array(got["root_aG"]), np.array(got["root_bH"])
            for data in (x, da.from_array(x, chunks=(2, 2, 15))):
                f = svd_decomposition(Unfolded(data, 2), Treatments(centre=centre, poisson=True), output_dimension=3)
                np.testing.assert_allclose(f.explained_variance, got["ev"], rtol=1e-7)
                _same_up_to_sign(f.factors / c[:, None], np.array(got["factors"]))
                _same_up_to_sign(f.loadings / r[:, None], np.array(got["loadings"]))
                np.testing.assert_allclose(f.mean.ravel(), got["mean"], rtol=1e-9)  # stored as the peer stores it
        for key, message in peer[f"{name}/refused"].items():
            lazy, centre = key.split("/")
            assert message and "normalize_poissonian_noise" in message
            s = Signal1D(x).as_lazy() if lazy == "True" else Signal1D(x)
            with pytest.raises(DecompositionError, match="cannot be combined"):  # a ValueError, as the peer's
                s.decomposition(normalize_poissonian_noise=True, centre=centre, output_dimension=3, print_info=False)
        got = peer[f"{name}/pca"]
        for s in (Signal1D(x), Signal1D(x).as_lazy(chunks=(2, 2, 40))):
            s.decomposition(algorithm="PCA", normalize_poissonian_noise=True, output_dimension=3, print_info=False)
            lr = s.learning_results
            np.testing.assert_allclose(lr.explained_variance, got["ev"], rtol=1e-7)
            _same_up_to_sign(lr.factors, np.array(got["factors"]))
            _same_up_to_sign(lr.loadings, np.array(got["loadings"]))
            np.testing.assert_allclose(np.ravel(lr.mean), got["mean"], rtol=1e-9)


@pytest.mark.parametrize("lazy", [False, True])
def test_pca_with_poisson_model_and_mean(lazy, tmp_path):
    """Signal level: PCA with Poisson scaling stores the mean the model adds back (all components:
    the data), also after a round trip through a file."""
    import lazysignal as ls

    x = counts((5, 6), 20, seed=4)
    s = Signal1D(x).as_lazy(chunks=(2, 3, 20)) if lazy else Signal1D(x)
    s.decomposition(algorithm="PCA", normalize_poissonian_noise=True, print_info=False)
    ref = reference(x, "navigation")
    lr = s.learning_results
    np.testing.assert_allclose(lr.mean * lr.mean_row_scale[:, None] * lr.mean_col_scale[None, :], ref["mean_term"],
                               rtol=1e-9)
    model = s.get_decomposition_model().data
    np.testing.assert_allclose(np.asarray(model.compute() if lazy else model), x, rtol=1e-8, atol=1e-8)
    s.save(tmp_path / "pca.hspy")
    back = ls.load(tmp_path / "pca.hspy")
    np.testing.assert_allclose(back.get_decomposition_model().data, x, rtol=1e-8, atol=1e-8)
    s.undo_treatments()  # a no-op: the data were never changed
    np.testing.assert_array_equal(np.asarray(s.data.compute() if lazy else s.data), x)
