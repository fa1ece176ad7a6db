"""LazyReadData: a proxy that loads its file when used and can drop its data again."""

from __future__ import annotations

import operator
import os
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from lazysignal.errors import ProxyLoadError, ProxyOperationError
from lazysignal.proxy import _elision

__all__ = ["LazyReadData"]


# Marks "no data held" (``None`` is a legitimate loaded value).
_UNLOADED: Any = object()

# Labels of results are built from their operands' labels; cap them so that
# ``sum()`` over many files does not build an ever longer string.
_LABEL_MAX = 80


_AST_RACE_MESSAGE = "AST constructor recursion depth mismatch"
_AST_RACE_RETRIES = 5


def _default_loader(path: str, **load_kwargs: Any) -> Any:
    # Imported here because the front door imports this module's package.
    from lazysignal import load

    return load(path, **load_kwargs)


def _short(label: str) -> str:
    return label if len(label) <= _LABEL_MAX else label[: _LABEL_MAX - 3] + "..."


class LazyReadData:
    """A proxy that loads its data when first used and can release it afterwards.

    Use proxies in place of loaded objects in an expression (``a + b * c``,
    ``sum(proxies)``): each operand is loaded when the operation needs it, and
    with ``nops`` it drops its data after that many arithmetic operations, so the
    expression holds only a few datasets in memory at a time. The proxy reloads
    from its file if used again.

    Parameters
    ----------
    source : str, os.PathLike, LazyReadData or object
        A path (loaded with ``loader``), another proxy (sharing its file name,
        loader, options and any data it already holds), or an object already in
        memory (held as is; it cannot be released since there is nothing to
        reload it from).
    loader : callable, optional
        ``loader(path, **load_kwargs)`` returns the loaded object. Default
        :func:`lazysignal.load`, or the source proxy's loader.
    nops : int, optional
        Release the data after this many arithmetic operations (the count
        restarts at each load). ``0`` (the default, or the source proxy's value)
        keeps the data. Ignored for in-memory objects.
    **load_kwargs
        Passed to the loader, e.g. ``lazy=True`` for :func:`lazysignal.load`;
        merged over the source proxy's options.

    Notes
    -----
    - ``.data`` is the loaded object; any other attribute not defined here is
      forwarded to it (and loads it). Loading happens once even when many
      threads ask at the same time.
    - Every arithmetic operator (``+ - * / // % **``, their reflected and
      in-place forms, unary ``-``, ``+`` and ``abs()``) works between proxies,
      signals, arrays and numbers and returns a new proxy holding the result
      (in memory, ``nops=0``). Each proxy operand's counter goes down exactly
      once per operation (``p + p`` counts once). A failed operation counts
      nothing.
    - In-place operators update the held object in place only when it is not
      file-backed; a file-backed proxy's data stays equal to its file, so
      ``p += 1`` then computes out of place. A numpy result that only the
      expression holds (the running total in ``sum()``) is updated in place when
      dtype and shape allow, as numpy itself does; named results never are.
    - Loader errors raise :class:`ProxyLoadError` (an ``OSError``), and operand
      errors :class:`ProxyOperationError` (a ``TypeError`` and ``ValueError``);
      both name the file and the operation.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from lazysignal.proxy import LazyReadData
    >>> folder = tempfile.mkdtemp()
    >>> paths = []
    >>> for i in range(5):
    ...     paths.append(os.path.join(folder, f"part{i}.npy"))
    ...     np.save(paths[-1], np.full(3, float(i)))
    >>> parts = [LazyReadData(p, loader=np.load, nops=1) for p in paths]
    >>> parts[0].preloading()
    False
    >>> total = sum(parts)          # loads each file when needed, drops it after use
    >>> total.data
    array([10., 10., 10.])
    >>> parts[0].preloading()       # released after its one operation
    False
    >>> (parts[1] * 2 - 1).data     # reloads when used again
    array([1., 1., 1.])
    >>> parts[2].shape              # other attributes are forwarded to the data
    (3,)
    """

    # Slots, so a missing internal attribute can never fall into __getattr__'s
    # forwarding (which would recurse) and proxies stay small.
    __slots__ = (
        "filename",
        "loader",
        "load_kwargs",
        "nops",
        "_data",
        "_remaining",
        "_loading",
        "_label",
        "_load_lock",
        "_state_lock",
        "__weakref__",
    )

    # numpy (and dask) then defer ``array + proxy`` to our reflected operators
    # instead of broadcasting over the proxy as an object scalar.
    __array_ufunc__ = None

    def __init__(
        self,
        source: Any,
        *,
        loader: Callable[..., Any] | None = None,
        nops: int | None = None,
        **load_kwargs: Any,
    ) -> None:
        if nops is not None and (not isinstance(nops, int) or nops < 0):
            raise ValueError(f"nops must be an integer >= 0 (0 keeps the data); got {nops!r}")
        if isinstance(source, LazyReadData):
            with source._state_lock:
                data = source._data
            self._setup(
                data,
                filename=source.filename,
                loader=loader if loader is not None else source.loader,
                load_kwargs={**source.load_kwargs, **load_kwargs},
                nops=source.nops if nops is None else nops,
                label=source._label,
            )
        elif isinstance(source, (str, os.PathLike)):
            filename = os.fspath(source)
            self._setup(_UNLOADED, filename=filename, loader=loader, load_kwargs=load_kwargs,
                        nops=nops or 0, label=filename)
        else:
            self._setup(source, filename=None, loader=loader, load_kwargs=load_kwargs,
                        nops=nops or 0, label=f"<in-memory {type(source).__name__}>")

    def _setup(self, data: Any, *, filename: str | None, loader: Callable[..., Any] | None,
               load_kwargs: dict[str, Any], nops: int, label: str) -> None:
        self._load_lock = threading.Lock()
        # Guards _data, _remaining and _loading; never held while loading, so
        # preloading() answers at once even during a slow load.
        self._state_lock = threading.Lock()
        self.filename = filename
        self.loader = loader
        self.load_kwargs = dict(load_kwargs)
        self.nops = nops
        self._label = label
        self._data = data
        self._remaining = nops
        self._loading = data is not _UNLOADED

    # -- loading -----------------------------------------------------------

    @property
    def data(self) -> Any:
        """The loaded object (loads it on first access; not counted as an operation)."""
        return self._load("access to .data")

    def preloading(self) -> bool:
        """Whether a load has started or the data is resident (another load is not needed).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.proxy import LazyReadData
        >>> LazyReadData(np.arange(3)).preloading()   # in memory from the start
        True
        """
        with self._state_lock:
            return self._loading

    def release(self) -> bool:
        """Drop the loaded data now if it can be reloaded from its file.

        Returns whether data was dropped (``False`` for in-memory objects and
        proxies holding nothing).

        Examples
        --------
        >>> import os, tempfile
        >>> import numpy as np
        >>> from lazysignal.proxy import LazyReadData
        >>> path = os.path.join(tempfile.mkdtemp(), "a.npy")
        >>> np.save(path, np.arange(3))
        >>> p = LazyReadData(path, loader=np.load)
        >>> int(p.sum()), p.preloading()
        (3, True)
        >>> p.release(), p.preloading()
        (True, False)
        """
        with self._state_lock:
            return self._release_locked()

    def _claim_preload(self) -> bool:
        """Mark a load as started for a preloader; ``False`` if one already was."""
        with self._state_lock:
            if self._loading:
                return False
            self._loading = True
            return True

    def _unclaim_preload(self) -> None:
        """Undo a preload that was cancelled or is no longer wanted: drop what it loaded."""
        with self._state_lock:
            if not self._release_locked() and self._data is _UNLOADED:
                self._loading = False

    def _release_locked(self) -> bool:
        if self.filename is None or self._data is _UNLOADED:
            return False
        self._data = _UNLOADED
        self._loading = False
        self._remaining = self.nops
        return True

    def _load(self, operation: str) -> Any:
        """Return the data, loading it once (under a lock) if it is not resident."""
        with self._state_lock:
            data = self._data
            if data is not _UNLOADED:
                return data
            self._loading = True
        with self._load_lock:
            # Another thread may have finished loading while we waited.
            with self._state_lock:
                data = self._data
            if data is not _UNLOADED:
                return data
            try:
                data = self._read_retrying_interpreter_race()
            except Exception as exc:
                with self._state_lock:
                    self._loading = False
                raise self._load_error(operation, exc) from exc
            with self._state_lock:
                self._data = data
                self._remaining = self.nops
                self._loading = True
            return data

    def _read_retrying_interpreter_race(self) -> Any:
        # CPython 3.11/3.12 can raise a spurious SystemError when two threads
        # build ASTs at once (python/cpython#106905); np.load parses every .npy
        # header with ast.literal_eval, so preloading .npy files in threads hits
        # it now and then. The error says nothing about the file: try again.
        for attempt in range(_AST_RACE_RETRIES):
            try:
                return self._read()
            except SystemError as exc:
                if attempt == _AST_RACE_RETRIES - 1 or not str(exc).startswith(_AST_RACE_MESSAGE):
                    raise
        raise AssertionError("unreachable")

    def _read(self) -> Any:
        """Load the file; subclasses may override this to load differently."""
        # Only a proxy made from a file is ever unloaded, so only such a proxy reads.
        assert self.filename is not None
        loader = self.loader if self.loader is not None else _default_loader
        return loader(self.filename, **self.load_kwargs)

    def _load_error(self, operation: str, exc: Exception) -> ProxyLoadError:
        loader = self.loader if self.loader is not None else _default_loader
        name = getattr(loader, "__qualname__", None) or repr(loader)
        if loader is _default_loader:
            name = "lazysignal.load"
        hint = (
            "check that the file exists"
            if isinstance(exc, FileNotFoundError)
            else "check that the file is complete and that this loader reads its format"
        )
        return ProxyLoadError(
            f"could not load {self.filename!r} for {operation}: {name}"
            f"({self.filename!r}{''.join(f', {k}={v!r}' for k, v in self.load_kwargs.items())})"
            f" raised {type(exc).__name__}: {exc}; {hint}, or pass loader= a function that does"
        )

    def _count_operation(self) -> None:
        """One arithmetic operation used this proxy: release the data when its count runs out."""
        with self._state_lock:
            if self.nops == 0 or self._data is _UNLOADED:
                return
            self._remaining -= 1
            if self._remaining <= 0:
                if not self._release_locked():
                    self._remaining = self.nops

    # -- forwarding ----------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        # Only called when normal lookup failed: our own slots never get here
        # once set, and an unset one (half-built proxy) must not recurse.
        if name in LazyReadData.__slots__ or name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._load(f"attribute {name!r}"), name)

    def __getitem__(self, key: Any) -> Any:
        return self._load("indexing")[key]

    def __len__(self) -> int:
        return len(self._load("len()"))

    def __array__(self, dtype: Any = None, copy: bool | None = None) -> Any:
        data = self._load("conversion to an array")
        return np.asarray(data, dtype=dtype) if copy is None else np.array(data, dtype=dtype, copy=copy)

    def __repr__(self) -> str:
        with self._state_lock:
            state = "loaded" if self._data is not _UNLOADED else "not loaded"
        nops = f", nops={self.nops}" if self.nops else ""
        return f"<LazyReadData {_short(self._label)!r} ({state}){nops}>"

    def __reduce__(self) -> tuple:
        # A file-backed proxy travels as its recipe (no data); an in-memory one
        # carries its data. Locks are rebuilt on the other side.
        if self.filename is not None:
            return (_rebuild, (self.filename, self.loader, self.nops, self.load_kwargs))
        return (_rebuild_in_memory, (self._load("pickling"), self._label))

    # -- arithmetic ------------------------------------------------------------

    def _operand_label(self) -> str:
        return self._label

    def _binary(self, other: Any, op: Callable[[Any, Any], Any], symbol: str, *, reflected: bool = False,
                inplace: bool = False) -> "LazyReadData":
        # Measured before this frame takes any other reference to self.
        self_refs = _elision.refcount(self)
        proxies = [self] if not isinstance(other, LazyReadData) or other is self else [self, other]
        mine = self._load(f"operation {symbol!r}")
        mine_refs = _elision.refcount(mine)
        theirs = other._load(f"operation {symbol!r}") if isinstance(other, LazyReadData) else other
        left, right = (theirs, mine) if reflected else (mine, theirs)
        if _elision.PROBE is not None:
            _elision.PROBE.append((self_refs, mine_refs))
        if inplace and self.filename is not None:
            # A file-backed proxy's data is a cache of its file: never mutate it.
            op = _OUT_OF_PLACE[op]
        try:
            result = NotImplemented
            if (not inplace and _elision.ELISION is not None and self.filename is None
                    and self_refs <= _elision.ELISION[0] and mine_refs <= _elision.ELISION[1]):
                result = _elision.elide_temporary(mine, theirs, op, reflected)
            if result is NotImplemented:
                result = op(left, right)
        except (TypeError, ValueError) as exc:
            raise self._operation_error(other, symbol, reflected, exc) from exc
        # Count only after success, exactly once per distinct proxy operand.
        for proxy in proxies:
            proxy._count_operation()
        other_label = other._label if isinstance(other, LazyReadData) else _describe(other)
        a, b = (other_label, self._label) if reflected else (self._label, other_label)
        return LazyReadData._result(result, f"({_short(a)} {symbol} {_short(b)})")

    def _unary(self, op: Callable[[Any], Any], symbol: str) -> "LazyReadData":
        data = self._load(f"operation {symbol!r}")
        try:
            result = op(data)
        except (TypeError, ValueError) as exc:
            raise ProxyOperationError(
                f"operation {symbol!r} on {self._label!r} failed: {type(exc).__name__}: {exc}; "
                f"the loaded {type(data).__name__} does not support it"
            ) from exc
        self._count_operation()
        return LazyReadData._result(result, f"{symbol}{_short(self._label)}")

    def _operation_error(self, other: Any, symbol: str, reflected: bool, exc: Exception) -> ProxyOperationError:
        other_label = other._label if isinstance(other, LazyReadData) else _describe(other)
        a, b = (other_label, self._label) if reflected else (self._label, other_label)
        return ProxyOperationError(
            f"operation {symbol!r} between {a!r} and {b!r} failed: {type(exc).__name__}: {exc}; "
            "expected operands of compatible types and broadcastable shapes"
        )

    @classmethod
    def _result(cls, value: Any, label: str) -> "LazyReadData":
        # Bypasses __init__'s dispatch: a result that happens to be a str is
        # data, not a path.
        result = cls.__new__(cls)
        result._setup(value, filename=None, loader=None, load_kwargs={}, nops=0, label=label)
        return result


def _describe(obj: Any) -> str:
    shape = getattr(obj, "shape", None)
    if shape is not None:
        return f"<{type(obj).__name__} shape={tuple(shape)}>"
    text = repr(obj)
    return text if len(text) <= 40 else f"<{type(obj).__name__}>"


def _rebuild(filename: str, loader: Any, nops: int, load_kwargs: dict) -> LazyReadData:
    return LazyReadData(filename, loader=loader, nops=nops, **load_kwargs)


def _rebuild_in_memory(data: Any, label: str) -> LazyReadData:
    return LazyReadData._result(data, label)


# The operator table: (name, function, symbol). Each entry generates the
# forward, reflected and in-place methods.
_BINARY = [
    ("add", operator.add, operator.iadd, "+"),
    ("sub", operator.sub, operator.isub, "-"),
    ("mul", operator.mul, operator.imul, "*"),
    ("truediv", operator.truediv, operator.itruediv, "/"),
    ("floordiv", operator.floordiv, operator.ifloordiv, "//"),
    ("mod", operator.mod, operator.imod, "%"),
    ("pow", operator.pow, operator.ipow, "**"),
    ("matmul", operator.matmul, operator.imatmul, "@"),
]
_OUT_OF_PLACE = {inplace: op for _, op, inplace, _ in _BINARY}


def _make_binary(op: Callable, symbol: str, reflected: bool, inplace: bool) -> Callable:
    def method(self: LazyReadData, other: Any) -> LazyReadData:
        return self._binary(other, op, symbol, reflected=reflected, inplace=inplace)

    return method


for _name, _op, _iop, _symbol in _BINARY:
    for _prefix, _fn, _reflected, _inplace, _sym in (
        ("", _op, False, False, _symbol),
        ("r", _op, True, False, _symbol),
        ("i", _iop, False, True, _symbol + "="),
    ):
        _method = _make_binary(_fn, _sym, _reflected, _inplace)
        _method.__name__ = _method.__qualname__ = f"__{_prefix}{_name}__"
        _method.__doc__ = f"``{'other ' + _symbol + ' self' if _reflected else 'self ' + _sym + ' other'}``" \
                          " as a new proxy holding the result."
        setattr(LazyReadData, _method.__name__, _method)

_UNARY: list[tuple[str, Callable[[Any], Any], str]] = [
    ("neg", operator.neg, "-"), ("pos", operator.pos, "+"), ("abs", abs, "abs "),
]
for _name, _uop, _symbol in _UNARY:
    def _unary_method(self: LazyReadData, _op: Callable = _uop, _symbol: str = _symbol) -> LazyReadData:
        return self._unary(_op, _symbol)

    _unary_method.__name__ = _unary_method.__qualname__ = f"__{_name}__"
    _unary_method.__doc__ = f"``{_symbol.strip()}(self)`` as a new proxy holding the result."
    setattr(LazyReadData, f"__{_name}__", _unary_method)

del _name, _op, _uop, _iop, _symbol, _prefix, _fn, _reflected, _inplace, _sym, _method, _unary_method



_elision.calibrate(lambda array: LazyReadData._result(array, "probe"))
