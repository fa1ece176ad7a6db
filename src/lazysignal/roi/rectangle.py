"""RectangularROI: calibrated ranges on two axes."""

from __future__ import annotations

from typing import Any

from .base import BaseROI, Parameter
from .span import central_half

__all__ = ["RectangularROI"]


class RectangularROI(BaseROI):
    """A rectangle: ``[left, right)`` on the first axis, ``[top, bottom)`` on the second.

    ``tuple(roi)`` is ``(left, right, top, bottom)``, as in HyperSpy (the constructor's
    order is ``left, top, right, bottom``). ``x``, ``y`` move the rectangle keeping its size;
    ``width``, ``height`` resize it keeping its top-left corner.

    Parameters
    ----------
    left, top, right, bottom
        Calibrated bounds; ``left < right`` and ``top < bottom``.

    Examples
    --------
    >>> import numpy as np, lazysignal as ls
    >>> roi = ls.roi.RectangularROI(left=0, right=10, top=20, bottom=20.5)
    >>> left, right, top, bottom = roi
    >>> left, right, top, bottom
    (0.0, 10.0, 20.0, 20.5)
    >>> s = ls.signals.Signal1D(np.zeros((8, 6, 4))).as_lazy()
    >>> ls.roi.RectangularROI(left=1, top=2, right=4, bottom=7)(s)
    <LazySignal1D, title: , dimensions: (3, 5|4)>
    """

    left = Parameter()
    top = Parameter()
    right = Parameter()
    bottom = Parameter()
    _parameter_names = ("left", "top", "right", "bottom")
    _ndim = 2

    def __init__(self, left: float | None = None, top: float | None = None,
                 right: float | None = None, bottom: float | None = None):
        super().__init__(left=left, top=top, right=right, bottom=bottom)

    def _tuple(self) -> tuple[Any, ...]:
        return (self.left, self.right, self.top, self.bottom)

    def _problem(self, v: dict[str, Any]) -> str | None:
        if v["left"] >= v["right"]:
            return f"left ({v['left']:g}) must be smaller than right ({v['right']:g})."
        if v["top"] >= v["bottom"]:
            return f"top ({v['top']:g}) must be smaller than bottom ({v['bottom']:g})."
        return None

    @property
    def width(self) -> float:
        """``right - left``; setting it moves ``right``."""
        return self.right - self.left

    @width.setter
    def width(self, value: float) -> None:
        self.set(right=self.left + float(value))

    @property
    def height(self) -> float:
        """``bottom - top``; setting it moves ``bottom``."""
        return self.bottom - self.top

    @height.setter
    def height(self, value: float) -> None:
        self.set(bottom=self.top + float(value))

    @property
    def x(self) -> float:
        """``left``; setting it moves the rectangle horizontally (one event)."""
        return self.left

    @x.setter
    def x(self, value: float) -> None:
        shift = float(value) - self.left
        self.set(left=self.left + shift, right=self.right + shift)

    @property
    def y(self) -> float:
        """``top``; setting it moves the rectangle vertically (one event)."""
        return self.top

    @y.setter
    def y(self, value: float) -> None:
        shift = float(value) - self.top
        self.set(top=self.top + shift, bottom=self.bottom + shift)

    def _ranges(self) -> tuple[tuple[float, ...], ...]:
        return ((self.left, self.right), (self.top, self.bottom))

    def _select(self, signal: Any, axes: Any, **options: Any) -> Any:
        return self._slice_box(signal, axes)

    def _set_default_values(self, axes: Any) -> None:
        (left, right), (top, bottom) = central_half(axes[0]), central_half(axes[1])
        self.set(left=left, top=top, right=right, bottom=bottom)
