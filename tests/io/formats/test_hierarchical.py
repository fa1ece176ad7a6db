"""The tree shared by .hspy and .zspy: encodings, axes, chunks; every test runs on both formats."""

from __future__ import annotations

import math
import warnings

import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lazysignal.errors import ChunksError, FileFormatError
from lazysignal.io.backends import hierarchical as tree
from lazysignal.io.formats import hspy, zspy

FORMATS = [pytest.param(hspy, "x.hspy", id="hspy"), pytest.param(zspy, "x.zspy", id="zspy")]

METADATA = {
    "General": {"title": "a/b", "original_filename": "x.raw"},
    "Signal": {"signal_type": "EDS_TEM", "quantity": "Counts"},
    "Encodings": {
        "none": None, "true": True, "false": False, "int": 3, "float": 1.25, "str": "text",
        "unicode": "Å µm", "empty_list": [], "empty_tuple": (), "flat_ints": [1, 2, 3],
        "flat_floats": (0.5, 1.5), "flat_strs": ["a", "bé", ""], "flat_bools": [True, False],
        "nested": [[1, 2], [3]], "mixed": [1, "a", None, {"k": [4, 5]}], "list_of_dicts":
        [{"a": 1}, {"b": None}], "long": list(range(12)), "long_mixed": [i if i % 2 else str(i)
                                                                         for i in range(12)],
        "array": np.arange(6).reshape(2, 3), "float_array": np.linspace(0, 1, 4),
        "str_array": np.array(["ab", "c"]), "deep": {"er": {"est": 7}},
    },
}


def _assert_same(ours, theirs, where="metadata"):
    """Equal values, same container types (list vs tuple vs dict vs array)."""
    if isinstance(ours, dict):
        assert isinstance(theirs, dict) and set(ours) == set(theirs), where
        for key in ours:
            _assert_same(ours[key], theirs[key], f"{where}.{key}")
    elif isinstance(ours, (list, tuple)):
        assert type(ours) is type(theirs) and len(ours) == len(theirs), where
        for i, (a, b) in enumerate(zip(ours, theirs)):
            _assert_same(a, b, f"{where}[{i}]")
    elif isinstance(ours, np.ndarray):
        np.testing.assert_array_equal(ours, theirs, err_msg=where)
        assert ours.dtype.kind == np.asarray(theirs).dtype.kind, where
    elif ours is None or isinstance(ours, bool):
        assert theirs is ours, where
    else:
        assert ours == theirs and type(theirs) is not bool, where


def _signal(data, axes=None):
    return {"data": data, "axes": axes, "metadata": METADATA,
            "original_metadata": {"Header": {"gain": 2.0, "names": ["a", "b"]}}}


AXES = [
    {"name": "y", "units": "nm", "navigate": True, "scale": 2.0, "offset": -1.0,
     "is_binned": False},
    {"name": None, "units": None, "navigate": True, "axis": np.array([0.0, 0.5, 2.0])},
    {"name": "Energy", "units": "eV", "navigate": False, "scale": 0.01, "offset": 0.3,
     "is_binned": True},
]


@pytest.mark.parametrize("module,name", FORMATS)
def test_round_trip_axes_and_metadata(tmp_path, module, name):
    data = np.random.default_rng(0).random((4, 3, 5)).astype("float32")
    module.write(tmp_path / name, _signal(data, AXES))
    [s] = module.read(tmp_path / name)
    np.testing.assert_array_equal(s["data"], data)
    assert s["data"].dtype == data.dtype
    for got, want, size in zip(s["axes"], AXES, data.shape):
        for key in ("name", "units", "navigate"):
            assert got[key] == want[key]
        assert got["is_binned"] == want.get("is_binned", False)
        if "axis" in want:
            np.testing.assert_array_equal(got["axis"], want["axis"])
            assert "scale" not in got
        else:
            assert (got["size"], got["scale"], got["offset"]) == (size, want["scale"],
                                                                  want["offset"])
    _assert_same(METADATA, s["metadata"])
    _assert_same({"Header": {"gain": 2.0, "names": ["a", "b"]}}, s["original_metadata"])
    assert s["attributes"] == {"_lazy": False, "ragged": False}


@pytest.mark.parametrize("module,name", FORMATS)
def test_numpy_scalars_and_learning_results(tmp_path, module, name):
    signal = _signal(np.zeros((2, 2)))
    signal["metadata"] = {"General": {"title": ""}, "S": {"f32": np.float32(2.5),
                                                           "i16": np.int16(-3)}}
    signal["learning_results"] = {"factors": np.eye(2), "decomposition_algorithm": "SVD",
                                  "poissonian_noise_normalized": False}
    module.write(tmp_path / name, signal)
    [s] = module.read(tmp_path / name)
    assert s["metadata"]["S"] == {"f32": 2.5, "i16": -3}
    if module is hspy:  # HDF5 keeps the numpy type; zarr's JSON attributes cannot
        assert isinstance(s["metadata"]["S"]["f32"], np.float32)
    assert s["metadata"]["General"]["title"] == ""
    np.testing.assert_array_equal(s["learning_results"]["factors"], np.eye(2))
    assert s["learning_results"]["decomposition_algorithm"] == "SVD"


@pytest.mark.parametrize("module,name", FORMATS)
def test_embedded_signal(tmp_path, module, name):
    inner = {"data": np.arange(6.0).reshape(2, 3), "metadata": {"General": {"title": "in"}},
             "axes": [{"name": "a", "units": "s", "navigate": True, "scale": 1.0, "offset": 0.0},
                      {"name": "b", "units": "m", "navigate": False, "axis": np.arange(3.0)**2}]}
    signal = _signal(np.zeros(3))
    signal["metadata"] = {"General": {"title": "outer"}, "Extra": {"_sig_mask": inner}}
    module.write(tmp_path / name, signal)
    [s] = module.read(tmp_path / name)
    got = s["metadata"]["Extra"]["_sig_mask"]
    np.testing.assert_array_equal(got["data"], inner["data"])
    assert got["metadata"]["General"]["title"] == "in"
    assert [a["name"] for a in got["axes"]] == ["a", "b"]
    np.testing.assert_array_equal(got["axes"][1]["axis"], [0.0, 1.0, 4.0])


@pytest.mark.parametrize("module,name", FORMATS)
def test_default_axes_when_none_given(tmp_path, module, name):
    module.write(tmp_path / name, {"data": np.zeros((2, 3, 4))})
    [s] = module.read(tmp_path / name)
    assert [a["navigate"] for a in s["axes"]] == [True, True, False]
    assert [a["size"] for a in s["axes"]] == [2, 3, 4]
    assert s["metadata"] == {}


@pytest.mark.parametrize("module,name", FORMATS)
def test_unstorable_metadata_warns(tmp_path, module, name):
    signal = {"data": np.zeros(2), "metadata": {"General": {"title": "t"}, "x": object()}}
    with pytest.warns(UserWarning, match="'x'.*not saved"):
        module.write(tmp_path / name, signal)
    [s] = module.read(tmp_path / name)
    assert "x" not in s["metadata"]


@pytest.mark.parametrize("module,name", FORMATS)
def test_mode_a_adds_signals_and_refuses_duplicates(tmp_path, module, name):
    path = tmp_path / name
    module.write(path, {"data": np.ones(3), "metadata": {"General": {"title": "one"}}})
    module.write(path, {"data": np.zeros((2, 2)), "metadata": {"General": {"title": "two"}}},
                 mode="a")
    signals = module.read(path)
    assert [s["metadata"]["General"]["title"] for s in signals] == ["one", "two"]
    with pytest.raises(FileFormatError, match="already holds a signal named 'one'"):
        module.write(path, {"data": np.ones(3), "metadata": {"General": {"title": "one"}}},
                     mode="a")


@pytest.mark.parametrize("module,name", FORMATS)
@settings(max_examples=8, deadline=None)
@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=3),
       seed=st.integers(0, 2**16), data=st.data())
def test_lazy_equals_eager_over_chunkings(tmp_path_factory, module, name, shape, seed, data):
    array = np.random.default_rng(seed).integers(0, 1000, shape).astype("int32")
    stored = tuple(data.draw(st.integers(1, s)) for s in shape)
    path = tmp_path_factory.mktemp("lz") / name
    module.write(path, {"data": array}, chunks=stored)
    [eager] = module.read(path)
    [lazy] = module.read(path, lazy=True)
    assert lazy["data"].chunks == da.core.normalize_chunks(stored, array.shape)
    factor = tuple(data.draw(st.integers(1, 3)) for _ in shape)
    bigger = tuple(c * f for c, f in zip(stored, factor))
    [coarse] = module.read(path, lazy=True, chunks=bigger)
    assert coarse["data"].chunks == da.core.normalize_chunks(bigger, array.shape)
    for got in (eager["data"], lazy["data"].compute(), coarse["data"].compute(
            scheduler="threads")):
        np.testing.assert_array_equal(got, array)
    module.close(path)


@pytest.mark.parametrize("module,name", FORMATS)
def test_lazy_write_keeps_dask_chunks_and_explicit_chunks_win(tmp_path, module, name):
    array = np.arange(6 * 8 * 10, dtype="float64").reshape(6, 8, 10)
    module.write(tmp_path / name, {"data": da.from_array(array, chunks=(4, 3, 10))})
    [s] = module.read(tmp_path / name, lazy=True)
    assert s["data"].chunks == ((4, 2), (3, 3, 2), (10,))
    assert s["attributes"]["_lazy"] is True
    np.testing.assert_array_equal(s["data"].compute(), array)
    module.close(tmp_path / name)
    other = tmp_path / ("b" + name)
    module.write(other, {"data": da.from_array(array, chunks=(4, 3, 10))}, chunks=(6, -1, 5))
    [s] = module.read(other, lazy=True)
    assert s["data"].chunks == ((6,), (8,), (5, 5))
    np.testing.assert_array_equal(s["data"].compute(), array)
    module.close(other)


def test_eager_write_uses_hyperspy_heuristic(tmp_path):
    # 1 MB target for hspy: (100, 60|100) float64 signals of 800 B -> 1250 per chunk -> 35 x 35
    array = np.zeros((100, 60, 100))
    axes = [{"navigate": True}, {"navigate": True}, {"navigate": False}]
    hspy.write(tmp_path / "h.hspy", {"data": array, "axes": axes})
    [s] = hspy.read(tmp_path / "h.hspy", lazy=True)
    assert s["data"].chunksize == tree.default_chunks(array.shape, "f8", [2], 1e6) == (35, 35,
                                                                                      100)
    hspy.close(tmp_path / "h.hspy")
    # 100 MB target for zspy: the whole 4.8 MB array fits in one chunk
    zspy.write(tmp_path / "z.zspy", {"data": array, "axes": axes})
    [s] = zspy.read(tmp_path / "z.zspy", lazy=True)
    assert s["data"].chunksize == (100, 60, 100)


def test_default_chunks_properties():
    # signal axes whole; a chunk stays under the target unless one signal is bigger
    for shape, sig in [((512, 512, 992), [2]), ((128, 128, 256, 256), [2, 3]),
                       ((3, 1000, 200), [2]), ((5, 7, 11, 13), [1, 3])]:
        for target in (1e6, 1e8):
            chunks = tree.default_chunks(shape, "float64", sig, target)
            assert all(chunks[i] == shape[i] for i in sig)
            assert math.prod(chunks) * 8 <= max(target, math.prod(shape[i] for i in sig) * 8)
    assert tree.default_chunks((0, 5), "f8", [1], 1e6) is None
    assert tree.default_chunks((4, 5), "f8", None, 1e6) is None


def test_resolve_write_chunks_errors_name_the_file():
    backend = hspy._H5Tree("out.hspy")
    signal = {"data": np.zeros((4, 6))}
    assert tree.resolve_write_chunks(signal, (2, None), 1e6, backend) == (2, 6)
    assert tree.resolve_write_chunks(signal, ((2, 2), (6,)), 1e6, backend) == (2, 6)
    with pytest.raises(ChunksError, match="out.hspy.*2 dimensions"):
        tree.resolve_write_chunks(signal, (2, 2, 2), 1e6, backend)
    with pytest.raises(ChunksError, match="not regular"):
        tree.resolve_write_chunks(signal, ((1, 3), (6,)), 1e6, backend)
    with pytest.raises(ChunksError, match="positive"):
        tree.resolve_write_chunks(signal, (0, 6), 1e6, backend)


def test_functional_axis_expression_evaluator_is_restricted():
    backend = hspy._H5Tree("f.hspy")
    stored = {"_type": "FunctionalDataAxis", "expression": "a*exp(x) + b^2", "a": 2.0, "b": 3.0,
              "x": {"_type": "UniformDataAxis", "size": 4, "scale": 0.5, "offset": 1.0},
              "navigate": True, "size": 4}
    axis = tree.decode_axis(stored, 4, backend, "axis-0")
    x = 1.0 + 0.5 * np.arange(4)
    np.testing.assert_allclose(axis["axis"], 2.0 * np.exp(x) + 9.0)
    for evil in ("x.__class__", "__import__('os')", "open('f')", "[1][0]", "lambda: 1"):
        with pytest.raises(FileFormatError, match="f.hspy.*cannot evaluate"):
            tree.decode_axis({**stored, "expression": evil}, 4, backend, "axis-0")


def test_group_names_and_titles(tmp_path):
    for title, group in [("a/b/c", "a-b-c"), ("", "__unnamed__"), (None, "__unnamed__")]:
        assert tree.group_name_for_title(title) == group
    hspy.write(tmp_path / "u.hspy", {"data": np.zeros(2), "metadata": {"General": {"title": ""}}})
    [s] = hspy.read(tmp_path / "u.hspy")
    assert s["metadata"]["General"]["title"] == ""


@pytest.mark.parametrize("module,name", FORMATS)
def test_unknown_options_rejected(tmp_path, module, name):
    with pytest.raises(TypeError, match="unknown options"):
        module.write(tmp_path / name, {"data": np.zeros(2)}, bogus=1)
    module.write(tmp_path / name, {"data": np.zeros(2)})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(TypeError, match="unknown options"):
            module.read(tmp_path / name, bogus=1)


@pytest.mark.parametrize("module,name", FORMATS)
def test_ragged_data_is_refused_clearly(tmp_path, module, name):
    ragged = np.empty(2, dtype=object)
    ragged[0], ragged[1] = np.arange(2), np.arange(3)
    with pytest.raises(TypeError, match=f"{name}.*ragged"):
        module.write(tmp_path / name, {"data": ragged})
