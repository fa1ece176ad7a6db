"""Apply a function to every signal (navigation pixel) of an array, eagerly or lazily.

The array layer of ``s.map``: it sees arrays with ``nav_ndim`` leading navigation axes,
never signals. One dask task handles one navigation block and loops over its pixels in
a plain Python loop writing into a preallocated output, so the per-pixel overhead is one
function call (no per-pixel task, no stacking of per-pixel results). A function that
accepts ``axis=`` (or ``axes=``) is called once per block with the signal axes instead.
"""

from __future__ import annotations

import inspect
from itertools import product
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import dask.array as da
import numpy as np

from ..array_ops import is_lazy

__all__ = ["signal_axes_keyword", "infer_output", "map_eager", "map_lazy", "map_blocks_axis"]


def signal_axes_keyword(function: Callable) -> str | None:
    """The keyword through which ``function`` takes the axes to work on: ``"axis"``
    (numpy reductions, ufunc-like functions), ``"axes"`` (as HyperSpy's ``map`` also
    accepts), or None.

    Examples
    --------
    >>> signal_axes_keyword(np.sum), signal_axes_keyword(np.fft.fft2), signal_axes_keyword(len)
    ('axis', 'axes', None)
    """
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return None
    return next((k for k in ("axis", "axes") if k in params), None)


def _pixel(array, index: tuple[int, ...]):
    value = array[index]
    return value.compute() if is_lazy(value) else value


def infer_output(function: Callable, data, nav_ndim: int, iterating: Mapping[str, Any],
                 constant: Mapping[str, Any], ragged: bool) -> tuple[tuple[int, ...], np.dtype]:
    """Output signal shape and dtype from one call on the first pixel (reads one chunk)."""
    if ragged:
        return (), np.dtype(object)
    first = (0,) * nav_ndim
    kwargs = {k: _pixel(v, first) for k, v in iterating.items()}
    result = np.asarray(function(_pixel(data, first), **kwargs, **constant))
    return result.shape, result.dtype


def _loop(function: Callable, block: np.ndarray, nav_ndim: int, iter_blocks: Sequence[Any], names: tuple,
          constant: Mapping[str, Any], out_sig: tuple[int, ...], dtype: np.dtype, ragged: bool):
    nav_shape = block.shape[:nav_ndim]
    # Index tuples, not a reshape to (pixels, ...): a block that is a strided view of a
    # file map or of a larger array would be copied whole by the reshape.
    positions = product(*(range(n) for n in nav_shape))
    if ragged:
        out = np.empty(nav_shape, dtype=object)
    else:
        out = np.empty(nav_shape + tuple(out_sig), dtype=dtype)
    if iter_blocks:
        for i in positions:
            out[i] = function(block[i], **dict(zip(names, (b[i] for b in iter_blocks))), **constant)
    elif constant:
        for i in positions:
            out[i] = function(block[i], **constant)
    else:
        for i in positions:
            out[i] = function(block[i])
    return out


def map_eager(function: Callable, data: np.ndarray, nav_ndim: int, *, iterating: Mapping[str, np.ndarray],
              constant: Mapping[str, Any], out_sig: tuple[int, ...], dtype: np.dtype, ragged: bool):
    """``function`` on every pixel of a numpy array; output ``nav_shape + out_sig``.

    Examples
    --------
    >>> map_eager(np.sum, np.ones((2, 3, 4)), 2, iterating={}, constant={}, out_sig=(),
    ...           dtype=np.dtype(float), ragged=False)
    array([[4., 4., 4.],
           [4., 4., 4.]])
    """
    names = tuple(iterating)
    return _loop(function, data, nav_ndim, tuple(np.asarray(v) for v in iterating.values()), names,
                 constant, out_sig, dtype, ragged)


def _match_nav(array, nav_chunks: tuple[tuple[int, ...], ...], nav_ndim: int):
    """``array`` as dask with the given navigation chunks and whole trailing axes."""
    trailing = (-1,) * (array.ndim - nav_ndim)
    if not is_lazy(array):
        return da.from_array(np.asarray(array), chunks=tuple(nav_chunks) + trailing)
    wanted = tuple(nav_chunks) + tuple((n,) for n in array.shape[nav_ndim:])
    return array if array.chunks == wanted else array.rechunk(wanted)


def map_lazy(function: Callable, data, nav_ndim: int, *, iterating: Mapping[str, Any],
             constant: Mapping[str, Any], out_sig: tuple[int, ...], dtype: np.dtype, ragged: bool,
             nav_chunks: tuple[tuple[int, ...], ...]):
    """The lazy form of :func:`map_eager`: one task per navigation block.

    ``data`` and every iterated array are rechunked to ``nav_chunks`` with whole signal
    axes (no-op when they already are).

    Examples
    --------
    >>> x = da.ones((4, 5), chunks=(2, 5))
    >>> r = map_lazy(np.sum, x, 1, iterating={}, constant={}, out_sig=(), dtype=np.dtype(float),
    ...              ragged=False, nav_chunks=((2, 2),))
    >>> r.chunks, r.compute().tolist()
    (((2, 2),), [5.0, 5.0, 5.0, 5.0])
    """
    data = _match_nav(data, nav_chunks, nav_ndim)
    names = tuple(iterating)
    others = [_match_nav(v, nav_chunks, nav_ndim) for v in iterating.values()]
    # Each input gets its own letters for trailing axes; output trailing axes are new.
    nav_idx = tuple(range(nav_ndim))
    next_label = [100]

    def labels(k: int) -> tuple[int, ...]:
        start = next_label[0]
        next_label[0] += k
        return tuple(range(start, start + k))

    args: list[Any] = [data, nav_idx + labels(data.ndim - nav_ndim)]
    for o in others:
        args += [o, nav_idx + labels(o.ndim - nav_ndim)]
    out_labels = labels(len(out_sig))
    new_axes = {lab: n for lab, n in zip(out_labels, out_sig)}

    depths = [data.ndim - nav_ndim] + [o.ndim - nav_ndim for o in others]

    def block_func(*blocks):
        # Signal axes are whole, so each dropped axis holds one block: blockwise hands it
        # over in a list per axis. (concatenate=True would copy every input block.)
        block, *iter_blocks = (_unwrap(b, depth) for b, depth in zip(blocks, depths))
        return _loop(function, block, nav_ndim, iter_blocks, names, constant, out_sig, dtype, ragged)

    meta = np.empty((0,) * (nav_ndim + len(out_sig)), dtype=dtype)
    return da.blockwise(block_func, nav_idx + out_labels, *args, new_axes=new_axes, dtype=dtype,
                        concatenate=False, meta=meta, token=f"map-{getattr(function, '__name__', 'f')}")


def _unwrap(nested, depth: int):
    for _ in range(depth):
        (nested,) = nested
    return nested


def map_blocks_axis(function: Callable, data, nav_ndim: int, constant: Mapping[str, Any],
                    keyword: str = "axis"):
    """Call ``function(block, <keyword>=signal_axes, **constant)`` once per block (fast path).

    Returns None when the function's output does not keep the navigation shape (then the
    caller falls back to the per-pixel loop).

    Examples
    --------
    >>> r = map_blocks_axis(np.sum, da.ones((4, 5), chunks=(2, 5)), 1, {})
    >>> r.compute().tolist()
    [5.0, 5.0, 5.0, 5.0]
    """
    sig_axes = tuple(range(nav_ndim, data.ndim))
    constant = {**constant, keyword: sig_axes}
    probe_in = data[(slice(0, 1),) * nav_ndim] if nav_ndim else data
    probe_in = probe_in.compute() if is_lazy(probe_in) else probe_in
    try:
        probe = np.asarray(function(probe_in, **constant))
    except Exception:  # noqa: BLE001 - not a block-wise function after all
        return None
    if probe.shape[:nav_ndim] != (1,) * nav_ndim or probe.dtype == object:
        return None
    out_sig = probe.shape[nav_ndim:]
    if not is_lazy(data):
        result = np.asarray(function(data, **constant))
        return result if result.shape[:nav_ndim] == data.shape[:nav_ndim] else None
    whole = data.rechunk(tuple(data.chunks[:nav_ndim]) + tuple((n,) for n in data.shape[nav_ndim:]))
    # meta given: dask must not call the function on an empty array to guess it.
    meta = np.empty((0,) * (nav_ndim + len(out_sig)), dtype=probe.dtype)
    if out_sig == data.shape[nav_ndim:]:
        return whole.map_blocks(lambda b: function(b, **constant), dtype=probe.dtype,
                                meta=meta)
    drop = tuple(range(nav_ndim, data.ndim))
    new = tuple(range(nav_ndim, nav_ndim + len(out_sig)))

    def block_func(b):
        return np.asarray(function(b, **constant))

    if not out_sig:
        return whole.map_blocks(block_func, drop_axis=drop, dtype=probe.dtype, meta=meta)
    chunks = tuple(whole.chunks[:nav_ndim]) + tuple((n,) for n in out_sig)
    return whole.map_blocks(block_func, drop_axis=drop, new_axis=new, chunks=chunks, dtype=probe.dtype,
                            meta=meta)
