"""Reductions over axes (sum, mean, ..., indexmax, integrate1D) and differences.

The reductions are generated from one table; each takes ``axis=`` as an index, a name, a
DataAxis, a tuple of those, ``"navigation"``/``"signal"`` or ``axes_manager.signal_axes``.
The result keeps the remaining axes, as HyperSpy does.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from . import array_ops
from .axes import DataAxis
from .errors import AxisError

__all__ = ["ReductionsMixin"]

_GROUPS = {"navigation": True, "nav": True, "signal": False, "sig": False}


class ReductionsMixin:
    """Reductions and derivatives for :class:`~lazysignal.signal.BaseSignal`."""

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

    def _reduce(self, name: str, axis: Any, out=None, rechunk: bool = False):
        axes = self._numpy_axes(axis)
        if not axes:
            result = self.deepcopy()
        else:
            result = self._without_axes(array_ops.reduce(name, self.data, axes), axes)
        if out is not None:
            out.data = result.data if (out.lazy or result.lazy) else np.asarray(result.data)
            return None
        return result

    # -- arg-reductions ----------------------------------------------------------------
    def _arg(self, name: str, axis: Any, values: bool):
        index = self._single_axis(axis, name)
        data = array_ops.arg_reduce(name, self.data, index)
        if values:
            axis_values = self.axes_manager._axes[index].axis
            data = axis_values[data] if not self.lazy else data.map_blocks(
                lambda b: axis_values[b], dtype=axis_values.dtype)
        return self._without_axes(data, (index,))

    def indexmax(self, axis: Any, out=None, rechunk: bool = False):
        """Index of the maximum along one axis (NaNs ignored).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> Signal1D(np.array([[0., 3., 1.], [5., 0., 0.]])).indexmax(-1).data
        array([1, 0])
        """
        return self._arg("nanargmax", axis, values=False)

    def indexmin(self, axis: Any, out=None, rechunk: bool = False):
        """Index of the minimum along one axis (NaNs ignored)."""
        return self._arg("nanargmin", axis, values=False)

    def valuemax(self, axis: Any, out=None, rechunk: bool = False):
        """Calibrated axis value at the maximum along one axis."""
        return self._arg("nanargmax", axis, values=True)

    def valuemin(self, axis: Any, out=None, rechunk: bool = False):
        """Calibrated axis value at the minimum along one axis."""
        return self._arg("nanargmin", axis, values=True)

    # -- integrals and differences ----------------------------------------------------
    def integrate1D(self, axis: Any, out=None, rechunk: bool = False):
        """Integral along one axis: a sum when the axis is binned, Simpson's rule otherwise.

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
        if data_axis.is_binned:
            data = array_ops.reduce("sum", self.data, (index,))
        else:
            data = array_ops.integrate_simpson(self.data, index, data_axis.axis)
        return self._without_axes(data, (index,))

    def diff(self, axis: Any, order: int = 1, out=None, rechunk: bool = False):
        """``order``-th discrete difference along one axis; the axis loses ``order`` points.

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
        data = array_ops.array_module(self.data).diff(self.data, n=order, axis=index)
        axes = [a.copy() for a in self.axes_manager._axes]
        old = axes[index]
        if old.is_uniform:
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
        return self._new_like(data, axes)

    def derivative(self, axis: Any, order: int = 1, out=None, **kwargs):
        """``order``-th derivative along one axis against its calibrated values (numpy.gradient).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.arange(5.0) ** 2)
        >>> s.derivative(-1).data
        array([1., 2., 4., 6., 7.])
        """
        index = self._single_axis(axis, "derivative")
        coordinates = self.axes_manager._axes[index].axis
        return self._new_like(array_ops.gradient(self.data, index, coordinates, order))


def _make_reduction(name: str):
    verb = {"sum": "Sum", "mean": "Mean", "max": "Maximum", "min": "Minimum",
            "std": "Standard deviation", "var": "Variance"}[name.removeprefix("nan")]
    nan = " ignoring NaNs" if name.startswith("nan") else ""

    def method(self, axis: Any = None, out=None, rechunk: bool = False):
        return self._reduce(name, axis, out=out, rechunk=rechunk)

    method.__name__ = method.__qualname__ = name
    method.__doc__ = f"""{verb} over ``axis``{nan} (default: the navigation axes).

    Parameters
    ----------
    axis
        An index, a name, a DataAxis, a tuple of those, ``"navigation"``, ``"signal"`` or
        ``axes_manager.signal_axes``.
    out
        A signal to receive the result (its data are replaced).

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
