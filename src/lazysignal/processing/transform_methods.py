"""Signal methods that transform the axes as well as the data: ``rebin``, ``fft``, ``ifft``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..axes import DataAxis
from ..errors import AxisError
from ..options import check_method_options
from . import fft as _fft
from . import rebin as _rebin


def _step(axis: DataAxis) -> float:
    # The sampling step a Fourier transform uses: the scale, or the mean step of a non-uniform axis.
    if axis.is_uniform and axis.scale is not None:
        return axis.scale
    return float(np.mean(np.diff(axis.axis)))

if TYPE_CHECKING:
    from ..signal_protocol import SignalLike as _Signal
else:
    _Signal = object

__all__ = ["TransformMixin"]


class TransformMixin(_Signal):
    """Rebinning and Fourier transforms, with their new axes."""

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
            A signal shaped like the result to receive it (written into its array when both
            are in memory, as HyperSpy does; its ``data_changed`` fires); None is returned.

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
                    assert axis.scale is not None and axis.offset is not None  # uniform: both set
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
        if out is not None:
            out._receive(data)
            return None
        return self._new_like(data, axes)

    def fft(self, shift: bool = False, apodization: bool = False, real_fft_only: bool = False,
            **kwargs: Any) -> Any:
        """Discrete Fourier transform over the signal axes (lazy for lazy data).

        Signal axes split in several chunks are rechunked whole (dask's FFT needs that); the
        navigation chunks are kept. The axes become frequency axes (scale ``1/(n*scale)``,
        units ``1/units``); ``metadata.Signal.FFT.shifted`` records ``shift``.

        Parameters
        ----------
        shift
            Put the zero frequency in the centre.
        apodization, real_fft_only
            Not available yet: True raises ``NotImplementedError``.
        **kwargs
            Passed to :func:`numpy.fft.fftn` / :func:`dask.array.fft.fftn`: ``norm``
            (``"backward"``, ``"ortho"``, ``"forward"``). Others (``s``, ``axes``: the signal
            fixes them) raise ``UnsupportedOptionError``.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.ones((2, 8))).as_lazy()
        >>> f = s.fft(shift=True)
        >>> f.data.dtype, f.axes_manager[-1].offset, f.ifft().data.compute().tolist()[0][:2]
        (dtype('complex128'), -0.5, [1.0, 1.0])
        """
        check_method_options(kwargs, ["norm"], where="fft",
                             hint="The transformed axes and their sizes are the signal axes.")
        if apodization or real_fft_only:
            raise NotImplementedError("fft(apodization=..., real_fft_only=...) are not available yet; "
                                      "multiply by a window signal first, or take .real of the result.")
        axes = self._sig_numpy_axes()
        if not axes:
            raise AxisError("fft needs at least one signal axis; this signal has none.")
        data = _fft.fftn(self.data, axes, shift=shift, **kwargs)
        new_axes = []
        for i, axis in enumerate(self.axes_manager._axes):
            ax = axis.copy()
            if i in axes:
                new_scale, offset = _fft.frequency_axis(axis.size, _step(axis), shift=shift)
                ax = DataAxis(size=axis.size, name=axis.name, units=f"1 / {axis.units}" if axis.units else None,
                              scale=new_scale, offset=offset, navigate=False)
            new_axes.append(ax)
        result = self._new_like(data, new_axes)
        result.metadata.set_item("Signal.FFT.shifted", bool(shift))
        title = self.metadata.get_item("General.title", "")
        result.metadata.set_item("General.title", f"FFT of {title}".strip())
        return result

    def ifft(self, shift: bool | None = None, return_real: bool = True, **kwargs: Any) -> Any:
        """Inverse Fourier transform over the signal axes (lazy for lazy data).

        ``shift`` defaults to ``metadata.Signal.FFT.shifted``; ``return_real`` keeps the real
        part. Axes get back the scale ``1/(n*scale)``. ``**kwargs``: ``norm``, passed to
        :func:`numpy.fft.ifftn` (use the ``norm`` of the forward transform); others raise
        ``UnsupportedOptionError``.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.arange(4.0))
        >>> s.fft(norm="ortho").ifft(norm="ortho").data.tolist()
        [0.0, 1.0, 2.0, 3.0]
        """
        check_method_options(kwargs, ["norm"], where="ifft",
                             hint="The transformed axes and their sizes are the signal axes.")
        axes = self._sig_numpy_axes()
        if shift is None:
            shift = bool(self.metadata.get_item("Signal.FFT.shifted", False))
        data = _fft.ifftn(self.data, axes, shift=shift, real=return_real, **kwargs)
        new_axes = []
        for i, axis in enumerate(self.axes_manager._axes):
            ax = axis.copy()
            if i in axes:
                new_scale, _ = _fft.frequency_axis(axis.size, _step(axis), shift=False)
                units = axis.units[4:] if axis.units and axis.units.startswith("1 / ") else axis.units
                ax = DataAxis(size=axis.size, name=axis.name, units=units, scale=new_scale, offset=0.0,
                              navigate=False)
            new_axes.append(ax)
        result = self._new_like(data, new_axes)
        if result.metadata.has_item("Signal.FFT"):
            del result.metadata.Signal.FFT
        return result
