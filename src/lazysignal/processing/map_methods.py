"""``map``: apply a function to the signal of every navigation position (lazily for lazy data).

The array work is in :mod:`lazysignal.processing.map`; this module sorts the arguments
(iterated signals, constants), picks the eager, lazy or per-block path and rebuilds the axes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import numpy as np

from ..array_ops import is_lazy
from ..axes import DataAxis
from ..chunks import plan_chunks
from ..errors import ShapeMismatchError
from ..lazy import compute_arrays, from_numpy_nocopy, resolve_progress
from ..preferences import preferences
from . import map as _map

if TYPE_CHECKING:
    from ..signal_protocol import SignalLike as _Signal
else:
    _Signal = object

__all__ = ["MapMixin"]


class MapMixin(_Signal):
    """The ``map`` method of signals."""

    def map(self, function: Callable, *args, inplace: bool = True, lazy_output: bool | None = None,
            ragged: bool = False, navigation_chunks: Any = None, output_signal_size: tuple | None = None,
            output_dtype: Any = None, show_progressbar: bool | None = None, num_workers: int | None = None,
            **kwargs):
        """Apply ``function`` to the signal of every navigation position.

        Parameters
        ----------
        function
            Called as ``function(signal_array, *args, **kwargs)`` per position. A function that
            accepts ``axis=`` (numpy reductions...) or ``axes=`` is called once per block with
            the signal axes instead, when no argument is iterated and that keyword is not
            given.
        *args, **kwargs
            A signal with this signal's navigation shape is iterated alongside (its value at
            the same position is passed; it is rechunked to match). Anything else, including
            a signal without navigation axes (its data), is passed unchanged to every call.
        inplace
            Replace this signal's data (and signal axes) and return None; else return a new
            signal.
        lazy_output
            Lazy result (True) or computed (False); default: lazy if this signal is lazy.
        ragged
            Each call returns an array of varying shape: the result holds an object array.
        navigation_chunks
            Navigation chunks for the computation (numpy order, dask form or "auto");
            default: the current ones (signal axes are made whole).
        output_signal_size, output_dtype
            Shape (numpy order) and dtype of one result; default: from one call on the
            first position (reads one chunk).
        show_progressbar, num_workers
            For the computation when the output is computed.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.arange(24.0).reshape(2, 3, 4)).as_lazy()
        >>> r = s.map(lambda x, k: x.max() * k, k=2, inplace=False)
        >>> r
        <LazyBaseSignal, title: , dimensions: (3, 2|)>
        >>> r.compute().data.tolist()
        [[6.0, 14.0, 22.0], [30.0, 38.0, 46.0]]
        """
        nav_ndim = self._nav_ndim
        nav_shape = self.data.shape[:nav_ndim]
        lazy_out = self.lazy if lazy_output is None else bool(lazy_output)
        iterating: dict[str, Any] = {}
        constant: dict[str, Any] = {}
        for i, value in enumerate(args):
            self._sort_map_argument(f"__arg{i}", value, nav_shape, iterating, constant)
        for name, value in kwargs.items():
            self._sort_map_argument(name, value, nav_shape, iterating, constant)
        func = _positional(function, len(args)) if args else function
        data = self.data
        squeeze = nav_ndim == 0
        if squeeze:  # one signal: a navigation axis of one position
            data = data[None]
            iterating = {k: v[None] for k, v in iterating.items()}
            nav_ndim = 1
        result = None
        keyword = _map.signal_axes_keyword(function)
        if not iterating and not ragged and not args and output_signal_size is None and \
                keyword is not None and keyword not in constant:
            work = self._map_input(data, nav_ndim, navigation_chunks, lazy_out, temporary=False)
            result = _map.map_blocks_axis(function, work, nav_ndim, constant, keyword)
        if result is None:
            if output_signal_size is not None and (output_dtype is not None or ragged):
                out_sig = tuple(output_signal_size) if not ragged else ()
                dtype = np.dtype(object) if ragged else np.dtype(output_dtype)
            else:
                out_sig, dtype = _map.infer_output(func, data, nav_ndim, iterating, constant, ragged)
                if output_dtype is not None and not ragged:
                    dtype = np.dtype(output_dtype)
                if output_signal_size is not None:
                    out_sig = tuple(output_signal_size)
            if not self.lazy and not lazy_out and not resolve_progress(show_progressbar) and \
                    (num_workers or 1) == 1 and not preferences.num_workers:
                result = _map.map_eager(func, data, nav_ndim, iterating=iterating, constant=constant,
                                        out_sig=out_sig, dtype=dtype, ragged=ragged)
            else:
                work = self._map_input(data, nav_ndim, navigation_chunks, True, temporary=not lazy_out)
                nav_chunks = work.chunks[:nav_ndim]
                result = _map.map_lazy(func, work, nav_ndim, iterating=iterating, constant=constant,
                                       out_sig=out_sig, dtype=dtype, ragged=ragged, nav_chunks=nav_chunks)
        if is_lazy(result) and not lazy_out:
            (result,) = compute_arrays(result, show_progressbar=show_progressbar, num_workers=num_workers)
        if squeeze:
            result = result[0]
        return self._map_result(result, nav_ndim=self._nav_ndim, ragged=ragged, inplace=inplace)

    def _sort_map_argument(self, name, value, nav_shape, iterating, constant) -> None:
        if not hasattr(value, "axes_manager"):
            constant[name] = value
            return
        other_nav = sum(1 for a in value.axes_manager._axes if a.navigate)
        if other_nav == 0:
            constant[name] = value.data
            return
        if tuple(value.data.shape[:other_nav]) != tuple(nav_shape):
            raise ShapeMismatchError(
                f"map: argument {name!r} is a signal with navigation shape "
                f"{value.axes_manager.navigation_shape}; to iterate it alongside it must have this "
                f"signal's navigation shape {self.axes_manager.navigation_shape} (or none, to be "
                "passed whole to every call).")
        iterating[name] = value.data

    def _map_input(self, data, nav_ndim: int, navigation_chunks: Any, lazy: bool, *, temporary: bool):
        """The data to map over: signal axes whole, navigation chunks as asked or planned.

        ``temporary``: the graph is computed at once, so eager data may be wrapped without
        dask's defensive copy.
        """
        if not lazy:
            return data
        sig_ndim = data.ndim - nav_ndim
        if navigation_chunks is not None and navigation_chunks != "auto":
            wanted = tuple(navigation_chunks) if isinstance(navigation_chunks, (tuple, list)) else \
                (navigation_chunks,) * nav_ndim
            chunks = plan_chunks(data.shape, sig_ndim, data.dtype.itemsize, nav_chunks=wanted, sig_chunks=-1)
        elif is_lazy(data) and navigation_chunks is None:
            whole_sig = tuple(data.chunks[:nav_ndim]) + tuple((n,) for n in data.shape[nav_ndim:])
            biggest = int(np.prod([max(c) for c in whole_sig])) * data.dtype.itemsize
            # Keep the current navigation chunks unless whole signals would make them too big.
            chunks = whole_sig if biggest <= 2 * preferences.chunk_target_bytes else plan_chunks(
                data.shape, sig_ndim, data.dtype.itemsize, sig_chunks=-1, previous=data.chunks)
        else:
            chunks = plan_chunks(data.shape, sig_ndim, data.dtype.itemsize, sig_chunks=-1,
                                 previous=data.chunks if is_lazy(data) else None)
        if not is_lazy(data):
            if temporary:
                return from_numpy_nocopy(data, chunks)
            import dask.array as da

            return da.from_array(data, chunks=chunks)
        return data if data.chunks == chunks else data.rechunk(chunks)

    def _map_result(self, result, *, nav_ndim: int, ragged: bool, inplace: bool):
        nav_axes = [a.copy() for a in self.axes_manager._axes[:nav_ndim]]
        out_sig = tuple(result.shape[nav_ndim:])
        in_sig = tuple(self.data.shape[nav_ndim:])
        if out_sig == in_sig:
            axes = nav_axes + [a.copy() for a in self.axes_manager._axes[nav_ndim:]]
        else:
            axes = nav_axes + [DataAxis(size=n, navigate=False) for n in out_sig]
        if not axes:  # a single signal reduced to a scalar
            axes = [DataAxis(size=1, name="Scalar", navigate=False)]
            result = result.reshape(1)
        if inplace:
            self.ragged = ragged
            self._replace(result, axes)
            return None
        new = self._new_like(result, axes)
        new.ragged = ragged
        return new


def _positional(function: Callable, nargs: int) -> Callable:
    """Wrap ``function`` so positional extras travel as keywords through the block loop."""
    names = [f"__arg{i}" for i in range(nargs)]

    def call(x, **kwargs):
        args = [kwargs.pop(k) for k in names]
        return function(x, *args, **kwargs)

    call.__name__ = getattr(function, "__name__", "function")
    return call
