"""``stack``: join signals along a new or an existing axis, lazily when any input is lazy."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dask.array as da
import numpy as np

from .axes import DataAxis
from .errors import InvalidArgumentError, ShapeMismatchError

__all__ = ["stack"]


def stack(signals: Sequence[Any], axis: Any = None, new_axis_name: str = "stack_element",
          lazy: bool | None = None):
    """Stack signals along a new navigation axis, or concatenate along an existing axis.

    Parameters
    ----------
    signals
        Signals of equal shape (along ``axis``, the other axes must match).
    axis
        None: a new navigation axis (last in the user's order); otherwise an axis of the first
        signal (index, name or DataAxis) to concatenate along.
    new_axis_name
        Name of the new axis when ``axis`` is None.
    lazy
        Force a lazy (True) or eager (False) result; default lazy if any input is lazy.

    Examples
    --------
    >>> import numpy as np
    >>> from lazysignal.signals import Signal1D
    >>> a = Signal1D(np.zeros((3, 10))); b = Signal1D(np.ones((3, 10))).as_lazy()
    >>> stack([a, b])
    <LazySignal1D, title: , dimensions: (3, 2|10)>
    >>> stack([a, a], axis=0)
    <Signal1D, title: , dimensions: (6|10)>
    """
    signals = list(signals)
    if not signals:
        raise InvalidArgumentError("stack needs at least one signal.")
    first = signals[0]
    if lazy is None:
        lazy = any(s.lazy for s in signals)
    arrays = [s.data for s in signals]
    if lazy:
        arrays = [a if isinstance(a, da.Array) else da.from_array(a, chunks=-1) for a in arrays]
    else:
        arrays = [np.asarray(a) for a in arrays]
    xp = da if lazy else np
    axes = [a.copy() for a in first.axes_manager._axes]
    if axis is None:
        for s in signals[1:]:
            if s.data.shape != first.data.shape:
                raise ShapeMismatchError(
                    f"stack needs signals of equal dimensions; {first.axes_manager.dimensions} and "
                    f"{s.axes_manager.dimensions} differ. Pass axis= to concatenate instead."
                )
        data = xp.stack(arrays, axis=0)
        axes.insert(0, DataAxis(size=len(signals), name=new_axis_name, navigate=True))
    else:
        index = first.axes_manager.numpy_index(axis)
        for s in signals[1:]:
            a, b = list(first.data.shape), list(s.data.shape)
            a.pop(index), b.pop(index)
            if a != b or len(first.data.shape) != len(s.data.shape):
                raise ShapeMismatchError(
                    f"Cannot concatenate along axis {axes[index].name or index}: the other axes of "
                    f"{first.axes_manager.dimensions} and {s.axes_manager.dimensions} differ."
                )
        data = xp.concatenate(arrays, axis=index)
        old = axes[index]
        if old.is_uniform:
            old.size = data.shape[index]
        else:
            axes[index] = DataAxis(axis=np.concatenate([s.axes_manager._axes[index].axis for s in signals]),
                                   name=old.name, units=old.units, navigate=old.navigate)
    return first._new_like(data, axes)
