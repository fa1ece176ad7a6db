"""Array code for shaped ROIs: circle and polygon masks, and NaN outside a mask (numpy or dask).

Never sees a signal. Masks are small 2-D boolean numpy arrays over the ROI's bounding box;
:func:`nan_outside` applies one to any array, block by block when it is a dask array (one
task per block, no rechunk, no extra read).

Integer data cannot hold NaN: they become the smallest float type that holds every value
exactly (``float32`` for 8- and 16-bit integers, ``float64`` for wider ones); float and
complex data keep their dtype. (HyperSpy turns every integer type into ``float64``.)

Examples
--------
>>> import numpy as np
>>> outside = circle_outside(np.arange(-2.0, 3.0), np.arange(-2.0, 3.0), 1.5, 0.0)
>>> (~outside).astype(int)
array([[0, 0, 0, 0, 0],
       [0, 1, 1, 1, 0],
       [0, 1, 1, 1, 0],
       [0, 1, 1, 1, 0],
       [0, 0, 0, 0, 0]])
>>> nan_outside(np.ones((2, 2), dtype=np.uint16), np.array([[True, False], [False, False]]), (0, 1))
array([[nan,  1.],
       [ 1.,  1.]], dtype=float32)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

import dask.array as da

from ..array_ops import is_lazy

__all__ = ["circle_outside", "polygon_raster", "nan_dtype", "nan_outside"]


def circle_outside(vx: np.ndarray, vy: np.ndarray, r: float, r_inner: float) -> np.ndarray:
    """True where the point ``(vx[j], vy[i])`` (relative to the centre) is outside the ring.

    Returned shape: ``(len(vy), len(vx))``. A point is inside when ``r_inner**2 <= d**2 <= r**2``.
    """
    d2 = vx[np.newaxis, :] ** 2 + vy[:, np.newaxis] ** 2
    return (d2 > r * r) | (d2 < r_inner * r_inner)


def polygon_raster(vertices: Sequence[tuple[float, float]], xy_min: tuple[float, float],
                   xy_max: tuple[float, float], x_scale: float, y_scale: float) -> np.ndarray:
    """Scan-line rasterisation of a closed polygon, True inside (HyperSpy's pixel rule).

    The grid has a point every ``x_scale`` / ``y_scale`` from ``round(min / scale)`` to
    ``round(max / scale)`` (inclusive) in units of the scale. On each row, the crossings of
    the polygon's edges are sorted and the pixels between pairs of crossings (nearest
    column, ends included) are inside; edges lying on a row and vertices on a row count too.
    """
    ix0, iy0 = round(xy_min[0] / x_scale), round(xy_min[1] / y_scale)
    ix1, iy1 = round(xy_max[0] / x_scale), round(xy_max[1] / y_scale)
    mask = np.zeros((iy1 - iy0 + 1, ix1 - ix0 + 1), dtype=bool)
    n = len(vertices)
    for row in range(mask.shape[0]):
        y = (iy0 + row) * y_scale
        crossings = []
        for k in range(n):
            (xa, ya), (xb, yb) = vertices[k], vertices[(k + 1) % n]
            if (ya > y) != (yb > y):
                crossings.append(xa + (xb - xa) * (y - ya) / (yb - ya))
            elif ya == y:
                if yb == y:  # an edge along the row: all of it is inside
                    lo, hi = sorted((xa, xb))
                    mask[row, round(lo / x_scale) - ix0:round(hi / x_scale) - ix0 + 1] = True
                else:  # a vertex on the row
                    mask[row, round(xa / x_scale) - ix0] = True
        crossings.sort()
        for a, b in zip(crossings[0::2], crossings[1::2]):
            mask[row, round(a / x_scale) - ix0:round(b / x_scale) - ix0 + 1] = True
    return mask


def nan_dtype(dtype: Any) -> np.dtype:
    """The dtype that can hold NaN for ``dtype``: floats and complex kept, integers exact."""
    dtype = np.dtype(dtype)
    if dtype.kind in "fc":
        return dtype
    return np.result_type(dtype, np.float32)


def _apply(block: np.ndarray, outside: np.ndarray, positions: tuple[int, ...], dtype: Any,
           block_info: Any = None) -> np.ndarray:
    if block_info is not None:
        (a0, b0), (a1, b1) = (block_info[0]["array-location"][p] for p in positions)
        outside = outside[a0:b0, a1:b1]
    shape = [1] * block.ndim
    shape[positions[0]], shape[positions[1]] = outside.shape
    return np.where(outside.reshape(shape), np.array(np.nan, dtype), block.astype(dtype, copy=False))


def nan_outside(data: Any, outside: np.ndarray, positions: tuple[int, int]) -> Any:
    """``data`` with NaN where ``outside`` is True; ``outside`` spans the axes ``positions``.

    ``positions`` are the numpy axes (ascending) that ``outside``'s two dimensions lie on;
    its shape must match ``data``'s along them. Lazy in, lazy out: one task per block.
    """
    if tuple(positions) != tuple(sorted(positions)):  # a caller's bug, not user input
        raise AssertionError(f"positions {positions} must be ascending")
    dtype = nan_dtype(data.dtype)
    if is_lazy(data):
        return da.map_blocks(_apply, data, outside, tuple(positions), dtype, dtype=dtype,
                               meta=np.empty((0,) * data.ndim, dtype))
    return _apply(np.asarray(data), outside, tuple(positions), dtype)
