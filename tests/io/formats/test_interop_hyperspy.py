"""Files move both ways between lazysignal and HyperSpy 2.5 (the peer, in its own environment).

Each direction is one peer subprocess (its import takes seconds), shared by the tests below.
"""

from __future__ import annotations

import json

import dask.array as da
import numpy as np
import pytest
from peer import run_peer

from lazysignal.io.formats import hspy, zspy
from lazysignal.io.backends.hierarchical import default_chunks

pytestmark = pytest.mark.peer

AXES = [
    {"name": "y", "units": "nm", "navigate": True, "scale": 2.0, "offset": 1.0},
    {"name": "x", "units": None, "navigate": True, "axis": np.array([0.0, 1.0, 3.0])},
    {"name": "Energy", "units": "eV", "navigate": False, "scale": 0.5, "offset": -1.0},
]
METADATA = {
    "General": {"title": "map/1"},
    "Signal": {"signal_type": ""},
    "Test": {"none": None, "flat": [1, 2, 3], "strs": ["a", "bé"], "nested": [[1, 2], [3]],
             "mixed": [1, "a", None], "empty": [], "tup": (1.5, 2.5), "flag": True,
             "arr": np.arange(4), "f32": np.float32(2.5)},
}

# (file name, writer, write options, peer load options)
OURS = [
    ("eager.hspy", hspy, {}, {}),
    ("lazy.hspy", hspy, {}, {"lazy": True}),
    ("nested.zspy", zspy, {}, {"lazy": True}),
    ("flat.zspy", zspy, {"dimension_separator": "."}, {}),
    ("zipped.zspy", zspy, {"store_type": "zip"}, {}),
    ("named.zip", zspy, {}, {"reader": "zspy"}),
]


@pytest.fixture(scope="module")
def ours_in_peer(tmp_path_factory):
    """Write our files, then let HyperSpy open each and describe what it sees."""
    folder = tmp_path_factory.mktemp("ours")
    data = np.random.default_rng(0).random((2, 3, 8)).astype("float32")
    np.save(folder / "data.npy", data)
    for name, module, options, _ in OURS:
        lazy = name.startswith(("lazy", "nested"))
        payload = da.from_array(data, chunks=(1, 3, 4)) if lazy else data
        signal = {"data": payload, "axes": AXES, "metadata": METADATA,
                  "original_metadata": {"Header": {"gain": 2}}}
        module.write(folder / name, signal, **options)
    loads = {name: load for name, _, _, load in OURS}
    report = run_peer(f"""
import hyperspy.api as hs, numpy as np
folder = {str(folder)!r}
ref = np.load(folder + "/data.npy")
out = {{}}
for name, options in {loads!r}.items():
    s = hs.load(folder + "/" + name, **options)
    axes = []
    for a in s.axes_manager._axes:
        axes.append(dict(name=a.name, units=a.units if isinstance(a.units, str) else None, navigate=a.navigate, uniform=a.is_uniform,
                         axis=[float(v) for v in a.axis]))
    t = s.metadata.Test
    out[name] = dict(
        equal=bool(np.array_equal(np.asarray(s.data), ref)), lazy=s._lazy,
        chunks=[list(c) for c in s.data.chunks] if s._lazy else None,
        title=s.metadata.General.title, axes=axes, nav=list(s.axes_manager.navigation_shape),
        test=dict(none=t.none, flat=list(t.flat), strs=list(t.strs), nested=t.nested,
                  mixed=t.mixed, empty=t.empty, tup=list(t.tup), flag=bool(t.flag),
                  arr=np.asarray(t.arr).tolist(), f32=float(t.f32)),
        gain=int(s.original_metadata.Header.gain))
emit(out)
""")
    return report


@pytest.mark.parametrize("name", [n for n, *_ in OURS])
def test_peer_reads_our_file(ours_in_peer, name):
    seen = ours_in_peer[name]
    assert seen["equal"]
    assert seen["title"] == "map/1"
    assert seen["nav"] == [3, 2]  # HyperSpy's (x, y) order for numpy shape (2, 3, 8)
    for axis, ours, size in zip(seen["axes"], AXES, (2, 3, 8)):
        assert axis["name"] == ours["name"]
        assert axis["units"] == ours["units"]
        assert axis["navigate"] == ours["navigate"]
        expected = (ours["axis"] if "axis" in ours
                    else ours["offset"] + ours["scale"] * np.arange(size))
        np.testing.assert_allclose(axis["axis"], expected)
        assert axis["uniform"] == ("axis" not in ours)
    assert seen["test"] == {"none": None, "flat": [1, 2, 3], "strs": ["a", "bé"],
                            "nested": [[1, 2], [3]], "mixed": [1, "a", None], "empty": [],
                            "tup": [1.5, 2.5], "flag": True, "arr": [0, 1, 2, 3], "f32": 2.5}
    assert seen["gain"] == 2


def test_peer_lazy_load_sees_our_stored_chunks(ours_in_peer):
    assert ours_in_peer["lazy.hspy"]["chunks"] == [[1, 1], [3], [4, 4]]
    assert ours_in_peer["nested.zspy"]["chunks"] == [[1, 1], [3], [4, 4]]


PEER_WRITES = """
import hyperspy.api as hs, numpy as np
folder = {folder!r}
rng = np.random.default_rng(1)
s = hs.signals.Signal1D(rng.random((2, 3, 6)))
s.metadata.General.title = "peer/sig"
s.axes_manager[0].name = "x"; s.axes_manager[0].units = "nm"; s.axes_manager[0].scale = 0.5
s.axes_manager[1].name = "y"; s.axes_manager[1].offset = 3.0
s.axes_manager[-1].convert_to_non_uniform_axis()
s.axes_manager[-1].axis = np.array([0.0, 1.0, 2.5, 4.0, 7.0, 9.0])
s.axes_manager[-1].name = "E"; s.axes_manager[-1].units = "keV"
md = s.metadata
md.set_item("Test.none", None); md.set_item("Test.empty", []); md.set_item("Test.etup", ())
md.set_item("Test.flat", [1, 2, 3]); md.set_item("Test.tup", (1.0, 2.0))
md.set_item("Test.strs", ["a", "bc"]); md.set_item("Test.nested", [[1, 2], [3]])
md.set_item("Test.mixed", [1, "a", {{"k": 2}}]); md.set_item("Test.arr", np.arange(4))
md.set_item("Test.flag", True); md.set_item("Test.f32", np.float32(2.5))
md.set_item("Test.inner", hs.signals.Signal1D(np.arange(3.0)))
s.original_metadata.set_item("Header.gain", 4)
np.save(folder + "/sig.npy", s.data)
s.save(folder + "/p.hspy")
s.save(folder + "/p.zspy")
s.save(folder + "/pzip.zspy", store_type="zip")
big = hs.signals.Signal2D(rng.random((4, 6, 10, 10))).as_lazy()
big.data = big.data.rechunk((2, 3, 10, 10))
big.save(folder + "/chunked.hspy"); big.save(folder + "/chunked.zspy")
np.save(folder + "/big.npy", big.data.compute())
f = hs.signals.Signal1D(np.zeros((3, 4)))
f.axes_manager[0].convert_to_functional_data_axis(expression="a*x**2 + b", a=2.0, b=1.0)
f.save(folder + "/functional.hspy")
one = hs.signals.Signal1D(np.ones(5)); one.metadata.General.title = "first"
two = hs.signals.Signal2D(np.zeros((2, 2))); two.metadata.General.title = "second"
one.save(folder + "/multi.hspy"); two.save(folder + "/second.hspy")
import h5py  # HyperSpy 2.5's save(mode="a") is broken: graft the second signal in
with h5py.File(folder + "/multi.hspy", "a") as f, h5py.File(folder + "/second.hspy") as g:
    g.copy(g["Experiments/second"], f["Experiments"], "second")
emit({{"chunks": [list(c) for c in big.data.chunks]}})
"""


@pytest.fixture(scope="module")
def peer_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("peer")
    run_peer(PEER_WRITES.format(folder=str(folder)))
    return folder


@pytest.mark.parametrize("name,module", [("p.hspy", hspy), ("p.zspy", zspy),
                                         ("pzip.zspy", zspy)])
@pytest.mark.parametrize("lazy", [False, True])
def test_we_read_peer_file(peer_files, name, module, lazy):
    [s] = module.read(peer_files / name, lazy=lazy)
    assert isinstance(s["data"], da.Array) == lazy
    np.testing.assert_array_equal(np.asarray(s["data"]), np.load(peer_files / "sig.npy"))
    module.close(peer_files / name)
    assert s["metadata"]["General"]["title"] == "peer/sig"
    y, x, e = s["axes"]
    assert (y["name"], y["offset"], y["scale"], y["size"], y["navigate"]) == ("y", 3.0, 1.0, 2,
                                                                             True)
    assert (x["name"], x["units"], x["scale"], x["size"]) == ("x", "nm", 0.5, 3)
    assert (e["name"], e["units"], e["navigate"]) == ("E", "keV", False)
    np.testing.assert_array_equal(e["axis"], [0.0, 1.0, 2.5, 4.0, 7.0, 9.0])
    t = s["metadata"]["Test"]
    assert t["none"] is None and t["empty"] == [] and t["etup"] == ()
    assert t["flat"] == [1, 2, 3] and t["tup"] == (1.0, 2.0) and t["strs"] == ["a", "bc"]
    assert t["nested"] == [[1, 2], [3]] and t["mixed"] == [1, "a", {"k": 2}]
    np.testing.assert_array_equal(t["arr"], np.arange(4))
    assert t["flag"] is True and t["f32"] == 2.5
    inner = t["_sig_inner"]
    np.testing.assert_array_equal(inner["data"], np.arange(3.0))
    assert inner["axes"][0]["size"] == 3 and inner["axes"][0]["navigate"] is False
    assert s["original_metadata"]["Header"]["gain"] == 4
    assert s["package"] == "hyperspy"
    if name.endswith("hspy"):  # HDF5 keeps numpy scalar types; zarr's JSON attributes cannot
        assert isinstance(t["f32"], np.float32)


@pytest.mark.parametrize("name,module", [("chunked.hspy", hspy), ("chunked.zspy", zspy)])
def test_lazy_read_keeps_peer_chunks(peer_files, name, module):
    [s] = module.read(peer_files / name, lazy=True)
    assert s["data"].chunks == ((2, 2), (3, 3), (10,), (10,))
    np.testing.assert_array_equal(s["data"].compute(), np.load(peer_files / "big.npy"))
    module.close(peer_files / name)


def test_functional_axis_is_evaluated(peer_files):
    [s] = hspy.read(peer_files / "functional.hspy")
    np.testing.assert_allclose(s["axes"][0]["axis"], 2.0 * np.arange(3) ** 2 + 1.0)


def test_multi_signal_file_reads_as_list(peer_files):
    signals = hspy.read(peer_files / "multi.hspy")
    assert [s["metadata"]["General"]["title"] for s in signals] == ["first", "second"]
    assert [s["data"].shape for s in signals] == [(5,), (2, 2)]


SHAPES = [((256, 256, 1024), "float32", [2]), ((10, 4096, 4096), "uint16", [1, 2]),
          ((7, 300, 2048), "float64", [2]), ((3, 50, 60, 40), "int8", [3]),
          ((1000, 13, 200), "float32", [2]), ((5, 6), "float64", [0]),
          ((40, 2, 2, 500), "complex128", [2, 3]), ((300,), "float64", [0]),
          ((64, 64, 64), "uint8", [])]


def test_default_chunks_match_hyperspy():
    expected = run_peer(f"""
from rsciio._hierarchical import get_signal_chunks
out = []
for shape, dtype, sig in {SHAPES!r}:
    out.append([list(get_signal_chunks(shape, dtype, sig, t)) for t in (1e6, 1e8)])
emit(out)
""")
    ours = [[list(default_chunks(shape, dtype, sig, t)) for t in (1e6, 1e8)]
            for shape, dtype, sig in SHAPES]
    assert ours == expected, json.dumps([SHAPES, ours, expected])
