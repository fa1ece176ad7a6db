"""PolygonROI: a closed polygon on two axes; the bounding box with NaN outside."""

from __future__ import annotations

import math
from typing import Any

from ..errors import ROIError
from .base import BaseROI
from .masks import polygon_raster
from .shaped import masked_box
from .slicing import range_slice, require_uniform

__all__ = ["PolygonROI"]


def _vertices(value: Any) -> list[tuple[float, float]]:
    try:
        vertices = [(float(x), float(y)) for x, y in value]
    except (TypeError, ValueError):
        raise ROIError(f"vertices={value!r} is not a list of (x, y) pairs of numbers.") from None
    if len(vertices) < 3:
        raise ROIError(f"A polygon needs at least 3 vertices; got {len(vertices)}: {vertices}.")
    if not all(math.isfinite(c) for vertex in vertices for c in vertex):
        raise ROIError(f"vertices must be finite numbers; got {vertices}.")
    return vertices


class PolygonROI(BaseROI):
    """A closed polygon: an edge runs from each vertex to the next and from the last to the first.

    Selecting returns the polygon's bounding box with the points outside it set to NaN
    (integer data become float, see ``docs/roi.md``); ``inverted=True`` keeps the whole
    extent of the axes and sets the *inside* to NaN. The pixels are HyperSpy's (a scan-line
    rule on the axes' grid); where a polygon crosses itself, overlaps may count as outside.

    Parameters
    ----------
    vertices
        ``[(x, y), ...]``, at least three, calibrated.

    Examples
    --------
    >>> import numpy as np, lazysignal as ls
    >>> s = ls.signals.Signal2D(np.ones((8, 8)))
    >>> roi = ls.roi.PolygonROI([(1, 1), (5, 1), (1, 5)])
    >>> part = roi(s)
    >>> part.data.shape, int(np.nansum(part.data))
    ((5, 5), 15)
    """

    _parameter_names = ("vertices",)
    _ndim = 2

    def __init__(self, vertices: Any = None):
        super().__init__(vertices=vertices)

    def _normalise(self, name: str, value: Any) -> Any:
        return None if value is None else _vertices(value)

    @property
    def vertices(self) -> list[tuple[float, float]] | None:
        """The ``(x, y)`` vertices (a copy); setting replaces them (one event)."""
        v = self._values["vertices"]
        return None if v is None else list(v)

    @vertices.setter
    def vertices(self, value: Any) -> None:
        self.set(vertices=value)

    def _tuple(self) -> tuple[Any, ...]:
        return tuple(self._values["vertices"] or ())

    def __repr__(self) -> str:
        v = self._values["vertices"]
        inner = "None" if v is None else "[" + ", ".join(f"({x:G}, {y:G})" for x, y in v) + "]"
        return f"PolygonROI(vertices={inner})"

    def __call__(  # type: ignore[override]
            self, signal: Any, out: Any = None, axes: Any = None, inverted: bool = False) -> Any:
        """The polygon's part of ``signal`` (see :meth:`BaseROI.__call__`); ``inverted``: NaN inside."""
        return super().__call__(signal, out=out, axes=axes, inverted=inverted)

    def _select(self, signal: Any, axes: Any, inverted: bool = False, **options: Any) -> Any:
        require_uniform(axes, "PolygonROI")
        ax, ay = axes
        vertices = self._values["vertices"]
        xs = [x for x, _ in vertices]
        ys = [y for _, y in vertices]
        if inverted:
            left, right = ax.low_value, ax.high_value + ax.scale
            top, bottom = ay.low_value, ay.high_value + ay.scale
        else:
            # HyperSpy pads the right edge by the second axis' scale and the bottom by the
            # first's (the same when the pixels are square).
            left, right = min(xs), max(xs) + ay.scale
            top, bottom = min(ys), max(ys) + ax.scale
        sx, sy = range_slice(ax, left, right), range_slice(ay, top, bottom)
        inside = polygon_raster(vertices, (ax.low_value, ay.low_value), (right, bottom),
                                ax.scale, ay.scale)[sy, sx]
        return masked_box(self, signal, axes, [sx, sy], inside if inverted else ~inside)
