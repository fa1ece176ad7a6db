"""roi.gui(): real ipywidgets fields bound both ways to the ROI; a clear error without ipywidgets."""

from __future__ import annotations

import sys

import ipywidgets
import pytest

import lazysignal as ls
from lazysignal.errors import MissingDependencyError, ROIError


def _fields(box):
    return {field.description: field for field in box.children}


def test_fields_show_the_parameters_and_edit_the_roi():
    roi = ls.roi.RectangularROI(left=100, top=100, right=110, bottom=110)
    box = roi.gui(display=False)
    assert isinstance(box, ipywidgets.VBox)
    fields = _fields(box)
    assert all(isinstance(f, ipywidgets.FloatText) for f in fields.values())
    assert {name: f.value for name, f in fields.items()} == roi.parameters
    seen = []
    roi.events.changed.connect(lambda roi: seen.append(tuple(roi)))
    fields["right"].value = 120.0
    assert roi.right == 120.0 and seen == [(100.0, 120.0, 100.0, 110.0)]


def test_roi_changes_update_the_fields():
    roi = ls.roi.CircleROI(cx=1, cy=2, r=3)
    fields = _fields(roi.gui(display=False))
    roi.set(cx=5, r=4, r_inner=1)
    assert (fields["cx"].value, fields["r"].value, fields["r_inner"].value) == (5.0, 4.0, 1.0)


def test_a_refused_value_puts_the_field_back():
    roi = ls.roi.SpanROI(1, 3)
    fields = _fields(roi.gui(display=False))
    fields["left"].value = 10.0  # beyond right: refused
    assert roi.left == 1.0 and fields["left"].value == 1.0


def test_two_boxes_stay_in_step():
    roi = ls.roi.Point2DROI(1, 1)
    a, b = _fields(roi.gui(display=False)), _fields(roi.gui(display=False))
    a["x"].value = 7.0
    assert b["x"].value == 7.0 and roi.x == 7.0


def test_polygon_has_no_field_editor():
    with pytest.raises(ROIError, match="roi.vertices"):
        ls.roi.PolygonROI([(0, 0), (1, 0), (0, 1)]).gui(display=False)


def test_missing_ipywidgets_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "ipywidgets", None)  # import ipywidgets now fails
    with pytest.raises(MissingDependencyError, match="pip install ipywidgets"):
        ls.roi.SpanROI(0, 1).gui(display=False)
