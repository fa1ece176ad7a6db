"""MRC: real files against mrcfile, calibration, navigation_shape, errors, round trips."""

from __future__ import annotations

import dask.array as da
import mrcfile
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from realdata import realdata

from lazysignal.errors import FileFormatError, TruncatedFileError
from lazysignal.io.formats import mrc
from lazysignal.io.backends.direct_electron import info_file_for
from lazysignal.testing.conformance import FormatConformance, image_stack

REAL = realdata("mrc")


def _real_files():
    return sorted(REAL.glob("*.mrc"))


@pytest.mark.parametrize("path", _real_files(), ids=lambda p: p.stem)
def test_real_files_equal_mrcfile(path):
    with mrcfile.open(path, permissive=True) as ref:
        expect = np.asarray(ref.data).copy()
        header = ref.header
        voxel = ref.voxel_size
    # A Direct Electron movie reads as a scan from its info file (test_mrc_direct_electron.py);
    # here its frames are compared as the stack mrcfile sees.
    stack = {"navigation_shape": (expect.shape[0],)} if info_file_for(path) else {}
    sig = mrc.read(path, **stack)[0]
    np.testing.assert_array_equal(sig["data"], expect.reshape(sig["data"].shape))
    assert sig["data"].dtype == expect.dtype
    assert sig["data"].shape == tuple(n for n in expect.shape if n != 1)
    # Calibration (FORMATS-binary 1.5): Angstrom per pixel / 10.
    assert sig["axes"][-1]["scale"] == pytest.approx(float(voxel.x) / 10)
    assert sig["axes"][-1]["units"] == "nm" and sig["axes"][-1]["navigate"] is False
    assert sig["original_metadata"]["std_header"]["NX"] == int(header.nx)
    for distributed in (True, False):
        for chunks in ("auto", tuple(max(1, n // 3) for n in sig["data"].shape)):
            lazy = mrc.read(path, lazy=True, chunks=chunks, distributed=distributed, **stack)[0]
            np.testing.assert_array_equal(lazy["data"].compute(), sig["data"])


def test_velox_fei2_header_and_calibration():
    sig = mrc.read(REAL / "HAADFscan.mrc")[0]
    assert sig["axes"][0]["scale"] == pytest.approx(5.679131317138672)
    ext = sig["original_metadata"]["extended_header"]
    assert ext["type"] == "FEI2" and ext["record_size"] == 888 and ext["records"] == 1024
    assert sig["metadata"]["Acquisition_instrument"]["TEM"]["beam_energy"] > 0
    movie = mrc.read(REAL / "20241021_00405_movie.mrc", lazy=True, navigation_shape=(8, 4))[0]
    assert movie["data"].shape == (4, 8, 4, 8)
    assert [a["navigate"] for a in movie["axes"]] == [True, True, False, False]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    dtype=st.sampled_from(["int8", "int16", "float32", "complex64", "uint16", "float16"]),
    nav=st.sampled_from([(), (3,), (2, 3), (2, 1, 3)]),
    distributed=st.booleans(),
    data=st.data(),
)
def test_round_trip_and_lazy_equals_eager(tmp_path, dtype, nav, distributed, data):
    shape = nav + (4, 5)
    values = (np.arange(np.prod(shape)).reshape(shape) % 100 - 20).astype(dtype)
    axes = [{"name": f"n{i}", "units": None, "navigate": True, "size": n, "scale": 1.0, "offset": 0.0}
            for i, n in enumerate(nav)]
    axes += [{"name": n, "units": "nm", "navigate": False, "size": s, "scale": 0.125, "offset": -2.5}
             for n, s in (("y", 4), ("x", 5))]
    path = tmp_path / "rt.mrc"
    lazy_in = data.draw(st.booleans())
    mrc.write(path, {"data": da.from_array(values, chunks=2) if lazy_in else values, "axes": axes, "metadata": {}})
    with mrcfile.open(path) as ref:  # strict mode: our header is valid MRC2014
        np.testing.assert_array_equal(np.asarray(ref.data).reshape(values.shape), values)
    back = mrc.read(path)[0]
    squeezed = tuple(n for n in shape if n != 1)
    np.testing.assert_array_equal(back["data"], values.reshape(squeezed))
    assert back["data"].dtype == values.dtype
    assert back["axes"][-1]["scale"] == pytest.approx(0.125) and back["axes"][-1]["offset"] == pytest.approx(-2.5)
    chunks = tuple(data.draw(st.integers(1, n)) for n in squeezed)
    lazy = mrc.read(path, lazy=True, chunks=chunks, distributed=distributed)[0]["data"]
    assert lazy.chunks == da.core.normalize_chunks(chunks, squeezed)
    np.testing.assert_array_equal(lazy.compute(), values.reshape(squeezed))


def test_uint8_widens_and_navigation_shape(tmp_path):
    values = np.arange(6 * 3 * 4, dtype="u1").reshape(6, 3, 4)
    path = tmp_path / "u8.mrc"
    mrc.write(path, {"data": values, "axes": [], "metadata": {}})
    back = mrc.read(path, navigation_shape=(2, 3))[0]
    assert back["data"].dtype == np.uint16 and back["data"].shape == (3, 2, 3, 4)
    np.testing.assert_array_equal(back["data"].reshape(values.shape), values)
    with pytest.raises(FileFormatError, match="NZ = 6"):
        mrc.read(path, navigation_shape=(4, 2))
    with pytest.raises(FileFormatError, match="float64"):
        mrc.write(tmp_path / "f8.mrc", {"data": np.zeros((2, 2)), "axes": []})


def test_written_scan_remembers_its_navigation_shape(tmp_path):
    values = np.arange(2 * 3 * 4 * 5, dtype="f4").reshape(2, 3, 4, 5)
    path = tmp_path / "scan.mrc"
    mrc.write(path, {"data": values, "axes": [], "metadata": {}})
    sig = mrc.read(path, lazy=True)[0]
    assert sig["data"].shape == (2, 3, 4, 5)
    np.testing.assert_array_equal(sig["data"].compute(), values)


def test_bad_files(tmp_path):
    values = np.arange(4 * 8 * 8, dtype="i2").reshape(4, 8, 8)
    path = tmp_path / "t.mrc"
    mrc.write(path, {"data": values, "axes": [], "metadata": {}})
    size = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(size - 10)
    with pytest.raises(TruncatedFileError, match=rf"t\.mrc.*{size}.*{size - 10}"):
        mrc.read(path, lazy=True)
    with pytest.raises(TruncatedFileError):
        mrc.read(path)
    padded = mrc.read(path, pad=True)[0]["data"]
    np.testing.assert_array_equal(padded.reshape(-1)[:-5], values.reshape(-1)[:-5])
    assert not padded.reshape(-1)[-5:].any()
    short = tmp_path / "short.mrc"
    short.write_bytes(b"\0" * 100)
    with pytest.raises(TruncatedFileError, match="1024"):
        mrc.read(short)
    bad_mode = tmp_path / "mode.mrc"
    raw = bytearray(path.read_bytes())
    raw[12:16] = (101).to_bytes(4, "little")
    bad_mode.write_bytes(bytes(raw))
    with pytest.raises(FileFormatError, match="mode 101"):
        mrc.read(bad_mode)


def test_big_endian_and_fei_legacy(tmp_path):
    values = np.arange(2 * 3 * 4, dtype=">f4").reshape(2, 3, 4)
    path = tmp_path / "be.mrc"
    with mrcfile.new(path) as f:
        f.set_data(values.astype("<f4"))
    # Swap the whole file to big-endian by hand: header words and data.
    raw = bytearray(path.read_bytes())
    words = np.frombuffer(bytes(raw[:208]), "<i4").byteswap().tobytes()
    raw[:208] = words
    raw[212:216] = b"\x11\x11\x00\x00"
    raw[216:224] = np.frombuffer(bytes(raw[216:224]), "<i4").byteswap().tobytes()
    raw[1024:] = values.tobytes()
    path.write_bytes(bytes(raw))
    np.testing.assert_array_equal(mrc.read(path)[0]["data"], values)
    np.testing.assert_array_equal(mrc.read(path, lazy=True, chunks=1)[0]["data"].compute(), values)
    # FEI legacy extended header (NSYMBT = 131072): calibration from the record's pixel size.
    legacy = tmp_path / "legacy.mrc"
    ext = np.zeros(1024, dtype=[("f", "<f4", 13), ("pad", "V76")])
    ext["f"][0, 11] = 2.5e-10  # pixel size, m
    ext["f"][0, 12] = 38000.0  # magnification
    with mrcfile.new(legacy) as f:
        f.set_data(values.astype("<f4"))
        f.set_extended_header(np.frombuffer(ext.tobytes(), dtype="V1"))
    sig = mrc.read(legacy)[0]
    assert sig["axes"][-1]["scale"] == pytest.approx(0.25)
    assert sig["metadata"]["Acquisition_instrument"]["TEM"]["magnification"] == 38000.0
    np.testing.assert_array_equal(sig["data"], values)


class TestMrcConformance(FormatConformance):
    format_name = "mrc"
    kept_axis_attributes = ("scale", "offset", "size", "navigate")  # voxel sizes, no stack units
    kept_metadata = ()  # MRC has no title

    def make_signal(self):
        return image_stack()
