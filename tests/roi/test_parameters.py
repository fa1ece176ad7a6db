"""ROI parameters: construction, tuple/repr/parameters, refused values, events, errors, out=."""

from __future__ import annotations

import numpy as np
import pytest
from peer import run_peer

import lazysignal as ls
from lazysignal.axes import DataAxis
from lazysignal.errors import AxisError, AxisIndexError, ROIError
from lazysignal.roi import (CircleROI, Line2DROI, Point1DROI, Point2DROI, PolygonROI, RectangularROI,
                            SpanROI)

ALL = [
    Point1DROI(2.5), Point2DROI(1, 2), SpanROI(1, 3), RectangularROI(1, 2, 5, 6),
    CircleROI(4, 5, 3, 1), Line2DROI(0, 1, 6, 7, 2), PolygonROI([(0, 0), (4, 0), (2, 3)]),
]


@pytest.mark.parametrize("roi", ALL, ids=lambda r: type(r).__name__)
def test_parameters_rebuild_the_roi_and_repr_reads_back(roi):
    again = type(roi)(**roi.parameters)
    assert again.parameters == roi.parameters
    assert tuple(again) == tuple(roi) and len(roi) == len(tuple(roi))
    assert again.is_valid()
    assert repr(again) == repr(roi)
    assert eval(repr(roi), vars(ls.roi)).parameters == roi.parameters


def test_tuple_orders_follow_hyperspy():
    assert tuple(RectangularROI(left=0, top=20, right=10, bottom=20.5)) == (0.0, 10.0, 20.0, 20.5)
    assert tuple(CircleROI(1, 2, 3)) == (1.0, 2.0, 3.0, 0.0)
    assert tuple(Line2DROI(1, 2, 3, 4)) == (1.0, 2.0, 3.0, 4.0, 0.0)
    assert repr(RectangularROI(left=100, top=100, right=110, bottom=110)) == \
        "RectangularROI(left=100, top=100, right=110, bottom=110)"


# The peer keeps the old value when a new one would make the ROI invalid; we keep it too and
# say so with an error (a silently ignored assignment would hide a bug in a script).
REFUSALS = [
    ("RectangularROI", dict(left=0, top=0, right=2, bottom=2), "left", 5.0),
    ("RectangularROI", dict(left=0, top=0, right=2, bottom=2), "bottom", -1.0),
    ("SpanROI", dict(left=1, right=3), "right", 0.5),
    ("SpanROI", dict(left=1, right=3), "left", 3.0),
    ("CircleROI", dict(cx=0, cy=0, r=3, r_inner=1), "r_inner", 4.0),
    ("CircleROI", dict(cx=0, cy=0, r=3, r_inner=1), "r", 0.5),
]


@pytest.fixture(scope="module")
def peer_kept():
    code = "import hyperspy.api as hs\nout = []\n"
    for cls, params, name, value in REFUSALS:
        code += (f"roi = hs.roi.{cls}(**{params!r})\nsetattr(roi, {name!r}, {value!r})\n"
                 f"out.append(float(getattr(roi, {name!r})))\n")
    return run_peer(code + "emit(out)")


@pytest.mark.peer
@pytest.mark.parametrize("k", range(len(REFUSALS)))
def test_a_value_making_the_roi_invalid_is_refused_and_the_old_kept(k, peer_kept):
    cls, params, name, value = REFUSALS[k]
    roi = getattr(ls.roi, cls)(**params)
    seen = []
    roi.events.changed.connect(lambda roi: seen.append(1))
    with pytest.raises(ROIError, match="keeps its values"):
        setattr(roi, name, value)
    assert getattr(roi, name) == peer_kept[k] == float(params[name])
    assert roi.is_valid() and seen == []


def test_invalid_construction_is_refused():
    with pytest.raises(ROIError, match="left .* must be smaller than right"):
        SpanROI(3, 1)
    with pytest.raises(ROIError, match="top .* must be smaller than bottom"):
        RectangularROI(left=0, top=5, right=2, bottom=1)
    with pytest.raises(ROIError, match="not a number"):
        Point1DROI("abc")
    with pytest.raises(ROIError, match="not finite"):
        Point2DROI(1, float("nan"))
    with pytest.raises(ROIError, match="no parameter"):
        SpanROI(1, 2).set(top=3)
    with pytest.raises(ROIError, match="at least 3 vertices"):
        PolygonROI([(0, 0), (1, 1)])
    with pytest.raises(ROIError, match="linewidth"):
        Line2DROI(0, 0, 1, 1, linewidth=-1)


def test_changed_fires_once_per_change_and_never_for_no_change():
    roi = RectangularROI(left=0, top=0, right=4, bottom=4)
    seen = []
    roi.events.changed.connect(lambda roi: seen.append(tuple(roi)))
    roi.left = 1
    roi.x = 2  # moves left and right together: one event
    roi.width = 5
    roi.set(top=1, bottom=3)
    roi.left = 2.0  # same value: nothing changed
    assert seen == [(1, 4, 0, 4), (2, 5, 0, 4), (2, 7, 0, 4), (2, 7, 1, 3)]
    assert (roi.x, roi.y, roi.width, roi.height) == (2, 1, 5, 2)


def test_incomplete_roi_fires_nothing_until_complete_and_cannot_select():
    roi = SpanROI()
    seen = []
    roi.events.changed.connect(lambda roi: seen.append(tuple(roi)))
    roi.left = 1
    assert not roi.is_valid() and seen == []
    s = ls.signals.Signal1D(np.arange(10.0))
    with pytest.raises(ROIError, match="right are not set"):
        roi(s)
    roi.right = 4
    assert seen == [(1.0, 4.0)]
    np.testing.assert_array_equal(roi(s).data, [1.0, 2.0, 3.0])


def test_axes_errors_say_what_is_wrong():
    s = ls.signals.Signal1D(np.zeros((4, 5, 6)))
    roi = RectangularROI(0, 0, 2, 2)
    with pytest.raises(AxisError, match="No axis named 'nope'"):
        roi(s, axes=("nope", 0))
    with pytest.raises(AxisError, match="spans 2 axes"):
        roi(s, axes=0)
    with pytest.raises(AxisError, match="same axis twice"):
        roi(s, axes=(0, 0))
    with pytest.raises(AxisError, match="give axes"):
        RectangularROI(0, 0, 1, 1)(ls.signals.Signal1D(np.zeros(6)))
    with pytest.raises(AxisIndexError, match="outside axis"):
        RectangularROI(50, 50, 60, 60)(s)
    with pytest.raises(AxisIndexError, match="outside axis"):
        Point1DROI(99)(s)


@pytest.mark.parametrize("roi", [CircleROI(1, 1, 1), Line2DROI(0, 0, 2, 2),
                                 PolygonROI([(0, 0), (2, 0), (0, 2)])], ids=lambda r: type(r).__name__)
def test_shaped_rois_refuse_non_uniform_axes(roi):
    axes = [DataAxis(axis=[0.0, 1.0, 3.0, 4.0], name="y"), DataAxis(size=4, name="x"),
            DataAxis(size=3, navigate=False)]
    s = ls.signals.Signal1D(np.zeros((4, 4, 3)), axes)
    with pytest.raises(AxisError, match="non-uniform"):
        roi(s)


def test_box_rois_work_on_non_uniform_axes_by_nearest_value():
    axes = [DataAxis(axis=[0.0, 1.0, 3.0, 7.0, 8.0], name="E", navigate=False)]
    s = ls.signals.Signal1D(np.arange(5.0), axes)
    np.testing.assert_array_equal(SpanROI(0.9, 7.2)(s).data, [1.0, 2.0])
    np.testing.assert_array_equal(Point1DROI(2.6)(s).data, [2.0])


def test_line2d_needs_two_axes_of_one_kind_and_a_valid_order():
    s = ls.signals.Signal1D(np.zeros((5, 6)))
    with pytest.raises(AxisError, match="one kind"):
        Line2DROI(0, 0, 2, 2)(s)
    with pytest.raises(ROIError, match="order"):
        Line2DROI(0, 0, 2, 2)(ls.signals.Signal2D(np.zeros((5, 6))), order=7)


def test_line2d_angle_and_length():
    roi = Line2DROI(0.0, 0.0, 1.0, 2.0)
    assert roi.angle() == pytest.approx(63.43494882292201)
    assert roi.angle(axis="vertical", units="radians") == pytest.approx(np.arctan2(1, 2))
    assert roi.length == pytest.approx(np.sqrt(5))
    with pytest.raises(ROIError, match="units"):
        roi.angle(units="grad")
    with pytest.raises(ROIError, match="axis"):
        roi.angle(axis="diagonal")


@pytest.mark.parametrize("lazy", [False, True])
def test_out_updates_in_place_and_fires_data_changed_once(lazy):
    s = ls.signals.Signal1D(np.arange(6 * 7 * 3.0).reshape(6, 7, 3))
    s = s.as_lazy(chunks=(2, 3, 3)) if lazy else s
    roi = RectangularROI(left=1, top=1, right=3, bottom=4)
    out = roi(s)
    events = []
    out.events.data_changed.connect(lambda obj: events.append(obj))
    roi.set(left=2, right=7)
    assert roi(s, out=out) is None
    assert events == [out] and out.lazy == lazy
    expected = roi(s)
    assert out.axes_manager == expected.axes_manager
    np.testing.assert_array_equal(np.asarray(out.data), np.asarray(expected.data))
    np.testing.assert_array_equal(np.asarray(out.data), np.asarray(s.data)[1:4, 2:7])


def test_out_must_be_a_signal():
    s = ls.signals.Signal1D(np.zeros((3, 4)))
    with pytest.raises(ROIError, match="not a lazysignal signal"):
        SpanROI(0, 2)(s, out=np.zeros(3))

