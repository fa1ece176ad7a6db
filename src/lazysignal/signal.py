"""BaseSignal: data (numpy or dask), axes and metadata, with one code path for both.

Arithmetic, indexing and reductions live in their own mixin modules; this module holds
construction, the eager/lazy switch, copies, dtype changes, transposition and display.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

from .arithmetic import ArithmeticMixin
from .array_ops import as_dask, is_lazy
from .axes import AxesManager, DataAxis, Shape, _checked_axes
from .errors import AxisError, DtypeError, ShapeMismatchError
from .events import Event, Events
from .indexing import IndexingMixin
from .learn.signal_methods import DecompositionMixin
from .lazy import compute_arrays, default_chunks
from .metadata import Metadata
from .preferences import preferences
from .plot.signal_methods import PlotMixin
from .processing.chunking_methods import ChunkingMixin
from .processing.map_methods import MapMixin
from .processing.navigator_methods import NavigatorMixin
from .processing.statistics_methods import StatisticsMixin
from .processing.transform_methods import TransformMixin
from .processing.virtual_image_methods import VirtualImageMixin
from .reductions import ReductionsMixin
from .signal_registry import register_signal_class, signal_class_for

__all__ = ["BaseSignal", "SignalEvents"]


class SignalEvents(Events):
    """The events of a signal: ``data_changed(obj)``."""

    data_changed: Event


@register_signal_class
class BaseSignal(
    ArithmeticMixin,     # operators, ufuncs, broadcasting (arithmetic.py)
    IndexingMixin,       # inav / isig (indexing.py)
    ReductionsMixin,     # sum ... indexmax, integrate1D, diff, derivative (reductions.py)
    ChunkingMixin,       # rechunk, iterate_blocks, explain (processing/chunking_methods.py)
    MapMixin,            # map (processing/map_methods.py)
    TransformMixin,      # rebin, fft, ifft (processing/transform_methods.py)
    StatisticsMixin,     # get_histogram (processing/statistics_methods.py)
    VirtualImageMixin,   # virtual_image (processing/virtual_image_methods.py)
    NavigatorMixin,      # navigator, compute_navigator (processing/navigator_methods.py)
    PlotMixin,           # plot (plot/signal_methods.py)
    DecompositionMixin,  # decomposition (learn/signal_methods.py)
):
    """A multidimensional signal: an array, its calibrated axes and its metadata.

    Parameters
    ----------
    data
        A numpy array (eager) or a dask array (lazy).
    axes
        Axis dictionaries or :class:`~lazysignal.axes.DataAxis` objects in numpy order;
        default: uncalibrated axes.
    metadata, original_metadata
        Nested dictionaries.
    ragged
        Whether each navigation position holds an object array of varying length.

    Examples
    --------
    >>> import numpy as np
    >>> s = BaseSignal(np.zeros((4, 5, 10)))
    >>> s
    <BaseSignal, title: , dimensions: (|10, 5, 4)>
    >>> s.as_lazy().lazy
    True
    """

    #: Number of signal axes this class has (None: all axes, as given).
    _signal_dimension: int | None = None
    _signal_type: str = ""

    def __init__(
        self,
        data: Any,
        axes: Sequence[Mapping[str, Any] | DataAxis] | None = None,
        metadata: Mapping[str, Any] | None = None,
        original_metadata: Mapping[str, Any] | None = None,
        *,
        ragged: bool = False,
    ):
        if not is_lazy(data) and not isinstance(data, np.ndarray):
            data = np.asarray(data)  # an ndarray subclass (np.memmap) is kept as it is
        if data.ndim == 0:
            data = data.reshape(1)
        axes = self._default_axes(data.shape, axes)
        data, axes = _nav_first(data, axes)
        self._data = data
        self.axes_manager = AxesManager(axes)
        self._check_shape(data.shape)
        self.metadata = Metadata(metadata or {})
        self.original_metadata = Metadata(original_metadata or {})
        if not self.metadata.has_item("General.title"):
            self.metadata.set_item("General.title", "")
        if self._signal_type or not self.metadata.has_item("Signal.signal_type"):
            self.metadata.set_item("Signal.signal_type", self._signal_type)
        self.ragged = bool(ragged)
        self._file_closers: list[Callable[[], None]] = []
        self._events: SignalEvents | None = None

    def _default_axes(self, shape: tuple[int, ...], axes) -> list[dict[str, Any]]:
        if axes is None:
            axes = [{"size": n} for n in shape]
        axes = [a.to_dict() if isinstance(a, DataAxis) else dict(a) for a in axes]
        if len(axes) != len(shape):
            raise ShapeMismatchError(
                f"{len(axes)} axes were given for data with {len(shape)} dimensions {shape}; "
                "give one axis per numpy dimension, in numpy order."
            )
        for axis, n in zip(axes, shape):
            if axis.get("axis") is None:
                axis.setdefault("size", n)
        sig_dim = self._signal_dimension
        if sig_dim is not None:
            if len(shape) < sig_dim:
                raise ShapeMismatchError(
                    f"{type(self).__name__} needs at least {sig_dim} dimensions; the data has shape {shape}."
                )
            for i, axis in enumerate(axes):
                axis["navigate"] = i < len(shape) - sig_dim
        else:
            for axis in axes:
                axis.setdefault("navigate", False)
        return axes

    def _check_shape(self, shape: tuple[int, ...]) -> None:
        expected = tuple(a.size for a in self.axes_manager._axes)
        if tuple(shape) != expected:
            raise ShapeMismatchError(
                f"Data of shape {tuple(shape)} do not match the axes, which need {expected} "
                f"(dimensions {self.axes_manager.dimensions})."
            )

    # -- events and the one mutation point ---------------------------------------------
    @property
    def events(self) -> SignalEvents:
        """``data_changed(obj)``: fired once after every change of the data, never on reads.

        Created on first use; a copy of the signal starts with no listeners. See also
        ``s.axes_manager.events`` (``indices_changed``, ``any_axis_changed``).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.zeros((2, 4)))
        >>> s.events.data_changed.connect(lambda obj: print("changed", obj.data.sum()))
        >>> s += 1
        changed 8.0
        """
        if self._events is None:
            events = SignalEvents()
            events.data_changed = Event("The signal's data changed (in place, or replaced).",
                                        arguments=["obj"])
            self._events = events
        return self._events

    def _replace(self, data: Any, axes: Sequence[Mapping[str, Any] | DataAxis] | None = None, *,
                 values_changed: bool = True) -> None:
        """Make ``data`` (and, optionally, ``axes``) this signal's: the one place data change.

        Every path that changes a signal's data or axes in place comes here: the ``data``
        setter, ``compute``, ``change_dtype``, in-place arithmetic and assignment,
        ``map(inplace=True)``, ``rechunk(inplace=True)``, ``out=`` arguments.

        Parameters
        ----------
        data
            The new array (numpy or dask); must match ``axes`` (or the current axes).
        axes
            :class:`DataAxis` objects or axis dictionaries in numpy order, navigation first.
            They are swapped into the existing :class:`AxesManager` (its listeners stay
            connected), firing its ``any_axis_changed`` once when they differ from the current
            ones; the class follows a change of signal dimension.
        values_changed
            False when the values are the same (``compute``, ``rechunk``): what was derived
            from them (the stored navigator) stays valid. ``data_changed`` fires either way.

        Raises
        ------
        ShapeMismatchError
            When the data's shape does not match the axes; nothing is changed then.
        """
        if not is_lazy(data) and not isinstance(data, np.ndarray):
            data = np.asarray(data)
        if axes is not None:
            new_axes = _checked_axes(axes)
            expected = tuple(a.size for a in new_axes)
            if tuple(data.shape) != expected:
                raise ShapeMismatchError(f"Data of shape {tuple(data.shape)} do not match the new "
                                         f"axes, which need {expected}.")
        else:
            self._check_shape(data.shape)
        self._data = data
        if axes is not None:
            self.axes_manager._replace_axes(new_axes)
            sig_dim = self.axes_manager.signal_dimension
            if self._signal_dimension is not None and self._signal_dimension != sig_dim:
                self.__class__ = signal_class_for(sig_dim, self.metadata.get_item("Signal.signal_type", ""))
        if values_changed or axes is not None:
            self._forget_navigator()
        if self._events is not None:
            self._events.data_changed.trigger(obj=self)

    def _receive(self, data: Any) -> None:
        """Take an operation's result as the ``out=`` signal (HyperSpy's ``out`` semantics).

        When both arrays are in memory (and this one is writeable) the result is written into
        this signal's existing array, cast to its dtype as numpy assignment casts; otherwise
        (lazy either side) the data are replaced. Either way ``data_changed`` fires once.

        Raises
        ------
        ShapeMismatchError
            When the result's shape differs from this signal's.
        """
        if tuple(data.shape) != tuple(self._data.shape):
            raise ShapeMismatchError(
                f"out= has data of shape {tuple(self._data.shape)} but the result has shape "
                f"{tuple(data.shape)}; pass a signal shaped like the result (e.g. from a first call "
                "without out=).")
        if not self.lazy and not is_lazy(data) and self._data.flags.writeable:
            self._data[...] = data
            self._replace(self._data)
        else:
            self._replace(data)

    def __getstate__(self) -> dict[str, Any]:
        # Listeners (plots, ROIs) belong to this process's objects, not to the signal's value.
        state = self.__dict__.copy()
        state["_events"] = None
        return state

    # -- data ---------------------------------------------------------------------
    @property
    def data(self):
        """The array: numpy when eager, dask when lazy. Setting it fires ``data_changed``."""
        return self._data

    @data.setter
    def data(self, value) -> None:
        if not is_lazy(value):
            value = np.asarray(value)
        self._replace(value)

    @property
    def lazy(self) -> bool:
        """Whether the data are a dask array (computed only when asked)."""
        return is_lazy(self._data)

    def as_lazy(self, chunks=None) -> "BaseSignal":
        """A lazy copy of this signal (dask data; metadata and axes copied).

        Parameters
        ----------
        chunks
            Dask chunks; default keeps lazy chunks, or splits navigation with signal axes whole.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> Signal1D(np.arange(20.0).reshape(2, 10)).as_lazy(chunks=(1, 10)).data.chunks
        ((1, 1), (10,))
        """
        data = self._data
        if is_lazy(data):
            data = data if chunks is None else data.rechunk(chunks)
        else:
            if chunks is None:
                chunks = default_chunks(data.shape, self.axes_manager.signal_dimension, data.dtype)
            data = as_dask(data, chunks)
        new = self._new_like(data)
        new._file_closers = list(self._file_closers)
        new.navigator = self.navigator  # the same values: the navigator still holds
        return new

    def compute(self, close_file: bool = False, show_progressbar: bool | None = None) -> "BaseSignal":
        """Compute lazy data in place; the signal becomes eager. Returns the signal.

        Parameters
        ----------
        close_file
            Close the file a lazy load keeps open, once the data are in memory.
        show_progressbar
            Show a progress bar while computing (default: the preference).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.ones((3, 4))).as_lazy()
        >>> s.compute() is s, s.lazy
        (True, False)
        """
        if self.lazy:
            (computed,) = compute_arrays(self._data, show_progressbar=_progress(show_progressbar))
            self._replace(computed, values_changed=False)
        if close_file:
            self.close_file()
        return self

    def close_file(self) -> None:
        """Close the file(s) that a lazy load keeps open (no-op when none)."""
        closers, self._file_closers = self._file_closers, []
        for close in closers:
            close()

    # -- numpy axes ------------------------------------------------------------------
    @property
    def _nav_ndim(self) -> int:
        """Number of navigation axes (they come first in numpy order)."""
        return sum(1 for a in self.axes_manager._axes if a.navigate)

    def _sig_numpy_axes(self) -> tuple[int, ...]:
        """Numpy axis numbers of the signal axes."""
        return tuple(range(self._nav_ndim, self._data.ndim))

    # -- copies and new signals ------------------------------------------------------
    def _new_like(self, data, axes=None, cls: type | None = None) -> "BaseSignal":
        """A signal of a fitting class holding ``data`` with copies of metadata and axes."""
        axes = [a.copy() for a in self.axes_manager._axes] if axes is None else axes
        if not axes:
            # HyperSpy keeps one "Scalar" signal axis when no axis is left.
            axes = [DataAxis(size=1, name="Scalar", navigate=False)]
            data = data.reshape(1)
        signal_dim = sum(1 for a in axes if not (a.navigate if isinstance(a, DataAxis) else a["navigate"]))
        if cls is None:
            cls = signal_class_for(signal_dim, self.metadata.get_item("Signal.signal_type", ""))
        assert issubclass(cls, BaseSignal)  # the registry holds signal classes only
        new = cls.__new__(cls)
        BaseSignal.__init__(new, data, axes, self.metadata.as_dictionary(skip=self._metadata_not_copied),
                            self.original_metadata.as_dictionary(), ragged=self.ragged)
        return new

    def _deepcopy_with_new_data(self, data) -> "BaseSignal":
        return self._new_like(data)

    def deepcopy(self) -> "BaseSignal":
        """A copy that shares nothing (lazy data keep their graph: dask arrays are immutable)."""
        data = self._data if self.lazy else self._data.copy()
        new = self._new_like(data, cls=type(self))
        new.navigator = self.navigator
        return new

    __deepcopy__ = lambda self, memo: self.deepcopy()  # noqa: E731

    def copy(self) -> "BaseSignal":
        """A copy sharing the data array, with its own axes and metadata."""
        new = self._new_like(self._data, cls=type(self))
        new._file_closers = list(self._file_closers)
        new.navigator = self.navigator
        return new

    __copy__ = copy

    # -- files -----------------------------------------------------------------------
    def save(self, filename, *, overwrite: bool | None = None, chunks=None,
             show_progressbar: bool | None = None, **format_options) -> None:
        """Write the signal to ``filename`` (format by extension); see :func:`lazysignal.io.save`.

        Examples
        --------
        >>> import numpy as np, tempfile, os
        >>> from lazysignal.signals import Signal1D
        >>> path = os.path.join(tempfile.mkdtemp(), "s.npy")
        >>> Signal1D(np.zeros(3)).save(path); os.path.exists(path)
        True
        """
        # The io floor sits above the signal layer: its front door is reached at call time.
        from .io.save import save

        save(self, filename, overwrite=overwrite, chunks=chunks, show_progressbar=show_progressbar,
             **format_options)

    # -- dtype -----------------------------------------------------------------------
    def change_dtype(self, dtype: Any) -> None:
        """Change the data type in place (lazy data stay lazy).

        Raises
        ------
        DtypeError
            For an unknown dtype, or a cast that would silently drop information
            (complex to real: take ``.real`` or ``abs(s)`` first).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.arange(4, dtype="uint8")).as_lazy()
        >>> s.change_dtype("float32"); s.data.dtype, s.lazy
        (dtype('float32'), True)
        """
        try:
            target = np.dtype(dtype)
        except TypeError as exc:
            raise DtypeError(f"{dtype!r} is not a dtype numpy knows; use e.g. 'float32' or 'uint16'.") from exc
        source = self._data.dtype
        if np.issubdtype(source, np.complexfloating) and not np.issubdtype(target, np.complexfloating):
            raise DtypeError(
                f"Cannot change dtype from {source} to {target}: the imaginary part would be lost. "
                "Use s.real, s.imag or abs(s) first."
            )
        if source == object or target == object:
            raise DtypeError(f"Cannot change dtype from {source} to {target}: object arrays hold "
                             "ragged data; map a conversion function over them instead.")
        self._replace(self._data.astype(target))

    # -- axes rearrangement ------------------------------------------------------------
    def transpose(self, signal_axes=None, navigation_axes=None, optimize: bool = False) -> "BaseSignal":
        """A signal whose navigation and signal axes are rearranged.

        Parameters
        ----------
        signal_axes, navigation_axes
            An int (how many axes, taken from the end / start of the natural order), or a list
            of axes (index, name or DataAxis) for each group. With neither, navigation and
            signal axes swap (``s.T``).
        optimize
            For lazy data, rechunk so the new signal axes are whole (costs a rechunk).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> Signal1D(np.zeros((4, 5, 10))).T
        <Signal2D, title: , dimensions: (10|5, 4)>
        """
        natural = list(self.axes_manager._get_axes_in_natural_order())
        if signal_axes is None and navigation_axes is None:
            new_nav, new_sig = list(self.axes_manager.signal_axes), list(self.axes_manager.navigation_axes)
        else:
            new_nav, new_sig = self._split_axes(natural, signal_axes, navigation_axes)
        # By identity: two axes with the same calibration compare equal.
        position = {id(a): i for i, a in enumerate(self.axes_manager._axes)}
        order = [position[id(a)] for a in reversed(new_nav)] + [position[id(a)] for a in reversed(new_sig)]
        data = self._data.transpose(order)
        axes = []
        for i in order:
            axis = self.axes_manager._axes[i].copy()
            axis.navigate = any(self.axes_manager._axes[i] is a for a in new_nav)
            axes.append(axis)
        if optimize and is_lazy(data):
            data = data.rechunk(default_chunks(data.shape, len(new_sig), data.dtype))
        return self._new_like(data, axes)

    def _split_axes(self, natural, signal_axes, navigation_axes):
        def resolve(group):
            return [natural[self._natural_index(k)] for k in group]

        if isinstance(signal_axes, int):
            sig = natural[len(natural) - signal_axes:] if signal_axes else []
        elif signal_axes is not None:
            sig = resolve(signal_axes)
        else:
            sig = None
        if isinstance(navigation_axes, int):
            nav = natural[:navigation_axes]
        elif navigation_axes is not None:
            nav = resolve(navigation_axes)
        else:
            nav = None
        if sig is None:
            sig = [a for a in natural if not any(a is b for b in nav)]
        if nav is None:
            nav = [a for a in natural if not any(a is b for b in sig)]
        if len(nav) + len(sig) != len(natural) or any(any(a is b for b in sig) for a in nav):
            raise AxisError(
                f"transpose needs every axis exactly once; got navigation {[a.name for a in nav]} "
                f"and signal {[a.name for a in sig]} for axes {[a.name for a in natural]}."
            )
        return nav, sig

    def _natural_index(self, key) -> int:
        natural = self.axes_manager._get_axes_in_natural_order()
        target = self.axes_manager[key]
        return next(i for i, a in enumerate(natural) if a is target)

    @property
    def T(self) -> "BaseSignal":
        """Navigation and signal axes swapped."""
        return self.transpose()

    def as_signal1D(self, spectral_axis: int | str | DataAxis = -1, optimize: bool = False) -> "BaseSignal":
        """A Signal1D whose signal axis is ``spectral_axis``; the others navigate."""
        return self.transpose(signal_axes=[spectral_axis], optimize=optimize)

    def as_signal2D(self, image_axes=(-2, -1), optimize: bool = False) -> "BaseSignal":
        """A Signal2D whose signal axes are ``image_axes`` (x, y); the others navigate."""
        if len(image_axes) != 2:
            raise AxisError(f"as_signal2D needs two image axes, got {image_axes!r}.")
        return self.transpose(signal_axes=list(image_axes), optimize=optimize)

    # -- signal type -----------------------------------------------------------------
    def set_signal_type(self, signal_type: str = "") -> None:
        """Set ``metadata.Signal.signal_type`` and switch to the class registered for it.

        Raises
        ------
        SignalTypeError
            For a type that is not registered (the message lists the known ones), or one
            registered for another signal dimension.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.zeros(10)); s.set_signal_type(""); type(s).__name__
        'Signal1D'
        """
        cls = signal_class_for(self.axes_manager.signal_dimension, signal_type, strict=True)
        self.metadata.set_item("Signal.signal_type", signal_type)
        self.__class__ = cls

    # -- display -----------------------------------------------------------------------
    def _class_label(self) -> str:
        return f"{'Lazy' if self.lazy else ''}{type(self).__name__}"

    def __repr__(self) -> str:
        title = self.metadata.get_item("General.title", "")
        return f"<{self._class_label()}, title: {title}, dimensions: {self.axes_manager.dimensions}>"

    def _repr_html_(self) -> str:
        am = self.axes_manager
        data = self._data
        sig_dim = am.signal_dimension
        shape = str(am.dimensions)
        if self.lazy:
            chunk = Shape.from_numpy(data.chunksize, sig_dim)
            chunk_text, chunk_bytes = str(chunk), _bytes_text(np.prod(data.chunksize) * data.dtype.itemsize)
            count = f"{len(data.__dask_graph__())} Tasks, {data.npartitions} Chunks"
        else:
            chunk_text, chunk_bytes, count = shape, _bytes_text(data.nbytes), "in memory"
        rows = [("Bytes", _bytes_text(data.nbytes), chunk_bytes), ("Shape", shape, chunk_text),
                ("Count", count, ""), ("Type", str(data.dtype), _chunk_type(data))]
        body = "".join(f"<tr><th>{k}</th><td>{html.escape(a)}</td><td>{html.escape(b)}</td></tr>"
                       for k, a, b in rows)
        title = html.escape(str(self.metadata.get_item("General.title", "")))
        stype = html.escape(str(self.metadata.get_item("Signal.signal_type", "")))
        return (f"<div><p><b>{html.escape(self._class_label())}</b> Title: {title} "
                f"SignalType: {stype}</p><table><tr><th></th><th>Array</th><th>Chunk</th></tr>"
                f"{body}</table><p>Navigation axes: {am.navigation_shape} | Signal axes: "
                f"{am.signal_shape}</p></div>")


def _progress(show_progressbar: bool | None) -> bool:
    return preferences.show_progressbar if show_progressbar is None else show_progressbar


def _nav_first(data, axes: list[dict[str, Any]]):
    """Transpose data so navigation axes come first in numpy order, keeping relative order."""
    order = [i for i, a in enumerate(axes) if a["navigate"]] + [i for i, a in enumerate(axes) if not a["navigate"]]
    if order == list(range(len(axes))):
        return data, axes
    return data.transpose(order), [axes[i] for i in order]


def _bytes_text(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if n < 1024 or unit == "TiB":
            return f"{n:.2f} {unit}" if unit != "B" else f"{int(n)} B"
        n /= 1024
    return f"{n} B"


def _chunk_type(data) -> str:
    block = getattr(data, "_meta", data)
    return f"{type(block).__module__.split('.')[0]}.{type(block).__name__}"
