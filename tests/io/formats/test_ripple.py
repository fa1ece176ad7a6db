"""Ripple (.rpl + .raw): real files, every layout and dtype, lazy == eager, byte-exact writer."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from peer import require_peer
from realdata import realdata

from lazysignal.errors import FileFormatError, TruncatedFileError
from lazysignal.io.formats import ripple
from lazysignal.testing.conformance import FormatConformance, spectrum_image

REAL = realdata("ripple")


def _real_files():
    if not REAL.is_dir():
        return []
    return sorted(REAL.glob("*.rpl"))


@pytest.mark.parametrize("path", _real_files(), ids=lambda p: p.stem)
def test_real_files_match_their_header(path):
    info = ripple.parse_rpl(path)
    eager = ripple.read(path)[0]
    data = eager["data"]
    # The samples hold arange(n) in the header's shape (FORMATS-binary 6).
    assert data.dtype == np.dtype({"unsigned": "u", "float": "f"}[info["data-type"]] + info["data-length"])
    np.testing.assert_array_equal(data.ravel(), np.arange(data.size))
    by_key = {"vector": ["height", "width", "depth"], "image": ["depth", "height", "width"],
              "dont-care": ["height", "width"]}[info["record-by"]]
    assert data.shape == tuple(info[k] for k in by_key if info[k] > 1)
    for ax, key in zip(eager["axes"], [k for k in by_key if info[k] > 1]):
        assert ax["name"] == info[f"{key}-name"]
        assert ax["scale"] == info[f"{key}-scale"]
        assert ax["offset"] == info[f"{key}-origin"]
        assert ax["units"] == info[f"{key}-units"]
        assert ax["navigate"] == (ax["units"] == "m")  # the samples give nav axes metres
    assert eager["metadata"]["Signal"]["signal_type"] == info["signal"]
    for distributed in (True, False):
        for chunks in ("auto", 1, tuple(max(1, n // 2) for n in data.shape)):
            lazy = ripple.read(path, lazy=True, chunks=chunks, distributed=distributed)[0]
            assert lazy["axes"] == eager["axes"]
            np.testing.assert_array_equal(lazy["data"].compute(), data)


def _axes(shape, navigate, units=("nm", "nm", "eV")):
    return [
        {"name": f"ax{i}", "units": units[i % len(units)], "navigate": nav, "size": n,
         "scale": 0.5 * (i + 1), "offset": -1.25 * i}
        for i, (n, nav) in enumerate(zip(shape, navigate))
    ]


LAYOUTS = [
    ((5,), (False,)),
    ((4, 6), (True, False)),
    ((3, 4, 6), (True, True, False)),
    ((4, 6), (False, False)),
    ((3, 4, 6), (True, False, False)),
]
DTYPES = ["uint8", "uint16", "int32", "int64", "float32", "float64", ">u2", ">f8"]


@pytest.mark.parametrize("shape,navigate", LAYOUTS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_round_trip_every_layout_and_dtype(tmp_path, shape, navigate, dtype):
    rng = np.random.default_rng(1)
    data = (rng.random(shape) * 100).astype(dtype)
    axes = _axes(shape, navigate)
    md = {"General": {"title": "round trip", "date": "2024-01-02", "time": "10:11:12"},
          "Signal": {"signal_type": "EELS"}}
    path = tmp_path / "rt.rpl"
    ripple.write(path, {"data": data, "axes": axes, "metadata": md})
    back = ripple.read(path)[0]
    np.testing.assert_array_equal(back["data"], data)
    assert back["data"].dtype == np.dtype(dtype)
    assert [a["navigate"] for a in back["axes"]] == list(navigate)
    for got, want in zip(back["axes"], axes):
        assert (got["name"], got["size"], got["units"]) == (want["name"], want["size"], want["units"])
        assert got["scale"] == pytest.approx(want["scale"]) and got["offset"] == pytest.approx(want["offset"])
    assert back["metadata"]["General"]["title"] == "round trip"
    assert back["metadata"]["General"]["date"] == "2024-01-02"
    lazy = ripple.read(path, lazy=True, chunks=2, distributed=False)[0]["data"]
    np.testing.assert_array_equal(lazy.compute(), data)


def test_lazy_write_streams_and_reorders(tmp_path):
    # Signal axis first in numpy order: the writer must move it last (record-by vector).
    data = np.arange(6 * 4 * 5, dtype="u2").reshape(6, 4, 5)
    axes = _axes((6, 4, 5), (False, True, True))
    path = tmp_path / "lazy.rpl"
    ripple.write(path, {"data": da.from_array(data, chunks=(2, 3, 2)), "axes": axes, "metadata": {}})
    info = ripple.parse_rpl(path)
    assert (info["record-by"], info["depth"], info["height"], info["width"]) == ("vector", 6, 4, 5)
    back = ripple.read(path, lazy=True)[0]
    np.testing.assert_array_equal(back["data"].compute(), np.moveaxis(data, 0, -1))
    assert [a["name"] for a in back["axes"]] == ["ax1", "ax2", "ax0"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    shape=st.tuples(st.integers(2, 7), st.integers(2, 7), st.integers(2, 9)),
    chunks=st.tuples(st.integers(1, 7), st.integers(1, 7), st.integers(1, 9)),
    distributed=st.booleans(),
    big_endian=st.booleans(),
)
def test_lazy_equals_eager(tmp_path, shape, chunks, distributed, big_endian):
    data = np.arange(np.prod(shape), dtype=">i4" if big_endian else "<i4").reshape(shape) - 50
    path = tmp_path / "h.rpl"
    ripple.write(path, {"data": data, "axes": _axes(shape, (True, False, False)), "metadata": {}})
    eager = ripple.read(path)[0]["data"]
    lazy = ripple.read(path, lazy=True, chunks=chunks, distributed=distributed)[0]["data"]
    assert lazy.chunks[0][0] == min(chunks[0], shape[0])
    np.testing.assert_array_equal(lazy.compute(), eager)
    np.testing.assert_array_equal(eager, data)


def _rpl(tmp_path, text, raw=b"\0" * 48):
    path = tmp_path / "bad.rpl"
    path.write_text("key\tvalue\n" + text)
    (tmp_path / "bad.raw").write_bytes(raw)
    return path


BASE = "width\t3\nheight\t2\ndepth\t4\noffset\t0\ndata-type\tunsigned\ndata-length\t2\n" \
       "byte-order\tlittle-endian\nrecord-by\tvector\n"


def test_header_variants_and_errors(tmp_path):
    good = _rpl(tmp_path, BASE + "ev-per-chan\t10\n; a comment line\ntitle\tT ; trailing comment\n")
    sig = ripple.read(good)[0]
    assert sig["axes"][-1]["scale"] == 10.0 and sig["metadata"]["General"]["title"] == "T"
    assert sig["axes"][0]["name"] == "height" and sig["axes"][0]["units"] == ""
    with pytest.raises(FileFormatError, match="record-by"):
        ripple.read(_rpl(tmp_path, BASE.replace("vector", "diagonal")))
    with pytest.raises(FileFormatError, match="tab"):
        ripple.read(_rpl(tmp_path, BASE + "width 3\n"))
    with pytest.raises(FileFormatError, match="depth is 1"):
        ripple.read(_rpl(tmp_path, BASE.replace("depth\t4", "depth\t1")))
    with pytest.raises(FileFormatError, match="data-length 4 or 8"):
        ripple.read(_rpl(tmp_path, BASE.replace("unsigned", "float")))
    with pytest.raises(TruncatedFileError, match=r"bad\.raw"):
        ripple.read(_rpl(tmp_path, BASE, raw=b"\0" * 47), lazy=True)
    (tmp_path / "bad.raw").unlink()
    with pytest.raises(FileNotFoundError, match="bad.raw"):
        ripple.read(tmp_path / "bad.rpl")


def test_offset_and_big_endian_raw(tmp_path):
    data = np.arange(24, dtype=">u2").reshape(2, 3, 4)
    path = _rpl(tmp_path, BASE.replace("offset\t0", "offset\t10").replace("little", "big"),
                raw=b"x" * 10 + data.tobytes())
    np.testing.assert_array_equal(ripple.read(path)[0]["data"], data)
    np.testing.assert_array_equal(ripple.read(path, lazy=True, chunks=1)[0]["data"].compute(), data)


def test_write_refuses_what_ripple_cannot_hold(tmp_path):
    with pytest.raises(FileFormatError, match="float16"):
        ripple.write(tmp_path / "a.rpl", {"data": np.zeros(3, "f2"), "axes": _axes((3,), (False,))})
    with pytest.raises(FileFormatError, match="3 dimensions"):
        ripple.write(tmp_path / "a.rpl", {"data": np.zeros((2,) * 4, "u1"),
                                          "axes": _axes((2,) * 4, (True, True, False, False))})
    assert not (tmp_path / "a.rpl").exists()


_PEER_WRITE = r"""
import json, sys, numpy as np
from rsciio.ripple import file_writer
spec = json.loads(sys.argv[1])
for case in spec:
    data = np.arange(np.prod(case["shape"]), dtype=case["dtype"]).reshape(case["shape"])
    file_writer(case["path"], {"data": data, "axes": case["axes"], "metadata": case["metadata"]})
"""


def test_byte_exact_with_rosettasciio_writer(tmp_path):
    cases = []
    for k, ((shape, navigate), dtype) in enumerate(zip(LAYOUTS, ["uint16", "float32", "int64", "uint8", "float64"])):
        axes = _axes(shape, navigate)
        md = {"General": {"title": f"case {k}", "date": "2016-08-06", "time": "10:55:00"},
              "Signal": {"signal_type": "EDS_TEM" if k % 2 else "EELS"},
              "Acquisition_instrument": {"TEM": {"beam_energy": 200.0, "convergence_angle": 21.5,
                                                 "Detector": {"EDS": {"live_time": 1.5,
                                                                      "azimuth_angle": 45.0}}}}}
        cases.append({"shape": shape, "dtype": dtype, "axes": axes, "metadata": md,
                      "path": str(tmp_path / f"peer{k}.rpl")})
    subprocess.run([require_peer(), "-c", _PEER_WRITE, json.dumps(cases)], check=True, timeout=120)
    for k, case in enumerate(cases):
        data = np.arange(np.prod(case["shape"]), dtype=case["dtype"]).reshape(case["shape"])
        ours = tmp_path / f"ours{k}.rpl"
        ripple.write(ours, {"data": data, "axes": case["axes"], "metadata": case["metadata"]})
        peer_lines = Path(case["path"]).read_text(encoding="latin-1").splitlines(keepends=True)
        our_lines = ours.read_text(encoding="latin-1").splitlines(keepends=True)
        assert our_lines[0].startswith(";File created by lazysignal")
        assert our_lines[1:] == peer_lines[1:], case["shape"]
        assert ours.with_suffix(".raw").read_bytes() == Path(case["path"]).with_suffix(".raw").read_bytes()
        # and the peer's files read back the same here
        peer_read = ripple.read(case["path"])[0]
        np.testing.assert_array_equal(peer_read["data"], data)


class TestRippleConformance(FormatConformance):
    format_name = "ripple"

    def companion_files(self, path):
        return (path.with_suffix(".raw"),)

    def make_signal(self):
        return spectrum_image()
