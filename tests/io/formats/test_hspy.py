"""``.hspy``: HDF5 layout details, filters, handles, older layout versions and bad files."""

from __future__ import annotations

import os

import dask.array as da
import h5py
import numpy as np
import psutil
import pytest

from lazysignal.errors import ChunksError, FileFormatError, TruncatedFileError
from lazysignal.io.formats import hspy
from lazysignal.testing.conformance import FormatConformance, spectrum_image


def _write(path, data=None, **options):
    data = np.arange(24.0).reshape(2, 3, 4) if data is None else data
    signal = {"data": data, "metadata": {"General": {"title": "t"}},
              "axes": [{"name": n, "units": "u", "navigate": n != "E", "scale": 1.0,
                        "offset": 0.0} for n in ("y", "x", "E")][-data.ndim:]}
    hspy.write(path, signal, **options)
    return data


def test_layout_matches_hyperspy(tmp_path):
    path = tmp_path / "a.hspy"
    _write(path)
    with h5py.File(path) as f:
        assert f.attrs["file_format"] == "HyperSpy"
        assert f.attrs["file_format_version"] == "3.3"
        group = f["Experiments/t"]
        assert set(group) == {"data", "axis-0", "axis-1", "axis-2", "metadata",
                              "original_metadata", "learning_results", "attributes"}
        assert set(group.attrs) == {"package", "package_version"}
        axis = dict(group["axis-2"].attrs)
        assert axis["_type"] == "UniformDataAxis" and axis["navigate"] == np.False_
        assert axis["size"] == 4 and axis["name"] == "E"
        assert group["data"].compression == "gzip" and group["data"].shuffle
        assert dict(group["attributes"].attrs) == {"_lazy": False, "ragged": False}
        assert group["metadata/General"].attrs["title"] == "t"


@pytest.mark.parametrize("compression", [None, "lzf", "gzip"])
def test_compression_option(tmp_path, compression):
    path = tmp_path / "c.hspy"
    data = _write(path, compression=compression)
    with h5py.File(path) as f:
        assert f["Experiments/t/data"].compression == compression
    [lazy] = hspy.read(path, lazy=True)
    np.testing.assert_array_equal(lazy["data"].compute(), data)
    hspy.close(path)


def test_lazy_write_streams_dask_data(tmp_path):
    path = tmp_path / "l.hspy"
    source = da.random.default_rng(3).random((20, 10, 16), chunks=(5, 10, 16))
    _write(path, source)
    with h5py.File(path) as f:
        assert f["Experiments/t/data"].chunks == (5, 10, 16)
        assert bool(f["Experiments/t/attributes"].attrs["_lazy"])
    [eager] = hspy.read(path)
    np.testing.assert_array_equal(eager["data"], source.compute())


def _open_handles(path):
    target = os.path.realpath(path)
    return sum(1 for f in psutil.Process().open_files() if f.path == target)


def test_lazy_read_keeps_the_file_open_until_close(tmp_path):
    path = tmp_path / "k.hspy"
    data = _write(path)
    assert hspy.FORMAT.keeps_file_open
    [s] = hspy.read(path, lazy=True)
    assert _open_handles(path) == 1
    hspy.close(path)
    assert _open_handles(path) == 0
    np.testing.assert_array_equal(s["data"].compute(), data)  # reopens on demand
    hspy.close(path)
    assert _open_handles(path) == 0
    [eager] = hspy.read(path)
    assert _open_handles(path) == 0 and isinstance(eager["data"], np.ndarray)


def test_lazy_chunks_must_be_multiples_of_stored(tmp_path):
    path = tmp_path / "m.hspy"
    _write(path, np.zeros((8, 6, 4)), chunks=(2, 3, 4))
    [s] = hspy.read(path, lazy=True, chunks=(4, 6, 4))
    assert s["data"].chunks == ((4, 4), (6,), (4,))
    with pytest.raises(ChunksError, match="multiple"):
        hspy.read(path, lazy=True, chunks=(3, 6, 4))
    hspy.close(path)


def test_random_bytes_is_a_format_error(tmp_path):
    path = tmp_path / "noise.hspy"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(FileFormatError, match="noise.hspy.*not a readable HDF5"):
        hspy.read(path)


def test_truncated_file_is_reported(tmp_path):
    path = tmp_path / "cut.hspy"
    _write(path, np.random.default_rng(0).random((50, 40, 30)))
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size // 2)
    with pytest.raises(TruncatedFileError, match="cut.hspy.*truncated"):
        hspy.read(path)


def test_hdf5_that_is_not_hyperspy(tmp_path):
    path = tmp_path / "other.hspy"
    with h5py.File(path, "w") as f:
        f["entry/data"] = np.zeros(3)
    with pytest.raises(FileFormatError, match="other.hspy.*HyperSpy's layout.*'entry'"):
        hspy.read(path)
    with h5py.File(path, "w") as f:
        f.attrs["file_format_version"] = "3.3"
        f.create_group("Experiments/empty")
    with pytest.raises(FileFormatError, match="holds no signal"):
        hspy.read(path)


def test_missing_axis_group_is_named(tmp_path):
    path = tmp_path / "ax.hspy"
    _write(path)
    with h5py.File(path, "a") as f:
        del f["Experiments/t/axis-1"]
    with pytest.raises(FileFormatError, match=r"ax.hspy.*\['axis-1'\] are missing"):
        hspy.read(path)


def test_axis_size_disagreeing_with_data(tmp_path):
    path = tmp_path / "sz.hspy"
    _write(path)
    with h5py.File(path, "a") as f:
        f["Experiments/t/axis-0"].attrs["size"] = 7
    with pytest.raises(FileFormatError, match="axis size 7 but data dimension is 2"):
        hspy.read(path)


def test_newer_version_warns_and_reads(tmp_path):
    path = tmp_path / "new.hspy"
    data = _write(path)
    with h5py.File(path, "a") as f:
        f.attrs["file_format_version"] = "4.1"
    with pytest.warns(UserWarning, match="version 4.1, newer"):
        [s] = hspy.read(path)
    np.testing.assert_array_equal(s["data"], data)


def test_version_1_layout_without_version_attribute(tmp_path):
    # HyperSpy 0.x files: no version attribute, metadata under "mapped_parameters" with the
    # title and signal type at its top.
    path = tmp_path / "old.hspy"
    with h5py.File(path, "w") as f:
        group = f.create_group("Experiments/old")
        group["data"] = np.arange(5.0)
        group.create_group("axis-0").attrs.update(
            {"name": "E", "units": "eV", "scale": 2.0, "offset": 1.0, "size": 5,
             "navigate": False, "index_in_array": 0})
        group.create_group("mapped_parameters").attrs.update(
            {"title": "legacy", "signal_type": "EELS", "record_by": "spectrum"})
        group.create_group("original_parameters").attrs["x"] = 1
    [s] = hspy.read(path)
    assert s["metadata"]["General"]["title"] == "legacy"
    assert s["metadata"]["Signal"] == {"signal_type": "EELS", "record_by": "spectrum"}
    assert s["original_metadata"] == {"x": 1}
    assert (s["axes"][0]["scale"], s["axes"][0]["offset"]) == (2.0, 1.0)


def test_version_2_detected_from_analysis_group(tmp_path):
    path = tmp_path / "models.hspy"
    with h5py.File(path, "w") as f:
        f.create_group("Analysis/models")
    with pytest.raises(FileFormatError, match="no '/Experiments' group"):
        hspy.read(path)


def test_strings_and_bytes_in_metadata(tmp_path):
    path = tmp_path / "s.hspy"
    hspy.write(path, {"data": np.zeros(2), "metadata": {
        "General": {"title": "s"}, "B": {"plain": b"abc", "blob": b"a\x00b"}}})
    [s] = hspy.read(path)
    assert s["metadata"]["B"] == {"plain": "abc", "blob": b"a\x00b"}


class TestHspyConformance(FormatConformance):
    format_name = "hspy"

    def make_signal(self):
        return spectrum_image()
