"""Apply a function to every signal (navigation pixel) of an array, eagerly or lazily.

The array layer of ``s.map``: it sees arrays with ``nav_ndim`` leading navigation axes,
never signals. One dask task handles one navigation block and loops over its pixels in
a plain Python loop writing into a preallocated output, so the per-pixel overhead is one
function call (no per-pixel task, no stacking of per-pixel results). A function that
accepts ``axis=`` is called once per block with the signal axes instead.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping
from typing import Any

import dask.array as da
import numpy as np

from ..array_ops import is_lazy

__all__ = ["accepts_axis", "infer_output", "map_eager", "map_lazy", "map_blocks_axis"]


def accepts_axis(function: Callable) -> bool:
    """Whether ``function`` takes an ``axis`` keyword (numpy reductions, ufunc-like functions).

    Examples
    --------
    >>> accepts_axis(np.sum), accepts_axis(lambda x: x)
    (True, False)
    """
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return "axis" in params


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


def _loop(function: Callable, block: np.ndarray, nav_ndim: int, iter_blocks: tuple, names: tuple,
          constant: Mapping[str, Any], out_sig: tuple[int, ...], dtype: np.dtype, ragged: bool):
    nav_shape = block.shape[:nav_ndim]
    n = int(np.prod(nav_shape, dtype=np.int64))
    flat = block.reshape((n,) + block.shape[nav_ndim:])
    iters = [b.reshape((n,) + b.shape[nav_ndim:]) for b in iter_blocks]
    if ragged:
        out = np.empty(n, dtype=object)
        for i in range(n):
            out[i] = function(flat[i], **dict(zip(names, (b[i] for b in iters))), **constant)
        return out.reshape(nav_shape)
    out = np.empty((n,) + tuple(out_sig), dtype=dtype)
    if iters:
        for i in range(n):
            out[i] = function(flat[i], **dict(zip(names, (b[i] for b in iters))), **constant)
    elif constant:
        for i in range(n):
            out[i] = function(flat[i], **constant)
    else:
        for i in range(n):
            out[i] = function(flat[i])
    return out.reshape(nav_shape + tuple(out_sig))


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

    def block_func(block, *iter_blocks):
        return _loop(function, block, nav_ndim, iter_blocks, names, constant, out_sig, dtype, ragged)

    meta = np.empty((0,) * (nav_ndim + len(out_sig)), dtype=dtype)
    return da.blockwise(block_func, nav_idx + out_labels, *args, new_axes=new_axes, dtype=dtype,
                        concatenate=True, meta=meta, token=f"map-{getattr(function, '__name__', 'f')}")


def map_blocks_axis(function: Callable, data, nav_ndim: int, constant: Mapping[str, Any]):
    """Call ``function(block, axis=signal_axes, **constant)`` once per block (fast path).

    Returns None when the function's output does not keep the navigation shape (then the
    caller falls back to the per-pixel loop).

    Examples
    --------
    >>> r = map_blocks_axis(np.sum, da.ones((4, 5), chunks=(2, 5)), 1, {})
    >>> r.compute().tolist()
    [5.0, 5.0, 5.0, 5.0]
    """
    sig_axes = tuple(range(nav_ndim, data.ndim))
    probe_in = data[(slice(0, 1),) * nav_ndim] if nav_ndim else data
    probe_in = probe_in.compute() if is_lazy(probe_in) else probe_in
    try:
        probe = np.asarray(function(probe_in, axis=sig_axes, **constant))
    except Exception:  # noqa: BLE001 - not a block-wise function after all
        return None
    if probe.shape[:nav_ndim] != (1,) * nav_ndim or probe.dtype == object:
        return None
    out_sig = probe.shape[nav_ndim:]
    if not is_lazy(data):
        result = np.asarray(function(data, axis=sig_axes, **constant))
        return result if result.shape[:nav_ndim] == data.shape[:nav_ndim] else None
    whole = data.rechunk(tuple(data.chunks[:nav_ndim]) + tuple((n,) for n in data.shape[nav_ndim:]))
    # meta given: dask must not call the function on an empty array to guess it.
    meta = np.empty((0,) * (nav_ndim + len(out_sig)), dtype=probe.dtype)
    if out_sig == data.shape[nav_ndim:]:
        return whole.map_blocks(lambda b: function(b, axis=sig_axes, **constant), dtype=probe.dtype,
                                meta=meta)
    drop = tuple(range(nav_ndim, data.ndim))
    new = tuple(range(nav_ndim, nav_ndim + len(out_sig)))

    def block_func(b):
        return np.asarray(function(b, axis=sig_axes, **constant))

    if not out_sig:
        return whole.map_blocks(block_func, drop_axis=drop, dtype=probe.dtype, meta=meta)
    chunks = tuple(whole.chunks[:nav_ndim]) + tuple((n,) for n in out_sig)
    return whole.map_blocks(block_func, drop_axis=drop, new_axis=new, chunks=chunks, dtype=probe.dtype,
                            meta=meta)
