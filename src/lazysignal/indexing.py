"""``inav`` and ``isig``: numpy-style indexing of navigation or signal axes.

An int is an index, a float a calibrated value; slices may mix both and take steps.
Integer indices remove the axis, slices keep it with offset and scale following.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .errors import AxisError, LazyAssignmentError
from .expressions import note_index

if TYPE_CHECKING:
    from .signal_protocol import SignalLike as _Signal
else:
    _Signal = object

__all__ = ["IndexingMixin", "SpecialSlicer"]


class SpecialSlicer:
    """The object behind ``s.inav`` / ``s.isig``.

    Examples
    --------
    >>> import numpy as np
    >>> from lazysignal.signals import Signal1D
    >>> s = Signal1D(np.zeros((4, 5, 100)))
    >>> s.axes_manager.signal_axes[0].scale = 0.1
    >>> s.inav[1:3, 0].isig[:5.0]
    <Signal1D, title: , dimensions: (2|50)>
    """

    def __init__(self, signal, navigation: bool):
        self.signal = signal
        self.navigation = navigation

    def _group(self):
        am = self.signal.axes_manager
        return am.navigation_axes if self.navigation else am.signal_axes

    def _numpy_key(self, key: Any) -> tuple[tuple, list]:
        """The numpy index tuple for ``key``, and the new axes (numpy order)."""
        am = self.signal.axes_manager
        group = self._group()
        kind = "navigation" if self.navigation else "signal"
        keys = key if isinstance(key, tuple) else (key,)
        if any(k is Ellipsis for k in keys):
            i = keys.index(Ellipsis)
            fill = len(group) - (len(keys) - 1)
            keys = keys[:i] + (slice(None),) * max(fill, 0) + keys[i + 1:]
        if len(keys) > len(group):
            raise AxisError(
                f"{len(keys)} indices were given but the signal has {len(group)} {kind} axes "
                f"(dimensions {am.dimensions})."
            )
        per_axis: dict[int, Any] = {}
        for axis, k in zip(group, keys):
            per_axis[id(axis)] = _translate(axis, k)
        index, new_axes = [], []
        for axis in am._axes:
            k = per_axis.get(id(axis), slice(None))
            index.append(k)
            if isinstance(k, slice):
                new_axes.append(axis.sliced(k))
        return tuple(index), new_axes

    def __getitem__(self, key: Any):
        index, axes = self._numpy_key(key)
        data = note_index(self.signal.data, index, self.signal.data[index])
        return self.signal._new_like(data, axes)

    def __setitem__(self, key: Any, value: Any) -> None:
        if self.signal.lazy:
            raise LazyAssignmentError(
                "Lazy (dask) data are immutable and cannot be assigned into. Build a new signal "
                "instead, e.g. s = s + 1, s = s * mask, or s.map(function); or compute() first."
            )
        index, _ = self._numpy_key(key)
        if hasattr(value, "axes_manager"):
            value = value.data
        self.signal.data[index] = value
        self.signal._replace(self.signal.data)  # fires data_changed once


def _translate(axis, key: Any):
    if isinstance(key, slice):
        return axis.index_slice(key)
    if isinstance(key, (bool, np.bool_)):
        raise AxisError(f"Cannot index axis {axis._label()} with a bool; use an int or a float.")
    if isinstance(key, (int, np.integer)):
        return axis._check_index(int(key))
    if isinstance(key, (float, np.floating)):
        return axis.value2index(float(key))
    raise AxisError(
        f"Cannot index axis {axis._label()} with {key!r} ({type(key).__name__}): use an int "
        "index, a float calibrated value, or a slice of those."
    )


class IndexingMixin(_Signal):
    """Adds ``inav`` and ``isig`` to signals."""

    @property
    def inav(self) -> SpecialSlicer:
        """Index navigation axes (x first): ints are indices, floats calibrated values."""
        return SpecialSlicer(self, navigation=True)

    @property
    def isig(self) -> SpecialSlicer:
        """Index signal axes: ints are indices, floats calibrated values."""
        return SpecialSlicer(self, navigation=False)

    def __getitem__(self, key):
        raise AxisError("Index a signal with s.inav[...] (navigation) or s.isig[...] (signal).")
