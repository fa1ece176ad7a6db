"""Merlin MIB reader: real files (vs RosettaSciIO sums), lazy == eager, exact chunks, scan shapes."""

from __future__ import annotations

import zipfile

import dask.array as da
import numpy as np
import pytest
from realdata import realdata

from lazysignal.errors import FileFormatError, TruncatedFileError
from lazysignal.io.formats import mib
import lazysignal as ls
from lazysignal.testing.conformance import ReadConformance

REALDATA = realdata("quantumdetector")

# Shapes and sums RosettaSciIO 0.15 reads from the sample files.
REFERENCE = {
    "001_4x2_6bit.mib": ((2, 4, 256, 256), 3623664),
    "002_4x2_6bit_roi128.mib": ((2, 4, 128, 256), 3263829),
    "003_merlin_test_roi_sig256x64_nav4x2_hot_pixel_52x_39y.mib": ((2, 4, 64, 256), 77),
    "Quad_1_Frame_CounterDepth_12_Rows_256.mib": ((512, 512), 845907),
    "Quad_9_Frame_CounterDepth_24_Rows_256.mib": ((3, 3, 512, 512), 7285037),
    "Quad_9_Frame_CounterDepth_6_Rows_256.mib": ((9, 512, 512), 1032369),
    "Single_1_Frame_CounterDepth_1_Rows_256.mib": ((256, 256), 2398),
    "Single_9_Frame_CounterDepth_12_Rows_256.mib": ((9, 256, 256), 260753),
    "Single_9_Frame_CounterDepth_24_Rows_256.mib": ((9, 256, 256), 258156),
    "Single_9_Frame_CounterDepth_1_Rows_256.mib": ((9, 256, 256), 21614),
}


@pytest.fixture(scope="module")
def realdir(tmp_path_factory):
    out = tmp_path_factory.mktemp("merlin")
    for archive in REALDATA.glob("*.zip"):
        with zipfile.ZipFile(archive) as z:
            z.extractall(out)
    return out


def _header(rows, cols, pixel_type="U16", depth=12, stamp_ns=0, head_size=384):
    seconds, ns = divmod(stamp_ns, 10**9)
    stamp = f"2021-04-15T13:43:{47 + seconds:02d}.{ns:09d}Z"
    text = (f"MQ1,000001,{head_size:05d},01,{cols:04d},{rows:04d},{pixel_type},   1x1,01,"
            "2021-04-15 14:43:47.008505,0.001000,0,0,0" + ",0" * 8
            + f",MQ1A,{stamp},1000000ns,{depth},")
    return text.encode().ljust(head_size, b"\0")


def _write_mib(path, frames, *, pixel_type="U16", stamps=None):
    """Frames (n, rows, cols) as a .mib file; rows are stored bottom-up (the reader flips)."""
    dtype = {"U08": ">u1", "U16": ">u2", "U32": ">u4"}[pixel_type]
    n, rows, cols = frames.shape
    stamps = stamps if stamps is not None else np.arange(n) * 1000
    with open(path, "wb") as f:
        for i in range(n):
            f.write(_header(rows, cols, pixel_type, stamp_ns=int(stamps[i])))
            f.write(frames[i, ::-1].astype(dtype).tobytes())


@pytest.mark.parametrize("name", sorted(REFERENCE))
def test_real_files_match_rsciio(realdir, name):
    shape, total = REFERENCE[name]
    d = mib.read(realdir / name)[0]
    assert d["data"].shape == shape
    assert int(d["data"].sum(dtype=np.uint64)) == total
    assert d["metadata"]["Signal"]["signal_type"] == "electron_diffraction"
    assert d["metadata"]["General"]["time_zone"] == "UTC"
    assert "hdr_file" in d["original_metadata"]
    lazy = mib.read(realdir / name, lazy=True, chunks={0: 1})[0]["data"]
    np.testing.assert_array_equal(lazy.compute(), d["data"])


def test_real_file_metadata(realdir):
    d = mib.read(realdir / "001_4x2_6bit.mib")[0]
    md = d["metadata"]
    assert md["General"]["date"] == "2021-05-07"
    assert md["General"]["time"] == "16:51:10.905800928"
    assert md["Acquisition_instrument"]["dwell_time"] == pytest.approx(0.1)
    assert d["original_metadata"]["hdr_file"]["Frames in Acquisition (Number)"] == "8"
    assert d["original_metadata"]["mib_properties"]["counter_depth"] == 6
    assert [a["navigate"] for a in d["axes"]] == [True, True, False, False]


def test_real_file_without_hdr_uses_timestamps(realdir, tmp_path):
    src = realdir / "001_4x2_6bit.mib"
    lone = tmp_path / "lone.mib"
    lone.write_bytes(src.read_bytes())
    d = mib.read(lone)[0]
    assert d["data"].shape == (2, 4, 256, 256)  # line length 4 from the time stamp gaps
    assert "hdr_file" not in d["original_metadata"]
    np.testing.assert_array_equal(d["data"], mib.read(src)[0]["data"])


@pytest.mark.parametrize("name", ["Single_1_Frame_CounterDepth_1_Rows_256RAW.mib",
                                  "Quad_9_Frame_CounterDepth_1_Rows_256RAW.mib"])
def test_raw_frames_rejected_clearly(realdir, name):
    with pytest.raises(FileFormatError, match="raw .R64"):
        mib.read(realdir / name)


@pytest.mark.parametrize("distributed", [True, False])
@pytest.mark.parametrize("chunks", ["auto", (1, 2, 3, 5), (2, 3, (1, 3, 3), -1), {2: 4}])
def test_lazy_equals_eager_with_exact_chunks(tmp_path, chunks, distributed):
    rng = np.random.default_rng(1)
    frames = rng.integers(0, 4000, (6, 7, 5), dtype=np.uint16)
    path = tmp_path / "a.mib"
    _write_mib(path, frames)
    eager = mib.read(path, navigation_shape=(3, 2))[0]["data"]
    np.testing.assert_array_equal(eager, frames.reshape(2, 3, 7, 5))
    lazy = mib.read(path, lazy=True, chunks=chunks, distributed=distributed,
                    navigation_shape=(3, 2))[0]["data"]
    assert isinstance(lazy, da.Array)
    if chunks == (2, 3, (1, 3, 3), -1):
        assert lazy.chunks == ((2,), (3,), (1, 3, 3), (5,))  # uneven rows survive the flip
    elif chunks == (1, 2, 3, 5):
        assert lazy.chunks == ((1, 1), (2, 1), (3, 3, 1), (5,))
    np.testing.assert_array_equal(lazy.compute(), eager)


@pytest.mark.parametrize("pixel_type", ["U08", "U16", "U32"])
def test_pixel_types(tmp_path, pixel_type):
    frames = np.arange(4 * 3 * 2, dtype=np.uint32).reshape(4, 3, 2) * 7
    path = tmp_path / "p.mib"
    _write_mib(path, frames, pixel_type=pixel_type)
    data = mib.read(path, navigation_shape=(4,))[0]["data"]
    assert data.dtype.itemsize == {"U08": 1, "U16": 2, "U32": 4}[pixel_type]
    np.testing.assert_array_equal(data, frames)


def test_navigation_from_timestamps_and_interrupted_scan(tmp_path):
    frames = np.ones((11, 2, 2), dtype=np.uint16)
    # Lines of 4 frames: 1 us apart inside a line, 1 ms between lines.
    stamps = [line * 10**6 + i * 1000 for line in range(3) for i in range(4)][:11]
    path = tmp_path / "t.mib"
    _write_mib(path, frames, stamps=np.array(stamps))
    assert mib.read(path)[0]["data"].shape == (2, 4, 2, 2)  # 11 // 4 complete lines
    with pytest.warns(UserWarning, match="complete lines"):
        assert mib.read(path, navigation_shape=(4, 3))[0]["data"].shape == (2, 4, 2, 2)
    assert mib.read(path, navigation_shape=(11,))[0]["data"].shape == (11, 2, 2)
    with pytest.warns(UserWarning, match="stack"):
        d = mib.read(path, navigation_shape=(2, 2), first_frame=2, last_frame=5)[0]["data"]
    assert d.shape == (3, 2, 2)


def test_first_last_frame(tmp_path):
    frames = np.arange(6 * 4, dtype=np.uint16).reshape(6, 2, 2)
    path = tmp_path / "f.mib"
    _write_mib(path, frames)
    d = mib.read(path, navigation_shape=(3,), first_frame=2, last_frame=5, lazy=True)[0]
    np.testing.assert_array_equal(d["data"].compute(), frames[2:5])


def test_bad_files(tmp_path):
    path = tmp_path / "x.mib"
    path.write_bytes(b"HELLO" + bytes(500))
    with pytest.raises(FileFormatError, match=r"x\.mib.*MQ1"):
        mib.read(path)
    path.write_bytes(_header(64, 64))
    with pytest.raises(TruncatedFileError, match=r"x\.mib.*8576"):
        mib.read(path)
    path.write_bytes(_header(2, 2, pixel_type="F32"))
    with pytest.raises(FileFormatError, match="pixel type 'F32'"):
        mib.read(path)


class TestMibConformance(ReadConformance):
    format_name = "mib"
    frames_counted_by_size = True  # an interrupted acquisition keeps whole scan lines, warned

    def make_file(self, directory):
        # A real acquisition with its .hdr (scan shape from the header or the time stamps).
        name = "001_4x2_6bit"
        with zipfile.ZipFile(REALDATA / "Merlin_navigation4x2_ROI.zip") as z:
            for ext in (".mib", ".hdr"):
                (directory / (name + ext)).write_bytes(z.read(name + ext))
        path = directory / (name + ".mib")
        signal = ls.load(path)
        shape, total = REFERENCE[name + ".mib"]  # as RosettaSciIO reads it
        assert signal.data.shape == shape and int(signal.data.sum()) == total
        return path, signal
