"""ROI widgets: an ROI drawn on a plotted signal, bound both ways to the ROI.

``roi.add_widget(signal, axes=None, color=...)`` (:mod:`lazysignal.roi.base`) calls
:func:`add_widget` here. The widget is drawn on the figure that shows the ROI's axes: the
navigator when they are navigation axes, the signal figure when they are signal axes.
Dragging it (inside: move; near an edge, a corner, an end or the rim: resize) calls
``roi.set(...)`` once per mouse motion, which fires ``roi.events.changed`` (so an
``interactive`` selection recomputes); a change of the ROI from elsewhere moves the widget.
Its artists are animated and blitted with the figure's other moving parts.

Dragged values snap to the axis' values when ``snap`` is True (the default), as HyperSpy's
widgets do (a range's end may also take the value one step past the last).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Polygon, Rectangle

from ..errors import ROIError

__all__ = ["add_widget", "remove_widget", "ROIWidget"]

_TOLERANCE_PX = 6.0


def _view_for(signal: Any, axes: tuple[Any, ...]) -> Any:
    """The navigator or signal view whose matplotlib axes show ``axes`` (x, then y)."""
    explorer = getattr(signal, "_plot", None)
    if explorer is None or not getattr(explorer, "is_active", False):
        raise ROIError(f"{signal!r} is not plotted; call s.plot() before adding an ROI widget.")
    am = signal.axes_manager
    nav, sig = list(am.navigation_axes), list(am.signal_axes)
    n = len(axes)
    if [id(a) for a in axes] == [id(a) for a in sig[:n]] and len(sig) >= n:
        return explorer.signal_view
    nav_view = explorer.navigator
    if [id(a) for a in axes] == [id(a) for a in nav[:n]] and nav_view is not None and nav_view.shown >= n:
        return nav_view
    names = [a.name for a in axes]
    raise ROIError(f"No figure of this plot shows the axes {names} as its x{'/y' if n == 2 else ''} axis; "
                   "a widget goes on the navigator (its first navigation axes) or on the signal figure "
                   "(its signal axes). Give axes=... accordingly, or plot with a navigator.")


def _snap(value: float, axis: Any) -> float:
    """The nearest axis value (or the value one step past the last: a range's open end)."""
    values = np.asarray(axis.axis, dtype=float)
    if values.size < 2:
        return float(value)
    grid = np.append(values, values[-1] + (values[-1] - values[-2]))
    return float(grid[np.argmin(np.abs(grid - value))])


class _Shape:
    """How one kind of ROI is drawn, hit and dragged (parameters <-> artists)."""

    def __init__(self, widget: "ROIWidget"):
        self.w = widget

    def make(self, color: str) -> list[Any]:
        raise NotImplementedError

    def sync(self, p: dict[str, Any]) -> None:
        raise NotImplementedError

    def hit(self, x: float, y: float, p: dict[str, Any]) -> Any:
        raise NotImplementedError

    def drag(self, handle: Any, p: dict[str, Any], dx: float, dy: float, x: float, y: float) -> dict[str, Any]:
        raise NotImplementedError


class _Span(_Shape):
    """SpanROI (left, right) and Point1DROI (value) on a horizontal axis."""

    def make(self, color: str) -> list[Any]:
        ax = self.w.ax
        if "value" in self.w.roi.parameters:
            self.artist = ax.axvline(0, color=color, linewidth=2)
        else:
            self.artist = ax.axvspan(0, 1, color=color, alpha=0.3)
        return [self.artist]

    def sync(self, p: dict[str, Any]) -> None:
        if "value" in p:
            self.artist.set_xdata([p["value"], p["value"]])
        else:
            self.artist.set_x(p["left"])
            self.artist.set_width(p["right"] - p["left"])

    def hit(self, x: float, y: float, p: dict[str, Any]) -> Any:
        if "value" in p:
            return "move" if self.w.near_x(x, p["value"]) else None
        for edge in ("left", "right"):
            if self.w.near_x(x, p[edge]):
                return edge
        return "move" if p["left"] <= x <= p["right"] else None

    def drag(self, handle: Any, p: dict[str, Any], dx: float, dy: float, x: float, y: float) -> dict[str, Any]:
        if handle == "move":
            return {k: self.w.snap(v + dx, 0) for k, v in p.items()}
        return {handle: self.w.snap(p[handle] + dx, 0)}


class _Rectangle(_Shape):
    def make(self, color: str) -> list[Any]:
        self.artist = Rectangle((0, 0), 1, 1, fill=False, edgecolor=color, linewidth=2)
        self.w.ax.add_patch(self.artist)
        return [self.artist]

    def sync(self, p: dict[str, Any]) -> None:
        self.artist.set_xy((p["left"], p["top"]))
        self.artist.set_width(p["right"] - p["left"])
        self.artist.set_height(p["bottom"] - p["top"])

    def hit(self, x: float, y: float, p: dict[str, Any]) -> Any:
        low_y, high_y = sorted((p["top"], p["bottom"]))
        inside_x = p["left"] <= x <= p["right"]
        inside_y = low_y <= y <= high_y
        edges = tuple(e for e, ok in (("left", self.w.near_x(x, p["left"]) and inside_y),
                                      ("right", self.w.near_x(x, p["right"]) and inside_y),
                                      ("top", self.w.near_y(y, p["top"]) and inside_x),
                                      ("bottom", self.w.near_y(y, p["bottom"]) and inside_x)) if ok)
        if edges:
            return edges
        return "move" if inside_x and inside_y else None

    def drag(self, handle: Any, p: dict[str, Any], dx: float, dy: float, x: float, y: float) -> dict[str, Any]:
        if handle == "move":
            return {"left": self.w.snap(p["left"] + dx, 0), "right": self.w.snap(p["right"] + dx, 0),
                    "top": self.w.snap(p["top"] + dy, 1), "bottom": self.w.snap(p["bottom"] + dy, 1)}
        return {e: self.w.snap(p[e] + (dx if e in ("left", "right") else dy), 0 if e in ("left", "right") else 1)
                for e in handle}


class _Point2D(_Shape):
    def make(self, color: str) -> list[Any]:
        (self.artist,) = self.w.ax.plot([0], [0], marker="+", markersize=14, markeredgewidth=2, color=color)
        return [self.artist]

    def sync(self, p: dict[str, Any]) -> None:
        self.artist.set_data([p["x"]], [p["y"]])

    def hit(self, x: float, y: float, p: dict[str, Any]) -> Any:
        return "move" if self.w.near_x(x, p["x"]) and self.w.near_y(y, p["y"]) else None

    def drag(self, handle: Any, p: dict[str, Any], dx: float, dy: float, x: float, y: float) -> dict[str, Any]:
        return {"x": self.w.snap(p["x"] + dx, 0), "y": self.w.snap(p["y"] + dy, 1)}


class _Circle(_Shape):
    def make(self, color: str) -> list[Any]:
        self.outer = Circle((0, 0), 1, fill=False, edgecolor=color, linewidth=2)
        self.inner = Circle((0, 0), 0, fill=False, edgecolor=color, linewidth=1, linestyle="--")
        self.w.ax.add_patch(self.outer)
        self.w.ax.add_patch(self.inner)
        return [self.outer, self.inner]

    def sync(self, p: dict[str, Any]) -> None:
        for artist, radius in ((self.outer, p["r"]), (self.inner, p["r_inner"] or 0.0)):
            artist.set_center((p["cx"], p["cy"]))
            artist.set_radius(radius)
        self.inner.set_visible(bool(p["r_inner"]))

    def hit(self, x: float, y: float, p: dict[str, Any]) -> Any:
        d = float(np.hypot(x - p["cx"], y - p["cy"]))
        if self.w.near_x(p["cx"] + d, p["cx"] + p["r"]):
            return "r"
        return "move" if d < p["r"] else None

    def drag(self, handle: Any, p: dict[str, Any], dx: float, dy: float, x: float, y: float) -> dict[str, Any]:
        if handle == "r":
            return {"r": max(float(np.hypot(x - p["cx"], y - p["cy"])), (p["r_inner"] or 0.0) + 1e-9)}
        return {"cx": self.w.snap(p["cx"] + dx, 0), "cy": self.w.snap(p["cy"] + dy, 1)}


class _Line(_Shape):
    def make(self, color: str) -> list[Any]:
        (self.artist,) = self.w.ax.plot([0, 1], [0, 1], color=color, linewidth=2, marker="o", markersize=5)
        return [self.artist]

    def sync(self, p: dict[str, Any]) -> None:
        self.artist.set_data([p["x1"], p["x2"]], [p["y1"], p["y2"]])

    def hit(self, x: float, y: float, p: dict[str, Any]) -> Any:
        for end in ("1", "2"):
            if self.w.near_x(x, p["x" + end]) and self.w.near_y(y, p["y" + end]):
                return end
        a, b = self.w.to_px(p["x1"], p["y1"]), self.w.to_px(p["x2"], p["y2"])
        m = self.w.to_px(x, y)
        ab = b - a
        t = float(np.clip(np.dot(m - a, ab) / max(np.dot(ab, ab), 1e-12), 0, 1))
        return "move" if np.hypot(*(a + t * ab - m)) < _TOLERANCE_PX else None

    def drag(self, handle: Any, p: dict[str, Any], dx: float, dy: float, x: float, y: float) -> dict[str, Any]:
        ends = ("1", "2") if handle == "move" else (handle,)
        out = {}
        for end in ends:
            out["x" + end] = self.w.snap(p["x" + end] + dx, 0)
            out["y" + end] = self.w.snap(p["y" + end] + dy, 1)
        return out


class _Polygon(_Shape):
    def make(self, color: str) -> list[Any]:
        self.artist = Polygon([[0, 0], [1, 0], [0, 1]], closed=True, fill=False, edgecolor=color, linewidth=2)
        self.w.ax.add_patch(self.artist)
        return [self.artist]

    def sync(self, p: dict[str, Any]) -> None:
        self.artist.set_xy(np.asarray(p["vertices"], dtype=float))

    def hit(self, x: float, y: float, p: dict[str, Any]) -> Any:
        for i, (vx, vy) in enumerate(p["vertices"]):
            if self.w.near_x(x, vx) and self.w.near_y(y, vy):
                return i
        return "move" if self.artist.get_path().contains_point((x, y)) else None

    def drag(self, handle: Any, p: dict[str, Any], dx: float, dy: float, x: float, y: float) -> dict[str, Any]:
        vertices = [list(v) for v in p["vertices"]]
        moved = range(len(vertices)) if handle == "move" else (handle,)
        for i in moved:
            vertices[i] = [vertices[i][0] + dx, vertices[i][1] + dy]
        return {"vertices": [tuple(v) for v in vertices]}


_SHAPES = {
    ("left", "right"): _Span, ("value",): _Span, ("left", "top", "right", "bottom"): _Rectangle,
    ("x", "y"): _Point2D, ("cx", "cy", "r", "r_inner"): _Circle, ("x1", "y1", "x2", "y2", "linewidth"): _Line,
    ("vertices",): _Polygon,
}


class ROIWidget:
    """An ROI's artists on one matplotlib axes of a plot, bound both ways to the ROI.

    Made by :func:`add_widget` (through ``roi.add_widget``); ``artists`` are the drawn
    shapes, ``view`` the navigator or signal view holding them.
    """

    def __init__(self, roi: Any, view: Any, axes: tuple[Any, ...], color: str = "green", snap: bool = True):
        kind = _SHAPES.get(tuple(roi.parameters))
        if kind is None:
            raise ROIError(f"No widget is known for {type(roi).__name__} (parameters {tuple(roi.parameters)}).")
        self.roi, self.view, self.data_axes, self.snap_values = roi, view, axes, bool(snap)
        self.ax = view.ax
        self.canvas = self.ax.figure.canvas
        self.shape = kind(self)
        self.artists = self.shape.make(color)
        for artist in self.artists:
            view.blit.add(artist)
        self._press: tuple[Any, dict, float, float] | None = None
        self.shape.sync(roi.parameters)
        self._cids = [self.canvas.mpl_connect("button_press_event", self._on_press),
                      self.canvas.mpl_connect("motion_notify_event", self._on_motion),
                      self.canvas.mpl_connect("button_release_event", self._on_release)]
        filters = getattr(view, "press_filters", None)
        if filters is not None:
            filters.append(self.claims)  # a press on the widget does not move the navigator's cursor
        roi.events.changed.connect(self._on_roi_changed, [])
        view.blit.update()

    # -- geometry helpers (used by the shapes) -------------------------------------------------
    def to_px(self, x: float, y: float) -> np.ndarray:
        return np.asarray(self.ax.transData.transform((x, y)), dtype=float)

    def near_x(self, x: float, target: float) -> bool:
        y0 = float(np.mean(self.ax.get_ylim()))
        return abs(self.to_px(x, y0)[0] - self.to_px(target, y0)[0]) <= _TOLERANCE_PX

    def near_y(self, y: float, target: float) -> bool:
        x0 = float(np.mean(self.ax.get_xlim()))
        return abs(self.to_px(x0, y)[1] - self.to_px(x0, target)[1]) <= _TOLERANCE_PX

    def snap(self, value: float, which: int) -> float:
        return _snap(value, self.data_axes[which]) if self.snap_values else float(value)

    # -- events --------------------------------------------------------------------------------
    def claims(self, event: Any) -> bool:
        """Whether a mouse press lands on the widget (then it is the widget's drag)."""
        if event.inaxes is not self.ax or event.xdata is None or not self.roi.is_valid():
            return False
        return self.shape.hit(event.xdata, event.ydata, self.roi.parameters) is not None

    def _on_press(self, event: Any) -> None:
        if event.button != 1 or not self.claims(event):
            return
        handle = self.shape.hit(event.xdata, event.ydata, self.roi.parameters)
        self._press = (handle, self.roi.parameters, event.xdata, event.ydata)

    def _on_motion(self, event: Any) -> None:
        if self._press is None or event.inaxes is not self.ax or event.xdata is None:
            return
        handle, start, x0, y0 = self._press
        new = self.shape.drag(handle, start, event.xdata - x0, (event.ydata or y0) - y0,
                              event.xdata, event.ydata)
        try:
            self.roi.set(**new)
        except ROIError:
            pass  # a drag that would invert the ROI (left past right) stops at the last valid shape

    def _on_release(self, event: Any) -> None:
        self._press = None

    def _on_roi_changed(self) -> None:
        if self.roi.is_valid():
            self.shape.sync(self.roi.parameters)
            self.view.blit.update()

    def disconnect(self) -> None:
        """Remove the artists and stop listening (to the figure and to the ROI)."""
        for cid in self._cids:
            self.canvas.mpl_disconnect(cid)
        filters = getattr(self.view, "press_filters", None)
        if filters is not None and self.claims in filters:
            filters.remove(self.claims)
        if self._on_roi_changed in self.roi.events.changed.connected:
            self.roi.events.changed.disconnect(self._on_roi_changed)
        for artist in self.artists:
            self.view.blit.remove(artist)
            artist.remove()
        self.view.blit.update(full=True)


def add_widget(roi: Any, signal: Any, axes: tuple[Any, ...], widget: Any = None, color: str = "green",
               snap: bool | None = None, **kwargs: Any) -> ROIWidget:
    """Draw ``roi`` on the plot of ``signal`` over ``axes`` (called by ``roi.add_widget``).

    Examples
    --------
    >>> import numpy as np, lazysignal as ls
    >>> s = ls.signals.Signal1D(np.zeros((4, 5, 8)))
    >>> p = s.plot()
    >>> roi = ls.roi.RectangularROI(left=1, top=1, right=3, bottom=2)
    >>> w = roi.add_widget(s, color="red")
    >>> w.artists[0].get_xy(), w.artists[0].get_width()
    ((1.0, 1.0), 2.0)
    >>> roi.set(left=0.5); w.artists[0].get_x()
    0.5
    >>> p.close()
    """
    if widget is not None:
        raise ROIError("add_widget(widget=...) is not supported; a widget is made for the ROI and the plot.")
    if kwargs:
        raise ROIError(f"add_widget does not know {sorted(kwargs)}; it accepts axes, color and snap.")
    view = _view_for(signal, tuple(axes))
    return ROIWidget(roi, view, tuple(axes), color=color, snap=True if snap is None else snap)


def remove_widget(roi: Any, widget: ROIWidget) -> None:
    """Take ``widget`` off its figure (called by ``roi.remove_widget``)."""
    widget.disconnect()
