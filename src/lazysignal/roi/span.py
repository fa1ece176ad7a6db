"""SpanROI: a calibrated range ``[left, right)`` on one axis."""

from __future__ import annotations

from typing import Any

from .base import BaseROI, Parameter

__all__ = ["SpanROI", "central_half"]


def central_half(axis: Any) -> tuple[float, float]:
    """The values a quarter and three quarters along ``axis`` (HyperSpy's default ROI extent)."""
    low, high = axis.low_value, axis.high_value
    return low + 0.25 * (high - low), low + 0.75 * (high - low)


class SpanROI(BaseROI):
    """A range on one axis, from ``left`` (included) to ``right`` (excluded, as in slicing).

    Parameters
    ----------
    left, right
        Calibrated bounds; ``left`` must be smaller than ``right``.

    Examples
    --------
    >>> import numpy as np, lazysignal as ls
    >>> roi = ls.roi.SpanROI(-3, 5)
    >>> left, right = roi
    >>> left, right
    (-3.0, 5.0)
    >>> s = ls.signals.Signal1D(np.arange(10.0))
    >>> ls.roi.SpanROI(2, 5)(s).data
    array([2., 3., 4.])
    """

    left = Parameter()
    right = Parameter()
    _parameter_names = ("left", "right")
    _ndim = 1

    def __init__(self, left: float | None = None, right: float | None = None):
        super().__init__(left=left, right=right)

    def _problem(self, v: dict[str, Any]) -> str | None:
        if v["left"] >= v["right"]:
            return f"left ({v['left']:g}) must be smaller than right ({v['right']:g})."
        return None

    def _ranges(self) -> tuple[tuple[float, ...], ...]:
        return ((self.left, self.right),)

    def _select(self, signal: Any, axes: Any, **options: Any) -> Any:
        return self._slice_box(signal, axes)

    def _set_default_values(self, axes: Any) -> None:
        left, right = central_half(axes[0])
        self.set(left=left, right=right)
