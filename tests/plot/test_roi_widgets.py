"""ROI widgets: dragging (real matplotlib mouse events) moves ROIs; changing ROIs moves widgets."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backend_bases import MouseEvent

import lazysignal as ls
from lazysignal.errors import ROIError
from lazysignal.signals import Signal1D, Signal2D


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def mouse(ax, name, x, y, button=1):
    """A mouse event at data coordinates, through the canvas' callback registry."""
    canvas = ax.figure.canvas
    px, py = ax.transData.transform((x, y))
    canvas.callbacks.process(name, MouseEvent(name, canvas, px, py, button=button))


def drag(ax, start, end):
    ax.figure.canvas.draw()
    mouse(ax, "button_press_event", *start)
    mouse(ax, "motion_notify_event", *end)
    mouse(ax, "button_release_event", *end)


def spectrum_image(lazy=False):
    data = np.random.default_rng(0).random((10, 12, 20))
    s = Signal1D(data, axes=[{"size": 10, "name": "y", "scale": 2.0, "navigate": True},
                             {"size": 12, "name": "x", "scale": 2.0, "navigate": True},
                             {"size": 20, "name": "E", "scale": 0.5, "navigate": False}])
    return (s.as_lazy(chunks=(5, 6, 20)) if lazy else s), data


def test_rectangle_on_the_navigator_both_ways():
    s, _ = spectrum_image()
    p = s.plot()
    roi = ls.roi.RectangularROI(left=4, top=2, right=10, bottom=8)
    w = roi.add_widget(s, color="red")
    rect = w.artists[0]
    assert rect.axes is p.navigator.ax and rect.get_edgecolor()[:3] == (1.0, 0.0, 0.0)
    assert (rect.get_x(), rect.get_y(), rect.get_width(), rect.get_height()) == (4, 2, 6, 6)
    # Drag from inside by (+4, +2): the ROI moves, snapped to the axis values (step 2).
    drag(p.navigator.ax, (7.0, 5.0), (11.1, 6.9))
    assert roi.parameters == {"left": 8.0, "top": 4.0, "right": 14.0, "bottom": 10.0}
    assert s.axes_manager.indices == (0, 0)  # the press was the widget's, not the cursor's
    # Drag the right edge.
    drag(p.navigator.ax, (14.0, 7.0), (18.0, 7.0))
    assert roi.parameters == {"left": 8.0, "top": 4.0, "right": 18.0, "bottom": 10.0}
    # The ROI changed elsewhere: the widget follows.
    roi.set(left=0, right=2)
    assert (rect.get_x(), rect.get_width()) == (0.0, 2.0)
    roi.remove_widget(s)
    assert rect.axes is None and roi.signal_map == []
    roi.set(left=1)  # no widget listens any more
    assert rect.get_x() == 0.0


def test_span_and_point1d_on_the_spectrum():
    s, _ = spectrum_image()
    p = s.plot()
    span = ls.roi.SpanROI(left=2.0, right=4.0)
    w = span.add_widget(s, axes=("E",))
    assert w.artists[0].axes is p.signal_view.ax
    drag(p.signal_view.ax, (4.0, np.mean(p.signal_view.ax.get_ylim())), (6.0, 0.5))  # the right edge
    assert tuple(span) == (2.0, 6.0)
    drag(p.signal_view.ax, (3.0, 0.5), (4.2, 0.5))  # inside: move by 1.2 -> snapped to 1.0
    assert tuple(span) == (3.0, 7.0)
    point = ls.roi.Point1DROI(5.0)
    line = point.add_widget(s, axes=("E",)).artists[0]
    point.value = 7.5
    assert list(line.get_xdata()) == [7.5, 7.5]


def test_point_circle_line_and_polygon_widgets_follow_and_drive_their_rois():
    s, _ = spectrum_image()
    p = s.plot()
    ax = p.navigator.ax
    point = ls.roi.Point2DROI(4.0, 6.0)
    marker = point.add_widget(s).artists[0]
    drag(ax, (4.0, 6.0), (8.0, 2.0))
    assert tuple(point) == (8.0, 2.0) and list(marker.get_xdata()) == [8.0]
    circle = ls.roi.CircleROI(cx=12.0, cy=10.0, r=4.0)
    outer = circle.add_widget(s).artists[0]
    drag(ax, (12.0, 10.0), (14.0, 12.0))  # inside: move
    assert (circle.cx, circle.cy) == (14.0, 12.0) and outer.get_center() == (14.0, 12.0)
    drag(ax, (18.0, 12.0), (20.0, 12.0))  # on the rim: resize
    assert circle.r == pytest.approx(6.0)
    line = ls.roi.Line2DROI(0.0, 0.0, 10.0, 0.0, linewidth=0)
    drawn = line.add_widget(s).artists[0]
    drag(ax, (10.0, 0.0), (10.0, 8.0))  # the second end
    assert tuple(line)[:4] == (0.0, 0.0, 10.0, 8.0) and list(drawn.get_ydata()) == [0.0, 8.0]
    poly = ls.roi.PolygonROI([(2.0, 12.0), (8.0, 12.0), (5.0, 16.0)])
    patch = poly.add_widget(s).artists[0]
    drag(ax, (5.0, 13.0), (7.0, 13.0))  # inside: the whole polygon moves
    assert poly.vertices[0] == (4.0, 12.0) and tuple(patch.get_xy()[0]) == (4.0, 12.0)


@pytest.mark.parametrize("lazy", [False, True])
def test_interactive_adds_the_widget_and_dragging_updates_the_sum(lazy):
    s, data = spectrum_image(lazy)
    p = s.plot()
    roi = ls.roi.RectangularROI(left=0, top=0, right=4, bottom=4)
    part = roi.interactive(s)
    total = ls.interactive(part.sum, event=part.events.data_changed, recompute_out_event=None, axis=(0, 1))
    (entry,) = roi.signal_map
    assert entry[0] is s and entry[1].artists[0].axes is p.navigator.ax
    drag(p.navigator.ax, (1.0, 1.0), (5.0, 3.0))
    assert roi.parameters == {"left": 4.0, "top": 2.0, "right": 8.0, "bottom": 6.0}
    expected = data[1:3, 2:4].sum(axis=(0, 1))
    np.testing.assert_allclose(np.asarray(total.compute().data if total.lazy else total.data), expected)


def test_widget_needs_a_plot_and_a_figure_showing_its_axes():
    s, _ = spectrum_image()
    roi = ls.roi.RectangularROI(left=0, top=0, right=4, bottom=4)
    with pytest.raises(ROIError, match="not plotted"):
        roi.add_widget(s)
    s.plot(navigator=None)
    with pytest.raises(ROIError, match="No figure"):
        roi.add_widget(s)
    image = Signal2D(np.zeros((6, 8)))
    image.plot()
    with pytest.raises(ROIError, match="does not know"):
        roi.add_widget(image, thickness=3)
