"""The demo runs end to end on a small cube: file, reload, navigator, sums, rebin, PNGs."""

import numpy as np
import pytest

import lazysignal as ls
from lazysignal.demo import main, make_eds_cube


def test_demo_small_runs_and_writes_everything(tmp_path, capsys):
    assert main(["--shape", "24,20,1000", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    for step in ("write synthetic", "load lazily", "compute_navigator", "sum over navigation",
                 "rebin(scale=(4, 4, 1))", "sum of region", "save PNG", "in all"):
        assert step in out
    assert "<LazySignal1D" in out and "chunks of at most" in out
    assert "X-ray line intensity of synthetic EDS spectrum image (Fe, Pt): Fe_Ka at 6.41 keV" in out
    for name in ("navigator.png", "total_spectrum.png", "rebinned_fe_map.png", "region_spectrum.png",
                 "line_maps.png"):
        assert (tmp_path / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    s = ls.load(tmp_path / "demo_eds.hspy", lazy=True)
    assert s.axes_manager.navigation_shape == (24, 20) and s.axes_manager.signal_shape == (1000,)
    assert s.data.chunks[-1] == (250, 250, 250, 250)
    # The navigator was computed after loading, not saved: the file has none, the cube is counts.
    data = s.data.compute()
    assert np.all(data >= 0) and np.all(data == np.round(data))
    s.close_file()


def test_cube_is_identical_whatever_the_chunking():
    a, _ = make_eds_cube((10, 8, 60), chunks=(5, 8, 60), seed=3)
    b, _ = make_eds_cube((10, 8, 60), chunks=(5, 8, 60), seed=3)
    np.testing.assert_array_equal(a.compute(), b.compute(scheduler="synchronous"))
    assert a.dtype == np.float32


def test_demo_rejects_bad_shape(capsys):
    with pytest.raises(SystemExit):
        main(["--shape", "12,abc"])
    assert "x,y,energy" in capsys.readouterr().err
