"""Line profiles through N-D arrays (numpy or dask), averaged across a line width. No signals here.

The profile samples ``n = ceil(length + 1)`` points from ``src`` to ``dst`` (both included,
in pixel units, ``(x, y)`` = (column, row) of the plane), each averaged over ``width``
parallel lines one pixel apart, as ``skimage.measure.profile_line`` and HyperSpy do. Points
are interpolated with spline ``order`` in ``mode="constant"`` (0 outside the plane,
``scipy.ndimage.map_coordinates``' rule).

For ``order`` 0 (nearest pixel) and 1 (bilinear, float data) the profile is a weighted sum
of a few pixels per point. A lazy array is then read only where the line passes: one task
per block it crosses (for each block of the other axes) computes that block's share as a
weighted sum per point, and the shares are added. Higher orders need the spline filter of
the whole plane, so the two line axes are made whole and each plane goes through scipy.

Examples
--------
>>> import numpy as np
>>> img = np.arange(25.0).reshape(5, 5)
>>> line_profile(img, (0, 0), (4, 4), rows_axis=0, cols_axis=1)
array([ 0.,  6.,  6., 12., 18., 18., 24.])
>>> import dask.array as da
>>> line_profile(da.from_array(img, chunks=2), (0, 0), (4, 4), 0, 1).compute()
array([ 0.,  6.,  6., 12., 18., 18., 24.])
"""

from __future__ import annotations

import functools
import operator
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..array_ops import is_lazy

__all__ = ["sample_coordinates", "line_profile", "profile_dtype"]


def sample_coordinates(src: Sequence[float], dst: Sequence[float], width: int) -> np.ndarray:
    """Row and column of every sample: shape ``(2, n, width)``, ``[0]`` rows (y), ``[1]`` columns (x).

    ``src`` and ``dst`` are ``(x, y)`` in pixels; ``width`` >= 1 parallel lines, centred.
    """
    (x0, y0), (x1, y1) = (float(src[0]), float(src[1])), (float(dst[0]), float(dst[1]))
    dx, dy = x1 - x0, y1 - y0
    n = int(np.ceil(np.hypot(dx, dy) + 1))
    coords = np.empty((2, n, width))
    coords[0] = np.linspace(y0, y1, n)[:, np.newaxis]
    coords[1] = np.linspace(x0, x1, n)[:, np.newaxis]
    if width != 1:
        # The lines are spread across (width - 1) pixel distances, perpendicular to the line.
        angle = np.arctan2(dx, dy)
        half_rows = (width - 1) * np.sin(-angle) / 2
        half_cols = (width - 1) * np.cos(angle) / 2
        coords[0] += np.linspace(-half_rows, half_rows, width)[np.newaxis, :]
        coords[1] += np.linspace(-half_cols, half_cols, width)[np.newaxis, :]
    return coords


def profile_dtype(dtype: Any) -> np.dtype:
    """The result dtype: floats and complex kept, integers and bools averaged into float64."""
    dtype = np.dtype(dtype)
    return dtype if dtype.kind in "fc" else np.dtype(np.float64)


def _weights(coords: np.ndarray, shape: tuple[int, int],
             order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(sample index, row, col, weight) of every pixel term; weights include the 1/width mean."""
    n, width = coords.shape[1:]
    rows, cols = coords[0].ravel(), coords[1].ravel()
    sample = np.repeat(np.arange(n), width)
    inside = (rows >= 0) & (rows <= shape[0] - 1) & (cols >= 0) & (cols <= shape[1] - 1)
    rows, cols, sample = rows[inside], cols[inside], sample[inside]
    if order == 0:
        r, c = np.floor(rows + 0.5).astype(np.intp), np.floor(cols + 0.5).astype(np.intp)
        return sample, r, c, np.full(r.shape, 1.0 / width)
    r0 = np.minimum(np.floor(rows), max(shape[0] - 2, 0)).astype(np.intp)
    c0 = np.minimum(np.floor(cols), max(shape[1] - 2, 0)).astype(np.intp)
    tr, tc = rows - r0, cols - c0
    parts = [(r0, c0, (1 - tr) * (1 - tc)), (r0 + 1, c0, tr * (1 - tc)),
             (r0, c0 + 1, (1 - tr) * tc), (r0 + 1, c0 + 1, tr * tc)]
    s = np.concatenate([sample] * 4)
    r = np.concatenate([p[0] for p in parts])
    c = np.concatenate([p[1] for p in parts])
    w = np.concatenate([p[2] for p in parts])
    keep = (w != 0) & (r < shape[0]) & (c < shape[1])
    by_sample = np.argsort(s[keep], kind="stable")  # _share adds each sample's terms as one run
    return s[keep][by_sample], r[keep][by_sample], c[keep][by_sample], w[keep][by_sample] / width


def _share(block: np.ndarray, rows_axis: int, cols_axis: int, out_axis: int, sample: np.ndarray,
           r: np.ndarray, c: np.ndarray, w: np.ndarray, n: int, work_dtype: Any) -> np.ndarray:
    """This block's contribution to the profile: the weighted sum of its pixels per sample.

    ``sample`` must be sorted (terms of one sample adjacent), as :func:`_weights` returns them.
    """
    plane_first = np.moveaxis(block, (rows_axis, cols_axis), (0, 1))
    rest = plane_first.shape[2:]
    if not len(r):  # no sample falls on this plane: the constant 0 everywhere
        return np.moveaxis(np.zeros((n,) + rest, work_dtype), 0, out_axis)
    weighted = plane_first[r, c].reshape(len(r), -1).astype(work_dtype) * w[:, np.newaxis]
    # Entries come sorted by sample: add each sample's run of terms in one reduceat.
    starts = np.flatnonzero(np.r_[True, sample[1:] != sample[:-1]])
    share = np.zeros((n, weighted.shape[1]), work_dtype)
    share[sample[starts]] = np.add.reduceat(weighted, starts, axis=0)
    return np.moveaxis(share.reshape((n,) + rest), 0, out_axis)


def _scipy_profile(block: np.ndarray, coords: np.ndarray, rows_axis: int, cols_axis: int,
                   out_axis: int, order: int, out_dtype: Any) -> np.ndarray:
    """Any spline order: scipy on every plane (the plane's axes must be whole in ``block``)."""
    import scipy.ndimage as ndi  # here, not at module level: keeps `import lazysignal` fast

    plane_first = np.moveaxis(block, (rows_axis, cols_axis), (0, 1))
    rest = plane_first.shape[2:]
    flat = plane_first.reshape(plane_first.shape[:2] + (-1,))
    n, count = int(coords.shape[1]), int(np.prod(rest, dtype=int))
    result = np.empty((n, count), out_dtype)
    for i in range(count):
        pixels = ndi.map_coordinates(flat[:, :, i], coords, order=order, mode="constant", cval=0.0)
        result[:, i] = pixels.mean(axis=1)
    return np.moveaxis(result.reshape((n,) + rest), 0, out_axis)


def line_profile(data: Any, src: Sequence[float], dst: Sequence[float], rows_axis: int,
                 cols_axis: int, width: int = 1, order: int = 0) -> Any:
    """The profile of ``data`` along the line ``src`` -> ``dst`` in the plane (rows_axis, cols_axis).

    Parameters
    ----------
    data
        numpy or dask array, any number of dimensions.
    src, dst
        ``(x, y)`` pixel positions: x along ``cols_axis``, y along ``rows_axis``.
    rows_axis, cols_axis
        The two numpy axes of the plane (different).
    width
        Number of parallel lines averaged (>= 1).
    order
        Spline interpolation order, 0-5.

    Returns
    -------
    numpy or dask array
        ``data`` with the two plane axes replaced by one profile axis, placed at
        ``min(rows_axis, cols_axis)``. Lazy in, lazy out.
    """
    rows_axis, cols_axis = rows_axis % data.ndim, cols_axis % data.ndim
    out_axis = min(rows_axis, cols_axis)
    coords = sample_coordinates(src, dst, width)
    n = coords.shape[1]
    out_dtype = profile_dtype(data.dtype)
    plane = (data.shape[rows_axis], data.shape[cols_axis])
    rest_shape = tuple(s for i, s in enumerate(data.shape) if i not in (rows_axis, cols_axis))
    out_shape = rest_shape[:out_axis] + (n,) + rest_shape[out_axis:]
    gather = order == 0 or (order == 1 and np.dtype(data.dtype).kind in "fc")
    if not gather:
        if is_lazy(data):
            whole = data.rechunk({rows_axis: -1, cols_axis: -1})
            return whole.map_blocks(_scipy_profile, coords, rows_axis, cols_axis, out_axis, order,
                                    out_dtype, drop_axis=[rows_axis, cols_axis], new_axis=out_axis,
                                    chunks=_out_chunks(whole.chunks, rows_axis, cols_axis, out_axis, n),
                                    dtype=out_dtype, meta=np.empty((0,) * len(out_shape), out_dtype))
        return _scipy_profile(np.asarray(data), coords, rows_axis, cols_axis, out_axis, order, out_dtype)
    work_dtype = np.complex128 if out_dtype.kind == "c" else np.float64
    sample, r, c, w = _weights(coords, plane, order)
    if not is_lazy(data):
        share = _share(np.asarray(data), rows_axis, cols_axis, out_axis, sample, r, c, w, n, work_dtype)
        return share.astype(out_dtype, copy=False)
    return _lazy_gather(data, rows_axis, cols_axis, out_axis, sample, r, c, w, n, work_dtype,
                        out_dtype, out_shape)


def _out_chunks(chunks: Any, rows_axis: int, cols_axis: int, out_axis: int, n: int) -> tuple[Any, ...]:
    rest = [c for i, c in enumerate(chunks) if i not in (rows_axis, cols_axis)]
    return tuple(rest[:out_axis] + [(n,)] + rest[out_axis:])


def _lazy_gather(data: Any, rows_axis: int, cols_axis: int, out_axis: int, sample: np.ndarray,
                 r: np.ndarray, c: np.ndarray, w: np.ndarray, n: int, work_dtype: Any,
                 out_dtype: Any, out_shape: tuple[int, ...]) -> Any:
    import dask.array as da

    row_edges = np.cumsum((0,) + data.chunks[rows_axis])
    col_edges = np.cumsum((0,) + data.chunks[cols_axis])
    block_r = np.searchsorted(row_edges, r, side="right") - 1
    block_c = np.searchsorted(col_edges, c, side="right") - 1
    shares = []
    # One share per block of the plane the line crosses (each over all blocks of the rest).
    for br, bc in sorted(set(zip(block_r.tolist(), block_c.tolist()))):
        pick = (block_r == br) & (block_c == bc)
        index = [slice(None)] * data.ndim
        index[rows_axis], index[cols_axis] = slice(br, br + 1), slice(bc, bc + 1)
        blocks = data.blocks[tuple(index)]
        shares.append(blocks.map_blocks(
            _share, rows_axis, cols_axis, out_axis, sample[pick], r[pick] - row_edges[br],
            c[pick] - col_edges[bc], w[pick], n, work_dtype,
            drop_axis=[rows_axis, cols_axis], new_axis=out_axis,
            chunks=_out_chunks(blocks.chunks, rows_axis, cols_axis, out_axis, n),
            dtype=work_dtype, meta=np.empty((0,) * len(out_shape), work_dtype)))
    if not shares:  # the line misses the plane: every sample is the constant 0
        chunks = _out_chunks(data.chunks, rows_axis, cols_axis, out_axis, n)
        return da.zeros(out_shape, dtype=out_dtype, chunks=chunks)
    return _tree_sum(shares).astype(out_dtype)


def _tree_sum(arrays: list[Any]) -> Any:
    """Add arrays pairwise (a balanced tree, so no task waits on a long chain)."""
    while len(arrays) > 1:
        pairs = [functools.reduce(operator.add, arrays[i:i + 2]) for i in range(0, len(arrays), 2)]
        arrays = pairs
    return arrays[0]
