"""The processing methods of signals (map, rebin, histogram, ...), mixed into BaseSignal.

Each method translates axes into numpy axis numbers, calls an array function of
:mod:`lazysignal.processing` (which never sees a signal), and rebuilds the axes. No method
changes the chunks of the signal it is called on, except ``rechunk(inplace=True)`` (its
documented default, as in HyperSpy).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ..array_ops import is_lazy
from ..axes import DataAxis
from ..chunks import plan_chunks
from ..errors import AxisError, ShapeMismatchError
from ..lazy import compute_arrays, from_numpy_nocopy, resolve_progress
from ..plan import explain_array
from ..preferences import preferences
from ..signal_registry import signal_class_for
from . import blocks as _blocks
from . import fft as _fft
from . import histogram as _histogram
from . import map as _map
from . import navigator as _navigator
from . import rebin as _rebin
from . import virtual_image as _virtual_image

__all__ = ["ProcessingMixin"]


class ProcessingMixin:
    """Signal methods that call the array functions of :mod:`lazysignal.processing`."""

    # -- helpers -----------------------------------------------------------------------
    @property
    def _nav_ndim(self) -> int:
        return sum(1 for a in self.axes_manager._axes if a.navigate)

    def _sig_numpy_axes(self) -> tuple[int, ...]:
        return tuple(range(self._nav_ndim, self.data.ndim))

    # -- chunks ------------------------------------------------------------------------
    def rechunk(self, nav_chunks: Any = "auto", sig_chunks: Any = -1, inplace: bool = True, **kwargs):
        """Change the chunks of lazy data (HyperSpy's signature and default: in place).

        Parameters
        ----------
        nav_chunks
            ``"auto"`` (the chunk planner: chunks of about ``preferences.chunk_target_bytes``,
            multiples of the current ones where possible), ``-1``/None (whole), an int, or a
            tuple with one entry per navigation axis in numpy order.
        sig_chunks
            The same for the signal axes; the default ``-1`` keeps each signal whole.
        inplace
            True (default, as HyperSpy): change this signal's data and return None.
            False: return a new signal; this one is untouched.
        **kwargs
            Passed to ``dask.array.Array.rechunk`` (e.g. ``method="p2p"``).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.zeros((8, 6, 10))).as_lazy(chunks=(2, 3, 5))
        >>> s.rechunk(inplace=False).data.chunks
        ((8,), (6,), (10,))
        >>> s.data.chunks
        ((2, 2, 2, 2), (3, 3), (5, 5))
        """
        if not self.lazy:
            raise TypeError("rechunk works on lazy signals; this one holds a numpy array in memory. "
                            "Use s.as_lazy(chunks=...) to make a lazy copy with given chunks.")
        data = self.data
        chunks = plan_chunks(data.shape, self.axes_manager.signal_dimension, data.dtype.itemsize,
                             nav_chunks=nav_chunks, sig_chunks=sig_chunks, previous=data.chunks)
        new_data = data if chunks == data.chunks else data.rechunk(chunks, **kwargs)
        if inplace:
            self.data = new_data
            return None
        new = self._new_like(new_data, cls=type(self))
        new._file_closers = list(self._file_closers)
        return new

    # -- map -----------------------------------------------------------------------------
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
        iterating, constant = {}, {}
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

    # -- block iteration ------------------------------------------------------------------
    def iterate_blocks(self, flat_signal: bool = True, navigation_mask: Any = None, signal_mask: Any = None):
        """Yield the data as numpy blocks of whole rows, covering every signal chunk.

        Parameters
        ----------
        flat_signal
            True: each block is ``(pixels, signal_size)`` with masked pixels and signal values
            removed; concatenated they give ``data.reshape(navigation_size, signal_size)``.
            False: blocks keep the data's dimensions (rows of the slowest navigation axis);
            masked values are NaN (floats) or 0 (integers).
        navigation_mask, signal_mask
            Boolean arrays or signals of the navigation / signal shape (numpy order);
            True marks what to leave out.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.arange(60.0).reshape(3, 4, 5)).as_lazy(chunks=(1, 2, 5))
        >>> blocks = list(s.iterate_blocks())
        >>> np.array_equal(np.concatenate(blocks), s.data.compute().reshape(12, 5))
        True
        """
        return _blocks.iterate_blocks(self.data, self._nav_ndim, flat_signal=flat_signal,
                                      navigation_mask=navigation_mask, signal_mask=signal_mask)

    _block_iterator = iterate_blocks  # HyperSpy's private name, for ported code

    # -- rebin -----------------------------------------------------------------------------
    def rebin(self, new_shape=None, scale=None, crop: bool = True, dtype: Any = None, out=None):
        """Sum neighbouring samples by integer factors per axis (lazily for lazy data).

        Parameters
        ----------
        new_shape, scale
            One of: the new shape, or the factor per axis, both in the user's axis order
            (navigation x first, then signal), e.g. ``scale=(4, 4, 1)``.
        crop
            Drop samples past the last full bin (True), or keep a partial last bin (False).
        dtype
            None: as ``numpy.sum`` (integers widen); ``"same"``: keep the dtype; or a dtype.
        out
            A signal to receive the result.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.ones((4, 4, 10))).as_lazy()
        >>> s.axes_manager[0].scale = 0.5
        >>> r = s.rebin(scale=(2, 2, 5))
        >>> r, r.axes_manager[0].scale, r.axes_manager[0].offset, float(r.data[0, 0, 0].compute())
        (<LazySignal1D, title: , dimensions: (2, 2|2)>, 1.0, 0.25, 20.0)
        """
        am = self.axes_manager
        natural = am._get_axes_in_natural_order()
        user_shape = [a.size for a in natural]
        factors_user = _rebin.factors_from(user_shape, new_shape, scale)
        factors = [1] * len(am._axes)
        for axis, f in zip(natural, factors_user):
            factors[am.numpy_index(axis)] = f
        data = _rebin.rebin_array(self.data, factors, crop=crop, dtype=dtype)
        axes = []
        for axis, f, n in zip(am._axes, factors, data.shape):
            new = axis.copy()
            if f != 1:
                if axis.is_uniform:
                    new.size = n
                    new.offset = axis.offset + (f - 1) * axis.scale / 2
                    new.scale = axis.scale * f
                else:
                    values = axis.axis
                    used = values[: (values.size // f) * f].reshape(-1, f).mean(axis=1)
                    if n > used.size:
                        used = np.append(used, values[used.size * f:].mean())
                    new = DataAxis(axis=used, name=axis.name, units=axis.units, navigate=axis.navigate,
                                   is_binned=axis.is_binned)
            axes.append(new)
        result = self._new_like(data, axes)
        if out is not None:
            out.data = result.data
            return None
        return result

    # -- histogram ----------------------------------------------------------------------------
    def virtual_image(self, mask: Any):
        """Each frame's sum under a detector ``mask``: a virtual bright-field or dark-field image.

        Parameters
        ----------
        mask
            Boolean mask (or weights) with the shape of one frame in numpy order (rows,
            columns); a boolean mask is summed over its bounding box only.

        Returns
        -------
        BaseSignal
            The navigation axes only (lazy if this signal is); ``.T`` makes it an image.
            Equal to ``(s * mask).sum(axis="signal")``, without the masked copy.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal2D
        >>> s = Signal2D(np.ones((3, 4, 8, 8), dtype="uint16")).as_lazy()
        >>> mask = np.zeros((8, 8), bool); mask[2:6, 2:6] = True
        >>> vbf = s.virtual_image(mask)
        >>> vbf
        <LazyBaseSignal, title: , dimensions: (4, 3|)>
        >>> int(vbf.compute().data[0, 0])
        16
        """
        if self.axes_manager.signal_dimension != 2:
            raise AxisError(
                f"virtual_image needs two signal axes (frames); this signal has "
                f"{self.axes_manager.signal_dimension}. Use as_signal2D first."
            )
        if self.axes_manager.navigation_dimension == 0:
            raise AxisError("virtual_image needs navigation axes: this signal is a single frame; "
                            "use (s * mask).sum(axis='signal').")
        data = _virtual_image.virtual_image(self.data, mask)
        axes = [a.copy() for a in self.axes_manager._axes if a.navigate]
        return self._new_like(data, axes)

    def get_histogram(self, bins: Any = "fd", range_bins: tuple[float, float] | None = None,
                      max_num_bins: int = 250, out=None, **kwargs):
        """Histogram of all the values (lazy data: at most two passes, result lazy).

        Parameters
        ----------
        bins
            ``"fd"``, ``"scott"`` (and numpy's other rules), an int, or an array of edges.
            ``"knuth"`` and ``"blocks"`` need all values in memory and raise on lazy data.
        range_bins
            (min, max) of the bins; default the data's range.
        max_num_bins
            Cap on the number of bins a rule may choose.

        Returns
        -------
        Signal1D
            Counts, with a binned axis named ``"value"`` whose offset is the first edge.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> h = Signal1D(np.arange(10.0)).as_lazy().get_histogram(bins=2)
        >>> h.compute().data.tolist(), h.axes_manager[0].scale
        ([5, 5], 4.5)
        """
        counts, edges = _histogram.histogram(self.data, bins, range_bins, max_num_bins)
        widths = np.diff(edges)
        name = self.metadata.get_item("Signal.quantity", None) or "value"
        units = None
        if np.allclose(widths, widths[0], rtol=1e-9, atol=0):
            axis = DataAxis(size=counts.shape[0], name="value", units=units, scale=float(widths[0]),
                            offset=float(edges[0]), navigate=False, is_binned=True)
        else:
            axis = DataAxis(axis=edges[:-1], name="value", units=units, navigate=False, is_binned=True)
        hist = signal_class_for(1)(counts, axes=[axis])
        title = self.metadata.get_item("General.title", "")
        hist.metadata.set_item("General.title", f"{title} histogram".strip())
        hist.metadata.set_item("Signal.quantity", f"{name} counts" if name != "value" else "Counts")
        if out is not None:
            out.data = hist.data
            return None
        return hist

    # -- Fourier transforms ----------------------------------------------------------------------
    def fft(self, shift: bool = False, apodization: bool = False, real_fft_only: bool = False, **kwargs):
        """Discrete Fourier transform over the signal axes (lazy for lazy data).

        Signal axes split in several chunks are rechunked whole (dask's FFT needs that); the
        navigation chunks are kept. The axes become frequency axes (scale ``1/(n*scale)``,
        units ``1/units``); ``metadata.Signal.FFT.shifted`` records ``shift``.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.ones((2, 8))).as_lazy()
        >>> f = s.fft(shift=True)
        >>> f.data.dtype, f.axes_manager[-1].offset, f.ifft().data.compute().tolist()[0][:2]
        (dtype('complex128'), -0.5, [1.0, 1.0])
        """
        if apodization or real_fft_only:
            raise NotImplementedError("fft(apodization=..., real_fft_only=...) are not available yet; "
                                      "multiply by a window signal first, or take .real of the result.")
        axes = self._sig_numpy_axes()
        if not axes:
            raise AxisError("fft needs at least one signal axis; this signal has none.")
        data = _fft.fftn(self.data, axes, shift=shift)
        new_axes = []
        for i, axis in enumerate(self.axes_manager._axes):
            ax = axis.copy()
            if i in axes:
                scale = axis.scale if axis.is_uniform else float(np.mean(np.diff(axis.axis)))
                new_scale, offset = _fft.frequency_axis(axis.size, scale, shift=shift)
                ax = DataAxis(size=axis.size, name=axis.name, units=f"1 / {axis.units}" if axis.units else None,
                              scale=new_scale, offset=offset, navigate=False)
            new_axes.append(ax)
        result = self._new_like(data, new_axes)
        result.metadata.set_item("Signal.FFT.shifted", bool(shift))
        title = self.metadata.get_item("General.title", "")
        result.metadata.set_item("General.title", f"FFT of {title}".strip())
        return result

    def ifft(self, shift: bool | None = None, return_real: bool = True, **kwargs):
        """Inverse Fourier transform over the signal axes (lazy for lazy data).

        ``shift`` defaults to ``metadata.Signal.FFT.shifted``; ``return_real`` keeps the real
        part. Axes get back the scale ``1/(n*scale)``.
        """
        axes = self._sig_numpy_axes()
        if shift is None:
            shift = bool(self.metadata.get_item("Signal.FFT.shifted", False))
        data = _fft.ifftn(self.data, axes, shift=shift, real=return_real)
        new_axes = []
        for i, axis in enumerate(self.axes_manager._axes):
            ax = axis.copy()
            if i in axes:
                new_scale, _ = _fft.frequency_axis(axis.size, axis.scale, shift=False)
                units = axis.units[4:] if axis.units and axis.units.startswith("1 / ") else axis.units
                ax = DataAxis(size=axis.size, name=axis.name, units=units, scale=new_scale, offset=0.0,
                              navigate=False)
            new_axes.append(ax)
        result = self._new_like(data, new_axes)
        if result.metadata.has_item("Signal.FFT"):
            del result.metadata.Signal.FFT
        return result

    # -- navigator ------------------------------------------------------------------------------
    def compute_navigator(self, index: Any = None, chunks_number: Any = None,
                          show_progressbar: bool | None = None) -> None:
        """Compute the navigator image from ONE signal chunk and store it in ``s.navigator``.

        The navigator is the sum over the signal chunk that contains ``index`` in every signal
        axis (as seed 004 describes): only that chunk column of the data is read, and nothing
        is rechunked. It is stored in the metadata (``_HyperSpy.navigator``), so ``save``
        writes it and ``load`` brings it back; ``navigator.original_metadata.sum_from`` holds
        the slices summed.

        Parameters
        ----------
        index
            Per signal axis (or one value for all): an int index or a float calibrated value.
            Default: the centre of each signal axis.
        chunks_number
            Per signal axis (or one for all): divide the axis into this many equal parts and sum
            the one containing ``index``; default: the data's own signal chunks.
        show_progressbar
            Progress bar while computing (default: the preference).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.ones((4, 5, 100))).as_lazy(chunks=(2, 5, 25))
        >>> s.compute_navigator(index=60)
        >>> s.navigator, s.navigator.data[0, 0], s.navigator.original_metadata.sum_from
        (<Signal2D, title: , dimensions: (|5, 4)>, np.float64(25.0), '[slice(50, 75, None)]')
        """
        am = self.axes_manager
        sig_axes_numpy = [a for a in am._axes if not a.navigate]
        n_sig = len(sig_axes_numpy)
        if n_sig == 0:
            raise AxisError("compute_navigator needs signal axes; this signal has none.")
        # User order (x first) for index / chunks_number; numpy order internally.
        user_sig = list(am.signal_axes)
        idx_user = _per_sig(index, n_sig, "index")
        num_user = _per_sig(chunks_number, n_sig, "chunks_number")
        indices, numbers = [], []
        for axis in sig_axes_numpy:
            k = user_sig.index(axis)
            value = idx_user[k]
            if value is None:
                value = axis.size // 2
            elif isinstance(value, (float, np.floating)):
                value = axis.value2index(float(value))
            else:
                value = axis._check_index(int(value))
            indices.append(value)
            numbers.append(num_user[k])
        data = self.data
        nav_ndim = self._nav_ndim
        sig_chunks = data.chunks[nav_ndim:] if self.lazy else tuple((n,) for n in data.shape[nav_ndim:])
        slices = _navigator.signal_chunk_slices(sig_chunks, indices, numbers)
        nav = _navigator.navigator_sum(data, nav_ndim, slices)
        if is_lazy(nav):
            (nav,) = compute_arrays(nav, show_progressbar=show_progressbar)
        nav = np.asarray(nav)
        nav_axes = [a.copy() for a in am._axes if a.navigate]
        for a in nav_axes:
            a.navigate = False
        if not nav_axes:
            nav_axes = [DataAxis(size=1, name="Scalar", navigate=False)]
            nav = nav.reshape(1)
        navigator = signal_class_for(len(nav_axes))(nav, nav_axes, {"General": {"title": ""}}, {})
        navigator.original_metadata.set_item("sum_from", str(slices))
        self.navigator = navigator

    # -- plan ----------------------------------------------------------------------------------
    def explain(self, print_plan: bool = True):
        """Print (and return) the plan of computing this signal, without computing it.

        The plan lists the tasks, the chunks and bytes to be read from storage, the rechunks
        and an estimate of the peak memory (see :mod:`lazysignal.plan`).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.ones((8, 100))).as_lazy(chunks=(2, 50))
        >>> plan = s.isig[:10].sum(axis="signal").explain(print_plan=False)
        >>> plan.source_chunks, plan.source_bytes
        (4, 3200)
        """
        if not self.lazy:
            raise TypeError("explain() describes a lazy computation; this signal is already in memory.")
        names = [a.name or f"axis {i}" for i, a in enumerate(self.axes_manager._axes)]
        plan = explain_array(self.data, axis_names=names, title=repr(self))
        if print_plan:
            print(plan)
        return plan


def _per_sig(value: Any, n: int, what: str) -> list[Any]:
    if value is None:
        return [None] * n
    if isinstance(value, (list, tuple, np.ndarray)):
        if len(value) != n:
            raise AxisError(f"{what} has {len(value)} entries; this signal has {n} signal axes.")
        return list(value)
    return [value] * n


def _positional(function: Callable, nargs: int) -> Callable:
    """Wrap ``function`` so positional extras travel as keywords through the block loop."""
    names = [f"__arg{i}" for i in range(nargs)]

    def call(x, **kwargs):
        args = [kwargs.pop(k) for k in names]
        return function(x, *args, **kwargs)

    call.__name__ = getattr(function, "__name__", "function")
    return call
