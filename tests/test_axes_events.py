"""Axis events: calibration setters, the navigation position, copies and pickling."""

import copy
import pickle

import numpy as np
import pytest

from lazysignal.axes import AxesManager, DataAxis
from lazysignal.errors import AxisError, AxisIndexError
from lazysignal.signals import Signal1D


def manager():
    return AxesManager([{"size": 4, "name": "y", "scale": 2.0}, {"size": 5, "name": "x", "offset": 1.0},
                        {"size": 10, "name": "E", "navigate": False}])


def record(event):
    calls = []
    event.connect(lambda **kw: calls.append(kw))
    return calls


@pytest.mark.parametrize("attribute, value", [
    ("scale", 0.25), ("offset", -3.0), ("units", "nm"), ("name", "z"), ("size", 3), ("is_binned", True),
])
def test_calibration_setters_fire_axis_and_manager_once(attribute, value):
    am = manager()
    axis = am["x"]
    on_axis, on_manager = record(axis.events.any_axis_changed), record(am.events.any_axis_changed)
    on_indices = record(am.events.indices_changed)
    setattr(axis, attribute, value)
    assert getattr(axis, attribute) == value
    assert on_axis == [{"obj": axis}] and on_manager == [{"obj": am}] and on_indices == []
    setattr(axis, attribute, value)  # the same value again changes nothing
    assert len(on_axis) == 1 and len(on_manager) == 1


def test_navigate_setter_fires():
    axis = DataAxis(size=3)
    calls = record(axis.events.any_axis_changed)
    axis.navigate = False
    assert calls == [{"obj": axis}] and not axis.navigate


def test_index_and_value_fire_axis_events_and_indices_changed_once():
    am = manager()
    x = am["x"]
    index_calls, value_calls = record(x.events.index_changed), record(x.events.value_changed)
    indices = record(am.events.indices_changed)
    x.index = 3
    assert index_calls == [{"obj": x, "index": 3}] and value_calls == [{"obj": x, "value": 4.0}]
    assert indices == [{"obj": am}] and am.indices == (3, 0)
    x.value = 2.2  # nearest index: 1
    assert x.index == 1 and len(indices) == 2
    x.index = 1
    assert len(indices) == 2
    am["E"].index = 5  # a signal axis does not move the navigation position
    assert len(indices) == 2 and am["E"].value == 5.0


def test_indices_setter_fires_once_for_several_axes():
    am = manager()
    calls = record(am.events.indices_changed)
    am.indices = (4, 3)
    assert calls == [{"obj": am}]
    assert (am["x"].index, am["y"].index) == (4, 3)
    assert am.coordinates == (5.0, 6.0)
    am.coordinates = (2.1, 1.9)
    assert am.indices == (1, 1) and len(calls) == 2
    am.indices = (1, 1)
    assert len(calls) == 2


@pytest.mark.parametrize("bad", [(5, 0), (0, -1), (0, 4), (1.0, 0)])
def test_out_of_range_indices_raise_and_move_nothing(bad):
    am = manager()
    am.indices = (2, 2)
    calls = record(am.events.indices_changed)
    with pytest.raises(AxisIndexError, match="outside axis"):
        am.indices = bad
    assert am.indices == (2, 2) and calls == []


def test_wrong_number_of_indices_or_coordinates():
    am = manager()
    with pytest.raises(AxisError, match="needs 2 values"):
        am.indices = (1,)
    with pytest.raises(AxisError, match="needs 2 values"):
        am.coordinates = (1.0, 2.0, 3.0)
    with pytest.raises(AxisIndexError):
        am["x"].index = 5
    with pytest.raises(AxisIndexError):
        am["x"].value = 100.0


def test_shrinking_size_keeps_index_inside():
    axis = DataAxis(size=10)
    axis.index = 9
    axis.size = 4
    assert axis.index == 3


@pytest.mark.parametrize("make_copy", [copy.deepcopy, copy.copy, DataAxis.copy,
                                       lambda a: pickle.loads(pickle.dumps(a))])
def test_axis_copies_are_equal_and_have_no_listeners(make_copy):
    for axis in (DataAxis(size=6, name="E", units="eV", scale=0.1, offset=2.0, navigate=False),
                 DataAxis(axis=[0.0, 1.0, 4.0], name="t")):
        axis.events.any_axis_changed.connect(lambda obj: None)
        new = make_copy(axis)
        assert new == axis and new is not axis
        assert new.events.any_axis_changed.connected == ()
        new.name = "other"
        assert axis.name != "other" and new != axis


def test_manager_pickle_and_deepcopy_keep_axes_and_relink_them():
    am = manager()
    am.events.any_axis_changed.connect(lambda obj: None)
    for new in (pickle.loads(pickle.dumps(am)), copy.deepcopy(am), am.copy()):
        assert new == am and new.events.any_axis_changed.connected == ()
        calls = record(new.events.any_axis_changed)
        new["x"].scale = 7.0
        assert calls == [{"obj": new}]


def test_signal_axes_listeners_stay_connected_through_inplace_operations():
    s = Signal1D(np.ones((3, 4, 6)))
    calls = record(s.axes_manager.events.any_axis_changed)
    s.axes_manager[0].scale = 0.5
    s.map(lambda x: x[:3], inplace=True)
    s.axes_manager[-1].offset = 1.0
    assert len(calls) == 3 and s.axes_manager.signal_shape == (3,)


def test_dropped_manager_does_not_keep_axes_alive_or_fire():
    axis = DataAxis(size=3)
    am = AxesManager([axis])
    del am
    axis.scale = 2.0  # no manager any more: nothing to notify, no error
    assert axis.scale == 2.0
