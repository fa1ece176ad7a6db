"""interactive: keep the result of a function up to date when events fire.

``out = ls.interactive(f, event, recompute_out_event, *args, **kwargs)`` calls ``f`` once and
returns its result; every time ``event`` fires, the *same* object is updated: through
``f(..., out=out)`` when ``f`` accepts ``out``, else by calling ``f`` again and moving the
new data and axes into ``out`` through its one mutation point (``out._replace``), which
fires ``out.events.data_changed`` once. Results stay lazy when ``f`` returns lazy signals:
nothing is read until they are computed (or plotted).

Examples
--------
>>> import numpy as np, lazysignal as ls
>>> s = ls.signals.Signal1D(np.arange(24.0).reshape(2, 3, 4))
>>> roi = ls.roi.RectangularROI(left=0, top=0, right=2, bottom=1)
>>> part = ls.interactive(roi, roi.events.changed, None, signal=s)
>>> total = ls.interactive(part.sum, part.events.data_changed, None)
>>> total.data
array([ 4.,  6.,  8., 10.])
>>> roi.right = 3
>>> total.data
array([12., 15., 18., 21.])
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable
from typing import Any

from .errors import EventError

__all__ = ["Interactive", "interactive"]


def _events(event: Any) -> list[Any]:
    if event is None:
        return []
    if isinstance(event, Iterable) and not hasattr(event, "connect"):
        events = list(event)
    else:
        events = [event]
    for e in events:
        if not hasattr(e, "connect"):
            raise EventError(f"{e!r} is not an event; pass an Event (e.g. s.events.data_changed), "
                             "a list of them, 'auto' or None.")
    return events


def _accepts_out(f: Callable[..., Any]) -> bool:
    try:
        params = inspect.signature(f).parameters
    except (TypeError, ValueError):  # builtins without a signature
        return False
    return "out" in params


def _signal_of(f: Callable[..., Any]) -> Any:
    owner = getattr(f, "__self__", None)
    if owner is not None and hasattr(owner, "events") and hasattr(owner, "axes_manager"):
        return owner
    return None


class Interactive:
    """A function's result kept up to date by events; :meth:`close` disconnects it.

    Parameters
    ----------
    f
        A callable returning a signal (optionally writing into ``out=``).
    event
        Event(s) that update the result; ``"auto"``: ``f``'s signal's ``data_changed`` when
        ``f`` is a signal's method, else none.
    recompute_out_event
        Event(s) that rebuild the result (data *and* axes) by calling ``f`` anew; ``"auto"``:
        the axes manager's ``any_axis_changed`` of ``f``'s signal, else none.
    *args, **kwargs
        Passed to ``f`` on every call.

    Attributes
    ----------
    out
        The result, the same object for the life of the Interactive.

    Examples
    --------
    >>> import numpy as np, lazysignal as ls
    >>> s = ls.signals.Signal1D(np.arange(10.0))
    >>> from lazysignal.interactive import Interactive
    >>> op = Interactive(s.sum, event=None, recompute_out_event=None, axis=0)
    >>> op.out.data
    array([45.])
    >>> op.close()
    """

    def __init__(self, f: Callable[..., Any], event: Any = "auto", recompute_out_event: Any = "auto",
                 *args: Any, **kwargs: Any):
        self.f, self.args, self.kwargs = f, args, kwargs
        if "out" in kwargs:
            f(*args, **kwargs)
            self.out = kwargs.pop("out")
        else:
            self.out = f(*args, **kwargs)
        if self.out is None:
            raise EventError(f"{getattr(f, '__name__', f)!r} returned None; interactive needs a "
                             "function that returns a signal (or pass out=...).")
        owner = _signal_of(f)
        if isinstance(event, str):
            if event != "auto":
                raise EventError(f"event={event!r}: pass an Event, a list of them, 'auto' or None.")
            event = owner.events.data_changed if owner is not None else None
        if isinstance(recompute_out_event, str):
            if recompute_out_event != "auto":
                raise EventError(f"recompute_out_event={recompute_out_event!r}: pass an Event, a "
                                 "list of them, 'auto' or None.")
            recompute_out_event = (owner.axes_manager.events.any_axis_changed
                                   if owner is not None else None)
        self._has_out = _accepts_out(f)
        self._connections: list[tuple[Any, Callable[[], None]]] = []
        for e in _events(recompute_out_event):
            e.connect(self.recompute_out, kwargs=[])
            self._connections.append((e, self.recompute_out))
        on_event = self.update if self._has_out else self.recompute_out
        for e in _events(event):
            e.connect(on_event, kwargs=[])
            self._connections.append((e, on_event))

    def update(self) -> None:
        """Recompute into ``out`` through ``f(..., out=out)``."""
        self.f(*self.args, out=self.out, **self.kwargs)

    def recompute_out(self) -> None:
        """Call ``f`` anew and move its data and axes into ``out`` (one ``data_changed``)."""
        new = self.f(*self.args, **self.kwargs)
        if new is None:
            return
        self.out._replace(new.data, axes=[a.copy() for a in new.axes_manager._axes])

    def close(self) -> None:
        """Disconnect from every event; ``out`` keeps its last value."""
        for e, callback in self._connections:
            if callback in e.connected:
                e.disconnect(callback)
        self._connections = []


def interactive(f: Callable[..., Any], event: Any = "auto", recompute_out_event: Any = "auto",
                *args: Any, **kwargs: Any) -> Any:
    """Call ``f`` and return its result, kept up to date (same object) whenever ``event`` fires.

    See :class:`Interactive` for the parameters; this returns ``Interactive(...).out``.
    Keep the :class:`Interactive` (``Interactive(f, ...)``) to be able to ``close()`` it.

    Examples
    --------
    >>> import numpy as np, lazysignal as ls
    >>> s = ls.signals.Signal1D(np.ones((4, 5))).as_lazy()
    >>> roi = ls.roi.SpanROI(0, 2)
    >>> part = ls.interactive(roi, roi.events.changed, None, signal=s)
    >>> part
    <LazySignal1D, title: , dimensions: (2|5)>
    >>> roi.right = 4
    >>> part
    <LazySignal1D, title: , dimensions: (4|5)>
    """
    return Interactive(f, event, recompute_out_event, *args, **kwargs).out
