"""Point1DROI: one position on one axis; selecting removes that axis."""

from __future__ import annotations

from typing import Any

from .base import BaseROI, Parameter

__all__ = ["Point1DROI"]


class Point1DROI(BaseROI):
    """A single calibrated position on one axis.

    Parameters
    ----------
    value
        The position (calibrated units); the nearest index is selected, and the axis removed.

    Examples
    --------
    >>> import numpy as np, lazysignal as ls
    >>> roi = ls.roi.Point1DROI(0.5)
    >>> value, = roi
    >>> value
    0.5
    >>> s = ls.signals.Signal1D(np.arange(20.0).reshape(2, 10))
    >>> s.axes_manager.signal_axes[0].scale = 0.25
    >>> roi(s, axes=-1).data
    array([ 2., 12.])
    """

    value = Parameter()
    _parameter_names = ("value",)
    _ndim = 1

    def __init__(self, value: float | None = None):
        super().__init__(value=value)

    def _ranges(self) -> tuple[tuple[float, ...], ...]:
        return ((self.value,),)

    def _select(self, signal: Any, axes: Any, **options: Any) -> Any:
        return self._slice_box(signal, axes)

    def _set_default_values(self, axes: Any) -> None:
        ax = axes[0]
        self.set(value=ax.low_value + 0.5 * (ax.high_value - ax.low_value))
