"""The signal figure: the spectrum (a line) or the frame (an image) at the navigation position.

On a move only the line's or the image's data change and are blitted. The vertical range
(the colour range of an image) follows the data with hysteresis, because a new range means
new tick labels (or a new colorbar), which are redrawn on their own (the y axis or colorbar
is a static blit layer, 10-20 ms on Agg) rather than with the whole figure (30-50 ms), while a
plain move is a blit (3-5 ms): a line's range is refitted when the data leave it or fill less than 40 % of it,
and then gets 30 % headroom above the data (noisy spectra rarely leave it); an image's
colour range is refitted when the frame goes beyond it by more than 5 % of it or spans less
than 40 % of it, and then gets 25 % headroom above the frame's maximum (a new colour range
costs 20-30 ms on Agg, the colorbar's ticks and labels, against 3 ms for a plain move, so
it should be rare: walking a row of the 4D-STEM benchmark file, whose frame maxima swing
between 440 and 790, needs none, where 60 % / 15 % refitted four times in 128 moves).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from ._blit import BlitManager

__all__ = ["SignalView", "axis_label", "image_extent"]


def axis_label(axis: Any) -> str:
    """``"name (units)"`` of an axis, or what of it is defined.

    Examples
    --------
    >>> from lazysignal.axes import DataAxis
    >>> axis_label(DataAxis(size=3, name="Energy", units="keV"))
    'Energy (keV)'
    """
    name = axis.name or ""
    return f"{name} ({axis.units})".strip() if axis.units else name


def image_extent(x_axis: Any, y_axis: Any) -> tuple[float, float, float, float]:
    """``imshow`` extent (left, right, bottom, top) putting pixel centres on the axis values.

    Examples
    --------
    >>> from lazysignal.axes import DataAxis
    >>> image_extent(DataAxis(size=3, scale=2.0), DataAxis(size=2))
    (-1.0, 5.0, 1.5, -0.5)
    """
    def edges(axis: Any) -> tuple[float, float]:
        values = np.asarray(axis.axis, dtype=float)
        step = float(values[1] - values[0]) if values.size > 1 else 1.0
        return float(values[0] - step / 2), float(values[-1] + step / 2)

    left, right = edges(x_axis)
    top, bottom = edges(y_axis)
    return left, right, bottom, top


def _finite_range(data: np.ndarray) -> tuple[float, float]:
    data = np.asarray(data)
    if np.iscomplexobj(data):
        data = np.abs(data)
    finite = data[np.isfinite(data)] if data.dtype.kind == "f" else data.ravel()
    if finite.size == 0:
        return 0.0, 1.0
    low, high = float(finite.min()), float(finite.max())
    if low == high:
        low, high = low - 0.5, high + 0.5
    return low, high


def _refit(current: tuple[float, float], data_range: tuple[float, float], *, slack: float,
           min_fill: float) -> bool:
    """Whether limits must change: the data go beyond them by more than ``slack`` of their
    span, or span less than ``min_fill`` of it."""
    low, high = current
    d_low, d_high = data_range
    span = high - low
    return d_low < low - slack * span or d_high > high + slack * span or (d_high - d_low) < min_fill * span


class SignalView:
    """A figure showing one signal (1 or 2 signal axes) and updating it in place.

    Parameters
    ----------
    signal_axes
        The signal axes in the user's order (x first): one for a line, two for an image.
    data
        The first signal to show (numpy, numpy axis order).
    title, quantity
        Figure title and the value's label (y axis of a line, colorbar of an image).
    autoscale
        Whether the value range follows the data on moves (with hysteresis).
    figure, ax
        Draw into these instead of a new figure.
    cmap, colorbar, vmin, vmax
        Image display options (ignored for lines).

    Examples
    --------
    >>> import numpy as np
    >>> from lazysignal.axes import DataAxis
    >>> view = SignalView([DataAxis(size=4, name="E", units="keV", navigate=False)], np.arange(4.0))
    >>> view.update(np.ones(4)); view.artist.get_ydata().tolist()
    [1.0, 1.0, 1.0, 1.0]
    >>> view.close()
    """

    def __init__(self, signal_axes: Sequence, data: np.ndarray, *, title: str = "", quantity: str = "",
                 autoscale: bool = True, figure: Any = None, ax: Any = None, cmap: Any = None,
                 colorbar: bool = True,
                 vmin: float | None = None, vmax: float | None = None, line_style: dict | None = None):
        if len(signal_axes) not in (1, 2):
            raise ValueError(f"SignalView shows 1 or 2 signal axes; got {len(signal_axes)}.")
        self.axes = list(signal_axes)
        self.autoscale = bool(autoscale)
        self._fixed = (vmin, vmax)
        if ax is None:
            figure = figure if figure is not None else plt.figure()
            ax = figure.add_subplot(111)
        self.ax = ax
        self.figure = ax.figure
        self.blit = BlitManager(self.figure)
        data = self._displayable(data)
        if len(self.axes) == 1:
            axis = self.axes[0]
            (self.artist,) = ax.plot(np.asarray(axis.axis), data, **(line_style or {}))
            ax.set_xlim(float(axis.axis[0]), float(axis.axis[-1])) if axis.size > 1 else None
            ax.set_xlabel(axis_label(axis))
            ax.set_ylabel(quantity)
            self._set_value_range(_finite_range(data))
        else:
            x_axis, y_axis = self.axes
            # Nearest pixels look the same resampled before or after colour mapping; resampling
            # the data (not RGBA, which matplotlib's "auto" picks below 3x upsampling) halves
            # the cost of drawing a 256 x 256 frame on a move (6 ms instead of 10-12 ms on Agg).
            self.artist = ax.imshow(data, extent=image_extent(x_axis, y_axis), cmap=cmap,
                                    interpolation="nearest", interpolation_stage="data", aspect="equal")
            ax.set_xlabel(axis_label(x_axis))
            ax.set_ylabel(axis_label(y_axis))
            self._set_value_range(_finite_range(data))
            self.colorbar = self.figure.colorbar(self.artist, ax=ax, label=quantity) if colorbar else None
        ax.set_title(title)
        self.blit.add(self.artist)
        # What a new value range changes (tick labels, the colorbar) is redrawn by itself.
        range_artist = ax.yaxis if len(self.axes) == 1 else getattr(self.colorbar, "ax", None)
        if range_artist is not None:
            self.blit.add(range_artist, static=True)

    @staticmethod
    def _displayable(data: np.ndarray) -> np.ndarray:
        data = np.asarray(data)
        return np.abs(data) if np.iscomplexobj(data) else data

    def _value_range(self) -> tuple[float, float]:
        return tuple(self.ax.get_ylim()) if len(self.axes) == 1 else tuple(self.artist.get_clim())

    def _set_value_range(self, data_range: tuple[float, float]) -> None:
        low, high = data_range
        fixed_low, fixed_high = self._fixed
        span = high - low
        if len(self.axes) == 1:
            low, high = low - 0.05 * span, high + 0.3 * span
        elif self.autoscale:
            high = high + 0.25 * span  # headroom: the brightest pixel of the next frame rarely leaves it
        low = fixed_low if fixed_low is not None else low
        high = fixed_high if fixed_high is not None else high
        if len(self.axes) == 1:
            self.ax.set_ylim(low, high)
        else:
            self.artist.set_clim(low, high)

    @property
    def data(self) -> np.ndarray:
        """The data shown now."""
        return np.asarray(self.artist.get_ydata() if len(self.axes) == 1 else self.artist.get_array())

    def update(self, data: np.ndarray) -> None:
        """Show ``data``: blit the changed artist, redraw fully only when the value range moves."""
        data = self._displayable(data)
        if len(self.axes) == 1:
            self.artist.set_ydata(data)
        else:
            self.artist.set_data(data)
        refit = False
        if self.autoscale and self._fixed == (None, None):
            data_range = _finite_range(data)
            line = len(self.axes) == 1
            if _refit(self._value_range(), data_range, slack=0.0 if line else 0.05,
                      min_fill=0.4):
                self._set_value_range(data_range)
                refit = True
        # A new range: redraw the y axis or colorbar (static layer), not the whole figure.
        self.blit.update(static=refit, full=refit and not self.blit.static_artists)

    def add_line_markers(self, positions: Sequence[float], labels: Sequence[str]) -> list:
        """Vertical lines with labels at calibrated ``positions`` of a spectrum (they stay put on moves).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.axes import DataAxis
        >>> view = SignalView([DataAxis(size=10, scale=1.0, navigate=False)], np.arange(10.0))
        >>> [line.get_xdata()[0] for line in view.add_line_markers([2.5], ["Fe_Ka"])]
        [2.5]
        >>> view.close()
        """
        if len(self.axes) != 1:
            raise ValueError("Line markers go on spectra (one signal axis).")
        transform = self.ax.get_xaxis_transform()  # x in data, y in axes fraction: labels stay at the top
        lines = []
        for x, text in zip(positions, labels):
            lines.append(self.ax.axvline(x, color="gray", linestyle="--", linewidth=1))
            self.ax.text(x, 0.98, text, transform=transform, rotation=90, ha="right", va="top", fontsize=8)
        self.blit.update(full=True)
        self.markers = getattr(self, "markers", []) + lines
        return lines

    def close(self) -> None:
        """Close the figure."""
        self.blit.disconnect()
        plt.close(self.figure)
