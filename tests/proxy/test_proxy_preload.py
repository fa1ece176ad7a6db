"""PreloadIterator and PreloadList: order, look-ahead, bounded pool, errors, no leaked threads."""

from __future__ import annotations

import gc
import threading
import time

import numpy as np
import pytest
from proxy_helpers import CountingLoader, preload_threads, write_npy

from lazysignal.proxy import LazyReadData, PreloadIterator, PreloadList, ProxyLoadError


@pytest.fixture
def files(tmp_path):
    return write_npy(tmp_path, 10)


def _proxies(paths, loader, nops=1):
    return [LazyReadData(p, loader=loader, nops=nops) for p in paths]


def test_yields_the_same_items_in_order_and_ends(files, loader):
    paths, _ = files
    proxies = _proxies(paths, loader)
    it = PreloadIterator(proxies, npreload=3)
    assert iter(it) is it
    assert list(it) == proxies  # identity: items are handed out unchanged
    with pytest.raises(StopIteration):
        next(it)
    assert preload_threads() == []  # exhaustion shuts the pool down at once


def test_loads_npreload_items_ahead(files):
    paths, _ = files
    loader = CountingLoader()
    proxies = _proxies(paths, loader)
    it = PreloadIterator(proxies, npreload=3)
    first = next(it)
    assert first is proxies[0] and first.preloading()
    # items 1..3 are being loaded or loaded; 4.. are not touched
    assert [p.preloading() for p in proxies[1:]] == [True] * 3 + [False] * 6
    deadline = time.monotonic() + 120  # a guard against a hang, not a timing assumption
    while loader.total < 4 and time.monotonic() < deadline:
        time.sleep(0.005)
    assert sorted(loader.calls) == sorted(paths[:4])
    it.close()


def test_sum_over_preload_iterator(files, loader):
    paths, arrays = files
    total = sum(PreloadIterator(_proxies(paths, loader), npreload=4))
    np.testing.assert_allclose(total.data, sum(arrays))
    assert all(loader.calls[p] == 1 for p in paths)  # each loaded once, by the preloader


def test_generator_source_and_other_items_pass_through(files, loader):
    paths, arrays = files
    items = (LazyReadData(p, loader=loader, nops=1) if k % 2 else arrays[k] for k, p in enumerate(paths))
    total = sum(PreloadIterator(items, npreload=2))
    np.testing.assert_allclose(total.data, sum(arrays))


def test_npreload_zero_is_plain_iteration(files, loader):
    paths, arrays = files
    proxies = _proxies(paths, loader)
    it = PreloadIterator(proxies, npreload=0)
    next(it)
    assert loader.total == 0 and not any(p.preloading() for p in proxies)
    np.testing.assert_allclose(sum(it).data, sum(arrays[1:]))


def test_default_npreload_is_cpu_count(files):
    import os

    with PreloadIterator([]) as it:
        assert it.npreload == os.cpu_count()
    with pytest.raises(ValueError, match="npreload"):
        PreloadIterator([], npreload=-2)


def test_pool_is_bounded_by_npreload(tmp_path):
    paths, _ = write_npy(tmp_path, 30)
    loader = CountingLoader(delay=0.01)
    peak = 0
    for proxy in PreloadIterator(_proxies(paths, loader), npreload=3):
        peak = max(peak, len(preload_threads()))
        proxy + 1
    assert 1 <= peak <= 3


@pytest.mark.parametrize("delay", [0.0, 0.002])
def test_already_loaded_items_are_not_loaded_again(files, delay):
    # The iterator stops preloading once its first 4 loads took under 1 ms, so whether the
    # last items are loaded during iteration depends on thread scheduling when loads are
    # fast (this test used to assert they all were, and failed on a busy machine). What is
    # promised: an item already loaded is never loaded again, and every item loads once.
    paths, _ = files
    loader = CountingLoader(delay=delay)
    proxies = _proxies(paths, loader, nops=0)
    for p in proxies[:5]:
        p.data
    handed = list(PreloadIterator(proxies, npreload=4))
    assert handed == proxies
    assert all(loader.calls[p] == 1 for p in paths[:5])
    if delay:
        # Loads of 2 ms or more always stay worth preloading: the iterator loaded the rest.
        assert all(loader.calls[p] == 1 for p in paths[5:])
    for p in handed:
        p.data
    assert all(loader.calls[p] == 1 for p in paths)


def test_items_load_once_whether_or_not_preloading_stopped(tmp_path):
    # The scheduling the flaky run hit, made likely: the source is slow to yield item 4, so
    # the first 4 (fast) preloads have finished and the iterator stops preloading. Whether
    # it does depends on how long those loads took (a busy machine may make them > 1 ms),
    # so only what holds either way is asserted: each item loads once, with its data.
    paths, arrays = write_npy(tmp_path, 10)
    loader = CountingLoader()
    proxies = _proxies(paths, loader, nops=0)

    def source():
        for k, proxy in enumerate(proxies):
            if k == 4:
                while loader.total < 4:  # the first 4 preloads have started, however slowly
                    time.sleep(0.001)
            yield proxy

    handed = list(PreloadIterator(source(), npreload=4))
    assert all(loader.calls[p] <= 1 for p in paths)
    for proxy, array in zip(handed, arrays):
        np.testing.assert_array_equal(proxy.data, array)
    assert all(loader.calls[p] == 1 for p in paths)


# -- errors surface at the failing item --------------------------------------------


@pytest.mark.timeout(30)
@pytest.mark.parametrize("failure", ["missing", "loader"])
def test_load_error_surfaces_at_the_failing_item(files, failure):
    paths, _ = files
    if failure == "missing":
        import os

        os.remove(paths[5])
        loader = CountingLoader(delay=0.002)  # slow enough to stay worth preloading
    else:
        loader = CountingLoader(delay=0.002, fail={"5.npy"})
    it = PreloadIterator(_proxies(paths, loader), npreload=3)
    got = [next(it) for _ in range(5)]
    assert len(got) == 5
    with pytest.raises(ProxyLoadError) as info:
        next(it)
    message = str(info.value)
    assert paths[5] in message and "preloading item 5" in message
    cause = FileNotFoundError if failure == "missing" else ValueError
    assert isinstance(info.value.__cause__, cause)
    assert preload_threads() == []  # the iterator closed itself
    with pytest.raises(StopIteration):
        next(it)


@pytest.mark.timeout(30)
def test_error_in_sum_does_not_hang(files):
    paths, _ = files
    loader = CountingLoader(fail={"7.npy"})
    with pytest.raises(ProxyLoadError, match="7.npy"):
        sum(PreloadList(_proxies(paths, loader), npreload=4))
    assert preload_threads() == []


def test_error_from_the_source_iterable_propagates_and_closes(files, loader):
    paths, _ = files

    def source():
        yield LazyReadData(paths[0], loader=loader)
        yield LazyReadData(paths[1], loader=loader)
        raise RuntimeError("listing the folder failed")

    it = PreloadIterator(source(), npreload=1)
    next(it)
    with pytest.raises(RuntimeError, match="listing the folder"):
        next(it)
    assert preload_threads() == []


# -- no thread outlives the iterator -------------------------------------------------


def test_close_stops_threads_and_releases_unused_preloads(files):
    paths, _ = files
    loader = CountingLoader(delay=0.02)
    proxies = _proxies(paths, loader)
    it = PreloadIterator(proxies, npreload=4)
    next(it)
    assert preload_threads()
    it.close()
    assert preload_threads() == []  # close() joins, no waiting needed
    # preloads never handed out were undone, so they do not hold memory
    assert not any(p.preloading() for p in proxies[1:])
    assert loader.live() <= 1
    with pytest.raises(StopIteration):
        next(it)
    it.close()  # idempotent


def test_context_manager_stops_threads_on_break(files):
    paths, _ = files
    # Slow enough to stay worth preloading: fast loads would let the pool's threads exit
    # before the check below, depending on scheduling.
    loader = CountingLoader(delay=0.002)
    with PreloadIterator(_proxies(paths, loader), npreload=3) as it:
        for k, _item in enumerate(it):
            if k == 2:
                break
        assert preload_threads()
    assert preload_threads() == []


def test_garbage_collection_stops_threads(files, loader):
    paths, _ = files
    proxies = _proxies(paths, loader)
    it = PreloadIterator(proxies, npreload=3)
    next(it)
    assert preload_threads()
    del it
    gc.collect()
    assert preload_threads() == []
    assert not any(p.preloading() for p in proxies[1:])


def test_abandoned_for_loop_over_preload_list_leaves_no_thread(files, loader):
    paths, _ = files
    volumes = PreloadList(_proxies(paths, loader), npreload=3)
    for k, _item in enumerate(volumes):
        if k == 1:
            break
    # the for loop dropped its iterator: reference counting finalised it
    assert preload_threads() == []


def test_threads_are_named_and_few(files, loader):
    paths, _ = files
    before = set(threading.enumerate())
    it = PreloadIterator(_proxies(paths, loader), npreload=2)
    next(it)
    new = set(threading.enumerate()) - before
    assert new and all(t.name.startswith("lazysignal-preload") for t in new) and len(new) <= 2
    it.close()


# -- PreloadList ---------------------------------------------------------------------


def test_preload_list_is_a_list_iterated_with_preloading(files, loader):
    paths, arrays = files
    volumes = PreloadList((LazyReadData(p, loader=loader, nops=1) for p in paths), npreload=2)
    assert isinstance(volumes, list) and len(volumes) == 10 and volumes.npreload == 2
    it = iter(volumes)
    assert isinstance(it, PreloadIterator) and it.npreload == 2
    it.close()  # it may have preloaded the first two, then released them
    before = [loader.calls[p] for p in paths]
    assert before[2:] == [0] * 8
    np.testing.assert_allclose(sum(volumes).data, sum(arrays))
    np.testing.assert_allclose(sum(volumes).data, sum(arrays))  # reusable: reloads
    assert [loader.calls[p] - b for p, b in zip(paths, before)] == [2] * 10
    volumes.append(LazyReadData(arrays[0]))
    np.testing.assert_allclose(sum(volumes).data, sum(arrays) + arrays[0])
    assert "npreload=2" in repr(volumes)


def test_empty_preload_list():
    assert sum(PreloadList()) == 0
    assert list(PreloadList(npreload=3)) == []


def test_preloading_stops_when_loads_are_too_fast_to_gain(tmp_path):
    paths, arrays = write_npy(tmp_path, 24)
    proxies = _proxies(paths, lambda p: np.zeros(3), nops=0)  # microsecond loads
    it = PreloadIterator(proxies, npreload=2)
    handed = list(it)
    assert handed == proxies
    # the first items were preloaded; once 4 loads had shown they take microseconds,
    # the rest were handed out unloaded (they load when used)
    assert all(p.preloading() for p in proxies[:4])
    assert not any(p.preloading() for p in proxies[-4:])
    assert preload_threads() == []


def test_slow_loads_keep_being_preloaded(tmp_path):
    paths, _ = write_npy(tmp_path, 14)
    proxies = _proxies(paths, CountingLoader(delay=0.004), nops=0)
    with PreloadIterator(proxies, npreload=2) as it:
        for item in it:
            assert item.preloading()  # every item was loading before it was handed out
