"""Computing lazy data: the one place that calls ``dask.compute`` for signals.

* :func:`compute_arrays` computes any number of dask collections in one pass (a shared
  input is read once), with a progress bar on the threaded/process schedulers
  (``dask.diagnostics.ProgressBar``) and on dask.distributed (``distributed.progress`` on
  the futures), honouring the preferences' scheduler and worker count.
* :func:`compute` is ``lazysignal.compute(*signals)``: several lazy signals in one pass.
* :func:`default_chunks` is the chunking ``as_lazy`` uses (the chunk planner).
"""

from __future__ import annotations

import contextlib
import importlib
import sys
import time
import uuid
from typing import Any

import dask
import dask.array as da
import numpy as np
from dask.diagnostics import ProgressBar

from .array_ops import is_lazy
from .chunks import plan_chunks
from .errors import PreferenceError
from .block_source import scratch
from .preferences import preferences

__all__ = ["compute", "compute_arrays", "progress_context", "CountProgress", "default_chunks", "distributed_client",
           "resolve_progress", "warm_workers"]


def resolve_progress(show_progressbar: bool | None) -> bool:
    """The call's choice, else the preference."""
    return bool(preferences.show_progressbar if show_progressbar is None else show_progressbar)


def distributed_client():
    """The ``distributed.Client`` dask would use now, or None (threads/processes)."""
    if preferences.scheduler not in (None, "distributed"):
        return None
    if "distributed" not in sys.modules:
        return None
    from distributed import default_client

    try:
        client = default_client()
    except ValueError:
        if preferences.scheduler == "distributed":
            raise PreferenceError("preferences.scheduler is 'distributed' but no distributed.Client exists; "
                             "create one (Client(LocalCluster())) or set the scheduler to None.") from None
        return None
    # A client exists but the user chose another scheduler for dask explicitly.
    if dask.config.get("scheduler", None) not in (None, "dask.distributed", "distributed"):
        return None
    return client


#: Warm-up tasks not yet finished (held so that they are not forgotten before they run).
_warming: set = set()
#: (client id, modules) already warmed: a load of many files asks once.
_warmed: set[tuple[str, tuple[str, ...]]] = set()


def warm_workers(modules: tuple[str, ...]) -> int:
    """Have every worker of the active ``distributed.Client`` import ``modules``, in the
    background; returns the number of workers asked (0 without a client).

    A worker's first task otherwise imports what it needs itself (about 50 ms for a zspy
    read task), after the compute began. This sends small tasks to each worker now (once per
    client and set of modules) and returns without waiting: the imports run while the caller
    goes on.

    Examples
    --------
    >>> warm_workers(("lazysignal.io.backends.zarr_chunks",))  # no client here
    0
    """
    client = distributed_client()
    if client is None or not modules or (client.id, tuple(modules)) in _warmed:
        return 0
    _warmed.add((client.id, tuple(modules)))
    try:
        workers = list(client.scheduler_info().get("workers", {}))
    except Exception:  # pragma: no cover - a client shutting down: warming is only a help
        return 0
    for address in workers:
        for name in modules:
            # The task is importlib's own function: unpickling it imports nothing of ours
            # (a function of this module would make the worker import dask.array with it).
            future = client.submit(importlib.import_module, name, workers=[address],
                                   allow_other_workers=False, pure=False)
            _warming.add(future)
            future.add_done_callback(_warming.discard)
    return len(workers)


def progress_context(show_progressbar: bool | None):
    """A context manager showing a text progress bar while dask computes inside it.

    With the threaded (or processes) scheduler, dask's own ``ProgressBar``; with a
    ``distributed.Client`` active, computations inside the block go to that client and a
    bar follows their futures (writers call ``da.store`` deep inside, so the bar must
    come from the scheduler side, not from the caller's futures).
    """
    if not resolve_progress(show_progressbar):
        return contextlib.nullcontext()
    client = distributed_client()
    if client is not None:
        return dask.config.set(scheduler=_DistributedProgressGet(client))
    return ProgressBar(dt=0.2)


class CountProgress:
    """A text bar like dask's for work counted by hand (``step()`` once per item done)."""

    def __init__(self, total: int, width: int = 40, dt: float = 0.2):
        self.total, self.width, self.dt = max(int(total), 1), width, dt
        self.done, self._start, self._last = 0, time.perf_counter(), 0.0

    def step(self, n: int = 1) -> None:
        self.done += n
        now = time.perf_counter()
        if now - self._last >= self.dt or self.done >= self.total:
            self._last = now
            frac = min(self.done / self.total, 1.0)
            bar = "#" * int(frac * self.width)
            print(f"\r[{bar:<{self.width}}] | {frac:4.0%} Completed | {now - self._start:.1f}s",
                  end="\n" if self.done >= self.total else "", flush=True)


class _DistributedProgressGet:
    """A dask ``scheduler=`` callable: run on the client, show ``distributed.progress``."""

    def __init__(self, client):
        self.client = client

    def __call__(self, dsk, keys, **kwargs):
        from distributed import progress  # only when distributed is already in use

        futures = self.client.get(dsk, keys, sync=False, **kwargs)
        progress(futures, notebook=False)
        print(file=sys.stdout, flush=True)
        return self.client.gather(futures)


def _scheduler_kwargs(num_workers: int | None, collections=()) -> dict[str, Any]:
    kwargs: dict[str, Any] = {}
    if preferences.scheduler not in (None, "distributed"):
        kwargs["scheduler"] = preferences.scheduler
    workers = num_workers or preferences.num_workers
    if workers:
        kwargs["num_workers"] = int(workers)
    if "distributed" not in sys.modules:
        # No distributed.Client can exist yet. Left to choose, dask's compute runs
        # ``from distributed import get_client`` to look for one, importing all of
        # distributed (0.3-0.6 s, the largest cost of a first compute in a new process),
        # and a scheduler named by a string does the same. Hand dask the function it
        # would pick instead: the same scheduler, without the import.
        named = kwargs.get("scheduler", dask.config.get("scheduler", None))
        if named is None and collections:
            chosen = {type(c).__dask_scheduler__ for c in collections}
            kwargs["scheduler"] = next(iter(chosen)) if len(chosen) == 1 else None
        elif isinstance(named, str) and named.lower() in dask.base.named_schedulers:
            kwargs["scheduler"] = dask.base.named_schedulers[named.lower()]
        if kwargs.get("scheduler", 0) is None:
            del kwargs["scheduler"]
    return kwargs


def compute_arrays(*collections, show_progressbar: bool | None = None,
                   num_workers: int | None = None) -> tuple[Any, ...]:
    """Compute several dask collections in one pass (shared inputs are read once).

    Non-dask values pass through unchanged. With a ``distributed.Client`` active the work
    is submitted to it and the progress bar follows the futures.

    Examples
    --------
    >>> import dask.array as da, numpy as np
    >>> x = da.arange(10, chunks=5)
    >>> compute_arrays(x.sum(), x.max(), np.ones(2), show_progressbar=False)
    (np.int64(45), np.int64(9), array([1., 1.]))
    """
    lazy = [i for i, a in enumerate(collections) if dask.is_dask_collection(a)]
    results = list(collections)
    if not lazy:
        return tuple(results)
    todo = [collections[i] for i in lazy]
    client = distributed_client()
    if client is not None:
        futures, assemble = _blocks_on_client(client, todo)
        if resolve_progress(show_progressbar):
            from distributed import progress

            progress(futures, notebook=False)
            print(file=sys.stdout, flush=True)
        computed = assemble(client.gather(futures))
    else:
        try:
            with progress_context(show_progressbar):
                computed = dask.compute(*todo, **_scheduler_kwargs(num_workers, todo))
        finally:
            scratch.clear()  # block buffers are kept while blocks flow, not after
    for i, value in zip(lazy, computed):
        results[i] = value
    return tuple(results)


def _blocks_on_client(client, todo: list) -> tuple[list, Any]:
    """Futures of the blocks of ``todo`` on a distributed client, and how to put them together.

    ``client.compute(array)`` joins an array's blocks in a task on a worker, which imports
    dask.array there to do it (0.3-0.5 s on a worker that had no need of it: the fused sums
    and block readers do not import it). The blocks are gathered instead and joined here,
    with the array's own finalizer (the same function, run in this process).
    """
    arrays = [isinstance(c, da.Array) and c.ndim > 0 for c in todo]
    # Optimised together, as client.compute would: inputs shared by the arrays are read once.
    optimized = dask.optimize(*todo)
    delayed: list[Any] = []
    spans = []
    for c, is_array in zip(optimized, arrays):
        parts = list(c.to_delayed(optimize_graph=False).ravel()) if is_array else [c]
        spans.append((len(delayed), len(delayed) + len(parts)))
        delayed.extend(parts)
    futures = client.compute(delayed)

    def assemble(results: list) -> list:
        out = []
        for c, is_array, (a, b) in zip(todo, arrays, spans):
            if not is_array:
                out.append(results[a])
                continue
            nested = np.empty(c.numblocks, dtype=object)
            for i, block in enumerate(results[a:b]):
                nested.flat[i] = block
            finalize, args = c.__dask_postcompute__()
            out.append(finalize(nested.tolist(), *args))
        return out

    return futures, assemble


def compute(*signals, show_progressbar: bool | None = None, num_workers: int | None = None,
            close_file: bool = False):
    """Compute several lazy signals in place, in one pass over their shared data.

    ``s1.compute(); s2.compute()`` reads the file twice when both derive from it;
    ``compute(s1, s2)`` builds one graph, so each stored chunk is read once.

    Parameters
    ----------
    signals
        Signals (eager ones are left alone).
    show_progressbar
        Progress bar (default: the preference).
    num_workers
        Threads/processes to use (default: the preference, else dask's).
    close_file
        Close the files the signals keep open, once computed.

    Returns
    -------
    tuple
        The same signals, now eager (a single signal when one was given).

    Examples
    --------
    >>> import numpy as np
    >>> import lazysignal as ls
    >>> from lazysignal.lazy import compute
    >>> s = ls.signals.Signal1D(np.ones((4, 8))).as_lazy()
    >>> a, b = compute(s.sum(axis="signal"), s.max(axis="navigation"))
    >>> a.lazy, float(a.data.sum()), b.data.tolist()[:2]
    (False, 32.0, [1.0, 1.0])
    """
    arrays = [s.data for s in signals]
    computed = compute_arrays(*arrays, show_progressbar=show_progressbar, num_workers=num_workers)
    for s, value in zip(signals, computed):
        if is_lazy(s.data):
            s.data = np.asarray(value) if not isinstance(value, np.ndarray) else value
        if close_file:
            s.close_file()
    return signals[0] if len(signals) == 1 else tuple(signals)


def default_chunks(shape: tuple[int, ...], signal_ndim: int, dtype: Any = None) -> tuple:
    """Chunks for ``as_lazy`` and ``transpose(optimize=True)``: the chunk planner's choice.

    Signal axes whole (unless one signal exceeds the target chunk size), navigation split
    into chunks of about ``preferences.chunk_target_bytes``, enough chunks for every worker.
    Without ``dtype`` 8-byte elements are assumed.

    Examples
    --------
    >>> default_chunks((4, 10), 1)
    ((4,), (10,))
    """
    itemsize = np.dtype(dtype).itemsize if dtype is not None else 8
    return plan_chunks(shape, signal_ndim, itemsize, sig_chunks="auto")


class _NumpySource:
    """A numpy array dask can slice without ``from_array``'s defensive whole-array copy.

    ``dask.array.from_array`` copies anything with a ``.copy`` method (a 2 GiB array costs
    2 GiB and seconds before any work). Tasks built on this wrapper read views of the
    array, so the array must not change until the computation is done: use it for
    temporary graphs computed at once (``map`` on eager data), not for ``as_lazy``.
    """

    def __init__(self, array: np.ndarray):
        self._array = array
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim

    def __getitem__(self, key):
        return self._array[key]

    def __len__(self) -> int:
        return len(self._array)


def from_numpy_nocopy(array: np.ndarray, chunks) -> "Any":
    """A dask array over ``array`` without copying it (see :class:`_NumpySource`).

    Examples
    --------
    >>> x = np.arange(6.0)
    >>> from_numpy_nocopy(x, 3).sum().compute()
    np.float64(15.0)
    """
    return da.from_array(_NumpySource(np.asarray(array)), chunks=chunks, asarray=False,
                         name=f"numpy-{uuid.uuid4().hex}",
                         meta=np.empty((0,) * np.ndim(array), dtype=np.asarray(array).dtype))
