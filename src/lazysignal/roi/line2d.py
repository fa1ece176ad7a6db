"""Line2DROI: a line of given width on two axes; selecting gives the profile along it."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..axes import DataAxis
from ..errors import AxisError, ROIError
from .base import BaseROI, Parameter
from .profile import line_profile
from .slicing import require_uniform
from .span import central_half

__all__ = ["Line2DROI"]


class Line2DROI(BaseROI):
    """A line from ``(x1, y1)`` to ``(x2, y2)``, ``linewidth`` wide (calibrated units).

    Selecting returns the profile along the line (both ends included, ``ceil(length + 1)``
    points in pixel units), each point averaged over ``round(linewidth / smallest scale)``
    parallel lines (at least one): HyperSpy's profile. The two axes are replaced by one
    profile axis of scale ``length / points``. On lazy data the result is lazy, with one
    task per chunk the line crosses (orders 0 and 1; see :mod:`lazysignal.roi.profile`).

    Parameters
    ----------
    x1, y1, x2, y2
        End points (calibrated).
    linewidth
        Width of the averaged band (calibrated; 0: one line).

    Examples
    --------
    >>> import numpy as np, lazysignal as ls
    >>> s = ls.signals.Signal2D(np.arange(25.0).reshape(5, 5))
    >>> roi = ls.roi.Line2DROI(0, 0, 4, 4)
    >>> roi(s).data
    array([ 0.,  6.,  6., 12., 18., 18., 24.])
    >>> round(roi.length, 4), round(roi.angle(), 1)
    (5.6569, 45.0)
    """

    x1 = Parameter()
    y1 = Parameter()
    x2 = Parameter()
    y2 = Parameter()
    linewidth = Parameter()
    _parameter_names = ("x1", "y1", "x2", "y2", "linewidth")
    _defaults = {"linewidth": 0.0}
    _ndim = 2

    def __init__(self, x1: float | None = None, y1: float | None = None, x2: float | None = None,
                 y2: float | None = None, linewidth: float = 0.0):
        super().__init__(x1=x1, y1=y1, x2=x2, y2=y2, linewidth=linewidth)

    def _problem(self, v: dict[str, Any]) -> str | None:
        if v["linewidth"] < 0:
            return f"linewidth ({v['linewidth']:g}) must not be negative."
        return None

    @property
    def length(self) -> float:
        """Length of the line (calibrated)."""
        return float(math.hypot(self.x2 - self.x1, self.y2 - self.y1))

    def angle(self, axis: str = "horizontal", units: str = "degrees") -> float:
        """Angle of the line from the ``"horizontal"`` (x) or ``"vertical"`` (y) axis.

        Examples
        --------
        >>> import lazysignal as ls
        >>> round(ls.roi.Line2DROI(0.0, 0.0, 1.0, 2.0).angle(), 4)
        63.4349
        """
        dx, dy = self.x2 - self.x1, self.y2 - self.y1
        if units not in ("degrees", "radians"):
            raise ROIError(f"units={units!r}: use 'degrees' or 'radians'.")
        if axis in ("horizontal", "x"):
            angle = math.atan2(dy, dx)
        elif axis in ("vertical", "y"):
            angle = math.atan2(dx, dy)
        else:
            raise ROIError(f"axis={axis!r}: use 'horizontal' ('x') or 'vertical' ('y').")
        return math.degrees(angle) if units == "degrees" else angle

    def __call__(  # type: ignore[override]
            self, signal: Any, out: Any = None, axes: Any = None, order: int = 0) -> Any:
        """The profile of ``signal`` along the line (see :meth:`BaseROI.__call__`).

        ``order``: spline interpolation order (0, nearest pixel, is the default and the
        fastest; 0-5 accepted).
        """
        return super().__call__(signal, out=out, axes=axes, order=order)

    def _select(self, signal: Any, axes: Any, order: int = 0, **options: Any) -> Any:
        if order not in range(6):
            raise ROIError(f"order={order!r}: the spline order must be an integer 0-5.")
        require_uniform(axes, "Line2DROI")
        ax, ay = axes
        if ax.navigate != ay.navigate:
            raise AxisError("Line2DROI needs two navigation axes or two signal axes; got "
                            f"{ax._label()} and {ay._label()}. Give axes=... of one kind.")
        am = signal.axes_manager
        cols_axis, rows_axis = am.numpy_index(ax), am.numpy_index(ay)
        src = ((self.x1 - ax.offset) / ax.scale, (self.y1 - ay.offset) / ay.scale)
        dst = ((self.x2 - ax.offset) / ax.scale, (self.y2 - ay.offset) / ay.scale)
        width = max(1, int(round(self.linewidth / min(ax.scale, ay.scale))))
        data = line_profile(signal.data, src, dst, rows_axis, cols_axis, width=width, order=order)
        out_axis = min(rows_axis, cols_axis)
        n = data.shape[out_axis]
        length = float(np.linalg.norm([self.x2 - self.x1, self.y2 - self.y1]))
        profile_axis = DataAxis(size=n, scale=length / n, units=ax.units, navigate=ax.navigate)
        axes_left = [a.copy() for i, a in enumerate(am._axes) if i not in (rows_axis, cols_axis)]
        axes_left.insert(out_axis, profile_axis)
        return signal._new_like(data, axes_left)

    def _set_default_values(self, axes: Any) -> None:
        (x1, x2), (y1, y2) = central_half(axes[0]), central_half(axes[1])
        self.set(x1=x1, y1=y1, x2=x2, y2=y2)
