"""File-backed proxies that load on first use and can drop their data again.

:class:`LazyReadData` stands for the content of a file (or any object) in an
arithmetic expression. It loads the file the first time it is used and, when
given ``nops``, drops the data again after that many arithmetic operations, so
that ``sum(proxies)`` over a hundred files holds two or three of them in memory
at once instead of a hundred. :class:`PreloadIterator` and :class:`PreloadList`
overlap that loading with the computation: while one item is being used, the
next ``npreload`` items load in a bounded thread pool.

Nothing here knows about any file format: the loader is ``lazysignal.load`` by
default, or any callable ``loader(path, **load_kwargs)``.
"""

from __future__ import annotations

import itertools
import operator
import os
import sys
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from lazysignal.errors import LazySignalError

__all__ = [
    "LazyReadData",
    "PreloadIterator",
    "PreloadList",
    "ProxyLoadError",
    "ProxyOperationError",
]


class ProxyLoadError(LazySignalError, OSError):
    """A :class:`LazyReadData` could not load its file; the loader's error is the cause."""


class ProxyOperationError(LazySignalError, TypeError, ValueError):
    """An arithmetic operation on a :class:`LazyReadData` failed (incompatible operand).

    Subclasses both ``TypeError`` and ``ValueError`` because the underlying
    operation raises either (wrong type, or shapes that do not broadcast); the
    original error is chained as ``__cause__``.
    """


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
      ``p += 1`` then computes out of place.
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
        import numpy as np

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
        self_refs = _refcount(self)
        proxies = [self] if not isinstance(other, LazyReadData) or other is self else [self, other]
        mine = self._load(f"operation {symbol!r}")
        mine_refs = _refcount(mine)
        theirs = other._load(f"operation {symbol!r}") if isinstance(other, LazyReadData) else other
        left, right = (theirs, mine) if reflected else (mine, theirs)
        if _PROBE is not None:
            _PROBE.append((self_refs, mine_refs))
        if inplace and self.filename is not None:
            # A file-backed proxy's data is a cache of its file: never mutate it.
            op = _OUT_OF_PLACE[op]
        try:
            result = _UNLOADED
            if (not inplace and _ELISION is not None and self.filename is None
                    and self_refs <= _ELISION[0] and mine_refs <= _ELISION[1]):
                result = _elide_temporary(mine, theirs, op, reflected)
            if result is _UNLOADED:
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


# -- temporary elision ------------------------------------------------------------------
#
# ``sum(arrays)`` on plain numpy arrays adds in place into the running total, because
# numpy reuses an operand that only the interpreter holds ("temporary elision"): one
# allocation and its page faults fewer per file. A proxy always holds its data, so numpy
# never sees a temporary; we do the same check one level up. An in-memory result proxy
# referenced only by the expression being evaluated (the running total inside ``sum``,
# ``(a + b)`` in ``(a + b) * c``), whose array nothing else references, is about to be
# thrown away: its array can take the result. What "referenced only by the expression"
# means in reference counts depends on the interpreter, so it is measured at import
# (below) and the elision is off wherever a named variable cannot be told from a
# temporary (or reference counts are unavailable).

_PROBE: list[tuple[int, int]] | None = None
_ELISION: tuple[int, int] | None = None
_UFUNCS: dict[Callable, Any] = {}


def _refcount(obj: Any) -> int:
    return sys.getrefcount(obj) if _ELISION is not None or _PROBE is not None else 0


def _elide_temporary(mine: Any, theirs: Any, op: Callable, reflected: bool) -> Any:
    """``op`` computed into ``mine`` when that gives exactly ``op``'s result; else _UNLOADED."""
    import numpy as np

    ufunc = _UFUNCS.get(op)
    if (ufunc is None or type(mine) is not np.ndarray or mine.base is not None
            or not mine.flags.writeable):
        return _UNLOADED
    if not isinstance(theirs, (np.ndarray, np.generic, int, float, complex)) or isinstance(theirs, bool):
        return _UNLOADED
    left, right = (theirs, mine) if reflected else (mine, theirs)
    try:
        same = (np.result_type(left, right) == mine.dtype
                and np.broadcast_shapes(mine.shape, np.shape(theirs)) == mine.shape)
    except (TypeError, ValueError):
        return _UNLOADED
    return ufunc(left, right, out=mine) if same else _UNLOADED


def _calibrate_elision() -> tuple[int, int] | None:
    """Reference counts seen in ``_binary`` for a temporary proxy, or None if unsafe."""
    global _PROBE
    if not hasattr(sys, "getrefcount") or not getattr(sys, "_is_gil_enabled", lambda: True)():
        return None
    import numpy as np

    _UFUNCS.update({operator.add: np.add, operator.sub: np.subtract, operator.mul: np.multiply,
                    operator.truediv: np.true_divide, operator.floordiv: np.floor_divide,
                    operator.mod: np.remainder, operator.pow: np.power})
    _PROBE = []
    try:
        LazyReadData._result(np.zeros(2), "probe") + 1  # a temporary on the stack
        named = LazyReadData._result(np.zeros(2), "probe")
        named + 1  # a named variable
        sum([1, 1], LazyReadData._result(np.zeros(2), "probe"))  # 2nd add: sum()'s running total
        held = named.data
        named + 1  # the array held elsewhere
    finally:
        probe, _PROBE = _PROBE, None
    del held
    temporary, named_var, _, in_sum, shared = probe
    if not (temporary[0] < named_var[0] and in_sum[0] <= temporary[0] and temporary[1] < shared[1]):
        return None
    return temporary[0], temporary[1]


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

for _name, _op, _symbol in (("neg", operator.neg, "-"), ("pos", operator.pos, "+"), ("abs", abs, "abs ")):
    def _unary_method(self: LazyReadData, _op: Callable = _op, _symbol: str = _symbol) -> LazyReadData:
        return self._unary(_op, _symbol)

    _unary_method.__name__ = _unary_method.__qualname__ = f"__{_name}__"
    _unary_method.__doc__ = f"``{_symbol.strip()}(self)`` as a new proxy holding the result."
    setattr(LazyReadData, f"__{_name}__", _unary_method)

del _name, _op, _iop, _symbol, _prefix, _fn, _reflected, _inplace, _sym, _method, _unary_method


_ELISION = _calibrate_elision()


# -- preloading --------------------------------------------------------------

_ITERATOR_IDS = itertools.count()


def _shutdown(pool: ThreadPoolExecutor, prefix: str, ahead: deque) -> None:
    """Stop a pool's threads and undo the preloads of items never handed out.

    Waits for loads in progress, unless called from one of the pool's threads
    (a garbage collection there), which cannot join itself.
    """
    in_pool = threading.current_thread().name.startswith(prefix)
    pool.shutdown(wait=not in_pool, cancel_futures=True)
    while ahead:
        _, item, future = ahead.popleft()
        if future is not None:
            item._unclaim_preload()


class PreloadIterator:
    """Iterate over proxies while the next ``npreload`` load in a bounded thread pool.

    Parameters
    ----------
    iterable : iterable
        Usually of :class:`LazyReadData`; other items pass through untouched.
        A generator is consumed ``npreload`` items ahead of the caller.
    npreload : int, optional
        How many items ahead to load, which is also the number of threads.
        Default ``os.cpu_count()``; ``0`` loads nothing ahead.

    Notes
    -----
    - A load that fails raises :class:`ProxyLoadError` (naming the file) when
      the iteration reaches that item; the iterator is then closed.
    - No thread outlives the iterator: the pool is shut down when iteration
      ends, on :meth:`close`, on leaving a ``with`` block, or when the iterator
      is garbage collected. Closing early releases the data preloaded for items
      never handed out (they reload if used later).
    - Memory: besides what the caller holds, at most ``npreload`` items are
      loaded ahead, so pair it with ``nops`` to keep ``sum()`` bounded.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from lazysignal.proxy import LazyReadData, PreloadIterator
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.npy") for i in range(6)]
    >>> for i, p in enumerate(paths):
    ...     np.save(p, np.arange(4) * i)
    >>> proxies = (LazyReadData(p, loader=np.load, nops=1) for p in paths)
    >>> with PreloadIterator(proxies, npreload=2) as it:
    ...     total = sum(it)
    >>> total.data
    array([ 0, 15, 30, 45])
    """

    def __init__(self, iterable: Iterable[Any], npreload: int | None = None) -> None:
        npreload = (os.cpu_count() or 1) if npreload is None else npreload
        if not isinstance(npreload, int) or npreload < 0:
            raise ValueError(f"npreload must be an integer >= 0; got {npreload!r}")
        self.npreload = npreload
        self._source: Iterator[Any] | None = iter(iterable)
        self._index = 0  # position of the next item in the source
        # (index, item, future of the preload we started, or None)
        self._ahead: deque[tuple[int, Any, Future | None]] = deque()
        self._pool: ThreadPoolExecutor | None = None
        self._finalizer: weakref.finalize | None = None
        if npreload:
            self._prefix = f"lazysignal-preload-{next(_ITERATOR_IDS)}"
            self._pool = ThreadPoolExecutor(max_workers=npreload, thread_name_prefix=self._prefix)
            # Runs on close() or garbage collection; holds the pool, not self.
            self._finalizer = weakref.finalize(self, _shutdown, self._pool, self._prefix, self._ahead)
        self._fill()

    def __iter__(self) -> "PreloadIterator":
        return self

    def __next__(self) -> Any:
        if self._ahead:
            index, item, future = self._ahead.popleft()
        elif self._source is not None:
            item = next(self._source, _UNLOADED)
            index, future = self._index, None
            self._index += 1
            if item is _UNLOADED:
                self.close()
                raise StopIteration
        else:
            self.close()
            raise StopIteration
        try:
            self._fill()
        except BaseException:
            self.close()
            raise
        if future is not None:
            try:
                future.result()
            except BaseException:
                # The failing item is the one reported; stop here, no threads left.
                self.close()
                raise
        return item

    def _fill(self) -> None:
        """Top the look-ahead up to ``npreload`` items, starting their loads."""
        while self._source is not None and len(self._ahead) < self.npreload:
            item = next(self._source, _UNLOADED)
            if item is _UNLOADED:
                self._source = None
                break
            index = self._index
            self._index += 1
            future = None
            if isinstance(item, LazyReadData) and item._claim_preload():
                future = self._pool.submit(item._load, f"preloading item {index} of a PreloadIterator")
            self._ahead.append((index, item, future))

    def close(self) -> None:
        """Stop preloading, wait for loads in progress, and end the iteration.

        Items preloaded but never handed out release their data. Safe to call
        more than once.
        """
        self._source = None
        if self._finalizer is not None:
            self._finalizer()  # runs once: shuts the pool down, undoes unused preloads
        self._ahead.clear()

    def __enter__(self) -> "PreloadIterator":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()


class PreloadList(list):
    """A list whose iteration is a :class:`PreloadIterator`.

    Parameters
    ----------
    iterable : iterable, optional
        The initial items (usually :class:`LazyReadData`).
    npreload : int, optional
        Items loaded ahead while iterating; default ``os.cpu_count()``.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from lazysignal.proxy import LazyReadData, PreloadList
    >>> folder = tempfile.mkdtemp()
    >>> paths = [os.path.join(folder, f"{i}.npy") for i in range(4)]
    >>> for i, p in enumerate(paths):
    ...     np.save(p, np.ones(2) * i)
    >>> volumes = PreloadList((LazyReadData(p, loader=np.load, nops=1) for p in paths), npreload=2)
    >>> len(volumes), sum(volumes).data
    (4, array([6., 6.]))
    """

    def __init__(self, iterable: Iterable[Any] | None = None, npreload: int | None = None) -> None:
        super().__init__(() if iterable is None else iterable)
        self.npreload = (os.cpu_count() or 1) if npreload is None else npreload

    def __iter__(self) -> PreloadIterator:
        return PreloadIterator(super().__iter__(), npreload=self.npreload)

    def __repr__(self) -> str:
        return f"PreloadList({list.__repr__(self)}, npreload={self.npreload})"
