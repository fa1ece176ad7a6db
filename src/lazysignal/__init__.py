"""lazysignal: lazy, chunked analysis of multidimensional signals larger than memory.

Examples
--------
>>> import numpy as np
>>> import lazysignal as ls
>>> s = ls.signals.Signal1D(np.random.default_rng(0).random((64, 64, 256))).as_lazy()
>>> s.sum(axis="navigation").compute().data.shape
(256,)
"""

from typing import TYPE_CHECKING, Any

from .interactive import interactive
from .preferences import preferences  # light; and a name a submodule import must not shadow

# Nothing here imports dask.array: a dask.distributed worker unpickling one of our tasks
# imports this package first, and dask.array (with scipy behind it) costs it 0.3-0.5 s.
# ``compute`` is imported on first use (below); the binary-file reader that
# ``array_ops.as_dask`` uses for memmaps is imported by as_dask when first needed.

__version__ = "0.1.0"

__all__ = ["signals", "load", "stack", "compute", "preferences", "proxy", "roi", "interactive", "plot",
           "events", "__version__"]

if TYPE_CHECKING:
    from . import events, plot, proxy, roi, signals
    from .lazy import compute
    from .io.load import load
    from .stacking import stack


_PUBLIC = {"plot": ("plot", None), "proxy": ("proxy", None), "roi": ("roi", None), "events": ("events", None),
           "signals": ("signals", None), "load": ("io.load", "load"), "stack": ("stacking", "stack")}


def _public_api() -> None:
    """Import the whole public API (signal classes register themselves on the way)."""
    import importlib

    found = {}
    for name, (module, attribute) in _PUBLIC.items():
        imported = importlib.import_module(f"{__name__}.{module}")
        found[name] = imported if attribute is None else getattr(imported, attribute)
    globals().update(found)


def __getattr__(name: str) -> Any:
    # The public API is imported on first use of ``ls.<name>``, all of it at once (so every
    # signal class is registered before any is chosen). A process that only runs tasks (a
    # dask worker unpickling a block reader from lazysignal.io or lazysignal.expressions)
    # then imports neither matplotlib nor the X-ray database: 3 s per worker measured.
    if name == "compute":  # light: the lazy module only
        from .lazy import compute

        globals()["compute"] = compute
        return compute
    if name in __all__:
        _public_api()
        return globals()[name]
    raise AttributeError(f"module 'lazysignal' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
