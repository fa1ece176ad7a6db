"""compute_navigator: sums one signal chunk, reads exactly its chunks, stored in metadata."""

import threading

import dask
import dask.array as da
import numpy as np
import pytest

import lazysignal as ls
from lazysignal.signals import Signal1D, Signal2D


class CountingSource:
    """An array source that records which blocks dask reads from it."""

    def __init__(self, array):
        self.array = array
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim
        self.reads = []
        self._lock = threading.Lock()

    def __getitem__(self, key):
        with self._lock:
            self.reads.append(tuple((k.start, k.stop) for k in key))
        return self.array[key]


def _eds(shape=(8, 16, 40), chunks=(4, 16, 10)):
    rng = np.random.default_rng(0)
    data = rng.poisson(3.0, shape).astype(float)
    source = CountingSource(data)
    x = da.from_array(source, chunks=chunks, asarray=False, name="eds-source",
                      meta=np.empty((0,) * len(shape)))
    s = Signal1D(x)
    e = s.axes_manager.signal_axes[0]
    e.scale, e.offset, e.units, e.name = 0.25, -0.5, "keV", "Energy"
    return s, data, source


def test_navigator_centre_reads_exactly_one_chunk_column():
    s, data, source = _eds()
    s.compute_navigator(show_progressbar=False)
    # Centre channel 20 lies in chunk [20, 30): two navigation chunks of that column.
    assert sorted(source.reads) == [((0, 4), (0, 16), (20, 30)), ((4, 8), (0, 16), (20, 30))]
    nav = s.navigator
    assert type(nav).__name__ == "Signal2D" and nav.axes_manager.signal_shape == (16, 8)
    np.testing.assert_array_equal(nav.data, data[..., 20:30].sum(axis=-1))
    assert nav.original_metadata.sum_from == "[slice(20, 30, None)]"
    assert s.metadata.get_item("_HyperSpy.navigator") is nav


@pytest.mark.parametrize("index, expected", [(6.3, (20, 30)), (0, (0, 10)), (39, (30, 40)), (1.6, (0, 10))])
def test_navigator_index_int_and_calibrated(index, expected):
    s, data, source = _eds()
    s.compute_navigator(index=index)
    assert {r[2] for r in source.reads} == {expected}
    np.testing.assert_array_equal(s.navigator.data, data[..., slice(*expected)].sum(axis=-1))


def test_navigator_chunks_number_does_not_rechunk():
    s, data, source = _eds(chunks=(4, 16, 40))
    s.compute_navigator(index=25, chunks_number=4)
    np.testing.assert_array_equal(s.navigator.data, data[..., 20:30].sum(axis=-1))
    # The slice is handed to the source (no rechunk, nothing else read).
    assert sorted(source.reads) == [((0, 4), (0, 16), (20, 30)), ((4, 8), (0, 16), (20, 30))]


def test_navigator_2d_signal_and_eager():
    data = np.random.default_rng(1).random((3, 4, 8, 6))
    s = Signal2D(data).as_lazy(chunks=(3, 4, 4, 3))
    s.compute_navigator(index=(0, 7))  # x (last numpy axis) index 0, y index 7
    np.testing.assert_allclose(s.navigator.data, data[:, :, 4:8, 0:3].sum(axis=(2, 3)))
    e = Signal2D(data)
    e.compute_navigator()
    np.testing.assert_allclose(e.navigator.data, data.sum(axis=(2, 3)))


def test_navigator_progressbar(capsys):
    s, _, _ = _eds()
    with dask.config.set(scheduler="threads"):
        s.compute_navigator(show_progressbar=True)
    assert "Completed" in capsys.readouterr().out
    s.compute_navigator(show_progressbar=False)
    assert "Completed" not in capsys.readouterr().out


def test_navigator_reads_exactly_its_stored_chunks_from_a_real_hspy_file(tmp_path, monkeypatch):
    from lazysignal.io.backends import h5chunks as _h5chunks

    cube = Signal1D(np.arange(8 * 8 * 100, dtype="float32").reshape(8, 8, 100),
                    axes=[{"size": 8, "name": "y"}, {"size": 8, "name": "x"},
                          {"size": 100, "name": "E", "scale": 0.1}])
    path = tmp_path / "cube.hspy"
    cube.save(path, chunks=(4, 8, 25))
    s = ls.load(path, lazy=True)
    read = []
    original = _h5chunks._read_chunk_into

    def counting(plan, dsid, origin, dst, fd=None, part=None):
        read.append(tuple(origin))
        return original(plan, dsid, origin, dst, fd, part)

    monkeypatch.setattr(_h5chunks, "_read_chunk_into", counting)
    s.compute_navigator(index=6.3)  # channel 63: the stored chunk column 50..75
    assert sorted(read) == [(0, 0, 50), (4, 0, 50)]
    np.testing.assert_allclose(s.navigator.data, cube.data[..., 50:75].sum(-1))
    s.close_file()
