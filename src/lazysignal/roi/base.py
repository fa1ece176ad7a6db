"""BaseROI: parameters, validity, the ``changed`` event, axes choice and the hooks widgets use.

A region of interest (ROI) is a small object holding calibrated values (``left``, ``cx``,
...). Calling it on a signal returns the selected part, lazy when the signal is lazy.
Every accepted change fires ``roi.events.changed(roi=roi)`` exactly once, which is what
:func:`lazysignal.interactive` and plot widgets listen to.

Hooks for widgets (the plotting package draws them; see ``docs/roi.md``):

* ``roi.parameters`` — a dict that rebuilds the ROI (``type(roi)(**roi.parameters)``);
* ``roi.set(**values)`` — change several parameters at once, validated together, one event
  (what a dragged widget calls); ``roi.left = 3.0`` is ``roi.set(left=3.0)``;
* ``roi.events.changed`` — connect to redraw a widget when the ROI changes elsewhere;
* ``roi.add_widget(signal, axes=None, **kwargs)`` / ``roi.remove_widget(signal=None)`` —
  delegate to ``lazysignal.plot.roi_widgets`` (``add_widget(roi, signal, axes, **kwargs)``
  returning the widget, ``remove_widget(roi, widget)``) once the plotting package provides it;
* ``roi.signal_map`` — the ``(signal, widget, axes)`` triples added so far.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterator
from typing import Any

from ..errors import AxisError, ROIError
from ..events import Event, Events
from .slicing import nearest_index, range_slice

__all__ = ["BaseROI", "Parameter"]


class Parameter:
    """A calibrated ROI value: reading gives the float (or None), setting calls ``roi.set``."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, roi: Any, owner: type | None = None) -> Any:
        if roi is None:
            return self
        return roi._values[self.name]

    def __set__(self, roi: Any, value: Any) -> None:
        roi.set(**{self.name: value})


def _as_float(name: str, value: Any) -> float | None:
    if value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ROIError(f"ROI parameter {name}={value!r} is not a number; give a calibrated value "
                       "(float), or None to leave it unset.") from None
    if not math.isfinite(number):
        raise ROIError(f"ROI parameter {name}={value!r} is not finite; give a finite number.")
    return number


class BaseROI:
    """Base class of every ROI: named calibrated parameters, validity and ``events.changed``.

    Subclasses list ``_parameter_names`` (declared as :class:`Parameter` attributes), set
    ``_ndim`` (how many axes they span) and implement ``_problem`` (why a complete set of
    values is inconsistent, or None) and ``_select(signal, axes, **options)``.

    Examples
    --------
    >>> import lazysignal as ls
    >>> roi = ls.roi.SpanROI(left=2.0, right=5.0)
    >>> roi.parameters
    {'left': 2.0, 'right': 5.0}
    >>> seen = []
    >>> roi.events.changed.connect(lambda roi: seen.append(tuple(roi)))
    >>> roi.right = 6.0
    >>> seen
    [(2.0, 6.0)]
    """

    _parameter_names: tuple[str, ...] = ()
    _defaults: dict[str, float] = {}
    _ndim = 0

    def __init__(self, **values: Any):
        self._values: dict[str, Any] = {name: self._defaults.get(name) for name in self._parameter_names}
        self._changed = Event(
            "The ROI changed (fired once per change, only while the ROI is valid).",
            arguments=["roi"])
        self.events = Events()
        self.events.changed = self._changed  # type: ignore[attr-defined]
        #: (signal, widget, axes) for each widget added with :meth:`add_widget`.
        self.signal_map: list[tuple[Any, Any, tuple[Any, ...]]] = []
        self._assign(values)

    # -- parameters -------------------------------------------------------------
    @property
    def ndim(self) -> int:
        """How many axes the ROI spans."""
        return self._ndim

    @property
    def parameters(self) -> dict[str, Any]:
        """The values that define the ROI: ``type(roi)(**roi.parameters)`` rebuilds it."""
        return dict(self._values)

    def _normalise(self, name: str, value: Any) -> Any:
        return _as_float(name, value)

    def _problem(self, values: dict[str, Any]) -> str | None:
        """Why complete ``values`` are inconsistent (None when they are fine)."""
        return None

    def _assign(self, values: dict[str, Any]) -> bool:
        unknown = sorted(set(values) - set(self._parameter_names))
        if unknown:
            raise ROIError(f"{type(self).__name__} has no parameter(s) {', '.join(unknown)}; its "
                           f"parameters are {', '.join(self._parameter_names)}.")
        new = dict(self._values)
        new.update({name: self._normalise(name, value) for name, value in values.items()})
        if all(v is not None for v in new.values()):
            problem = self._problem(new)
            if problem is not None:
                raise ROIError(f"{problem} The ROI keeps its values: {self!r}.")
        if new == self._values:
            return False
        self._values = new
        return True

    def set(self, **values: Any) -> None:
        """Change one or several parameters at once; fires ``events.changed`` once.

        Values that would make the ROI inconsistent (``left`` beyond ``right``, ...) are
        refused with :class:`~lazysignal.errors.ROIError` and the old values kept.

        Examples
        --------
        >>> import lazysignal as ls
        >>> roi = ls.roi.RectangularROI(left=0, top=0, right=2, bottom=2)
        >>> roi.set(left=5, right=7)
        >>> roi
        RectangularROI(left=5, top=0, right=7, bottom=2)
        """
        if self._assign(values) and self.is_valid():
            self._changed.trigger(roi=self)

    def update(self) -> None:
        """Fire ``events.changed`` (when valid), e.g. after the axes it sits on changed."""
        if self.is_valid():
            self._changed.trigger(roi=self)

    def is_valid(self) -> bool:
        """Whether every parameter is set and the values are consistent."""
        values = self._values
        return all(v is not None for v in values.values()) and self._problem(values) is None

    def _missing(self) -> list[str]:
        return [name for name, value in self._values.items() if value is None]

    def _require_valid(self) -> None:
        missing = self._missing()
        if missing:
            raise ROIError(
                f"{type(self).__name__} parameter(s) {', '.join(missing)} are not set; set them "
                f"(e.g. roi.{missing[0]} = ...) before selecting with the ROI.")

    # -- sequence protocol and repr ---------------------------------------------------
    def _tuple(self) -> tuple[Any, ...]:
        return tuple(self._values.values())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._tuple())

    def __len__(self) -> int:
        return len(self._tuple())

    def __getitem__(self, index: Any) -> Any:
        return self._tuple()[index]

    def __repr__(self) -> str:
        text = ", ".join(f"{name}={'None' if value is None else format(value, 'G')}"
                         for name, value in self._values.items())
        return f"{type(self).__name__}({text})"

    # -- axes ---------------------------------------------------------------------
    def _parse_axes(self, axes: Any, axes_manager: Any) -> tuple[Any, ...]:
        """The DataAxis objects the ROI works on (HyperSpy's default choice when None)."""
        nd = self._ndim
        am = axes_manager
        if axes is None:
            for signal, _widget, widget_axes in self.signal_map:
                if signal.axes_manager is am:
                    return widget_axes
            if am.navigation_dimension >= nd:
                return tuple(am.navigation_axes[:nd])
            if am.signal_dimension >= nd:
                return tuple(am.signal_axes[:nd])
            if nd == 2 and am.navigation_dimension == 1 and am.signal_dimension == 1:
                return (am.signal_axes[0], am.navigation_axes[0])
            raise AxisError(
                f"{type(self).__name__} spans {nd} axes but the signal has "
                f"{am.navigation_dimension} navigation and {am.signal_dimension} signal axes "
                f"({am.dimensions}); give axes=... explicitly.")
        keys = tuple(axes) if isinstance(axes, (tuple, list)) else (axes,)
        if len(keys) != nd:
            raise AxisError(f"{type(self).__name__} spans {nd} axes; axes={axes!r} names {len(keys)}.")
        found = tuple(am[key] for key in keys)
        if len({id(a) for a in found}) != nd:
            raise AxisError(f"axes={axes!r} names the same axis twice; give {nd} different axes.")
        return found

    # -- selecting ------------------------------------------------------------------
    def __call__(self, signal: Any, out: Any = None, axes: Any = None, **options: Any) -> Any:
        """The part of ``signal`` the ROI selects; lazy when the signal is lazy.

        Parameters
        ----------
        signal
            Any lazysignal signal.
        out
            A signal to update in place with the selection instead of returning a new one;
            its ``events.data_changed`` fires once.
        axes
            The axes to apply the ROI to: names, indices (natural order) or DataAxis
            objects; default: the navigation axes when there are enough of them, else the
            signal axes (HyperSpy's choice).
        """
        self._require_valid()
        if not self.is_valid():  # complete but inconsistent (cannot normally happen)
            raise ROIError(f"{self!r} is inconsistent: {self._problem(self._values)}")
        axes = self._parse_axes(axes, signal.axes_manager)
        result = self._select(signal, axes, **options)
        if out is None:
            return result
        _write_out(out, result)
        return None

    def _select(self, signal: Any, axes: Any, **options: Any) -> Any:
        raise NotImplementedError

    def _ranges(self) -> tuple[tuple[float, ...], ...]:
        """Per axis: (value,) for a point, (low, high) for a range."""
        raise NotImplementedError

    def _box_keys(self, axes: Any, ranges: Any = None) -> list[Any]:
        """Integer index (point) or slice (range) per ROI axis, by HyperSpy's rules."""
        ranges = self._ranges() if ranges is None else ranges
        return [nearest_index(ax, r[0]) if len(r) == 1 else range_slice(ax, r[0], r[1])
                for ax, r in zip(axes, ranges)]

    def _slice_box(self, signal: Any, axes: Any, keys: Any = None) -> Any:
        """The signal cut through ``inav``/``isig`` by integer ``keys`` (default: the ROI's box)."""
        keys = self._box_keys(axes) if keys is None else keys
        keys = dict(zip(map(id, axes), keys))
        am = signal.axes_manager
        nav = tuple(keys.get(id(a), slice(None)) for a in am.navigation_axes)
        sig = tuple(keys.get(id(a), slice(None)) for a in am.signal_axes)
        result = signal
        if any(k != slice(None) for k in nav):
            result = result.inav[nav]
        if any(k != slice(None) for k in sig):
            result = result.isig[sig]
        if result is signal:
            result = signal._new_like(signal.data)
        return result

    # -- interactive and widgets ---------------------------------------------------------
    def interactive(self, signal: Any, navigation_signal: Any = "same", out: Any = None,
                    color: str = "green", snap: bool = True, **kwargs: Any) -> Any:
        """A selection of ``signal`` that follows the ROI (through :func:`lazysignal.interactive`).

        Parameters
        ----------
        signal
            The signal to select from.
        navigation_signal
            Where to draw the ROI's widget: ``"same"`` (the default) draws it on ``signal``
            when that signal is plotted, None draws none, a signal draws it there (it must
            be plotted).
        out
            A signal to update instead of a new one.
        color, snap
            Passed to the widget.
        **kwargs
            Passed to the ROI call (``axes=``, ``order=`` for Line2DROI, ...).

        Returns
        -------
        BaseSignal
            The selection, updated in place (same object) whenever the ROI changes.

        Examples
        --------
        >>> import numpy as np, lazysignal as ls
        >>> s = ls.signals.Signal1D(np.arange(10.0))
        >>> roi = ls.roi.SpanROI(2, 5)
        >>> part = roi.interactive(s, navigation_signal=None)
        >>> part.data
        array([2., 3., 4.])
        >>> roi.right = 8
        >>> part.data
        array([2., 3., 4., 5., 6., 7.])
        """
        from ..interactive import interactive

        if any(v is None for v in self._values.values()):
            self._set_default_values(self._parse_axes(kwargs.get("axes"), signal.axes_manager))
        if isinstance(navigation_signal, str) and navigation_signal == "same":
            if _is_plotted(signal) and not any(s is signal for s, _, _ in self.signal_map):
                self.add_widget(signal, axes=kwargs.get("axes"), color=color, snap=snap)
        elif navigation_signal is not None:
            if not any(s is navigation_signal for s, _, _ in self.signal_map):
                self.add_widget(navigation_signal, axes=kwargs.get("axes"), color=color, snap=snap)
        # A recalibrated axis moves what the ROI selects: recompute then too (as HyperSpy does).
        axes_changed = signal.axes_manager.events.any_axis_changed
        if self.update not in axes_changed.connected:
            axes_changed.connect(self.update, kwargs=[])
        if out is not None:
            kwargs["out"] = out
        return interactive(self.__call__, self._changed, None, signal=signal, **kwargs)

    def _set_default_values(self, axes: Any) -> None:
        """Fill unset parameters from the axes (HyperSpy: the axes' central half)."""
        raise ROIError(f"{type(self).__name__} cannot guess its missing parameters; set them.")

    def add_widget(self, signal: Any, axes: Any = None, widget: Any = None, color: str = "green",
                   snap: bool | None = None, **kwargs: Any) -> Any:
        """Draw the ROI on a plotted ``signal`` as a widget bound both ways to the ROI.

        Provided by the plotting package (``lazysignal.plot.roi_widgets.add_widget``);
        returns the widget and records ``(signal, widget, axes)`` in ``roi.signal_map``.
        """
        module = _widget_module()
        axes = self._parse_axes(axes, signal.axes_manager)
        if any(v is None for v in self._values.values()):
            self._set_default_values(axes)
        self.remove_widget(signal)
        widget = module.add_widget(self, signal, axes, widget=widget, color=color, snap=snap, **kwargs)
        self.signal_map.append((signal, widget, axes))
        return widget

    def remove_widget(self, signal: Any = None) -> None:
        """Remove the widget(s) drawn on ``signal`` (all signals when None)."""
        keep: list[tuple[Any, Any, tuple[Any, ...]]] = []
        drop: list[tuple[Any, Any, tuple[Any, ...]]] = []
        for entry in self.signal_map:
            (drop if signal is None or entry[0] is signal else keep).append(entry)
        self.signal_map = keep
        if drop:
            module = _widget_module()
            for _signal, widget, _axes in drop:
                module.remove_widget(self, widget)

    def gui(self, display: bool = True) -> Any:
        """Editable fields (ipywidgets) for the ROI's parameters, bound both ways to the ROI.

        Needs the optional dependency ipywidgets (``pip install ipywidgets``). Returns the
        widget box; with ``display=True`` it is also shown when running under IPython.
        """
        from .gui import parameter_box

        return parameter_box(self, display=display)


def _is_plotted(signal: Any) -> bool:
    plot = getattr(signal, "_plot", None)
    return plot is not None and bool(getattr(plot, "is_active", True))


def _widget_module() -> Any:
    try:
        return importlib.import_module("lazysignal.plot.roi_widgets")
    except ModuleNotFoundError as exc:
        if exc.name not in ("lazysignal.plot", "lazysignal.plot.roi_widgets"):
            raise
        raise ROIError(
            "ROI widgets on plots come with lazysignal.plot.roi_widgets, which this installation "
            "does not have; use roi.gui() for editable fields, or set the ROI's values.") from None


def _write_out(out: Any, result: Any) -> None:
    """Put ``result``'s data and axes into ``out`` through its one mutation point."""
    axes = [a.copy() for a in result.axes_manager._axes]
    replace = getattr(out, "_replace", None)
    if replace is None:
        raise ROIError(f"out={out!r} is not a lazysignal signal; pass a signal (or no out).")
    replace(result.data, axes=axes)
