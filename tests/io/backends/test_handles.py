"""Bounded handle caches: LRU eviction, leases that keep a handle open, reopen on demand
(real HDF5 files and zip stores, counted from the process' open files)."""

from __future__ import annotations

import os
import threading

import dask
import numpy as np
import psutil
import pytest

import lazysignal as ls
from lazysignal.io.backends import h5chunks
from lazysignal.io.backends.handles import DEFAULT_MAX_IDLE, HandleCache
from lazysignal.io.formats import zspy
from lazysignal.signals import Signal1D


class _Handles:
    """Records what a cache opened and closed."""

    def __init__(self):
        self.open, self.closed = [], []

    def opener(self, name):
        def open_():
            self.open.append(name)
            return name
        return open_

    def close(self, handle):
        self.closed.append(handle)


def test_idle_handles_beyond_the_bound_close_least_recently_used_first():
    h = _Handles()
    cache = HandleCache("t", max_idle=2, close=h.close)
    for name in "abc":
        with cache.lease(name, h.opener(name)):
            pass
    assert h.closed == ["a"] and cache.keys() == ["b", "c"]
    with cache.lease("b", h.opener("b")):  # cached: not opened again, now most recent
        pass
    with cache.lease("d", h.opener("d")):
        pass
    assert h.open == ["a", "b", "c", "d"] and h.closed == ["a", "c"]
    assert cache.keys() == ["b", "d"]


def test_a_leased_handle_is_never_closed_by_eviction():
    h = _Handles()
    cache = HandleCache("t", max_idle=0, close=h.close)
    with cache.lease("a", h.opener("a")):
        with cache.lease("b", h.opener("b")):
            assert h.closed == []  # both in use: over the bound but open
        assert h.closed == ["b"]
    assert h.closed == ["b", "a"] and len(cache) == 0


def test_closing_a_file_while_a_task_reads_it_waits_for_the_lease():
    h = _Handles()
    cache = HandleCache("t", max_idle=8, close=h.close)
    with cache.lease(("f", 1), h.opener("f1")):
        assert cache.close_matching(lambda k: k[0] == "f") == 1
        assert h.closed == [] and len(cache) == 0
        with cache.lease(("f", 1), h.opener("f1-again")) as again:  # reopened meanwhile
            assert again == "f1-again"
    assert h.closed == ["f1"]  # the reopened handle stays cached
    assert cache.keys() == [("f", 1)]


def test_a_bad_bound_is_refused():
    with pytest.raises(ValueError, match="max_idle"):
        HandleCache("t", max_idle=-1, close=lambda h: None)
    assert DEFAULT_MAX_IDLE > 0


def _open_count(paths):
    targets = {os.path.realpath(p) for p in paths}
    return sum(1 for f in psutil.Process().open_files() if f.path in targets)


def _files(tmp_path, ext, n):
    paths = []
    for i in range(n):
        path = tmp_path / f"f{i}.{ext}"
        Signal1D(np.full((3, 4), float(i))).save(path, chunks=(1, 4))
        paths.append(path)
    return paths


@pytest.fixture
def small_bound():
    caches = (h5chunks._handles, zspy._zip_stores)
    saved = [c.max_idle for c in caches]
    for c in caches:
        c.max_idle = 2
    yield
    for c, n in zip(caches, saved):
        c.max_idle = n


def test_many_lazy_hspy_files_keep_at_most_the_bound_open_and_reopen_evicted_ones(tmp_path, small_bound):
    paths = _files(tmp_path, "hspy", 6)
    signals = [ls.load(p, lazy=True) for p in paths]
    for s in signals:
        s.data.sum().compute()
    assert _open_count(paths) == 2  # the bound, not six
    # The first file was evicted: its lazy data reopen it on demand.
    assert float(signals[0].data.sum().compute()) == 0.0
    assert float(signals[5].data.sum().compute()) == 5.0 * 12
    for p in paths:
        h5chunks.close(p)
    assert _open_count(paths) == 0


def test_many_lazy_zip_stores_keep_at_most_the_bound_open(tmp_path, small_bound):
    paths = []
    for i in range(5):
        path = tmp_path / f"z{i}.zspy"
        Signal1D(np.full((3, 4), float(i))).save(path, store_type="zip")
        paths.append(path)
    signals = [ls.load(p, lazy=True) for p in paths]
    assert _open_count(paths) <= 2
    # Evicted stores reopen on demand; every signal still reads its own file.
    assert [float(s.data.sum().compute()) for s in signals] == [12.0 * i for i in range(5)]
    for p in paths:
        zspy.close(p)


def test_threads_reading_many_files_through_a_bound_of_one_read_correct_data(tmp_path):
    paths = _files(tmp_path, "hspy", 4)
    cache = h5chunks._handles
    saved = cache.max_idle
    cache.max_idle = 1
    try:
        signals = [ls.load(p, lazy=True) for p in paths]  # three blocks each
        results = {}

        def work(i):
            with dask.config.set(scheduler="threads"):
                results[i] = [float(signals[i].data.sum().compute()) for _ in range(5)]

        threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert results == {i: [12.0 * i] * 5 for i in range(4)}
        assert len(cache) <= 1  # nothing leased once all reads are done: the bound holds
    finally:
        cache.max_idle = saved
        for p in paths:
            h5chunks.close(p)
