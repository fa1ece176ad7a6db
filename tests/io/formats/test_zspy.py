"""``.zspy``: zarr v2 stores (nested, flat, zip), compressor, distributed writes, bad stores."""

from __future__ import annotations

import json
import os
import shutil
import zipfile

import dask.array as da
import distributed
import numpy as np
import pytest
import zarr

from lazysignal.errors import ChunksError, FileFormatError
from lazysignal.io.formats import zspy
from lazysignal.testing.conformance import FormatConformance, spectrum_image

DATA = np.arange(4 * 6 * 5, dtype="uint16").reshape(4, 6, 5)


def _signal(data=DATA):
    return {"data": data, "metadata": {"General": {"title": "z"}},
            "axes": [{"name": "y", "navigate": True}, {"name": "x", "navigate": True},
                     {"name": "E", "units": "eV", "navigate": False, "scale": 0.5,
                      "offset": 1.0}]}


def test_nested_v2_layout_with_hyperspy_compressor(tmp_path):
    path = tmp_path / "n.zspy"
    zspy.write(path, _signal(), chunks=(2, 3, 5))
    data_dir = path / "Experiments" / "z" / "data"
    meta = json.loads((data_dir / ".zarray").read_text())
    assert meta["zarr_format"] == 2 and meta["dimension_separator"] == "/"
    assert meta["compressor"] == {"id": "blosc", "cname": "zstd", "clevel": 1, "shuffle": 1,
                                  "blocksize": 0}
    assert (data_dir / "1" / "1" / "0").is_file()  # nested chunk keys
    assert json.loads((path / ".zattrs").read_text()) == {"file_format": "ZSpy",
                                                         "file_format_version": "3.3"}
    assert (path / ".zmetadata").is_file()  # consolidated, as HyperSpy writes
    axis = json.loads((path / "Experiments" / "z" / "axis-2" / ".zattrs").read_text())
    assert axis == {"_type": "UniformDataAxis", "name": "E", "units": "eV", "navigate": False,
                    "is_binned": False, "size": 5, "scale": 0.5, "offset": 1.0}


def test_flat_separator_store(tmp_path):
    path = tmp_path / "f.zspy"
    zspy.write(path, _signal(), chunks=(2, 3, 5), dimension_separator=".")
    assert (path / "Experiments" / "z" / "data" / "1.1.0").is_file()
    [s] = zspy.read(path, lazy=True)
    assert s["data"].chunks == ((2, 2), (3, 3), (5,))
    np.testing.assert_array_equal(s["data"].compute(), DATA)


@pytest.mark.parametrize("name,options", [("a.zip", {}), ("b.zspy", {"store_type": "zip"})])
def test_zip_store_round_trip(tmp_path, name, options):
    path = tmp_path / name
    zspy.write(path, _signal(da.from_array(DATA, chunks=(1, 6, 5))), **options)
    assert zipfile.is_zipfile(path)
    names = zipfile.ZipFile(path).namelist()
    assert "Experiments/z/data/3/0/0" in names and len(names) == len(set(names))
    assert [p for p in os.listdir(tmp_path) if p != name] == []  # staging removed
    [s] = zspy.read(path, lazy=True)
    assert s["data"].chunks == ((1, 1, 1, 1), (6,), (5,))
    np.testing.assert_array_equal(s["data"].compute(), DATA)
    zspy.close(path)
    [eager] = zspy.read(path)
    np.testing.assert_array_equal(eager["data"], DATA)


def test_custom_compressor_and_zarr_reads_it_back(tmp_path):
    import numcodecs

    path = tmp_path / "c.zspy"
    zspy.write(path, _signal(), compressor=numcodecs.Zlib(level=3))
    array = zarr.open_group(path, mode="r")["Experiments/z/data"]
    assert array.metadata.compressor.get_config() == {"id": "zlib", "level": 3}
    np.testing.assert_array_equal(array[...], DATA)


def test_lazy_chunks_option_and_bad_chunks(tmp_path):
    path = tmp_path / "k.zspy"
    zspy.write(path, _signal(), chunks=(1, 3, 5))
    [s] = zspy.read(path, lazy=True, chunks=(2, 6, 5))
    assert s["data"].chunks == ((2, 2), (6,), (5,))
    np.testing.assert_array_equal(s["data"].compute(), DATA)
    with pytest.raises(ChunksError, match="k.zspy"):
        zspy.read(path, lazy=True, chunks=(1, 2))


def test_store_missing_data_array(tmp_path):
    path = tmp_path / "m.zspy"
    zspy.write(path, _signal(), consolidate=False)
    shutil.rmtree(path / "Experiments" / "z" / "data")
    with pytest.raises(FileFormatError, match="m.zspy.*holds no signal"):
        zspy.read(path)


def test_store_missing_metadata_of_array(tmp_path):
    path = tmp_path / "a.zspy"
    zspy.write(path, _signal(), consolidate=False)
    os.remove(path / "Experiments" / "z" / "axis-0" / ".zgroup")
    os.remove(path / "Experiments" / "z" / "axis-0" / ".zattrs")
    with pytest.raises(FileFormatError, match=r"a.zspy.*\['axis-0'\] are missing"):
        zspy.read(path)


def test_not_a_zarr_store(tmp_path):
    empty = tmp_path / "empty.zspy"
    empty.mkdir()
    with pytest.raises(FileFormatError, match="empty.zspy.*not a readable zarr store"):
        zspy.read(empty)
    plain = tmp_path / "plain.zspy"
    plain.write_bytes(b"not a zip at all")
    with pytest.raises(FileFormatError, match="plain.zspy.*not a zip"):
        zspy.read(plain)
    other = tmp_path / "other.zspy"
    zarr.open_group(other, mode="w", zarr_format=2).create_group("images")
    with pytest.raises(FileFormatError, match="other.zspy.*HyperSpy's layout"):
        zspy.read(other)
    with pytest.raises(FileNotFoundError, match="missing.zspy"):
        zspy.read(tmp_path / "missing.zspy")


def test_newer_version_warns(tmp_path):
    path = tmp_path / "v.zspy"
    zspy.write(path, _signal(), consolidate=False)
    zarr.open_group(path, mode="r+", use_consolidated=False).attrs["file_format_version"] = "9.0"
    with pytest.warns(UserWarning, match="newer"):
        [s] = zspy.read(path)
    np.testing.assert_array_equal(s["data"], DATA)


@pytest.fixture(scope="module")
def cluster_client():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.mark.parametrize("name", ["d.zspy", "d.zip"])
def test_lazy_write_on_local_cluster(tmp_path, cluster_client, name):
    path = tmp_path / name
    source = da.random.default_rng(7).random((12, 8, 16), chunks=(3, 4, 16))
    expected = source.compute()
    zspy.write(path, {"data": source})
    [s] = zspy.read(path, lazy=True)
    assert s["data"].chunks == source.chunks
    # computed on the worker processes, compared with the threaded scheduler
    np.testing.assert_array_equal(s["data"].compute(), expected)
    assert float(s["data"].sum().compute()) == pytest.approx(
        float(s["data"].sum().compute(scheduler="threads")))
    zspy.close(path)


class TestZspyConformance(FormatConformance):
    format_name = "zspy"

    def make_signal(self):
        return spectrum_image()
