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

from lazysignal.errors import ProxyLoadError, ProxyOperationError  # names kept here for compatibility
from lazysignal.proxy._lazy import LazyReadData
from lazysignal.proxy._preload import PreloadIterator, PreloadList

__all__ = [
    "LazyReadData",
    "PreloadIterator",
    "PreloadList",
    "ProxyLoadError",
    "ProxyOperationError",
]
