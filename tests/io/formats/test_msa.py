"""EMSA/MAS reader and writer: real files, byte-exact output, round trips, bad input."""

from __future__ import annotations

import copy

import dask.array as da
import numpy as np
import pytest
from realdata import realdata

from lazysignal.errors import FileFormatError
from lazysignal.io.formats import msa
from lazysignal.signals import Signal1D
from lazysignal.testing.conformance import FormatConformance

REALDATA = realdata("msa")

RSCIIO_COMMENT = "File created by RosettaSciIO version 0.15.0"

# Written by RosettaSciIO 0.15.0 for the signal of ``_eds_signal()`` with format="XY".
EXPECTED_XY = (
    b"#FORMAT      : EMSA/MAS Spectral Data File\r\n#VERSION     : 1.0\r\n"
    b"#DATE        : 04-MAR-2020\r\n#SIGNALTYPE  : EDS\r\n"
    b"#COMMENT     : File created by RosettaSciIO version 0.15.0\r\n"
    b"#TITLE       : A title that is very long indeed, more than sixty four character\r\n"
    b"#TITLE       : s in total\r\n#TIME        : \r\n#OWNER       : \r\n#NPOINTS     : 5\r\n"
    b"#NCOLUMNS    : 1\r\n#DATATYPE    : XY\r\n#XPERCHAN    : 0.01\r\n#OFFSET      : -0.19\r\n"
    b"#XLABEL      : Energy\r\n#XUNITS      : eV\r\n#BEAMKV      : 15.0\r\n"
    b"#LIVETIME    : 2.5\r\n#SPECTRUM    : Spectral Data Starts Here\r\n-0.19, 1\r\n"
    b"-0.18, 2.5\r\n-0.17, 3\r\n-0.16, 4\r\n-0.15, 5\r\n#ENDOFDATA   : End Of Data and File"
)


def _eds_signal() -> dict:
    axis = {"name": "Energy", "units": "eV", "navigate": False, "size": 5, "scale": 0.01,
            "offset": -0.19}
    metadata = {
        "General": {
            "title": "A title that is very long indeed, more than sixty four characters in total",
            "date": "2020-03-04",
        },
        "Signal": {"signal_type": "EDS_SEM"},
        "Acquisition_instrument": {
            "SEM": {"beam_energy": 15.0, "Detector": {"EDS": {"live_time": 2.5}}}
        },
    }
    return {"data": np.array([1.0, 2.5, 3, 4, 5]), "axes": [axis], "metadata": metadata,
            "original_metadata": {}}


def test_writer_is_byte_exact_xy(tmp_path):
    path = tmp_path / "s.msa"
    msa.write(path, _eds_signal(), format="XY", comment=RSCIIO_COMMENT)
    assert path.read_bytes() == EXPECTED_XY


def test_writer_y_lines_and_default_comment(tmp_path):
    path = tmp_path / "s.msa"
    msa.write(path, _eds_signal())
    lines = path.read_bytes().split(b"\r\n")
    assert lines[4].startswith(b"#COMMENT     : File created by lazysignal version ")
    assert lines[-6:-1] == [b"1.000000, ", b"2.500000, ", b"3.000000, ", b"4.000000, ",
                            b"5.000000, "]
    assert lines[-1] == b"#ENDOFDATA   : End Of Data and File"
    assert b"#DATATYPE    : Y" in lines


@pytest.mark.parametrize("fmt", ["Y", "XY"])
def test_round_trip(tmp_path, fmt):
    path = tmp_path / "s.msa"
    signal = _eds_signal()
    signal["data"] = np.linspace(-3.5, 1e4, 5)
    msa.write(path, copy.deepcopy(signal), format=fmt)
    back = msa.read(path)[0]
    # "%f" (Y) keeps 6 decimals, "%g" (XY) 6 significant digits.
    np.testing.assert_allclose(back["data"], signal["data"], rtol=1e-5, atol=1e-6)
    axis = back["axes"][0]
    assert (axis["size"], axis["scale"], axis["offset"]) == (5, 0.01, -0.19)
    assert (axis["name"], axis["units"], axis["navigate"]) == ("Energy", "eV", False)
    md = back["metadata"]
    assert md["General"]["title"] == signal["metadata"]["General"]["title"]
    assert md["General"]["date"] == "2020-03-04"
    # Beam energy 15 kV <= 30 kV: read back as an SEM spectrum, mapped under TEM as rsciio does.
    assert md["Signal"]["signal_type"] == "EDS_SEM"
    assert md["Acquisition_instrument"]["TEM"]["beam_energy"] == 15.0


def test_lazy_read_wraps_eager(tmp_path):
    path = tmp_path / "s.msa"
    msa.write(path, _eds_signal())
    lazy = msa.read(path, lazy=True)[0]["data"]
    assert isinstance(lazy, da.Array) and lazy.numblocks == (1,)
    np.testing.assert_array_equal(lazy.compute(), msa.read(path)[0]["data"])


def test_write_lazy_data(tmp_path):
    path = tmp_path / "s.msa"
    signal = _eds_signal()
    eager = signal["data"]
    signal["data"] = da.from_array(eager, chunks=2)
    msa.write(path, signal)
    np.testing.assert_array_equal(msa.read(path)[0]["data"], eager)


def test_example1():
    d = msa.read(REALDATA / "example1.msa")[0]
    assert d["data"].shape == (21,)  # NPOINTS says 20; the values read win
    assert d["data"][0] == 4066.0 and d["data"][-1] == 4217.0
    md = d["metadata"]
    assert md["General"]["title"] == "NIO EELS OK SHELL"
    assert md["General"]["date"] == "1991-10-01"
    assert md["General"]["time"] == "12:00:00"
    assert md["Signal"]["signal_type"] == "EELS"
    assert md["Signal"]["quantity"] == "Counts (Intensity)"
    assert md["Acquisition_instrument"]["TEM"]["beam_energy"] == 120.0
    assert md["Acquisition_instrument"]["TEM"]["beam_energy_units"] == "kV"
    assert d["original_metadata"]["BEAMKV   -kV"] == 120.0
    axis = d["axes"][0]
    assert (axis["scale"], axis["offset"], axis["name"], axis["units"]) == (
        3.1, 520.13, "Energy", "eV")


def test_example1_resave_matches_rsciio_layout(tmp_path):
    d = msa.read(REALDATA / "example1.msa")[0]
    out = tmp_path / "re.msa"
    msa.write(out, d)
    lines = out.read_bytes().split(b"\r\n")
    # Original keys kept in their order, with units suffixes; DATATYPE from format="Y".
    assert lines[2] == b"#TITLE       : NIO EELS OK SHELL"
    assert b"#BEAMKV   -kV: 120.0" in lines
    assert b"#DATATYPE    : Y" in lines
    np.testing.assert_array_equal(msa.read(out)[0]["data"], d["data"])


@pytest.mark.parametrize(
    "name",
    ["ISO_22029_2022_compliance.msa", "ISO_22029_2022_compliance_XY_NCOLUMNS2.msa",
     "ISO_22029_2022_compliance_scientific_notation.msa"],
)
def test_iso_variants_read_the_same_data(name):
    ref = msa.read(REALDATA / "ISO_22029_2022_compliance.msa")[0]
    d = msa.read(REALDATA / name)[0]
    np.testing.assert_array_equal(d["data"], ref["data"])
    assert d["data"].shape == (21,)
    assert d["metadata"]["General"]["title"] == "NIO EELS OK SHELL"


def test_multi_line_title_and_comment():
    d = msa.read(REALDATA / "ISO_22029_2022_compliance_title_multiple_line.msa")[0]
    assert d["metadata"]["General"]["title"] == (
        "NIO EELS OK SHELL - Second line of the title - Third line of the title")
    assert d["original_metadata"]["COMMENT"] == (
        "This is a comment line.This is another comment line.")


def test_example2_ncolumns5_equals_one_column():
    one = msa.read(REALDATA / "example2.msa")[0]
    five = msa.read(REALDATA / "example2_NCOLUMNS5.msa")[0]
    assert one["data"].shape == (80,)
    np.testing.assert_array_equal(one["data"], five["data"])
    assert one["metadata"]["Signal"]["signal_type"].startswith("EDS")


@pytest.mark.parametrize("name", ["example1_wrong_date.msa", "example1_wrong_date_empty_field.msa"])
def test_wrong_date_warns_and_skips(name):
    with pytest.warns(UserWarning, match="DATE"):
        d = msa.read(REALDATA / name)[0]
    assert "date" not in d["metadata"]["General"]
    assert "time" not in d["metadata"]["General"]
    assert d["data"].shape == (21,)


def test_minimum_metadata():
    # Written by HyperSpy 1.1.2 as DATATYPE Y with the line "0.000000, 1.0": both values count,
    # as in RosettaSciIO (NPOINTS is not used).
    d = msa.read(REALDATA / "minimum_metadata.msa")[0]
    assert d["data"].tolist() == [0.0, 1.0]
    assert d["axes"][0]["name"] == "" and d["axes"][0]["scale"] == 1.0


def test_malformed_files(tmp_path):
    no_spectrum = tmp_path / "a.msa"
    no_spectrum.write_text("#FORMAT : EMSA/MAS Spectral Data File\n1, 2\n")
    with pytest.raises(FileFormatError, match=r"a\.msa.*#SPECTRUM"):
        msa.read(no_spectrum)
    bad_value = tmp_path / "b.msa"
    bad_value.write_text("#DATATYPE : Y\n#SPECTRUM : x\n1, 2\n3, abc\n")
    with pytest.raises(FileFormatError, match=r"b\.msa, line 4.*abc"):
        msa.read(bad_value)
    empty = tmp_path / "c.msa"
    empty.write_text("#DATATYPE : Y\n#SPECTRUM : x\n#ENDOFDATA : x")
    with pytest.raises(FileFormatError, match="no values"):
        msa.read(empty)
    bad_type = tmp_path / "d.msa"
    bad_type.write_text("#DATATYPE : Z\n#SPECTRUM : x\n1\n")
    with pytest.raises(FileFormatError, match="DATATYPE"):
        msa.read(bad_type)


def test_write_rejects_2d(tmp_path):
    signal = _eds_signal()
    signal["data"] = np.zeros((2, 5))
    with pytest.raises(FileFormatError, match="one spectrum"):
        msa.write(tmp_path / "x.msa", signal)


class TestMsaConformance(FormatConformance):
    format_name = "msa"

    def make_signal(self):
        axis = {"name": "Energy", "units": "eV", "scale": 0.01, "offset": -0.2, "size": 64}
        return Signal1D(np.arange(64.0) % 7, axes=[axis],
                        metadata={"General": {"title": "conformance"}})
