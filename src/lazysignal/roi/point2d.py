"""Point2DROI: one position on two axes; selecting removes both axes."""

from __future__ import annotations

from typing import Any

from .base import BaseROI, Parameter

__all__ = ["Point2DROI"]


class Point2DROI(BaseROI):
    """A single calibrated position ``(x, y)`` on two axes.

    Parameters
    ----------
    x, y
        The position (calibrated units) on the first and second axis.

    Examples
    --------
    >>> import numpy as np, lazysignal as ls
    >>> roi = ls.roi.Point2DROI(3, 5)
    >>> x, y = roi
    >>> x, y
    (3.0, 5.0)
    >>> s = ls.signals.Signal1D(np.arange(8 * 6 * 4.0).reshape(8, 6, 4))
    >>> roi(s).data
    array([132., 133., 134., 135.])
    """

    x = Parameter()
    y = Parameter()
    _parameter_names = ("x", "y")
    _ndim = 2

    def __init__(self, x: float | None = None, y: float | None = None):
        super().__init__(x=x, y=y)

    def _ranges(self) -> tuple[tuple[float, ...], ...]:
        return ((self.x,), (self.y,))

    def _select(self, signal: Any, axes: Any, **options: Any) -> Any:
        return self._slice_box(signal, axes)

    def _set_default_values(self, axes: Any) -> None:
        self.set(**{name: ax.low_value + 0.5 * (ax.high_value - ax.low_value)
                    for name, ax in zip(("x", "y"), axes)})
