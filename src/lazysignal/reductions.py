"""Reductions over axes (sum, mean, ..., indexmax, integrate1D) and differences.

The reductions are generated from one table; each takes ``axis=`` as an index, a name, a
DataAxis, a tuple of those, ``"navigation"``/``"signal"`` or ``axes_manager.signal_axes``.
The result keeps the remaining axes, as HyperSpy does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from . import array_ops
from .axes import DataAxis
from .errors import AxisError, ChunksError, UnsupportedOptionError
from .options import check_method_options
from .preferences import preferences

if TYPE_CHECKING:
    from .signal_protocol import SignalLike as _Signal
else:
    _Signal = object

__all__ = ["ReductionsMixin"]

_GROUPS = {"navigation": True, "nav": True, "signal": False, "sig": False}


class _Reduction(Protocol):
    # The signature of each method _make_reduction makes (bound: no self).
    def __call__(self, axis: Any = None, out: Any = None, rechunk: Any = False) -> Any: ...


class ReductionsMixin(_Signal):
    """Reductions and derivatives for :class:`~lazysignal.signal.BaseSignal`."""

    if TYPE_CHECKING:
        # Set from array_ops.REDUCTIONS by the loop at the end of this module.
        sum: _Reduction
        mean: _Reduction
        max: _Reduction
        min: _Reduction
        std: _Reduction
        var: _Reduction
        nansum: _Reduction
        nanmean: _Reduction
        nanmax: _Reduction
        nanmin: _Reduction
        nanstd: _Reduction
        nanvar: _Reduction

    # -- axis parsing --------------------------------------------------------------
    def _numpy_axes(self, axis: Any) -> tuple[int, ...]:
        """Numpy axis numbers for an ``axis=`` argument (None means navigation axes)."""
        am = self.axes_manager
        if axis is None:
            axis = "navigation"
        if isinstance(axis, str) and axis in _GROUPS:
            navigate = _GROUPS[axis]
            return tuple(i for i, a in enumerate(am._axes) if a.navigate == navigate)
        if isinstance(axis, (str, int, np.integer, DataAxis)):
            return (am.numpy_index(axis),)
        if isinstance(axis, Iterable):
            found = tuple(am.numpy_index(a) for a in axis)
            if len(set(found)) != len(found):
                raise AxisError(f"An axis was given twice in {axis!r}.")
            return tuple(sorted(found))
        return (am.numpy_index(axis),)

    def _single_axis(self, axis: Any, what: str) -> int:
        axes = self._numpy_axes(axis)
        if len(axes) != 1:
            raise AxisError(f"{what} works along one axis; got {len(axes)} axes from {axis!r}.")
        return axes[0]

    def _without_axes(self, data, removed: tuple[int, ...]):
        """A new signal from ``data`` with the ``removed`` numpy axes dropped."""
        axes = [a.copy() for i, a in enumerate(self.axes_manager._axes) if i not in removed]
        return self._new_like(data, axes)

    def _operand(self, rechunk: Any, whole: tuple[int, ...], what: str):
        """The data to operate on, rechunked first as ``rechunk`` asks (HyperSpy's meaning).

        ``False``: as they are. ``True``/``"auto"``: the ``whole`` numpy axes in one chunk
        (other axes keep their chunks unless blocks would outgrow twice
        ``preferences.chunk_target_bytes``). ``"dask_auto"``: dask's automatic chunks. A
        tuple: those chunks. In-memory data have no chunks: any other value than False raises.
        """
        data = self.data
        if rechunk is False or rechunk is None:
            return data
        if not self.lazy:
            raise UnsupportedOptionError(
                f"{what}: rechunk={rechunk!r} rechunks lazy data before the operation; this signal "
                "is in memory (no chunks). Leave rechunk=False, or use s.as_lazy(chunks=...) first.")
        if rechunk is True or rechunk == "auto":
            chunks: Any = {i: -1 for i in whole}
            biggest = np.prod([data.shape[i] if i in whole else max(c) for i, c in enumerate(data.chunks)])
            if biggest * data.dtype.itemsize > 2 * preferences.chunk_target_bytes:
                chunks = {i: -1 if i in whole else "auto" for i in range(data.ndim)}
            return data.rechunk(chunks, block_size_limit=preferences.chunk_target_bytes)
        if rechunk == "dask_auto":
            return data.rechunk("auto")
        if isinstance(rechunk, tuple):
            try:
                return data.rechunk(rechunk)
            except ValueError as exc:
                raise ChunksError(f"{what}: rechunk={rechunk!r} does not fit data of shape "
                                  f"{data.shape}: {exc}") from exc
        raise ChunksError(f"{what}: rechunk must be False, True, 'auto', 'dask_auto' or a tuple of "
                          f"chunks; got {rechunk!r}.")

    @staticmethod
    def _deliver(result, out):
        """Return ``result``, or write it into ``out`` (firing its ``data_changed``) and return None."""
        if out is None:
            return result
        out._receive(result.data)
        return None

    def _reduce(self, name: str, axis: Any, out=None, rechunk: Any = False):
        axes = self._numpy_axes(axis)
        data = self._operand(rechunk, axes, name)
        if not axes:
            result = self.deepcopy()
        else:
            result = self._without_axes(array_ops.reduce(name, data, axes), axes)
        return self._deliver(result, out)

    # -- arg-reductions ----------------------------------------------------------------
    def _arg(self, name: str, axis: Any, values: bool, out, rechunk: Any, what: str):
        index = self._single_axis(axis, what)
        data = array_ops.arg_reduce(name, self._operand(rechunk, (index,), what), index)
        if values:
            axis_values = self.axes_manager._axes[index].axis
            data = axis_values[data] if not self.lazy else data.map_blocks(
                lambda b: axis_values[b], dtype=axis_values.dtype)
        return self._deliver(self._without_axes(data, (index,)), out)

    def indexmax(self, axis: Any, out=None, rechunk: Any = False):
        """Index of the maximum along one axis (NaNs ignored).

        Parameters
        ----------
        axis
            One axis: an index, a name or a DataAxis.
        out
            A signal shaped like the result to receive it (written into its array when both
            are in memory, as HyperSpy does; its ``data_changed`` fires); None is returned.
        rechunk
            Lazy data only: ``True``/``"auto"`` puts the axis in one chunk first,
            ``"dask_auto"`` uses dask's automatic chunks, a tuple gives the chunks. Any other
            value than False on in-memory data raises ``UnsupportedOptionError``.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> Signal1D(np.array([[0., 3., 1.], [5., 0., 0.]])).indexmax(-1).data
        array([1, 0])
        """
        return self._arg("nanargmax", axis, False, out, rechunk, "indexmax")

    def indexmin(self, axis: Any, out=None, rechunk: Any = False):
        """Index of the minimum along one axis (NaNs ignored); ``out``, ``rechunk`` as :meth:`indexmax`."""
        return self._arg("nanargmin", axis, False, out, rechunk, "indexmin")

    def valuemax(self, axis: Any, out=None, rechunk: Any = False):
        """Calibrated axis value at the maximum along one axis; ``out``, ``rechunk`` as :meth:`indexmax`.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.array([[0., 3., 1.], [5., 0., 0.]])); s.axes_manager[-1].scale = 0.5
        >>> out = s.valuemax(-1); s.isig[2] = 9.0; s.valuemax(-1, out=out); out.data
        array([1., 1.])
        """
        return self._arg("nanargmax", axis, True, out, rechunk, "valuemax")

    def valuemin(self, axis: Any, out=None, rechunk: Any = False):
        """Calibrated axis value at the minimum along one axis; ``out``, ``rechunk`` as :meth:`indexmax`."""
        return self._arg("nanargmin", axis, True, out, rechunk, "valuemin")

    # -- integrals and differences ----------------------------------------------------
    def integrate1D(self, axis: Any, out=None, rechunk: Any = False):
        """Integral along one axis: a sum when the axis is binned, Simpson's rule otherwise.

        ``out`` and ``rechunk`` as in :meth:`indexmax`.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.ones(11)); s.axes_manager[0].scale = 0.1
        >>> round(float(s.integrate1D(0).data[0]), 12)
        1.0
        """
        index = self._single_axis(axis, "integrate1D")
        data_axis = self.axes_manager._axes[index]
        operand = self._operand(rechunk, (index,), "integrate1D")
        if data_axis.is_binned:
            data = array_ops.reduce("sum", operand, (index,))
        else:
            data = array_ops.integrate_simpson(operand, index, data_axis.axis)
        return self._deliver(self._without_axes(data, (index,)), out)

    def diff(self, axis: Any, order: int = 1, out=None, rechunk: Any = False):
        """``order``-th discrete difference along one axis; the axis loses ``order`` points.

        ``out`` and ``rechunk`` as in :meth:`indexmax`.

        The axis offset moves by half a step per order, so values sit between the samples.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> d = Signal1D(np.array([0., 1., 4., 9.])).diff(-1)
        >>> d.data, d.axes_manager[-1].offset
        (array([1., 3., 5.]), 0.5)
        """
        index = self._single_axis(axis, "diff")
        operand = self._operand(rechunk, (index,), "diff")
        data = array_ops.array_module(operand).diff(operand, n=order, axis=index)
        axes = [a.copy() for a in self.axes_manager._axes]
        old = axes[index]
        if old.is_uniform:
            assert old.scale is not None and old.offset is not None  # uniform: both set
            new = DataAxis(size=old.size - order, name=old.name, units=old.units, scale=old.scale,
                           offset=old.offset + order * old.scale / 2, navigate=old.navigate,
                           is_binned=old.is_binned)
        else:
            values = old.axis
            for _ in range(order):
                values = (values[1:] + values[:-1]) / 2
            new = DataAxis(axis=values, name=old.name, units=old.units, navigate=old.navigate,
                           is_binned=old.is_binned)
        axes[index] = new
        return self._deliver(self._new_like(data, axes), out)

    def derivative(self, axis: Any, order: int = 1, out=None, **kwargs):
        """``order``-th derivative along one axis against its calibrated values (numpy.gradient).

        Lazy data are rechunked so the axis is in one chunk (the gradient needs all of it).

        Parameters
        ----------
        axis
            One axis: an index, a name or a DataAxis.
        order
            How many times to differentiate.
        out
            As in :meth:`indexmax`.
        **kwargs
            Passed to :func:`numpy.gradient`: ``edge_order`` (1 or 2). Anything else raises
            ``UnsupportedOptionError`` (``rechunk`` too: HyperSpy ignores it since 1.7).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.arange(5.0) ** 2)
        >>> s.derivative(-1).data
        array([1., 2., 4., 6., 7.])
        """
        check_method_options(kwargs, ["edge_order"], where="derivative",
                             hint="Other numpy.gradient options do not apply: the axis and its "
                                  "calibrated values are given by the signal.")
        index = self._single_axis(axis, "derivative")
        coordinates = self.axes_manager._axes[index].axis
        data = array_ops.gradient(self.data, index, coordinates, order, **kwargs)
        return self._deliver(self._new_like(data), out)


def _make_reduction(name: str):
    verb = {"sum": "Sum", "mean": "Mean", "max": "Maximum", "min": "Minimum",
            "std": "Standard deviation", "var": "Variance"}[name.removeprefix("nan")]
    nan = " ignoring NaNs" if name.startswith("nan") else ""

    def method(self, axis: Any = None, out=None, rechunk: Any = False):
        return self._reduce(name, axis, out=out, rechunk=rechunk)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"""{verb} over ``axis``{nan} (default: the navigation axes).

    Parameters
    ----------
    axis
        An index, a name, a DataAxis, a tuple of those, ``"navigation"``, ``"signal"`` or
        ``axes_manager.signal_axes``.
    out
        A signal shaped like the result to receive it (written into its array when both are
        in memory, as HyperSpy does; its ``data_changed`` fires); None is returned.
    rechunk
        Lazy data only: ``True``/``"auto"`` puts the reduced axes in one chunk first,
        ``"dask_auto"`` uses dask's automatic chunks, a tuple gives the chunks; any other value
        than False on in-memory data raises ``UnsupportedOptionError``.

    Returns
    -------
    BaseSignal
        The signal without the reduced axes (lazy if this one is).

    Examples
    --------
    >>> import numpy as np
    >>> from lazysignal.signals import Signal1D
    >>> Signal1D(np.ones((2, 3, 4))).{name}(axis="signal")
    <BaseSignal, title: , dimensions: (3, 2|)>
    """
    return method


for _name in array_ops.REDUCTIONS:
    setattr(ReductionsMixin, _name, _make_reduction(_name))
del _name
