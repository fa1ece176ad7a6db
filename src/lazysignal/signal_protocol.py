"""What a signal mixin may use from the signal it is mixed into: the :class:`SignalLike` protocol.

``BaseSignal`` is assembled from one mixin per concern (arithmetic, indexing, reductions,
chunking, map, transforms, statistics, virtual images, the navigator, plotting,
decomposition...). A mixin uses only the names listed here, never another mixin's private
helpers, so each module can be read, typed and changed on its own. Mixin modules subclass
``SignalLike`` for the type checker only::

    if TYPE_CHECKING:
        from ..signal_protocol import SignalLike as _Signal
    else:
        _Signal = object

    class MyMixin(_Signal):
        ...

Examples
--------
>>> import numpy as np
>>> from lazysignal.signals import Signal1D
>>> from lazysignal.signal_protocol import SignalLike
>>> isinstance(Signal1D(np.zeros(3)), SignalLike)
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from .axes import AxesManager, DataAxis
from .events import Events
from .metadata import Metadata

__all__ = ["SignalLike"]


@runtime_checkable
class SignalLike(Protocol):
    """The signal core's contract with its mixins.

    Reading: ``data``, ``lazy``, ``axes_manager``, ``metadata``, ``original_metadata``,
    ``ragged``, ``events``, ``navigator``, ``_nav_ndim``, ``_sig_numpy_axes()``. Making new signals:
    ``_new_like(data, axes=None, cls=None)`` (metadata copied; class chosen by the registry
    when ``cls`` is None), ``deepcopy()``. Changing this signal: ``_replace(data, axes=None,
    values_changed=True)`` (the one mutation point; fires ``data_changed``) and ``_receive(data)`` (an ``out=``
    result). ``_file_closers`` travels with copies that keep reading the same file.
    """

    axes_manager: AxesManager
    metadata: Metadata
    original_metadata: Metadata
    ragged: bool
    _file_closers: list[Callable[[], None]]

    @property
    def data(self) -> Any: ...

    @property
    def lazy(self) -> bool: ...

    @property
    def events(self) -> Events: ...

    navigator: Any

    @property
    def _nav_ndim(self) -> int: ...

    def _sig_numpy_axes(self) -> tuple[int, ...]: ...

    def _new_like(self, data: Any, axes: Sequence[Mapping[str, Any] | DataAxis] | None = None,
                  cls: type | None = None) -> Any: ...

    def _replace(self, data: Any, axes: Sequence[Mapping[str, Any] | DataAxis] | None = None, *,
                 values_changed: bool = True) -> None: ...

    def _receive(self, data: Any) -> None: ...

    def deepcopy(self) -> Any: ...
