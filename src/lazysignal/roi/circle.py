"""CircleROI: a disk or ring on two axes; the bounding box with NaN outside."""

from __future__ import annotations

from typing import Any

from .base import BaseROI, Parameter
from .masks import circle_outside
from .shaped import masked_box
from .slicing import range_slice, require_uniform

__all__ = ["CircleROI"]


class CircleROI(BaseROI):
    """A disk of radius ``r`` around ``(cx, cy)``, or a ring when ``r_inner > 0``.

    Selecting returns the bounding box of the circle with the points outside it set to
    NaN, so ``nansum``/``nanmean`` give the region's totals. Integer data become float
    (``float32`` for 8/16-bit integers, ``float64`` for wider; see ``docs/roi.md``).
    The pixels selected are HyperSpy's: a pixel is in when its value lies within ``r``
    of the centre shifted by half a pixel, ``(cx + 0.5 * scale, cy + 0.5 * scale)``.

    Parameters
    ----------
    cx, cy
        Centre (calibrated).
    r
        Outer radius.
    r_inner
        Inner radius (0: a full disk); must be smaller than ``r``.

    Examples
    --------
    >>> import numpy as np, lazysignal as ls
    >>> s = ls.signals.Signal2D(np.ones((9, 9)))
    >>> part = ls.roi.CircleROI(cx=4, cy=4, r=2)(s)
    >>> part.data.shape, float(np.nansum(part.data))
    ((4, 4), 12.0)
    """

    cx = Parameter()
    cy = Parameter()
    r = Parameter()
    r_inner = Parameter()
    _parameter_names = ("cx", "cy", "r", "r_inner")
    _defaults = {"r_inner": 0.0}
    _ndim = 2

    def __init__(self, cx: float | None = None, cy: float | None = None, r: float | None = None,
                 r_inner: float = 0.0):
        super().__init__(cx=cx, cy=cy, r=r, r_inner=r_inner)

    def _problem(self, v: dict[str, Any]) -> str | None:
        if v["r"] < 0 or v["r_inner"] < 0:
            return f"radii must not be negative (r={v['r']:g}, r_inner={v['r_inner']:g})."
        if v["r_inner"] > v["r"] or (v["r_inner"] == v["r"] and v["r"] > 0):
            return f"r_inner ({v['r_inner']:g}) must be smaller than r ({v['r']:g})."
        return None

    def _select(self, signal: Any, axes: Any, **options: Any) -> Any:
        require_uniform(axes, "CircleROI")
        ax, ay = axes
        # HyperSpy's centre sits half a pixel (plus a hair, to break ties) past (cx, cy).
        cx = self.cx + 0.5001 * ax.scale
        cy = self.cy + 0.5001 * ay.scale
        sx = range_slice(ax, cx - self.r, cx + self.r)
        sy = range_slice(ay, cy - self.r, cy + self.r)
        outside = circle_outside(ax.axis[sx] - cx, ay.axis[sy] - cy, self.r, self.r_inner)
        return masked_box(self, signal, axes, [sx, sy], outside)

    def _set_default_values(self, axes: Any) -> None:
        ax, ay = axes
        r = min(ax.high_value - ax.low_value, ay.high_value - ay.low_value) / 2
        self.set(cx=ax.low_value + 0.5 * (ax.high_value - ax.low_value),
                 cy=ay.low_value + 0.5 * (ay.high_value - ay.low_value), r=r)
