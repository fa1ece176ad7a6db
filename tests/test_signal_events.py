"""Every path that changes a signal's data fires ``data_changed`` exactly once; reads never do.

Each mutation runs on eager data and on lazy data with several chunkings, and the data after
the change are compared with what numpy gives.
"""

import copy
import pickle

import numpy as np
import pytest

import lazysignal as ls
from lazysignal.errors import ShapeMismatchError
from lazysignal.signals import BaseSignal, Signal1D, Signal2D

CHUNKINGS = [None, (1, 5, 10), (2, 5, 5), (4, 1, 3)]  # None: eager


def cube(chunks):
    s = Signal1D(np.arange(4 * 5 * 10, dtype=float).reshape(4, 5, 10),
                 axes=[{"name": "y", "size": 4}, {"name": "x", "size": 5},
                       {"name": "E", "size": 10, "scale": 0.5, "units": "keV"}])
    return s if chunks is None else s.as_lazy(chunks=chunks)


class Recorder:
    """Counts the calls of each event of a signal and its axes manager."""

    def __init__(self, s):
        self.data, self.axes, self.indices = [], [], []
        s.events.data_changed.connect(lambda obj: self.data.append(obj))
        s.axes_manager.events.any_axis_changed.connect(lambda obj: self.axes.append(obj))
        s.axes_manager.events.indices_changed.connect(lambda obj: self.indices.append(obj))

    def counts(self):
        return len(self.data), len(self.axes), len(self.indices)


def _values(s):
    return np.asarray(s.data.compute() if s.lazy else s.data)


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("mutate, expected", [
    (lambda s: setattr(s, "data", s.data * 2), lambda a: a * 2),
    (lambda s: s.change_dtype("float32"), lambda a: a.astype("float32")),
    (lambda s: s.__iadd__(1), lambda a: a + 1),
    (lambda s: s.__imul__(s.isig[0:1]), lambda a: a * a[..., 0:1]),
    (lambda s: s.map(np.sqrt, inplace=True), np.sqrt),
    (lambda s: s.map(lambda x: x[::-1], inplace=True), lambda a: a[..., ::-1]),
])
def test_each_mutation_fires_data_changed_once(chunks, mutate, expected):
    s = cube(chunks)
    want = expected(_values(s))
    rec = Recorder(s)
    mutate(s)
    assert rec.counts() == (1, 0, 0)
    assert rec.data[0] is s
    np.testing.assert_allclose(_values(s), want)
    assert s.lazy == (chunks is not None)


@pytest.mark.parametrize("chunks", CHUNKINGS[1:])
def test_compute_fires_once_and_only_when_data_change(chunks):
    s = cube(chunks)
    rec = Recorder(s)
    s.compute()
    assert rec.counts() == (1, 0, 0) and not s.lazy
    s.compute()  # already in memory: nothing changes
    assert rec.counts() == (1, 0, 0)
    t = cube(chunks)
    rec_t = Recorder(t)
    ls.compute(t)
    assert rec_t.counts() == (1, 0, 0) and not t.lazy


@pytest.mark.parametrize("chunks", CHUNKINGS[1:])
def test_rechunk_inplace_fires_once(chunks):
    s = cube(chunks)
    rec = Recorder(s)
    s.rechunk(nav_chunks=(2, 5), inplace=True)
    assert rec.counts() == (1, 0, 0)
    assert s.data.chunks[:2] == ((2, 2), (5,))
    s.rechunk(inplace=False)
    assert rec.counts() == (1, 0, 0)


def test_item_assignment_fires_once():
    s = cube(None)
    rec = Recorder(s)
    s.isig[0:2] = 0
    s.inav[0, 0] = -1
    assert rec.counts() == (2, 0, 0)
    assert s.data[0, 0, 5] == -1 and s.data[1, 1, 0] == 0


@pytest.mark.parametrize("chunks", CHUNKINGS)
def test_map_changing_signal_shape_swaps_axes_in_the_same_manager(chunks):
    s = cube(chunks)
    manager = s.axes_manager
    x_axis = manager["x"]
    rec = Recorder(s)
    s.map(lambda x: np.stack([x, x]), inplace=True)
    assert rec.counts() == (1, 1, 0)
    assert s.axes_manager is manager and manager["x"] is x_axis  # unchanged axes kept
    assert type(s) is Signal2D and manager.signal_shape == (10, 2)
    np.testing.assert_allclose(_values(s)[:, :, 1], cube(None).data)
    s.map(np.sum, inplace=True)
    assert rec.counts() == (2, 2, 0)
    assert type(s) is BaseSignal and manager.signal_shape == ()


@pytest.mark.parametrize("chunks", CHUNKINGS)
def test_out_arguments_fire_once_on_out(chunks):
    s = cube(chunks)
    out = s.sum(axis="signal")
    rec = Recorder(out)
    s.max(axis="signal", out=out)
    assert rec.counts() == (1, 0, 0)
    np.testing.assert_allclose(_values(out), cube(None).data.max(-1))


@pytest.mark.parametrize("chunks", CHUNKINGS)
def test_reads_do_not_fire(chunks):
    s = cube(chunks)
    rec = Recorder(s)
    _ = s.data, repr(s), s._repr_html_(), s.lazy
    s.sum(axis="signal"); s.mean(); s.indexmax(-1); s.integrate1D(-1); s.diff(-1)
    s.isig[2:4]; s.inav[1]; s.T; s.deepcopy(); s.copy(); copy.deepcopy(s)
    s.map(np.sqrt, inplace=False); s.as_lazy(); s + 1; -s; s.fft()
    s.get_histogram(bins=4); s.rebin(scale=(1, 2, 2)); s.transpose(signal_axes=2)
    s.axes_manager.indices, s.axes_manager.coordinates, s.axes_manager["E"].value
    if s.lazy:
        s.explain(print_plan=False)
    assert rec.counts() == (0, 0, 0)


def test_replace_checks_shape_and_changes_nothing_on_error():
    s = cube(None)
    rec = Recorder(s)
    before = s.data
    with pytest.raises(ShapeMismatchError):
        s._replace(np.zeros((4, 5, 11)))
    with pytest.raises(ShapeMismatchError):
        s._replace(np.zeros((4, 5, 10)), axes=[{"size": 4}, {"size": 5}, {"size": 11, "navigate": False}])
    assert s.data is before and rec.counts() == (0, 0, 0)


def test_replace_with_equal_axes_fires_data_changed_only():
    s = cube(None)
    rec = Recorder(s)
    axes = [a.copy() for a in s.axes_manager._axes]
    s._replace(s.data + 1, axes)
    assert rec.counts() == (1, 0, 0)


def test_replace_moving_the_position_fires_indices_changed_once():
    s = cube(None)
    s.axes_manager.indices = (3, 2)
    rec = Recorder(s)
    s._replace(np.zeros((4, 2, 10)), [{"size": 4, "name": "y"}, {"size": 2, "name": "x"},
                                      {"size": 10, "navigate": False}])
    assert rec.counts() == (1, 1, 1)
    assert s.axes_manager.indices == (0, 2)


def test_copies_start_without_listeners():
    s = cube(None)
    seen = []
    s.events.data_changed.connect(lambda obj: seen.append(obj))
    for c in (s.deepcopy(), s.copy(), copy.deepcopy(s), pickle.loads(pickle.dumps(s))):
        assert c.events.data_changed.connected == ()
        c.data = c.data + 1
    assert seen == []
    np.testing.assert_array_equal(pickle.loads(pickle.dumps(s)).data, s.data)


def test_listeners_survive_suppress_and_can_be_disconnected():
    s = cube(None)
    seen = []

    def f(signal):
        seen.append(signal)

    s.events.data_changed.connect(f, kwargs={"obj": "signal"})
    with s.events.suppress():
        s += 1
    s += 1
    s.events.data_changed.disconnect(f)
    s += 1
    assert seen == [s]
