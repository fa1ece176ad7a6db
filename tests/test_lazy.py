"""compute(*signals) in one pass, progress bars on threads and on dask.distributed, preferences."""

import dask
import dask.array as da
import numpy as np
import pytest

import lazysignal as ls
from lazysignal.lazy import compute, compute_arrays
from lazysignal.preferences import Preferences, preferences
from lazysignal.signals import Signal1D
from clusters import client  # noqa: F401  (the fixture: two worker processes)


def _counted(shape=(32, 20), chunks=(8, 20)):
    reads = []

    class Source:
        ndim, dtype = len(shape), np.dtype(float)

        def __init__(self):
            self.shape = shape

        def __getitem__(self, key):
            reads.append(key)
            return np.ones(tuple(k.stop - k.start for k in key))

    x = da.from_array(Source(), chunks=chunks, asarray=False, name="counted", meta=np.empty((0, 0)))
    return Signal1D(x), reads


def test_compute_several_signals_reads_once():
    s, reads = _counted()
    a, b = s.sum(axis="signal"), s.max(axis="navigation")
    with dask.config.set(scheduler="synchronous"):
        out = compute(a, b, show_progressbar=False)
    assert out == (a, b) and not a.lazy and not b.lazy
    assert len(reads) == 4  # each of the 4 chunks once
    np.testing.assert_array_equal(a.data, 20.0)
    np.testing.assert_array_equal(b.data, 1.0)


def test_progressbar_threaded(capsys):
    s = Signal1D(np.ones((8, 4))).as_lazy()
    s.sum(axis="signal").compute(show_progressbar=True)
    assert "Completed" in capsys.readouterr().out
    s.sum(axis="signal").compute(show_progressbar=False)
    assert capsys.readouterr().out == ""
    with preferences.set(show_progressbar=True):
        compute(s.sum(axis="signal"))
    assert "Completed" in capsys.readouterr().out


def test_distributed_compute_and_progress(client, capsys):
    x = da.arange(4000.0, chunks=500).reshape(40, 100)
    s = Signal1D(x)
    a, b = compute(s.sum(axis="signal"), s.mean(axis="navigation"), show_progressbar=True)
    out = capsys.readouterr().out
    assert "100%" in out or "Completed" in out or "[" in out
    np.testing.assert_allclose(a.data, np.arange(4000.0).reshape(40, 100).sum(axis=1))
    m = s.map(lambda v: v * 2, inplace=False, lazy_output=False, show_progressbar=False)
    np.testing.assert_allclose(m.data, np.arange(4000.0).reshape(40, 100) * 2)
    assert capsys.readouterr().out == ""


def test_compute_arrays_passes_numpy_and_scheduler_preference():
    assert compute_arrays(np.ones(2))[0].tolist() == [1.0, 1.0]
    with preferences.set(scheduler="synchronous", num_workers=1):
        (v,) = compute_arrays(da.ones(4, chunks=2).sum())
    assert v == 4.0


def test_preferences_validation_and_hyperspy_alias():
    p = Preferences()
    p.General.show_progressbar = True
    assert p.show_progressbar is True
    with pytest.raises(AttributeError, match="Unknown preference"):
        p.colour = "red"
    with pytest.raises(ValueError, match="scheduler"):
        p.scheduler = "gpu"
    with pytest.raises(ValueError):
        p.chunk_target_bytes = 10
    p.reset()
    assert p.show_progressbar is False
    assert ls.preferences is preferences


@pytest.mark.parametrize("ext", ["zspy", "hspy", "npy"])
def test_save_shows_a_progress_bar_on_a_distributed_client(client, tmp_path, capsys, ext):
    s = Signal1D(da.arange(4000.0, chunks=500).reshape(40, 100))
    s.save(tmp_path / f"p.{ext}", show_progressbar=True)
    out = capsys.readouterr().out
    assert "100%" in out or "Completed" in out
    np.testing.assert_allclose(ls.load(tmp_path / f"p.{ext}").data, np.arange(4000.0).reshape(40, 100))
    s.save(tmp_path / f"q.{ext}", show_progressbar=False)
    assert capsys.readouterr().out == ""
