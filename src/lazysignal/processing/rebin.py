"""Rebinning by integer factors: sum of ``factor`` neighbouring samples per axis.

Lazily, each chunk is reshaped and summed on its own (one task per input chunk, no
communication) after, if needed, a rechunk that makes every chunk a multiple of the
factor. Chunks that already are multiples (the common case: HDF5 chunks of 16, 64, 512
pixels binned by 2, 4, 8) are used as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dask.array as da  # noqa: F401 - used by the doctests
import numpy as np

from ..array_ops import is_lazy
from ..errors import InvalidArgumentError, ShapeMismatchError

__all__ = ["rebin_array", "factors_from", "output_dtype"]


def factors_from(shape: Sequence[int], new_shape: Sequence[int] | None,
                 scale: Sequence[float] | None) -> tuple[int, ...]:
    """Integer binning factors (numpy order) from a new shape or a scale.

    Examples
    --------
    >>> factors_from((8, 6), (4, 3), None), factors_from((8, 6), None, (2, 1))
    ((2, 2), (2, 1))
    """
    given: Sequence[float] | None = new_shape if new_shape is not None else scale
    if given is None or (new_shape is not None and scale is not None):
        raise InvalidArgumentError("Give exactly one of new_shape and scale.")
    if len(given) != len(shape):
        raise ShapeMismatchError(
            f"rebin needs one entry per axis ({len(shape)}); got {list(given)}.")
    if new_shape is not None:
        raw = [n / m if m else 0 for n, m in zip(shape, new_shape)]
    else:
        raw = list(given)
    factors = []
    for f, n in zip(raw, shape):
        if f <= 0 or abs(f - round(f)) > 1e-9:
            raise InvalidArgumentError(
                f"rebin supports integer binning factors; got a factor of {f:g} for an axis of {n}. "
                "Choose new_shape dividing the shape (or an integer scale); crop=True drops the "
                "remainder.")
        if round(f) > n:
            raise InvalidArgumentError(f"A binning factor of {round(f)} is larger than the axis ({n}).")
        factors.append(int(round(f)))
    return tuple(factors)


def output_dtype(dtype: np.dtype, requested: Any) -> np.dtype:
    """``numpy.sum``'s dtype by default, the input dtype for ``"same"``, else ``requested``."""
    if requested is None:
        return np.sum(np.zeros(1, dtype=dtype)).dtype
    if isinstance(requested, str) and requested == "same":
        return np.dtype(dtype)
    return np.dtype(requested)


def _bin_block(block: np.ndarray, factors: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    shape = []
    sum_axes = []
    for i, (n, f) in enumerate(zip(block.shape, factors)):
        if f == 1:  # an axis that is not binned is not split (no extra reduction axis)
            shape.append(n)
            continue
        full = -(-n // f)
        if full * f != n:  # a partial last bin (crop=False): pad with zeros
            pad = [(0, 0)] * block.ndim
            pad[i] = (0, full * f - n)
            block = np.pad(block, pad)
        shape += [full, f]
        sum_axes.append(len(shape) - 1)
    if not sum_axes:
        return block.astype(dtype, copy=True)
    return block.reshape(shape).sum(axis=tuple(sum_axes), dtype=dtype)


def rebin_array(data, factors: Sequence[int], *, crop: bool = True, dtype: Any = None):
    """Sum blocks of ``factors`` samples (numpy order); numpy or dask in, the same out.

    Parameters
    ----------
    data
        Numpy or dask array.
    factors
        Integer factor per axis.
    crop
        Drop samples past the last full bin (True), or keep a partial last bin (False).
    dtype
        Output dtype: None (as ``numpy.sum``), ``"same"`` or a dtype.

    Examples
    --------
    >>> rebin_array(np.arange(10), (3,)).tolist()
    [3, 12, 21]
    >>> rebin_array(np.arange(10), (3,), crop=False).tolist()
    [3, 12, 21, 9]
    >>> rebin_array(da.ones((8, 8), chunks=4), (2, 4)).compute().shape
    (4, 2)
    """
    factors = tuple(int(f) for f in factors)
    out_dtype = output_dtype(data.dtype, dtype)
    if crop:
        data = data[tuple(slice(0, (n // f) * f) for n, f in zip(data.shape, factors))]
    if not is_lazy(data):
        return _bin_block(np.asarray(data), factors, out_dtype)
    chunk_list: list[tuple[int, ...]] = []
    for c, f, n in zip(data.chunks, factors, data.shape):
        if f == 1 or all(x % f == 0 for x in c[:-1]):
            chunk_list.append(c)
        else:
            # Nearest multiple of f to the typical chunk, so the rechunk mostly merges.
            size = max(f, int(round(max(c) / f)) * f)
            full, rest = divmod(n, size)
            chunk_list.append((size,) * full + ((rest,) if rest else ()))
    chunks = tuple(chunk_list)
    if chunks != data.chunks:
        data = data.rechunk(chunks)
    out_chunks = tuple(tuple(-(-x // f) for x in c) for c, f in zip(chunks, factors))
    return data.map_blocks(_bin_block, factors, out_dtype, chunks=out_chunks, dtype=out_dtype,
                           token="rebin")
