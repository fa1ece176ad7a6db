"""Calibrated ROI bounds to integer indices, with HyperSpy's rounding and clipping rules.

ROIs must select the same pixels as HyperSpy does, so the value-to-index rule here is
HyperSpy's, not :meth:`lazysignal.axes.DataAxis.value2index` (which rounds half to even):

* on a uniform axis the position ``(value - offset) / scale`` is truncated at 1e-12 and a
  half-way position rounds towards the lower index for values on the positive side of the
  axis' direction, away from it otherwise; the *index* must then lie on the axis;
* on a non-uniform axis the value must lie between the axis' lowest and highest values, and
  the nearest point wins (the first one on a tie);
* a range's start below the axis starts at index 0, its end beyond the axis ends past the
  last index; any other value off the axis is an error.

These functions see axes (:class:`~lazysignal.axes.DataAxis`), never a signal.

Examples
--------
>>> from lazysignal.axes import DataAxis
>>> ax = DataAxis(size=10, scale=0.5, offset=1.0)
>>> nearest_index(ax, 2.25), nearest_index(ax, 2.3)
(2, 3)
>>> range_slice(ax, -5.0, 2.0), range_slice(ax, 2.0, 50.0)
(slice(0, 2, None), slice(2, 10, None))
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ..errors import AxisError, AxisIndexError

__all__ = ["nearest_index", "range_slice", "require_uniform"]


def _off_axis(axis: Any, value: float) -> AxisIndexError:
    units = f" {axis.units}" if axis.units else ""
    return AxisIndexError(
        f"ROI value {value:g} lies outside axis {axis._label()} "
        f"({axis.low_value:g}..{axis.high_value:g}{units}); move the ROI onto the axis.")


def nearest_index(axis: Any, value: float) -> int:
    """The index HyperSpy picks for a calibrated ``value`` on ``axis``.

    Raises
    ------
    lazysignal.errors.AxisIndexError
        When the value is off the axis (for uniform axes: when its rounded index is).
    """
    value = float(value)
    if math.isnan(value):
        raise AxisIndexError(f"ROI value is NaN on axis {axis._label()}; give a number.")
    if not axis.is_uniform:
        values = axis.axis
        if not axis.low_value <= value <= axis.high_value:
            raise _off_axis(axis, value)
        return int(np.argmin(np.abs(values - value)))
    position = math.trunc((value - axis.offset) / axis.scale * 1e12) / 1e12
    positive_side = value >= 0 if axis.scale > 0 else value < 0
    magnitude = abs(position)
    # Half-way positions: towards zero on the positive side, away from zero otherwise.
    rounded = math.ceil(magnitude - 0.5) if positive_side else math.floor(magnitude + 0.5)
    index = int(math.copysign(rounded, position)) if rounded else 0
    if not 0 <= index < axis.size:
        raise _off_axis(axis, value)
    return index


def range_slice(axis: Any, low: float, high: float) -> slice:
    """The index slice HyperSpy takes for the calibrated range ``[low, high)`` on ``axis``."""
    try:
        start = nearest_index(axis, low)
    except AxisIndexError:
        if low < axis.low_value:
            start = 0
        else:
            raise
    try:
        stop = nearest_index(axis, high)
    except AxisIndexError:
        if high > axis.high_value:
            stop = axis.size
        else:
            raise
    return slice(start, stop)


def require_uniform(axes: Any, what: str) -> None:
    """Raise a clear error when any of ``axes`` is non-uniform (``what`` names the ROI)."""
    for axis in axes:
        if not axis.is_uniform:
            raise AxisError(
                f"{what} needs uniform axes (offset + scale * index); axis {axis._label()} is "
                "non-uniform. Use a RectangularROI/SpanROI, or interpolate onto a uniform axis.")
