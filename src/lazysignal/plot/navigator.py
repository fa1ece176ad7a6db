"""The navigator figure: where in the scan we are, and the means to move.

Two navigation axes show as an image with a one-pixel cursor, one as a line with a
vertical cursor; navigation axes beyond those shown get sliders (``navigator="slider"``:
sliders only). A move within the image redraws the cursor only (blitted); the image is
redrawn only when a slider changes which image is shown. Clicking or dragging in the image
(or line) moves the position; the axes manager's ``indices`` is the one source of truth.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Rectangle
from matplotlib.widgets import Slider

from ._blit import BlitManager
from .signal_view import axis_label, image_extent

__all__ = ["NavigatorView"]

_MODES = ("image", "line", "slider")


def _index_of(axis: Any, value: float) -> int:
    """Nearest index of a calibrated value, clamped to the axis (a click may land on an edge)."""
    values = np.asarray(axis.axis, dtype=float)
    return int(np.clip(np.argmin(np.abs(values - value)), 0, axis.size - 1))


class NavigatorView:
    """A navigator figure bound to an axes manager's navigation position.

    Parameters
    ----------
    axes_manager
        Anything with ``navigation_axes`` (user order) and a settable ``indices`` tuple.
    data
        The navigator values (numpy order): the shape of the first 2 (image) or 1 (line)
        navigation axes, or of all of them (the image then follows the sliders). None for
        ``mode="slider"``.
    mode
        ``"image"``, ``"line"`` or ``"slider"``.
    title
        Figure title.
    figure
        Draw into this figure instead of a new one.

    Examples
    --------
    >>> import numpy as np
    >>> from lazysignal.axes import AxesManager, DataAxis
    >>> am = AxesManager([DataAxis(size=3, name="y"), DataAxis(size=4, name="x"),
    ...                   DataAxis(size=5, navigate=False)])
    >>> nav = NavigatorView(am, np.arange(12.0).reshape(3, 4), mode="image")
    >>> am.indices = (2, 1); nav.update()
    >>> nav.image.get_array().shape, nav.cursor_indices
    ((3, 4), (2, 1))
    >>> nav.close()
    """

    def __init__(self, axes_manager: Any, data: np.ndarray | None, *, mode: str = "image", title: str = "",
                 figure: Any = None, cmap: Any = None):
        if mode not in _MODES:
            raise ValueError(f"mode must be one of {_MODES}; got {mode!r}.")
        self.axes_manager = axes_manager
        self.nav_axes = list(axes_manager.navigation_axes)
        self.mode = mode
        self.shown = {"image": 2, "line": 1, "slider": 0}[mode]
        self.data: Any = None if data is None else np.asarray(data)
        self.figure = figure if figure is not None else plt.figure()
        self.blit = BlitManager(self.figure)
        slider_axes = self.nav_axes[self.shown:]
        self.ax: Any = None
        self.image: Any = None
        self.line: Any = None
        self.cursor: Any = None
        self.sliders: list[Slider] = []
        n_sliders = len(slider_axes)
        if self.shown:
            grid = self.figure.add_gridspec(1 + n_sliders, 1, height_ratios=[12] + [1] * n_sliders,
                                            hspace=0.6)
            self.ax = self.figure.add_subplot(grid[0])
            self._draw_main(cmap)
            self.ax.set_title(title)
        else:
            grid = self.figure.add_gridspec(max(n_sliders, 1), 1)
            self.figure.suptitle(title)
        for k, axis in enumerate(slider_axes):
            slider_ax = self.figure.add_subplot(grid[k + (1 if self.shown else 0)])
            slider = Slider(slider_ax, axis_label(axis) or f"axis {self.shown + k}", 0, max(axis.size - 1, 1),
                            valinit=axis.index, valstep=1, valfmt="%d")
            slider.drawon = False  # the position update redraws; a slider must not draw twice
            slider.on_changed(self._slider_callback(self.shown + k))
            self.sliders.append(slider)
        self._dragging = False
        #: Callables ``f(event) -> bool``: a press one of them claims (an ROI widget's) moves no cursor.
        self.press_filters: list[Callable[[Any], bool]] = []
        canvas = self.figure.canvas
        self._cids = [canvas.mpl_connect("button_press_event", self._on_press),
                      canvas.mpl_connect("motion_notify_event", self._on_motion),
                      canvas.mpl_connect("button_release_event", self._on_release)]
        self._shown_others = self._other_indices()

    # -- drawing ---------------------------------------------------------------------------
    def _slider_callback(self, i: int) -> Callable[[float], None]:
        return lambda value: self._set_index(i, int(value))

    def _draw_main(self, cmap: Any) -> None:
        ax = self.ax
        indices = self.axes_manager.indices
        if self.mode == "image":
            x_axis, y_axis = self.nav_axes[:2]
            self.image = ax.imshow(self._current_image(), extent=image_extent(x_axis, y_axis), cmap=cmap,
                                   interpolation="nearest", aspect="auto" if x_axis.size > 8 * y_axis.size
                                   or y_axis.size > 8 * x_axis.size else "equal")
            ax.set_xlabel(axis_label(x_axis))
            ax.set_ylabel(axis_label(y_axis))
            self.cursor = Rectangle((0, 0), 1, 1, fill=False, edgecolor="red", linewidth=1.5)
            ax.add_patch(self.cursor)
        else:
            axis = self.nav_axes[0]
            (self.line,) = ax.plot(np.asarray(axis.axis), self._current_image())
            ax.set_xlabel(axis_label(axis))
            self.cursor = ax.axvline(float(axis.axis[indices[0]]), color="red")
        self.blit.add(self.cursor)
        self._place_cursor()

    def _other_indices(self) -> tuple[int, ...]:
        return tuple(self.axes_manager.indices[self.shown:])

    def _current_image(self) -> np.ndarray:
        data = self.data
        extra = data.ndim - self.shown
        if extra > 0:
            # A navigator with all navigation axes: show the plane the sliders select.
            data = data[tuple(reversed(self._other_indices()[:extra]))]
        return np.abs(data) if np.iscomplexobj(data) else data

    def _place_cursor(self) -> None:
        indices = self.axes_manager.indices
        if self.mode == "image":
            x_axis, y_axis = self.nav_axes[:2]
            left, right, bottom, top = image_extent(x_axis, y_axis)
            width, height = (right - left) / x_axis.size, (bottom - top) / y_axis.size
            self.cursor.set_xy((left + indices[0] * width, top + indices[1] * height))
            self.cursor.set_width(width)
            self.cursor.set_height(height)
        elif self.mode == "line":
            value = float(self.nav_axes[0].axis[indices[0]])
            self.cursor.set_xdata([value, value])

    @property
    def cursor_indices(self) -> tuple[int, ...]:
        """The position the cursor shows, read back from the artist (for checks)."""
        if self.mode == "image":
            x_axis, y_axis = self.nav_axes[:2]
            left, right, bottom, top = image_extent(x_axis, y_axis)
            x, y = self.cursor.get_xy()
            return (int(round((x - left) / ((right - left) / x_axis.size))),
                    int(round((y - top) / ((bottom - top) / y_axis.size))))
        if self.mode == "line":
            return (_index_of(self.nav_axes[0], float(self.cursor.get_xdata()[0])),)
        return ()

    def update(self) -> None:
        """Show the axes manager's position: move the cursor; new image only if a slider moved."""
        others = self._other_indices()
        full = False
        if others != self._shown_others:
            self._shown_others = others
            for slider, index in zip(self.sliders, others):
                if int(slider.val) != index:
                    slider.eventson = False
                    slider.set_val(index)
                    slider.eventson = True
            if self.shown and self.data is not None and self.data.ndim > self.shown:
                (self.image or self.line).set_data(*(
                    (self._current_image(),) if self.image is not None
                    else (np.asarray(self.nav_axes[0].axis), self._current_image())))
            full = True
        if self.cursor is not None:
            self._place_cursor()
        self.blit.update(full=full or self.mode == "slider")

    def set_data(self, data: np.ndarray) -> None:
        """New navigator values (same shape), e.g. after the data changed."""
        self.data = np.asarray(data)
        if self.image is not None:
            self.image.set_data(self._current_image())
            self.image.autoscale()
        elif self.line is not None:
            self.line.set_ydata(self._current_image())
            self.ax.relim()
            self.ax.autoscale_view()
        self.blit.update(full=True)

    # -- moving ----------------------------------------------------------------------------
    def _set_index(self, i: int, index: int) -> None:
        indices = list(self.axes_manager.indices)
        if indices[i] != index:
            indices[i] = index
            self.axes_manager.indices = tuple(indices)

    def _busy_toolbar(self) -> bool:
        toolbar = getattr(self.figure.canvas, "toolbar", None)
        return bool(getattr(toolbar, "mode", ""))

    def _move_to(self, event: Any) -> None:
        if event.xdata is None or (self.mode == "image" and event.ydata is None):
            return
        indices = list(self.axes_manager.indices)
        indices[0] = _index_of(self.nav_axes[0], event.xdata)
        if self.mode == "image":
            indices[1] = _index_of(self.nav_axes[1], event.ydata)
        if tuple(indices) != tuple(self.axes_manager.indices):
            self.axes_manager.indices = tuple(indices)

    def _on_press(self, event: Any) -> None:
        if (self.ax is not None and event.inaxes is self.ax and event.button == 1 and not self._busy_toolbar()
                and not any(claims(event) for claims in self.press_filters)):
            self._dragging = True
            self._move_to(event)

    def _on_motion(self, event: Any) -> None:
        if self._dragging and event.inaxes is self.ax:
            self._move_to(event)

    def _on_release(self, event: Any) -> None:
        self._dragging = False

    def close(self) -> None:
        """Disconnect and close the figure."""
        for cid in self._cids:
            self.figure.canvas.mpl_disconnect(cid)
        self.blit.disconnect()
        plt.close(self.figure)
