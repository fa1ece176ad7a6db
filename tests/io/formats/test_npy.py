"""``.npy``: lazy through the per-chunk reader == np.load, Fortran order, errors, writing."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lazysignal.errors import ChunksError, FileFormatError, TruncatedFileError
from lazysignal.io.formats import npy
from lazysignal.signals import Signal2D
from lazysignal.testing.conformance import FormatConformance


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=4).map(tuple),
    dtype=st.sampled_from(["<u2", ">u2", "<f8", ">i4", "u1", "<c8", "bool"]),
    fortran=st.booleans(),
    distributed=st.booleans(),
    data=st.data(),
)
def test_lazy_equals_np_load(tmp_path, shape, dtype, fortran, distributed, data):
    values = (np.arange(np.prod(shape)).reshape(shape) % 7).astype(dtype)
    if fortran:
        values = np.asfortranarray(values)
    path = tmp_path / "a.npy"
    np.save(path, values)
    chunks = tuple(data.draw(st.integers(1, n)) for n in shape)
    eager = npy.read(path)[0]["data"]
    lazy = npy.read(path, lazy=True, chunks=chunks, distributed=distributed)[0]["data"]
    assert lazy.chunks == da.core.normalize_chunks(chunks, shape)
    assert lazy.dtype == values.dtype
    np.testing.assert_array_equal(eager, values)
    np.testing.assert_array_equal(lazy.compute(), values)


def test_axes_and_auto_chunks(tmp_path):
    path = tmp_path / "stack.npy"
    np.save(path, np.zeros((10, 8, 16, 16), "u2"))
    sig = npy.read(path, lazy=True)[0]
    assert [a["navigate"] for a in sig["axes"]] == [True, True, False, False]
    assert sig["data"].chunks[2:] == ((16,), (16,))
    assert npy.read(path, lazy=True, signal_dimension=1)[0]["axes"][2]["navigate"] is True
    fpath = tmp_path / "f.npy"
    np.save(fpath, np.asfortranarray(np.ones((10, 8, 16, 16), "u2")))
    fsig = npy.read(fpath, lazy=True)[0]
    assert fsig["data"].chunks[2:] == ((16,), (16,))  # signal axes whole for Fortran files too
    assert int(fsig["data"].sum().compute()) == 10 * 8 * 16 * 16


def test_bad_files(tmp_path):
    path = tmp_path / "t.npy"
    np.save(path, np.arange(100, dtype="<i8"))
    with open(path, "r+b") as f:
        f.truncate(path.stat().st_size - 16)
    with pytest.raises(TruncatedFileError, match="t.npy"):
        npy.read(path, lazy=True)
    with pytest.raises(TruncatedFileError, match="t.npy"):
        npy.read(path)
    padded = npy.read(path, lazy=True, pad=True)[0]["data"].compute()
    np.testing.assert_array_equal(padded, np.r_[np.arange(98), 0, 0])
    junk = tmp_path / "junk.npy"
    junk.write_bytes(b"not an npy file at all")
    with pytest.raises(FileFormatError, match="junk.npy"):
        npy.read(junk)
    obj = tmp_path / "obj.npy"
    np.save(obj, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(FileFormatError, match="objects"):
        npy.read(obj, lazy=True)
    np.save(path, np.zeros((4, 4)))
    with pytest.raises(ChunksError, match=r"\(4, 4\)"):
        npy.read(path, lazy=True, chunks=(1, 2, 3))


@pytest.mark.parametrize("lazy_input", [False, True])
def test_write_round_trip(tmp_path, lazy_input):
    values = np.arange(5 * 6 * 7, dtype=">f4").reshape(5, 6, 7)
    data = da.from_array(values, chunks=(2, 4, 3)) if lazy_input else values
    path = tmp_path / "w.npy"
    npy.write(path, {"data": data, "axes": [], "metadata": {}})
    loaded = np.load(path)
    assert loaded.dtype == values.dtype
    np.testing.assert_array_equal(loaded, values)
    np.testing.assert_array_equal(npy.read(path, lazy=True, chunks=3)[0]["data"].compute(), values)


class TestNpyConformance(FormatConformance):
    format_name = "npy"
    kept_axis_attributes = ("size", "navigate")  # .npy holds no calibration
    kept_metadata = ()

    def make_signal(self):
        data = np.arange(6 * 8 * 48 * 48, dtype="f4").reshape(6, 8, 48, 48)
        return Signal2D(data, metadata={"General": {"title": "conformance"}})
