"""Axes: calibrated coordinates of each array dimension, and the manager that orders them.

A :class:`DataAxis` is uniform (``offset + scale * index``) or non-uniform (explicit ``axis``
values). The :class:`AxesManager` keeps them in numpy order internally and shows them in the
user's order (x first): numpy shape is ``(*reversed(navigation), *reversed(signal))``.
"""

from __future__ import annotations

import math
import weakref
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np

from .errors import AxisError, AxisIndexError
from .events import Event, Events

__all__ = ["DataAxis", "AxesManager", "Shape", "AxisEvents", "AxesManagerEvents"]

_UNDEFINED = "<undefined>"


class AxisEvents(Events):
    """The events of one :class:`DataAxis`."""

    index_changed: Event
    value_changed: Event
    any_axis_changed: Event


class AxesManagerEvents(Events):
    """The events of an :class:`AxesManager`."""

    indices_changed: Event
    any_axis_changed: Event


class DataAxis:
    """One axis of a signal.

    Parameters
    ----------
    size
        Number of points (ignored when ``axis`` is given).
    name, units
        Label and physical unit.
    scale, offset
        Calibration of a uniform axis: value = offset + scale * index.
    axis
        Explicit values of a non-uniform axis (1-D, monotonic).
    navigate
        Whether the axis is a navigation (True) or signal (False) axis.
    is_binned
        Whether values are counts per bin (sums scale by the bin width in integrate1D).

    Examples
    --------
    >>> ax = DataAxis(size=992, name="Energy", units="keV", scale=0.01, offset=-0.1)
    >>> ax.value2index(6.3), round(ax.index2value(640), 6)
    (640, 6.3)
    >>> DataAxis(axis=[0.0, 1.0, 4.0], name="t").value2index(3.1)
    2
    """

    def __init__(
        self,
        size: int | None = None,
        *,
        name: str | None = None,
        units: str | None = None,
        scale: float = 1.0,
        offset: float = 0.0,
        axis: Sequence[float] | np.ndarray | None = None,
        navigate: bool = True,
        is_binned: bool = False,
    ):
        # Private fields are set directly: axes are built often and have no listeners yet.
        self._name = name if name not in (None, _UNDEFINED) else None
        self._units = units if units not in (None, _UNDEFINED) else None
        self._navigate = bool(navigate)
        self._is_binned = bool(is_binned)
        self._index = 0
        self._events: AxisEvents | None = None
        self._manager: Any = None  # a weak reference to the AxesManager holding this axis
        if axis is not None:
            values = np.asarray(axis, dtype=float)
            if values.ndim != 1:
                raise AxisError(f"Axis {self._label()}: values must be 1-D, got shape {values.shape}.")
            self._values: np.ndarray | None = values
            self._size = values.size
            self._scale: float | None = None
            self._offset: float | None = None
        else:
            if size is None or int(size) < 0:
                raise AxisError(f"Axis {self._label()}: give a non-negative size or axis values.")
            self._values = None
            self._size = int(size)
            self._scale = float(scale)
            self._offset = float(offset)

    # -- events ------------------------------------------------------------------
    @property
    def events(self) -> AxisEvents:
        """``index_changed(obj, index)``, ``value_changed(obj, value)``, ``any_axis_changed(obj)``.

        Created on first use (an axis nobody listens to pays nothing); copies start without
        listeners.

        Examples
        --------
        >>> ax = DataAxis(size=10, scale=0.5)
        >>> ax.events.value_changed.connect(lambda value: print("value", value), kwargs="auto")
        >>> ax.index = 4
        value 2.0
        """
        if self._events is None:
            events = AxisEvents()
            events.index_changed = Event("The axis' index changed.", arguments=["obj", "index"])
            events.value_changed = Event("The axis' calibrated value changed.", arguments=["obj", "value"])
            events.any_axis_changed = Event("A calibration attribute of the axis changed.",
                                            arguments=["obj"])
            self._events = events
        return self._events

    def _owner(self) -> "AxesManager | None":
        return self._manager() if self._manager is not None else None

    def _calibration_changed(self) -> None:
        if self._index >= self._size:
            self._index = max(self._size - 1, 0)
        if self._events is not None:
            self._events.any_axis_changed.trigger(obj=self)
        manager = self._owner()
        if manager is not None:
            manager._axis_changed()

    def _set_calibration(self, field: str, value: Any) -> None:
        if getattr(self, field) == value:
            return
        setattr(self, field, value)
        self._calibration_changed()

    @property
    def name(self) -> str | None:
        """Label of the axis (None when undefined); setting it fires ``any_axis_changed``."""
        return self._name

    @name.setter
    def name(self, value: str | None) -> None:
        self._set_calibration("_name", value if value not in (None, _UNDEFINED) else None)

    @property
    def units(self) -> str | None:
        """Physical unit (None when undefined); setting it fires ``any_axis_changed``."""
        return self._units

    @units.setter
    def units(self, value: str | None) -> None:
        self._set_calibration("_units", value if value not in (None, _UNDEFINED) else None)

    @property
    def scale(self) -> float | None:
        """Step of a uniform axis (None for a non-uniform one); setting it fires ``any_axis_changed``."""
        return self._scale

    @scale.setter
    def scale(self, value: float | None) -> None:
        self._set_calibration("_scale", None if value is None else float(value))

    @property
    def offset(self) -> float | None:
        """Value at index 0 of a uniform axis; setting it fires ``any_axis_changed``."""
        return self._offset

    @offset.setter
    def offset(self, value: float | None) -> None:
        self._set_calibration("_offset", None if value is None else float(value))

    @property
    def size(self) -> int:
        """Number of points; setting it fires ``any_axis_changed``."""
        return self._size

    @size.setter
    def size(self, value: int) -> None:
        self._set_calibration("_size", int(value))

    @property
    def navigate(self) -> bool:
        """Whether this is a navigation axis; setting it fires ``any_axis_changed``."""
        return self._navigate

    @navigate.setter
    def navigate(self, value: bool) -> None:
        self._set_calibration("_navigate", bool(value))

    @property
    def is_binned(self) -> bool:
        """Whether values are counts per bin; setting it fires ``any_axis_changed``."""
        return self._is_binned

    @is_binned.setter
    def is_binned(self, value: bool) -> None:
        self._set_calibration("_is_binned", bool(value))

    # -- position ----------------------------------------------------------------
    @property
    def index(self) -> int:
        """The current position on this axis (0 by default).

        Setting it fires ``index_changed`` and ``value_changed`` (and the manager's
        ``indices_changed`` for a navigation axis) when it changes.

        Raises
        ------
        AxisIndexError
            For an index outside ``0 .. size - 1`` (nothing is clamped).

        Examples
        --------
        >>> ax = DataAxis(size=5, scale=2.0)
        >>> ax.index = 3; ax.index, ax.value
        (3, 6.0)
        """
        return self._index

    @index.setter
    def index(self, value: int) -> None:
        if self._set_index(value):
            manager = self._owner()
            if manager is not None and self._navigate:
                manager._indices_changed()

    def _set_index(self, value: Any) -> bool:
        """Set the index (validated), fire this axis' events; whether it changed."""
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
            raise AxisIndexError(f"Axis {self._label()}: an index must be an int, got {value!r}.")
        index = int(value)
        if not 0 <= index < self._size:
            raise AxisIndexError(f"Index {index} is outside axis {self._label()}: {self._range_text()}.")
        if index == self._index:
            return False
        self._index = index
        if self._events is not None:
            self._events.index_changed.trigger(obj=self, index=index)
            self._events.value_changed.trigger(obj=self, value=self.value)
        return True

    @property
    def value(self) -> float:
        """The calibrated value at :attr:`index`; setting it moves to the nearest index.

        Examples
        --------
        >>> ax = DataAxis(size=5, scale=2.0)
        >>> ax.value = 4.9; ax.index
        2
        """
        return float(self.index2value(self._index))

    @value.setter
    def value(self, value: float) -> None:
        self.index = int(self.value2index(value))

    # -- pickling -----------------------------------------------------------------
    def __getstate__(self) -> dict[str, Any]:
        # Listeners (and the owning manager) are not part of an axis' value.
        state = self.__dict__.copy()
        state["_events"] = None
        state["_manager"] = None
        return state

    # -- construction and copies -------------------------------------------------
    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> "DataAxis":
        """Build from a reader's axis dictionary (``size/scale/offset`` or ``axis``)."""
        if isinstance(d, DataAxis):
            return d.copy()
        keys = ("name", "units", "navigate", "is_binned")
        kwargs = {k: d[k] for k in keys if k in d and d[k] is not None}
        if d.get("axis") is not None:
            return cls(axis=d["axis"], **kwargs)
        return cls(
            size=d["size"], scale=d.get("scale", 1.0) or 1.0, offset=d.get("offset", 0.0) or 0.0,
            **kwargs,
        )

    def to_dict(self) -> dict[str, Any]:
        """A reader-style axis dictionary (inverse of :meth:`from_dict`)."""
        d: dict[str, Any] = {
            "_type": "UniformDataAxis" if self.is_uniform else "DataAxis",
            "name": self.name, "units": self.units, "navigate": self.navigate,
            "is_binned": self.is_binned, "size": self.size,
        }
        if self.is_uniform:
            d.update(scale=self.scale, offset=self.offset)
        else:
            d["axis"] = self._points().copy()
        return d

    def copy(self) -> "DataAxis":
        """An independent copy, at index 0, with no listeners (axes are copied often: no dict round trip)."""
        cls = type(self)
        new = cls.__new__(cls)
        new.__dict__.update(self.__dict__)
        new._index, new._events, new._manager = 0, None, None
        if self._values is not None:
            new._values = self._values.copy()
        return new

    __copy__ = copy

    def __deepcopy__(self, memo) -> "DataAxis":
        return self.copy()

    # -- values ---------------------------------------------------------------
    @property
    def is_uniform(self) -> bool:
        return self._values is None

    def _uniform(self) -> tuple[float, float]:
        """``(scale, offset)`` of a uniform axis (both are set whenever ``_values`` is None)."""
        assert self._scale is not None and self._offset is not None, "a uniform axis has both"
        return self._scale, self._offset

    def _points(self) -> np.ndarray:
        """The values of a non-uniform axis."""
        assert self._values is not None, "a non-uniform axis has its values"
        return self._values

    @property
    def axis(self) -> np.ndarray:
        """The calibrated value of every index."""
        if self._values is not None:
            return self._values
        scale, offset = self._uniform()
        return offset + scale * np.arange(self.size)

    @property
    def low_value(self) -> float:
        return float(self.axis.min()) if self.size else math.nan

    @property
    def high_value(self) -> float:
        return float(self.axis.max()) if self.size else math.nan

    def _label(self) -> str:
        return repr(self.name) if self.name else "(unnamed)"

    def _range_text(self) -> str:
        if not self.size:
            return "it is empty"
        return (f"valid indices 0..{self.size - 1}, values {self.low_value:g}..{self.high_value:g}"
                f"{' ' + self.units if self.units else ''}")

    def value2index(self, value: float | np.ndarray, rounding=round) -> int | np.ndarray:
        """The index nearest to a calibrated ``value`` (``rounding`` may be math.floor/ceil).

        Raises
        ------
        AxisIndexError
            When the value lies outside the axis, naming the axis and its range.
        """
        if isinstance(value, np.ndarray) and value.ndim:
            return np.array([self.value2index(v, rounding) for v in value.ravel()]).reshape(value.shape)
        value = float(value)
        if self.is_uniform:
            scale, offset = self._uniform()
            position = (value - offset) / scale if scale else 0.0
            # A value that is one ulp off a grid point must not move to the next index.
            near = round(position)
            position = near if abs(position - near) < 1e-9 * max(1.0, abs(near)) else position
            index = int(rounding(position))
        else:
            values = self._points()
            index = int(np.argmin(np.abs(values - value)))
            if rounding is math.floor and values[index] > value and index > 0:
                index -= 1
            elif rounding is math.ceil and values[index] < value and index < self.size - 1:
                index += 1
            half = _half_step(values, index)
            if abs(values[index] - value) > half:
                index = -1
        if not 0 <= index < self.size:
            raise AxisIndexError(
                f"Value {value:g} is outside axis {self._label()}: {self._range_text()}."
            )
        return index

    def index2value(self, index: int | np.ndarray) -> float | np.ndarray:
        """The calibrated value at ``index``."""
        if isinstance(index, np.ndarray):
            return self.axis[index]
        index = self._check_index(int(index))
        if self.is_uniform:
            scale, offset = self._uniform()
            return offset + scale * index
        return float(self._points()[index])

    def _check_index(self, index: int) -> int:
        if not -self.size <= index < self.size:
            raise AxisIndexError(f"Index {index} is outside axis {self._label()}: {self._range_text()}.")
        return index % self.size

    # -- slicing ---------------------------------------------------------------
    def _slice_bound(self, bound: int | float | None, *, is_stop: bool) -> int | None:
        if bound is None or isinstance(bound, (int, np.integer)):
            return None if bound is None else int(bound)
        value = float(bound)
        if self.size and self.is_uniform and is_stop:
            # A stop up to one step past the last value means "to the end".
            scale, offset = self._uniform()
            end = offset + scale * self.size
            if scale > 0 and self.high_value < value <= end + abs(scale) * 1e-9:
                return self.size
        return int(self.value2index(value))  # a float gives one index

    def index_slice(self, key: slice) -> slice:
        """Translate a slice of ints and/or calibrated floats into an integer slice."""
        step = key.step
        if step is not None and not isinstance(step, (int, np.integer)):
            if not self.is_uniform:
                raise AxisError(f"Axis {self._label()}: a float step needs a uniform axis.")
            step = max(1, int(round(float(step) / abs(self._uniform()[0]))))
        # Integer bounds are clipped as numpy clips them; float bounds must lie on the axis.
        start = self._slice_bound(key.start, is_stop=False)
        stop = self._slice_bound(key.stop, is_stop=True)
        return slice(start, stop, step)

    def sliced(self, key: slice) -> "DataAxis":
        """A new axis for ``self[key]`` with offset and scale following the slice."""
        indices = range(self.size)[key]
        new = self.copy()  # a fresh axis: nobody listens, so private fields are set directly
        if self.is_uniform:
            scale, offset = self._uniform()
            new._size = len(indices)
            if len(indices):
                new._offset = offset + scale * indices.start
            new._scale = scale * indices.step
        else:
            new._values = self._points()[key].copy()
            new._size = new._values.size
        return new

    def __repr__(self) -> str:
        kind = "DataAxis" if self.is_uniform else "NonUniformDataAxis"
        return f"<{kind} {self.name or _UNDEFINED}, size: {self.size}{', navigate' if self.navigate else ''}>"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, DataAxis):
            return NotImplemented
        same = (self.name, self.units, self.navigate, self.size, self.is_uniform) == (
            other.name, other.units, other.navigate, other.size, other.is_uniform)
        if not same:
            return False
        if self.is_uniform:  # (and other too: compared above)
            (scale, offset), (other_scale, other_offset) = self._uniform(), other._uniform()
            return math.isclose(scale, other_scale, rel_tol=1e-9, abs_tol=1e-12) and math.isclose(
                offset, other_offset, rel_tol=1e-9, abs_tol=1e-12)
        return bool(np.allclose(self._points(), other._points()))

    # typeshed types object.__hash__ as a method; None is how Python marks a class unhashable.
    __hash__ = None  # type: ignore[assignment]  # mutable


def _half_step(values: np.ndarray, index: int) -> float:
    """Half the distance to the nearer neighbour, the tolerance for a non-uniform lookup."""
    if values.size < 2:
        return math.inf
    left = abs(values[index] - values[index - 1]) if index > 0 else math.inf
    right = abs(values[index + 1] - values[index]) if index < values.size - 1 else math.inf
    return max(min(left, right), 0.0) * 0.5 + 1e-12 if min(left, right) < math.inf else math.inf


class Shape:
    """A (navigation | signal) shape in the user's order, with numpy conversions.

    Examples
    --------
    >>> sh = Shape(nav=(512, 256), sig=(992,))
    >>> sh.numpy, str(sh)
    ((256, 512, 992), '(512, 256|992)')
    >>> Shape.from_numpy((4, 3, 100), signal_dimension=1).nav
    (3, 4)
    """

    def __init__(self, nav: Sequence[int], sig: Sequence[int]):
        self.nav = tuple(int(n) for n in nav)
        self.sig = tuple(int(n) for n in sig)

    @classmethod
    def from_numpy(cls, shape: Sequence[int], signal_dimension: int) -> "Shape":
        split = len(shape) - signal_dimension
        return cls(tuple(reversed(shape[:split])), tuple(reversed(shape[split:])))

    @property
    def numpy(self) -> tuple[int, ...]:
        return (*reversed(self.nav), *reversed(self.sig))

    def __str__(self) -> str:
        return f"({', '.join(map(str, self.nav))}|{', '.join(map(str, self.sig))})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Shape) and (self.nav, self.sig) == (other.nav, other.sig)


class AxesManager:
    """The axes of one signal, navigation axes before signal axes in numpy order.

    Parameters
    ----------
    axes
        :class:`DataAxis` objects or axis dictionaries in numpy order; navigation axes must
        come first (the signal classes transpose data to ensure that).

    Examples
    --------
    >>> am = AxesManager([{"size": 4, "name": "y"}, {"size": 5, "name": "x"},
    ...                   {"size": 992, "name": "Energy", "navigate": False}])
    >>> am.navigation_shape, am.signal_shape, am.navigation_size
    ((5, 4), (992,), 20)
    >>> am["Energy"].size, am[0].name
    (992, 'x')
    """

    def __init__(self, axes: Iterable[DataAxis | Mapping[str, Any]]):
        self._events: AxesManagerEvents | None = None
        self._axes: list[DataAxis] = _checked_axes(axes)
        self._link(self._axes)

    def _link(self, axes: Iterable[DataAxis]) -> None:
        # A weak reference: an axis must not keep a dropped signal's manager alive.
        ref = weakref.ref(self)
        for axis in axes:
            axis._manager = ref

    # -- events ------------------------------------------------------------------
    @property
    def events(self) -> AxesManagerEvents:
        """``indices_changed(obj)`` and ``any_axis_changed(obj)``, fired once per change.

        ``indices_changed``: the navigation position moved (:attr:`indices`, :attr:`coordinates`
        or one axis' ``index``). ``any_axis_changed``: an axis' calibration changed, or the axes
        were replaced (by an in-place operation).

        Examples
        --------
        >>> am = AxesManager([{"size": 4, "name": "x"}, {"size": 3, "navigate": False}])
        >>> am.events.indices_changed.connect(lambda obj: print("moved to", obj.indices))
        >>> am.indices = (2,)
        moved to (2,)
        """
        if self._events is None:
            events = AxesManagerEvents()
            events.indices_changed = Event("The navigation position changed.", arguments=["obj"])
            events.any_axis_changed = Event("An axis' calibration changed, or the axes were replaced.",
                                            arguments=["obj"])
            self._events = events
        return self._events

    def _axis_changed(self) -> None:
        if self._events is not None:
            self._events.any_axis_changed.trigger(obj=self)

    def _indices_changed(self) -> None:
        if self._events is not None:
            self._events.indices_changed.trigger(obj=self)

    def _replace_axes(self, axes: list[DataAxis]) -> None:
        """Swap in ``axes`` (numpy order, already checked), keeping this object and its listeners.

        Axes equal to the ones they replace are kept (with their listeners and index); fires
        ``any_axis_changed`` once when any axis differs, and ``indices_changed`` once when the
        navigation position moved.
        """
        old = self._axes
        before = self.indices
        kept = [old[i] if i < len(old) and old[i] == n else n for i, n in enumerate(axes)]
        changed = len(old) != len(kept) or any(k is not o for k, o in zip(kept, old))
        if not changed:
            return
        for axis in old:
            if axis._owner() is self and not any(axis is k for k in kept):
                axis._manager = None
        self._axes = kept
        self._link(kept)
        self._axis_changed()
        if self.indices != before:
            self._indices_changed()

    # -- navigation position ------------------------------------------------------
    @property
    def indices(self) -> tuple[int, ...]:
        """The navigation position, one index per navigation axis in the user's order (x first).

        Setting it (a tuple of the same length) fires ``indices_changed`` once.

        Examples
        --------
        >>> am = AxesManager([{"size": 4, "name": "y"}, {"size": 5, "name": "x"},
        ...                   {"size": 10, "navigate": False}])
        >>> am.indices = (4, 1); am.indices, am["x"].index, am["y"].index
        ((4, 1), 4, 1)
        """
        return tuple(a._index for a in self.navigation_axes)

    @indices.setter
    def indices(self, indices: Sequence[int]) -> None:
        axes = self.navigation_axes
        indices = tuple(indices)
        if len(indices) != len(axes):
            raise AxisError(f"indices needs {len(axes)} values (one per navigation axis, x first); "
                            f"got {len(indices)}: {indices!r}.")
        for axis, index in zip(axes, indices):  # validate all before moving any
            if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or \
                    not 0 <= index < axis.size:
                raise AxisIndexError(f"Index {index!r} is outside axis {axis._label()}: "
                                     f"{axis._range_text()}.")
        moved = [axis._set_index(index) for axis, index in zip(axes, indices)]
        if any(moved):
            self._indices_changed()

    @property
    def coordinates(self) -> tuple[float, ...]:
        """The navigation position in calibrated values (user's order); setting it moves to the
        nearest indices and fires ``indices_changed`` once.

        Examples
        --------
        >>> am = AxesManager([{"size": 5, "name": "x", "scale": 0.5}, {"size": 3, "navigate": False}])
        >>> am.coordinates = (1.1,); am.indices, am.coordinates
        ((2,), (1.0,))
        """
        return tuple(a.value for a in self.navigation_axes)

    @coordinates.setter
    def coordinates(self, coordinates: Sequence[float]) -> None:
        axes = self.navigation_axes
        coordinates = tuple(coordinates)
        if len(coordinates) != len(axes):
            raise AxisError(f"coordinates needs {len(axes)} values (one per navigation axis, x first); "
                            f"got {len(coordinates)}: {coordinates!r}.")
        self.indices = tuple(int(a.value2index(c)) for a, c in zip(axes, coordinates))

    # -- views ---------------------------------------------------------------
    @property
    def navigation_axes(self) -> tuple[DataAxis, ...]:
        """Navigation axes in the user's order (x first)."""
        return tuple(reversed([a for a in self._axes if a.navigate]))

    @property
    def signal_axes(self) -> tuple[DataAxis, ...]:
        """Signal axes in the user's order."""
        return tuple(reversed([a for a in self._axes if not a.navigate]))

    @property
    def navigation_shape(self) -> tuple[int, ...]:
        return tuple(a.size for a in self.navigation_axes)

    @property
    def signal_shape(self) -> tuple[int, ...]:
        return tuple(a.size for a in self.signal_axes)

    @property
    def shape(self) -> tuple[int, ...]:
        return self.navigation_shape + self.signal_shape

    @property
    def navigation_dimension(self) -> int:
        return len(self.navigation_axes)

    @property
    def signal_dimension(self) -> int:
        return len(self.signal_axes)

    @property
    def navigation_size(self) -> int:
        """Number of navigation positions (0 when there is no navigation axis, as HyperSpy)."""
        return int(np.prod(self.navigation_shape)) if self.navigation_shape else 0

    @property
    def signal_size(self) -> int:
        return int(np.prod(self.signal_shape)) if self.signal_shape else 0

    @property
    def dimensions(self) -> Shape:
        return Shape(self.navigation_shape, self.signal_shape)

    def _get_axes_in_natural_order(self) -> tuple[DataAxis, ...]:
        return self.navigation_axes + self.signal_axes

    # -- lookup ----------------------------------------------------------------
    def __iter__(self):
        return iter(self._get_axes_in_natural_order())

    def __len__(self) -> int:
        return len(self._axes)

    def __getitem__(self, key: int | str | DataAxis) -> DataAxis:
        return self._axes[self.numpy_index(key)]

    def numpy_index(self, key: int | np.integer | str | DataAxis) -> int:
        """Numpy axis number of an axis given by natural-order index, name or object."""
        if isinstance(key, DataAxis):
            for i, axis in enumerate(self._axes):
                if axis is key:
                    return i
            for i, axis in enumerate(self._axes):
                if axis == key:
                    return i
            raise AxisError(f"{key!r} is not an axis of this signal. Axes: {self._names_text()}.")
        if isinstance(key, str):
            matches = [i for i, a in enumerate(self._axes) if a.name == key]
            if not matches:
                raise AxisError(f"No axis named {key!r}. Axes: {self._names_text()}.")
            return matches[0]
        if isinstance(key, (int, np.integer)):
            natural = self._get_axes_in_natural_order()
            if not -len(natural) <= key < len(natural):
                raise AxisError(
                    f"Axis index {key} is out of range for a signal with {len(natural)} axes "
                    f"({self._names_text()})."
                )
            return self.numpy_index(natural[key])
        raise AxisError(
            f"Cannot use {key!r} ({type(key).__name__}) as an axis: use an index, a name or a DataAxis."
        )

    def _names_text(self) -> str:
        names = [f"{a.name or '<unnamed>'} ({'nav' if a.navigate else 'sig'}, {a.size})"
                 for a in self._get_axes_in_natural_order()]
        return ", ".join(names) or "none"

    def copy(self) -> "AxesManager":
        return AxesManager([a.copy() for a in self._axes])

    def __deepcopy__(self, memo) -> "AxesManager":
        return self.copy()

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_events"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._link(self._axes)

    def as_dicts(self) -> list[dict[str, Any]]:
        """Axis dictionaries in numpy order (what writers take)."""
        return [a.to_dict() for a in self._axes]

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, AxesManager):
            return NotImplemented
        return self._axes == other._axes

    __hash__ = None  # type: ignore[assignment]  # unhashable (mutable), as DataAxis

    # -- display ---------------------------------------------------------------
    def __repr__(self) -> str:
        head = f"<Axes manager, axes: {self.dimensions}>"
        cols = ("Name", "size", "offset", "scale", "units")
        rows = []
        for axis in self.navigation_axes:
            rows.append(_axis_row(axis))
        sig_rows = [_axis_row(axis) for axis in self.signal_axes]
        widths = [max([len(c)] + [len(r[i]) for r in rows + sig_rows]) for i, c in enumerate(cols)]
        fmt = " | ".join(f"{{:>{w}}}" for w in widths)
        lines = [head, fmt.format(*cols), " | ".join("=" * w for w in widths)]
        lines += [fmt.format(*r) for r in rows]
        lines.append(" | ".join("-" * w for w in widths))
        lines += [fmt.format(*r) for r in sig_rows]
        return "\n".join(lines)


def _checked_axes(axes: Iterable[DataAxis | Mapping[str, Any]]) -> list[DataAxis]:
    """DataAxis objects (dicts converted) whose navigation axes come first."""
    checked = [a if isinstance(a, DataAxis) else DataAxis.from_dict(a) for a in axes]
    flags = [a.navigate for a in checked]
    if flags != sorted(flags, reverse=True):
        raise AxisError(
            "Navigation axes must come before signal axes in numpy order; got navigate flags "
            f"{flags}. Transpose the data (s.transpose) instead of reordering axes."
        )
    return checked


def _axis_row(axis: DataAxis) -> tuple[str, ...]:
    if axis.is_uniform:
        offset, scale = f"{axis.offset:.4g}", f"{axis.scale:.4g}"
    else:
        offset, scale = "non-uniform", ""
    return (axis.name or _UNDEFINED, str(axis.size), offset, scale, axis.units or _UNDEFINED)
