"""TIFF reader and writer: lazy == eager by page chunks, calibration, streamed writes."""

from __future__ import annotations

import pickle

import dask.array as da
import distributed
import numpy as np
import pytest
import tifffile
from dask.callbacks import Callback

from lazysignal.errors import ChunksError, FileFormatError
from lazysignal.io.formats import tiff
from lazysignal.testing.conformance import FormatConformance, image_stack


def _signal(data, units="nm", scale=0.5, title="stack"):
    names = ["t", "z", "y", "x"][-data.ndim:]
    axes = [dict(name=n, units=units, navigate=i < data.ndim - 2, size=s, scale=scale * (i + 1),
                 offset=0.25 * i) for i, (n, s) in enumerate(zip(names, data.shape))]
    return {"data": data, "axes": axes, "metadata": {"General": {"title": title}},
            "original_metadata": {}}


@pytest.fixture
def stack(tmp_path):
    data = np.random.default_rng(0).integers(0, 60000, (6, 9, 11), dtype=np.uint16)
    path = tmp_path / "s.tif"
    tiff.write(path, _signal(data))
    return path, data


@pytest.mark.parametrize("chunks", ["auto", (1, 9, 11), (4, 5, 3), ((2, 4), -1, (5, 6)), {0: 3}])
def test_lazy_equals_eager(stack, chunks):
    path, data = stack
    eager = tiff.read(path)[0]
    np.testing.assert_array_equal(eager["data"], data)
    lazy = tiff.read(path, lazy=True, chunks=chunks)[0]["data"]
    assert isinstance(lazy, da.Array)
    if chunks == (4, 5, 3):
        assert lazy.chunks == ((4, 2), (5, 4), (3, 3, 3, 2))
    if chunks == "auto":
        assert lazy.chunks[1:] == ((9,), (11,))  # pages whole
    np.testing.assert_array_equal(lazy.compute(), data)
    assert len(pickle.dumps(lazy)) < 10_000  # tasks carry the path, not data


def test_axes_and_title_round_trip(stack):
    path, _ = stack
    d = tiff.read(path)[0]
    assert [a["name"] for a in d["axes"]] == ["z", "y", "x"]
    assert [a["scale"] for a in d["axes"]] == [0.5, 1.0, 1.5]
    assert [a["offset"] for a in d["axes"]] == [0.0, 0.25, 0.5]
    assert [a["navigate"] for a in d["axes"]] == [True, False, False]
    assert d["metadata"]["General"]["title"] == "stack"
    with tifffile.TiffFile(path) as tf:  # one page per image, pixel size in the tags
        assert len(tf.pages) == 6
        num, den = tf.pages[0].tags["XResolution"].value
        assert num / den == pytest.approx(1 / 1.5)  # pixels per unit


def test_imagej_calibration(tmp_path):
    data = np.arange(5 * 16 * 20, dtype="u2").reshape(5, 16, 20)
    path = tmp_path / "ij.tif"
    tifffile.imwrite(path, data, imagej=True, resolution=(1 / 0.5, 1 / 0.25),
                     metadata={"spacing": 2.0, "unit": "micron", "axes": "ZYX"})
    d = tiff.read(path, lazy=True)[0]
    assert [(a["name"], a["scale"], a["units"]) for a in d["axes"]] == [
        ("z", 2.0, "µm"), ("y", 0.25, "µm"), ("x", 0.5, "µm")]
    np.testing.assert_array_equal(d["data"].compute(), data)
    out = tmp_path / "ij2.tif"
    tiff.write(out, _signal(data.astype("f4"), units="µm"), imagej=True)
    back = tiff.read(out)[0]
    assert [(a["name"], a["scale"]) for a in back["axes"]] == [("z", 0.5), ("y", 1.0), ("x", 1.5)]
    assert back["original_metadata"]["ImageJ"]["unit"] == "micron"
    assert back["axes"][-1]["units"] == "µm"


def test_resolution_tags_only(tmp_path):
    path = tmp_path / "p.tif"
    tifffile.imwrite(path, np.zeros((16, 20), "u1"), resolution=(100, 50),
                     resolutionunit="CENTIMETER")
    axes = tiff.read(path)[0]["axes"]
    assert [(a["name"], a["scale"], a["units"]) for a in axes] == [("y", 0.02, "cm"),
                                                                   ("x", 0.01, "cm")]


class _LargestResult(Callback):
    def __init__(self):
        super().__init__()
        self.largest = 0

    def _posttask(self, key, result, dsk, state, id):
        self.largest = max(self.largest, getattr(result, "nbytes", 0))


@pytest.mark.parametrize("chunks", [(1, 2, 9, 11), (2, 3, 9, 4)])
def test_lazy_write_streams_pages(tmp_path, chunks):
    data = np.random.default_rng(2).random((4, 6, 9, 11)).astype("f4")
    path = tmp_path / "w.tif"
    with _LargestResult() as cb:
        tiff.write(path, _signal(da.from_array(data, chunks=chunks)))
    assert cb.largest <= data.itemsize * chunks[0] * 6 * 9 * 11  # one block row at most
    back = tiff.read(path)[0]
    np.testing.assert_array_equal(back["data"], data)
    assert [a["name"] for a in back["axes"]] == ["t", "z", "y", "x"]


def test_distributed_compute(stack):
    path, data = stack
    lazy = tiff.read(path, lazy=True, chunks=(2, 9, 11))[0]["data"]
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster):
        np.testing.assert_array_equal(lazy.sum(axis=0).compute(),
                                      data.sum(axis=0, dtype=np.uint64))


def test_errors(tmp_path, stack):
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"not a tiff at all")
    with pytest.raises(FileFormatError, match=r"bad\.tif"):
        tiff.read(bad)
    path, _ = stack
    with pytest.raises(ChunksError, match=r"s\.tif"):
        tiff.read(path, lazy=True, chunks=(1, 2))
    with pytest.raises(FileFormatError, match="series=3"):
        tiff.read(path, series=3)
    with pytest.raises(FileFormatError, match="2-D"):
        tiff.write(tmp_path / "x.tif", {"data": np.zeros(3), "axes": [{}], "metadata": {}})


class TestTiffConformance(FormatConformance):
    format_name = "tiff"

    def make_signal(self):
        return image_stack()
