"""Virtual images: each frame's sum under a detector mask (bright field, annular dark field...).

The array layer of ``s.virtual_image``: frames are the last two axes. A boolean mask is
summed over its bounding box only (a disk of radius 32 is 4 % of a 256 x 256 frame), in a
few numpy calls per block; other masks weight every pixel (a tensor contraction). Integers
accumulate exactly in 64 bits, as numpy's sum does (32-bit partial sums where they cannot
overflow).
"""

from __future__ import annotations

from typing import Any, Callable

import dask.array as da
import numpy as np

from ..array_ops import is_lazy
from ..errors import ShapeMismatchError

__all__ = ["virtual_image"]


def _accumulator(dtype: np.dtype) -> np.dtype:
    return np.sum(np.zeros(1, dtype)).dtype


def _partial_dtype(dtype: np.dtype, n_pixels: int, acc_dtype: np.dtype) -> np.dtype:
    """32-bit partial sums for small integers when a frame's masked sum cannot overflow them
    (the cast to 32 bits is cheaper than to 64); else the final accumulator."""
    if dtype.kind in "ui" and dtype.itemsize <= 2:
        info = np.iinfo(dtype)
        if n_pixels * max(abs(int(info.min)), int(info.max)) < 2**31:
            return np.dtype(np.uint32 if dtype.kind == "u" else np.int32)
    return acc_dtype


def _masked_sum(block: np.ndarray, box: tuple[slice, slice], submask: np.ndarray,
                acc_dtype) -> np.ndarray:
    """Sum under a boolean mask, touching only its bounding box: a few numpy calls per block
    (a per-run loop would make one call per mask row, and the calls hold the GIL)."""
    n_pixels = int(submask.sum())
    partial = _partial_dtype(block.dtype, n_pixels, np.dtype(acc_dtype))
    window = block[(Ellipsis,) + box]
    if block.dtype.kind in "ui":
        masked = window * submask.astype(block.dtype)  # 0/1 weights: no overflow
    else:
        masked = np.where(submask, window, 0)
    return masked.sum(axis=(-2, -1), dtype=partial).astype(acc_dtype, copy=False)


def _weighted_sum(block: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.tensordot(block, weights, axes=([-2, -1], [0, 1]))


def virtual_image(data, mask: np.ndarray):
    """Sum of every frame (the last two axes) under ``mask``.

    Parameters
    ----------
    data
        numpy or dask array ``(*navigation, ky, kx)``.
    mask
        ``(ky, kx)`` boolean mask, or weights.

    Returns
    -------
    numpy or dask array of shape ``data.shape[:-2]``.

    Examples
    --------
    >>> frames = np.arange(2 * 4 * 4).reshape(2, 4, 4)
    >>> mask = np.zeros((4, 4), bool); mask[1:3, 1:3] = True
    >>> virtual_image(frames, mask).tolist() == (frames * mask).sum(axis=(1, 2)).tolist()
    True
    """
    mask = np.asarray(mask)
    if mask.shape != tuple(data.shape[-2:]):
        raise ShapeMismatchError(
            f"The mask has shape {mask.shape} but the frames are {tuple(data.shape[-2:])}; "
            "give one mask value per signal pixel (numpy order: rows, columns)."
        )
    # The kernel takes the frames then args: (box, submask, dtype) or (weights,).
    kernel: Callable[..., np.ndarray]
    args: tuple[Any, ...]
    if mask.dtype == bool:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        if rows.size == 0:
            rows = cols = np.array([0])
        box = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        submask = mask[box] if mask.any() else np.zeros((1, 1), bool)
        dtype = _accumulator(data.dtype)
        kernel, args = _masked_sum, (box, submask, dtype)
    else:
        dtype = np.result_type(data.dtype, mask.dtype)
        kernel, args = _weighted_sum, (mask.astype(dtype),)
    if not is_lazy(data):
        return kernel(data, *args)
    if len(data.chunks[-1]) > 1 or len(data.chunks[-2]) > 1:
        data = data.rechunk({-1: -1, -2: -1})  # a frame must be whole in its task
    return da.map_blocks(kernel, data, *args, drop_axis=(data.ndim - 2, data.ndim - 1), dtype=dtype)
