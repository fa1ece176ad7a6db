"""Learning results through .hspy and .zspy: our round trips, and HyperSpy (the peer) both ways."""


import h5py
import numpy as np
import pytest
from peer import run_peer

import lazysignal as ls
from lazysignal.signals import Signal1D


def _decomposed(data, **kwargs):
    s = Signal1D(data)
    s.decomposition(print_info=False, **kwargs)
    return s


@pytest.mark.parametrize("ext", ["hspy", "zspy"])
@pytest.mark.parametrize("lazy", [False, True])
def test_round_trip(tmp_path, rank3, ext, lazy):
    s = Signal1D(rank3[0])
    if lazy:
        s = s.as_lazy(chunks=(4, 5, 48))
    mask = np.zeros((10, 12), bool)
    mask[0, 0] = True
    s.decomposition(algorithm="PCA", output_dimension=3, navigation_mask=mask, print_info=False)
    s.blind_source_separation(2, print_info=False, random_state=0)
    path = tmp_path / f"lr.{ext}"
    s.save(path)
    back = ls.load(path, lazy=lazy)
    a, b = s.learning_results.to_dict(), back.learning_results.to_dict()
    assert sorted(a) == sorted(b)
    for key, value in a.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(b[key], value, err_msg=key)
        else:
            assert b[key] == value, key
    np.testing.assert_allclose(np.asarray(back.get_decomposition_model().data),
                               np.asarray(s.get_decomposition_model().data))


def test_layout_is_hyperspys(tmp_path, rank3):
    s = _decomposed(rank3[0], output_dimension=3)
    s.save(tmp_path / "lr.hspy")
    with h5py.File(tmp_path / "lr.hspy", "r") as f:
        group = f["Experiments/__unnamed__/learning_results"]
        assert group["factors"].shape == (48, 3) and group["loadings"].shape == (120, 3)
        assert group.attrs["mean"] == "_None_" and group.attrs["decomposition_algorithm"] == "SVD"
        assert tuple(group["_tuple_original_shape"][()]) == (12, 10, 48)
        assert int(group.attrs["output_dimension"]) == 3


def test_no_results_no_group(tmp_path):
    Signal1D(np.ones((3, 4))).save(tmp_path / "plain.hspy")
    with h5py.File(tmp_path / "plain.hspy", "r") as f:
        assert len(f["Experiments/__unnamed__/learning_results"]) == 0


PEER_READS = """
import hyperspy.api as hs, numpy as np
out = {{}}
for name in {names!r}:
    s = hs.load({folder!r} + "/" + name)
    lr = s.learning_results
    m = s.get_decomposition_model(3)
    out[name] = dict(factors=np.asarray(lr.factors).tolist(), loadings=np.asarray(lr.loadings).tolist(),
                     ev=np.asarray(lr.explained_variance).tolist(), algorithm=lr.decomposition_algorithm,
                     poisson=bool(lr.poissonian_noise_normalized), model=np.asarray(m.data).tolist(),
                     bss=None if lr.bss_factors is None else np.asarray(lr.bss_factors).tolist())
emit(out)
"""


def test_peer_reads_our_results(tmp_path, rank3):
    s = _decomposed(rank3[0], output_dimension=3, normalize_poissonian_noise=True)
    s.blind_source_separation(3, print_info=False, random_state=0)
    s.save(tmp_path / "ours.hspy")
    lazy = Signal1D(rank3[0]).as_lazy(chunks=(4, 10, 48))
    lazy.decomposition(output_dimension=3, print_info=False)
    lazy.save(tmp_path / "ours.zspy")
    seen = run_peer(PEER_READS.format(names=["ours.hspy", "ours.zspy"], folder=str(tmp_path)))
    for name, signal in (("ours.hspy", s), ("ours.zspy", lazy)):
        got, lr = seen[name], signal.learning_results
        np.testing.assert_allclose(got["factors"], lr.factors)
        np.testing.assert_allclose(got["loadings"], lr.loadings)
        np.testing.assert_allclose(got["ev"], lr.explained_variance)
        np.testing.assert_allclose(got["model"], np.asarray(signal.get_decomposition_model(3).data), atol=1e-12)
    assert seen["ours.hspy"]["poisson"] is True and seen["ours.hspy"]["bss"] is not None


PEER_WRITES = """
import hyperspy.api as hs, numpy as np
data = np.load({folder!r} + "/data.npy")
out = {{}}
for name, kwargs in {cases!r}.items():
    s = hs.signals.Signal1D(data)
    s.decomposition(print_info=False, **kwargs)
    s.save({folder!r} + "/" + name)
    lr = s.learning_results
    out[name] = dict(ev=np.asarray(lr.explained_variance).tolist(), factors=np.asarray(lr.factors).tolist(),
                     loadings=np.asarray(lr.loadings).tolist(),
                     model=np.asarray(s.get_decomposition_model(3).data).tolist())
emit(out)
"""


def test_we_read_peer_results_and_agree_with_them(tmp_path, rank3):
    np.save(tmp_path / "data.npy", rank3[0])
    cases = {"svd.hspy": {"output_dimension": 3}, "poisson.zspy": {"output_dimension": 3,
                                                                 "normalize_poissonian_noise": True}}
    peer = run_peer(PEER_WRITES.format(folder=str(tmp_path), cases=cases))
    for name, kwargs in cases.items():
        back = ls.load(tmp_path / name)
        lr = back.learning_results
        np.testing.assert_allclose(lr.factors, peer[name]["factors"])
        np.testing.assert_allclose(back.get_decomposition_model(3).data, peer[name]["model"], atol=1e-12)
        ours = _decomposed(rank3[0], **kwargs).learning_results  # the same decomposition, ours
        np.testing.assert_allclose(ours.explained_variance, peer[name]["ev"], rtol=1e-6)
        for mine, theirs in ((ours.factors, np.array(peer[name]["factors"])),
                             (ours.loadings, np.array(peer[name]["loadings"]))):
            signs = np.sign(np.sum(mine * theirs, axis=0))
            np.testing.assert_allclose(mine * signs, theirs, atol=1e-8)
