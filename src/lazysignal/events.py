"""Events: named hooks that signals, axes and ROIs fire when they change.

HyperSpy's vocabulary: an :class:`Events` container holds :class:`Event` objects; a callback is
connected to an event, which calls it (in connection order) every time the event is triggered.
Plots, ROIs, :func:`lazysignal.interactive` and the viewer listen to them.

Examples
--------
>>> from lazysignal.events import Event, Events
>>> events = Events()
>>> events.changed = Event("The thing changed.", arguments=["obj"])
>>> seen = []
>>> events.changed.connect(lambda obj: seen.append(obj))
>>> events.changed.trigger(obj=1)
>>> with events.changed.suppress():
...     events.changed.trigger(obj=2)
>>> seen
[1]
"""

from __future__ import annotations

import contextlib
import inspect
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

from .errors import EventError

__all__ = ["Event", "Events"]

# How a callback receives an event's arguments: all of them as keywords ("all"), those its
# signature names ("auto"), a list of names, or a mapping {event argument: callback keyword}.
KwargsSpec = str | Sequence[str] | Mapping[str, str]


class Event:
    """One hook: callbacks connected to it run, in connection order, when it is triggered.

    Parameters
    ----------
    doc
        What the event means; shown by ``help`` and the repr.
    arguments
        The keyword arguments :meth:`trigger` passes (None: any).

    Examples
    --------
    >>> e = Event("Data changed.", arguments=["obj"])
    >>> def show(obj):
    ...     print("changed:", obj)
    >>> e.connect(show)
    >>> e.trigger(obj="s")
    changed: s
    >>> e.disconnect(show)
    >>> e.trigger(obj="s")
    """

    def __init__(self, doc: str = "", arguments: Sequence[str] | None = None):
        self.__doc__ = doc
        self.arguments = tuple(arguments) if arguments is not None else None
        self._callbacks: dict[Callable[..., Any], KwargsSpec] = {}
        self._suppressed = 0
        self._suppressed_callbacks: dict[Callable[..., Any], int] = {}
        self._lock = threading.RLock()

    @property
    def connected(self) -> tuple[Callable[..., Any], ...]:
        """The connected callbacks, in the order they are called."""
        with self._lock:
            return tuple(self._callbacks)

    def connect(self, function: Callable[..., Any], kwargs: KwargsSpec = "all") -> None:
        """Call ``function`` every time this event is triggered.

        Parameters
        ----------
        function
            Any callable; connecting it again only changes how it receives arguments.
        kwargs
            ``"all"``: every trigger argument as a keyword; ``"auto"``: the arguments its
            signature accepts; a list of argument names; or a dict mapping trigger argument
            names to the callback's keyword names.

        Examples
        --------
        >>> e = Event(arguments=["obj", "value"])
        >>> e.connect(lambda value: print(value), kwargs="auto")
        >>> e.trigger(obj=None, value=3)
        3
        """
        if not callable(function):
            raise EventError(f"Event.connect needs a callable; got {function!r}.")
        if isinstance(kwargs, str):
            if kwargs not in ("all", "auto"):
                raise EventError(f"kwargs={kwargs!r} is not one of 'all', 'auto', a list or a dict.")
            if kwargs == "auto":
                kwargs = _accepted_names(function, self.arguments)
        elif isinstance(kwargs, Mapping):
            kwargs = dict(kwargs)
        else:
            kwargs = list(kwargs)
        if self.arguments is not None and not isinstance(kwargs, str):
            unknown = [k for k in kwargs if k not in self.arguments]
            if unknown:
                raise EventError(f"{unknown} are not arguments of this event; it has {list(self.arguments)}.")
        with self._lock:
            self._callbacks[function] = kwargs

    def disconnect(self, function: Callable[..., Any]) -> None:
        """Stop calling ``function``; an error if it is not connected.

        Examples
        --------
        >>> e = Event()
        >>> f = lambda: None
        >>> e.connect(f); e.disconnect(f); e.connected
        ()
        """
        with self._lock:
            if function not in self._callbacks:
                raise EventError(f"{function!r} is not connected to this event.")
            del self._callbacks[function]

    @contextlib.contextmanager
    def suppress(self) -> Iterator[None]:
        """A context in which triggering this event calls nothing (nestable).

        Examples
        --------
        >>> e = Event(); e.connect(lambda: print("called"))
        >>> with e.suppress():
        ...     e.trigger()
        """
        with self._lock:
            self._suppressed += 1
        try:
            yield
        finally:
            with self._lock:
                self._suppressed -= 1

    @contextlib.contextmanager
    def suppress_callback(self, function: Callable[..., Any]) -> Iterator[None]:
        """A context in which triggering this event skips ``function`` only.

        Examples
        --------
        >>> e = Event(); f = lambda: print("f"); e.connect(f); e.connect(lambda: print("g"))
        >>> with e.suppress_callback(f):
        ...     e.trigger()
        g
        """
        with self._lock:
            self._suppressed_callbacks[function] = self._suppressed_callbacks.get(function, 0) + 1
        try:
            yield
        finally:
            with self._lock:
                left = self._suppressed_callbacks[function] - 1
                if left:
                    self._suppressed_callbacks[function] = left
                else:
                    del self._suppressed_callbacks[function]

    def trigger(self, **kwargs: Any) -> None:
        """Call the connected callbacks in connection order, unless suppressed.

        Examples
        --------
        >>> e = Event(arguments=["obj"]); e.connect(print, kwargs=[])
        >>> e.trigger(obj=1)
        <BLANKLINE>
        """
        if self.arguments is not None:
            missing = [a for a in self.arguments if a not in kwargs]
            extra = [k for k in kwargs if k not in self.arguments]
            if missing or extra:
                raise EventError(f"This event is triggered with {list(self.arguments)}; "
                                 f"missing {missing}, unexpected {extra}.")
        with self._lock:
            if self._suppressed:
                return
            calls = [(f, spec) for f, spec in self._callbacks.items() if f not in self._suppressed_callbacks]
        for function, spec in calls:
            if spec == "all":
                function(**kwargs)
            elif isinstance(spec, dict):
                function(**{mine: kwargs[theirs] for theirs, mine in spec.items()})
            else:
                function(**{name: kwargs[name] for name in spec})

    def __repr__(self) -> str:
        doc = (self.__doc__ or "").strip().splitlines()
        return f"<Event: {doc[0] if doc else 'no description'}>"


class Events:
    """A namespace of :class:`Event` attributes, suppressible all together.

    Examples
    --------
    >>> ev = Events()
    >>> ev.a = Event(); ev.b = Event()
    >>> ev.a.connect(lambda: print("a")); ev.b.connect(lambda: print("b"))
    >>> with ev.suppress():
    ...     ev.a.trigger(); ev.b.trigger()
    >>> sorted(ev.events)
    ['a', 'b']
    """

    @property
    def events(self) -> dict[str, Event]:
        """The events by name."""
        return {k: v for k, v in vars(self).items() if isinstance(v, Event)}

    @contextlib.contextmanager
    def suppress(self) -> Iterator[None]:
        """A context in which none of these events calls anything."""
        with contextlib.ExitStack() as stack:
            for event in self.events.values():
                stack.enter_context(event.suppress())
            yield

    def __deepcopy__(self, memo: dict[int, Any]) -> "Events":
        # A copy of a signal starts with no listeners: plots and ROIs watch one object.
        new = type(self).__new__(type(self))
        for name, event in self.events.items():
            setattr(new, name, Event(event.__doc__ or "", event.arguments))
        return new

    def __repr__(self) -> str:
        return f"<Events: {', '.join(sorted(self.events))}>"


def _accepted_names(function: Callable[..., Any], arguments: tuple[str, ...] | None) -> list[str] | str:
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return "all"
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return "all"
    names = [n for n, p in params.items()
             if p.kind in (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)]
    if arguments is None:
        return names
    return [n for n in names if n in arguments]
