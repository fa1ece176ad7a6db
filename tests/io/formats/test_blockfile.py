"""Blockfile reader and writer: real files, lazy == eager, exact chunks, truncation, streaming."""

from __future__ import annotations

import pickle

import dask
import dask.array as da
import distributed
import numpy as np
import pytest
from dask.callbacks import Callback
from realdata import realdata

from lazysignal.errors import FileFormatError, TruncatedFileError
from lazysignal.io.formats import blockfile
from lazysignal.signals import Signal2D
from lazysignal.testing.conformance import FormatConformance

REALDATA = realdata("blockfile")


def _axes(shape, nav_units="nm", sig_units="cm", scale=0.5):
    names = ["y", "x"][-(len(shape) - 2):] if len(shape) > 2 else []
    axes = [dict(name=n, units=nav_units, navigate=True, size=s, scale=scale, offset=0.0)
            for n, s in zip(names, shape[:-2])]
    axes += [dict(name=n, units=sig_units, navigate=False, size=s, scale=0.01, offset=0.0)
             for n, s in zip(("dy", "dx"), shape[-2:])]
    return axes


def _signal(data, **kw):
    return {"data": data, "axes": _axes(data.shape, **kw), "metadata": {},
            "original_metadata": {}}


def _random(shape, seed=0):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


@pytest.fixture(scope="module")
def cluster_client():
    with distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster) as client:
            yield client


@pytest.mark.parametrize("name, shape, total", [("test1", (3, 2, 144, 144), 5164570),
                                                ("test2", (2, 3, 5, 5), 2952)])
def test_real_files(name, shape, total):
    d = blockfile.read(REALDATA / f"{name}.blo")[0]
    assert d["data"].shape == shape and d["data"].dtype == np.uint8
    assert int(d["data"].sum()) == total  # RosettaSciIO 0.15 reads the same sums
    names = [a["name"] for a in d["axes"]]
    assert names == ["y", "x", "dy", "dx"]
    assert d["axes"][2]["scale"] == pytest.approx(100 / 6226) and d["axes"][2]["units"] == "cm"
    assert d["axes"][0]["units"] == "nm"
    md = d["metadata"]
    assert md["General"]["notes"].startswith("Precession angle")
    assert md["General"]["date"].startswith("2015-12-0")  # local time zone of the reader
    assert md["Signal"]["signal_type"] == "diffraction"
    assert md["Acquisition_instrument"]["TEM"]["beam_energy"] == 200.0
    header = d["original_metadata"]["blockfile_header"]
    assert header["Distortion_N09"] == 0.945 and header["SDP"] == 6226
    assert d["original_metadata"]["virtual_bright_field"].shape == shape[:2]
    for dist in (True, False):
        for chunks in ("auto", (1, 1, 2, -1), (2, 1, 48, 72)):
            lazy = blockfile.read(REALDATA / f"{name}.blo", lazy=True, chunks=chunks,
                                  distributed=dist)[0]["data"]
            np.testing.assert_array_equal(lazy.compute(), d["data"])


def test_rewrite_of_test2_is_byte_identical(tmp_path):
    # FORMATS-binary 2.5 step 6: header, note, VBF (= truncated frame means) and frames.
    src = REALDATA / "test2.blo"
    out = tmp_path / "re.blo"
    blockfile.write(out, blockfile.read(src)[0])
    assert out.read_bytes() == src.read_bytes()
    lazy = blockfile.read(src, lazy=True, chunks=(1, 1, 5, 5))[0]
    blockfile.write(out, lazy)
    assert out.read_bytes() == src.read_bytes()


@pytest.mark.parametrize("distributed", [True, False])
@pytest.mark.parametrize("chunks", ["auto", (1, 1, 4, 4), (2, 3, 8, 3), ((1, 2), 5, (5, 3), 8),
                                    {0: 1}])
def test_round_trip_lazy_equals_eager(tmp_path, chunks, distributed):
    data = _random((3, 5, 8, 8))
    path = tmp_path / "a.blo"
    blockfile.write(path, _signal(data))
    eager = blockfile.read(path)[0]
    np.testing.assert_array_equal(eager["data"], data)
    lazy = blockfile.read(path, lazy=True, chunks=chunks, distributed=distributed)[0]["data"]
    assert isinstance(lazy, da.Array)
    np.testing.assert_array_equal(lazy.compute(), data)
    scales = [a["scale"] for a in eager["axes"]]
    assert scales == pytest.approx([0.5, 0.5, 1 / 100, 1 / 100])
    # VBF defaults to the truncated per-frame mean.
    np.testing.assert_array_equal(eager["original_metadata"]["virtual_bright_field"],
                                  data.mean(axis=(-2, -1)).astype("u1"))


def _sparse_blockfile(path, ny, nx, dp):
    """A header-only blockfile whose frames are a sparse hole (reads as zeros)."""
    header = blockfile._default_header()
    off2 = 0x1000 + nx * ny
    off2 += off2 % 16
    header.update(NX=nx, NY=ny, DP_SZ=dp, SX=1.0, SY=1.0, SDP=100, Data_offset_2=off2)
    dt = blockfile._header_dtype()
    with open(path, "wb") as f:
        f.write(np.array([tuple(header[n] for n in dt.names)], dtype=dt).tobytes())
        f.truncate(off2 + nx * ny * (6 + dp * dp))


@pytest.mark.parametrize("distributed", [True, False])
def test_chunks_honoured_exactly_on_a_big_scan(tmp_path, distributed):
    path = tmp_path / "big.blo"
    _sparse_blockfile(path, 90, 121, 144)
    arr = blockfile.read(path, lazy=True, chunks=(1, 1, 72, 72), distributed=distributed)[0]["data"]
    assert arr.shape == (90, 121, 144, 144)
    assert arr.chunks == ((1,) * 90, (1,) * 121, (72, 72), (72, 72))
    assert arr.blocks[89, 120, 1, 1].compute().shape == (1, 1, 72, 72)
    # The graph stays small: tasks carry a file layout, not data.
    assert len(pickle.dumps(arr)) < 2**20


def test_truncated_file_raises_or_pads(tmp_path):
    data = _random((2, 3, 6, 6))
    path = tmp_path / "t.blo"
    blockfile.write(path, _signal(data))
    full = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(full - 2 * (6 + 36) - 10)  # last two frames and part of a third gone
    with pytest.raises(TruncatedFileError, match=r"t\.blo.*truncated.*2x3 frames.*bytes"):
        blockfile.read(path)
    with pytest.raises(TruncatedFileError):
        blockfile.read(path, lazy=True)
    expected = data.copy()
    expected[1, 0].reshape(-1)[26:] = 0  # the last 10 of the frame's 36 pixels are gone
    expected[1, 1:] = 0
    for lazy in (False, True):
        with pytest.warns(UserWarning, match="truncated"):
            d = blockfile.read(path, lazy=lazy, pad=True, chunks=(1, 1, 6, 6))[0]["data"]
        np.testing.assert_array_equal(np.asarray(d), expected)


def test_bad_headers(tmp_path):
    path = tmp_path / "x.blo"
    path.write_bytes(b"NOTBLO" + bytes(300))
    with pytest.raises(FileFormatError, match=r"x\.blo.*IMGBLO"):
        blockfile.read(path)
    path.write_bytes(b"IMGBLO")
    with pytest.raises(FileFormatError, match="240-byte header"):
        blockfile.read(path)
    good = tmp_path / "g.blo"
    blockfile.write(good, _signal(_random((2, 2, 4, 4))))
    raw = bytearray(good.read_bytes())
    raw[12:16] = (4096).to_bytes(4, "little")  # Data_offset_2 inside the VBF
    good.write_bytes(bytes(raw))
    with pytest.raises(FileFormatError, match="Data_offset_2"):
        blockfile.read(good)


class _LargestResult(Callback):
    def __init__(self):
        super().__init__()
        self.largest = 0

    def _posttask(self, key, result, dsk, state, id):
        self.largest = max(self.largest, getattr(result, "nbytes", 0))


@pytest.mark.parametrize("chunks", [(1, 4, 16, 16), (2, 2, 8, 16)])
def test_lazy_write_streams_blocks(tmp_path, chunks):
    data = _random((4, 4, 16, 16), seed=3)
    lazy = da.from_array(data, chunks=chunks)
    path = tmp_path / "s.blo"
    with _LargestResult() as cb:
        blockfile.write(path, _signal(lazy))
    block = int(np.prod(chunks))
    assert cb.largest <= block  # no task ever held more than one block
    back = blockfile.read(path)[0]["data"]
    np.testing.assert_array_equal(back, data)
    raw = np.fromfile(path, dtype="u1")
    off2 = blockfile.read_header(path)["Data_offset_2"]
    frames = raw[off2:].reshape(16, 6 + 256)
    np.testing.assert_array_equal(frames[:, :2], [[0xAA, 0x55]] * 16)
    np.testing.assert_array_equal(frames[:, 2:6].copy().view("<u4").ravel(), np.arange(16))


@pytest.mark.parametrize("shape", [(7, 8, 8), (8, 8)])
def test_line_scan_and_single_pattern(tmp_path, shape):
    data = _random(shape, seed=1)
    path = tmp_path / "l.blo"
    blockfile.write(path, _signal(data))
    d = blockfile.read(path)[0]
    np.testing.assert_array_equal(d["data"], data)
    assert [a["name"] for a in d["axes"]] == (["x"] if len(shape) == 3 else []) + ["dy", "dx"]
    header = blockfile.read_header(path)
    assert (header["NY"], header["NX"]) == ((1, 7) if len(shape) == 3 else (1, 1))


def test_units_conversion_and_non_square(tmp_path):
    data = _random((2, 2, 4, 4))
    sig = _signal(data, nav_units="µm", scale=0.25)
    path = tmp_path / "u.blo"
    blockfile.write(path, sig)
    header = blockfile.read_header(path)
    assert header["SX"] == pytest.approx(250.0) and header["SDP"] == 10000
    with pytest.warns(UserWarning, match="cannot be converted"):
        blockfile.write(path, _signal(data, sig_units="1/nm"))
    with pytest.raises(FileFormatError, match="square"):
        blockfile.write(path, _signal(_random((2, 2, 4, 5))))


def test_intensity_scaling(tmp_path):
    data = np.array([0, 1000, 65535, 30000], dtype="u2").reshape(1, 1, 2, 2)
    path = tmp_path / "i.blo"
    blockfile.write(path, _signal(data), intensity_scaling="dtype")
    np.testing.assert_array_equal(blockfile.read(path)[0]["data"].ravel(), [0, 3, 255, 116])
    blockfile.write(path, _signal(data), intensity_scaling="crop")
    np.testing.assert_array_equal(blockfile.read(path)[0]["data"].ravel(), [0, 255, 255, 255])
    blockfile.write(path, _signal(da.from_array(data)), intensity_scaling="minmax")
    np.testing.assert_array_equal(blockfile.read(path)[0]["data"].ravel(), [0, 3, 255, 116])
    with pytest.warns(UserWarning, match="cast without scaling"):
        blockfile.write(path, _signal(data))


def test_distributed_read_and_write(tmp_path, cluster_client):
    data = _random((4, 6, 8, 8), seed=7)
    path = tmp_path / "d.blo"
    blockfile.write(path, _signal(da.from_array(data, chunks=(1, 3, 8, 8))))
    np.testing.assert_array_equal(blockfile.read(path)[0]["data"], data)
    lazy = blockfile.read(path, lazy=True, chunks=(2, 2, 4, 8), distributed=True)[0]["data"]
    total = lazy.sum(axis=(0, 1)).compute()  # on the cluster
    np.testing.assert_array_equal(total, data.sum(axis=(0, 1), dtype=np.uint64))
    with dask.config.set(scheduler="threads"):
        np.testing.assert_array_equal(lazy.compute(), data)


def test_navigator_options(tmp_path):
    data = _random((2, 3, 4, 4), seed=5).astype("u2") * 2
    path = tmp_path / "n.blo"
    blockfile.write(path, _signal(data), navigator=None, intensity_scaling="crop")
    d = blockfile.read(path)[0]
    np.testing.assert_array_equal(d["original_metadata"]["virtual_bright_field"], 0)
    np.testing.assert_array_equal(d["data"], data.clip(0, 255))
    given = np.arange(6, dtype="u2").reshape(2, 3) * 100
    blockfile.write(path, _signal(data), navigator=given, intensity_scaling=(0, 510))
    vbf = blockfile.read(path)[0]["original_metadata"]["virtual_bright_field"]
    np.testing.assert_array_equal(vbf, [[0, 50, 100], [150, 200, 250]])
    with pytest.raises(FileFormatError, match="navigator's shape"):
        blockfile.write(path, _signal(data), navigator=np.zeros((3, 2)))
    sig = _signal(data.astype("u1"))
    sig["metadata"] = {"_HyperSpy": {"navigator": {"data": given.astype("u1") // 4}}}
    blockfile.write(path, sig)
    vbf = blockfile.read(path)[0]["original_metadata"]["virtual_bright_field"]
    np.testing.assert_array_equal(vbf, given.astype("u1") // 4)


class TestBlockfileConformance(FormatConformance):
    format_name = "blockfile"
    kept_metadata = ()  # a blockfile has no title

    def make_signal(self):
        data = _random((8, 8, 64, 64))
        return Signal2D(data, axes=_axes(data.shape), metadata={"General": {"title": "conformance"}})
