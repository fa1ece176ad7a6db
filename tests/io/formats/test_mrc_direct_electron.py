"""Direct Electron MRC movies with their ``*_info.txt``: read as the peer (HyperSpy 2.5) reads
them, every MRC sample file compared; a companion that contradicts the movie is our error."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
from peer import run_peer
from realdata import realdata

import lazysignal as ls
from lazysignal.errors import FileFormatError
from lazysignal.testing.damage import check_damaged_inputs

MRC = realdata("mrc")
MOVIE = "20241021_00405_movie.mrc"
FILES = sorted(p.name for p in MRC.glob("*.mrc"))

_PEER = """
import sys, json, hyperspy.api as hs
import numpy as np
out = {}
for name in json.loads(sys.argv[1]) if len(sys.argv) > 1 else NAMES:
    s = hs.load(FOLDER + "/" + name)
    md = s.metadata
    out[name] = {
        "shape": list(s.data.shape), "dtype": str(s.data.dtype),
        "sum": float(np.asarray(s.data, dtype="float64").sum()),
        "first": np.asarray(s.data).ravel()[:16].tolist(),
        "axes": [[a.name, a.size, float(a.scale), float(a.offset), str(a.units), a.navigate]
                 for a in s.axes_manager._axes],
        "detector": md.get_item("Acquisition_instrument.TEM.detector"),
        "quantity": md.get_item("Signal.quantity"),
        "gain": md.get_item("Signal.Noise_properties.gain_factor"),
        "timestamp": md.get_item("General.timestamp"),
    }
emit(out)
"""


@pytest.fixture(scope="module")
def peer_reads():
    code = f"NAMES = {FILES!r}\nFOLDER = {str(MRC)!r}\n" + _PEER
    return run_peer(code)


def _units(units) -> str:
    # The peer spells "no units" <undefined>; we spell it None.
    return "<undefined>" if units is None else str(units)


@pytest.mark.peer
@pytest.mark.parametrize("name", FILES)
@pytest.mark.parametrize("lazy", [False, True])
def test_every_mrc_sample_reads_as_the_peer_reads_it(peer_reads, name, lazy):
    want = peer_reads[name]
    s = ls.load(MRC / name, lazy=lazy)
    data = np.asarray(s.data.compute() if lazy else s.data)
    assert list(data.shape) == want["shape"] and str(data.dtype) == want["dtype"]
    assert float(data.astype("float64").sum()) == pytest.approx(want["sum"])
    assert data.ravel()[:16].tolist() == want["first"]
    got_axes = [[a.name, a.size, float(a.scale), float(a.offset), _units(a.units), a.navigate]
                for a in s.axes_manager._axes]
    assert got_axes == want["axes"]
    if name == MOVIE:  # the info file's settings, as the peer puts them in metadata
        md = s.metadata
        assert md.get_item("Acquisition_instrument.TEM.detector") == want["detector"] == "DESim"
        assert md.get_item("Signal.quantity") == want["quantity"]
        assert md.get_item("Signal.Noise_properties.gain_factor") == want["gain"]
        assert md.get_item("General.timestamp") == want["timestamp"]
        assert s.original_metadata.get_item("de_metadata.Scan - Size X") == "8"


def test_the_movie_is_a_scan_not_a_frame_stack():
    s = ls.load(MRC / MOVIE)
    assert s.axes_manager.navigation_shape == (8, 4) and s.axes_manager.signal_shape == (8, 4)
    stack = ls.load(MRC / MOVIE, navigation_shape=(32,))  # an explicit shape still wins
    np.testing.assert_array_equal(stack.data.reshape(s.data.shape), s.data)


def _copy_movie(tmp_path):
    for name in (MOVIE, "20241021_00405_info.txt"):
        shutil.copyfile(MRC / name, tmp_path / name)
    return tmp_path / MOVIE, tmp_path / "20241021_00405_info.txt"


def test_an_info_file_that_contradicts_the_movie_is_our_error(tmp_path):
    movie, info = _copy_movie(tmp_path)
    text = info.read_text().replace("Scan - Size X                                                   = 8",
                                    "Scan - Size X                                                   = 9")
    info.write_text(text)
    with pytest.raises(FileFormatError, match=r"holds 32 frames but .*info\.txt describes a 9 x 4"):
        ls.load(movie, lazy=True)


def test_damaged_movie_or_info_file(tmp_path):
    (tmp_path / "good").mkdir()
    movie, info = _copy_movie(tmp_path / "good")
    # Without its info file the movie is read as a frame stack, with a warning naming it (the
    # peer reads the stack silently): the one case accepted with other data.
    report = check_damaged_inputs(movie, tmp_path / "cases", companions=[info.name],
                                  truncations=6, flips=6, partial_reads_warn=True)
    report.assert_ok()
    assert report.summary().get("ours", 0) > 0
    warned = [c.damage.label for c in report.cases if "warned" in c.outcomes.values()]
    assert warned == ["20241021_00405_info.txt removed"]


def test_a_truncated_info_file_is_our_error(tmp_path):
    movie, info = _copy_movie(tmp_path)
    info.write_bytes(info.read_bytes()[:5000])
    with pytest.raises(FileFormatError, match=r"info\.txt.*lacks 'Scan - Enable'"):
        ls.load(movie)
