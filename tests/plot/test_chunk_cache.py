"""ChunkCache: reads counted at the storage; prefetch waited on through its futures; byte bound."""

import gc
import threading
import weakref

import dask
import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster, get_task_stream

from lazysignal.block_source import attach, source_of
from lazysignal.io.backends.chunked_file import file_array
from lazysignal.plot.chunk_cache import ChunkCache


READS: dict[str, list] = {}


class CountingSource:
    """An array-like that records every block read from it (the storage reads).

    Reads go to a module-level list named after the source, so a copy unpickled by an
    in-process distributed worker records into the same list.
    """

    def __init__(self, values: np.ndarray, name: str):
        self.values, self.name = values, name
        self.shape, self.dtype, self.ndim = values.shape, values.dtype, values.ndim
        READS[name] = []

    @property
    def reads(self) -> list:
        return READS[self.name]

    def __getitem__(self, key):
        READS[self.name].append(tuple((k.start, k.stop) if isinstance(k, slice) else k for k in key))
        return self.values[key].copy()


def counted(shape=(8, 12, 10), chunks=(2, 4, 10), seed=0):
    values = np.random.default_rng(seed).random(shape)
    name = f"counted-{seed}-{'-'.join(map(str, chunks))}"
    source = CountingSource(values, name)
    x = da.from_array(source, chunks=chunks, asarray=False, name=name,
                      meta=np.empty((0,) * len(shape)))
    return x, values, source


def test_moving_inside_a_cached_chunk_reads_nothing():
    x, values, source = counted()
    cache = ChunkCache(x, 2, max_bytes=10**8, prefetch=False)
    np.testing.assert_array_equal(cache.get((0, 0)), values[0, 0])
    assert len(source.reads) == 1  # one storage chunk: the navigation chunk (0:2, 0:4)
    for pos in [(0, 1), (1, 3), (1, 0), (0, 2)]:
        np.testing.assert_array_equal(cache.get(pos), values[pos])
    assert len(source.reads) == 1
    assert cache.stats.hits == 4 and cache.stats.misses == 1
    cache.close()


def test_a_navigation_chunk_reads_every_signal_chunk_once():
    x, values, source = counted(chunks=(2, 4, 5))
    cache = ChunkCache(x, 2, max_bytes=10**8, prefetch=False)
    np.testing.assert_array_equal(cache.get((3, 5)), values[3, 5])
    assert sorted(source.reads) == [((2, 4), (4, 8), (0, 5)), ((2, 4), (4, 8), (5, 10))]
    cache.close()


def test_after_prefetch_the_neighbours_are_cached_and_moving_into_one_reads_nothing():
    x, values, source = counted()
    cache = ChunkCache(x, 2, max_bytes=10**8, position_first=False)
    cache.get((2, 5))  # chunk (1, 1); neighbours (0,1) (2,1) (1,0) (1,2)
    cache.wait()
    assert set(cache.cached_keys) == {(1, 1), (0, 1), (2, 1), (1, 0), (1, 2)}
    assert cache.stats.prefetched == 4
    cache.prefetch = False  # from here on, any read would be a move's own
    reads = len(source.reads)
    for pos in [(1, 5), (4, 5), (2, 3), (2, 8)]:  # one position in each neighbour
        np.testing.assert_array_equal(cache.get(pos), values[pos])
        assert len(source.reads) == reads, pos
    cache.close()


def test_neighbours_nearest_boundary_first():
    x, _, _ = counted()
    cache = ChunkCache(x, 2, max_bytes=10**8, prefetch=False)
    # Index 3 on axis 0 is the last row of chunk 1 (rows 2-3): the chunk below comes first.
    assert cache.neighbours((3, 5))[0] == (2, 1)
    # Row 0 is 2 rows from the chunk below; column 4 is the first of chunk 1 (columns 4-7).
    assert cache.neighbours((0, 4)) == [(0, 0), (1, 1), (0, 2)]
    cache.close()


def test_a_walk_prefetches_two_chunks_ahead():
    x, values, source = counted(shape=(12, 4, 10), chunks=(2, 4, 10))
    cache = ChunkCache(x, 2, max_bytes=10**8, position_first=False)
    cache.get((0, 0))
    cache.wait()
    cache.get((1, 0))  # moving down axis 0: chunk 1 (cached) first, then chunk 2
    assert cache.neighbours((1, 0), (1, 0)) == [(1, 0), (2, 0)]
    cache.wait()
    assert set(cache.cached_keys) == {(0, 0), (1, 0), (2, 0)}
    for i in range(2, 10):  # through chunks 1 to 4, each read ahead of the walk
        np.testing.assert_array_equal(cache.get((i, 0)), values[i, 0])
        cache.wait()  # (a walk at a human pace leaves the reads this time)
    # The walk never read in the foreground after its first position, and no chunk twice.
    assert cache.stats.misses == 1 and cache.stats.waits == 0
    assert sorted(source.reads) == sorted(set(source.reads)) and len(source.reads) == 6
    cache.close()


def test_the_walk_direction_comes_first_and_the_chunk_behind_last():
    x, _, _ = counted(shape=(8, 24, 10), chunks=(2, 4, 10))
    cache = ChunkCache(x, 2, max_bytes=10**8, prefetch=False)
    # Column 10 of chunk (1, 2) (columns 8-11), walking right: two chunks ahead, then the
    # side neighbours nearest boundary first (row 3 is the last of rows 2-3), then behind.
    assert cache.neighbours((3, 10), (0, 1)) == [(1, 3), (1, 4), (2, 2), (0, 2), (1, 1)]
    cache.close()


def test_a_move_into_an_unread_chunk_reads_its_position_alone_then_the_chunk_behind_it():
    x, values, source = counted()
    cache = ChunkCache(x, 2, max_bytes=10**8, position_first=True)
    np.testing.assert_array_equal(cache.get((3, 5)), values[3, 5])
    assert cache.stats.positions == 1 and cache.stats.misses == 0
    cache.wait()
    # First the position's own region, then (in the background) its chunk and the neighbours.
    assert source.reads[0] == (3, 5, (0, 10))
    assert ((2, 4), (4, 8), (0, 10)) in source.reads[1:]
    assert cache.stats.prefetched == 5
    reads = len(source.reads)
    cache.prefetch = False
    for pos in [(2, 4), (3, 7), (2, 6)]:  # the rest of that chunk: nothing read
        np.testing.assert_array_equal(cache.get(pos), values[pos])
    assert len(source.reads) == reads and cache.stats.hits == 3
    cache.close()


class GatedSource(CountingSource):
    """Reads by the prefetch thread wait for ``gate``: a background read held in flight at will."""

    def __init__(self, values, name):
        super().__init__(values, name)
        self.gate = threading.Event()
        self.started = threading.Event()

    def __getitem__(self, key):
        if threading.current_thread().name == "lazysignal-plot-prefetch":
            self.started.set()
            assert self.gate.wait(60), "the test never opened the gate"  # a failsafe, not a timing
        return super().__getitem__(key)


def test_a_needed_chunk_never_queues_behind_prefetch_and_stale_prefetch_is_dropped():
    values = np.random.default_rng(5).random((8, 24, 10))
    source = GatedSource(values, "gated")
    x = da.from_array(source, chunks=(2, 4, 10), asarray=False, name="gated", meta=np.empty((0, 0, 0)))
    cache = ChunkCache(x, 2, max_bytes=10**8, position_first=False)
    cache.get((0, 0))  # chunk (0, 0) read here; its neighbours (1, 0), (0, 1) queued
    assert source.started.wait(60)  # the background thread is now stuck reading one of them
    in_flight = [r for r in source.reads if r != ((0, 2), (0, 4), (0, 10))]
    assert in_flight == []  # (the gated read records only once the gate opens)
    # A move far away, while that read is stuck: it reads its own chunk (it would hang if it
    # waited for the background thread), and its neighbours replace the stale queue.
    np.testing.assert_array_equal(cache.get((6, 22)), values[6, 22])
    assert cache.stats.misses == 2 and cache.stats.waits == 0
    source.gate.set()
    cache.wait()
    background = [r for r in source.reads[2:]]
    stale = {((2, 4), (0, 4), (0, 10)), ((0, 2), (4, 8), (0, 10))}  # (1, 0) and (0, 1)
    # At most the one read already in flight among the stale ones; the far move's neighbours all.
    assert len(stale & set(background)) == 1
    assert {((4, 6), (20, 24), (0, 10)), ((6, 8), (16, 20), (0, 10))} <= set(background)
    cache.close()


class CountingBlockSource:
    """Wraps a back end's block source; records (block id, region) of every read."""

    def __init__(self, source, regions=True):
        self.source, self.reads_regions, self.reads = source, regions, []
        self._lock = threading.Lock()

    def read_into(self, block_id, out, region=None):
        with self._lock:
            self.reads.append((tuple(block_id), None if region is None else
                               tuple((r.start, r.stop) for r in region)))
        return self.source.read_into(block_id, out, region)


def raw_file(tmp_path, chunks, regions=True):
    values = np.random.default_rng(7).integers(0, 60000, (6, 8, 12, 16)).astype("<u2")
    path = tmp_path / "frames.raw"
    values.tofile(path)
    x = file_array(path, shape=values.shape, dtype="<u2", chunks=chunks)
    counting = CountingBlockSource(source_of(x), regions)
    return attach(x, counting), values, counting


def test_a_loaded_file_is_read_through_its_block_source_a_position_as_its_own_region(tmp_path):
    x, values, source = raw_file(tmp_path, chunks=(2, 4, 12, 16))
    cache = ChunkCache(x, 2, max_bytes=10**7, position_first=True)
    np.testing.assert_array_equal(cache.get((3, 5)), values[3, 5])
    # The move read one frame: block (1, 1), local position (1, 1), the whole frame.
    assert source.reads == [((1, 1, 0, 0), ((1, 2), (1, 2), (0, 12), (0, 16)))]
    cache.wait()
    background = source.reads[1:]
    assert background[0] == ((1, 1, 0, 0), ((0, 2), (0, 4), (0, 12), (0, 16)))  # its chunk, first
    assert sorted(b for b, _ in background) == [(0, 1, 0, 0), (1, 0, 0, 0), (1, 1, 0, 0), (2, 1, 0, 0)]
    reads = len(source.reads)
    cache.prefetch = False
    for pos in [(2, 4), (3, 7), (1, 5), (4, 5), (3, 0)]:  # its chunk, three neighbours: nothing read
        np.testing.assert_array_equal(cache.get(pos), values[pos])
    assert len(source.reads) == reads
    cache.close()


@pytest.mark.parametrize("chunks, regions", [((2, 4, 12, 16), True), ((3, 8, 5, 16), True),
                                             ((1, 3, 12, 7), True), ((2, 4, 5, 16), False)])
def test_block_source_reads_equal_numpy_at_every_position(tmp_path, chunks, regions):
    x, values, source = raw_file(tmp_path, chunks, regions)
    cache = ChunkCache(x, 2, max_bytes=4 * 3 * 8 * 12 * 16 * 2)
    for i in range(6):
        for j in range(8):
            np.testing.assert_array_equal(cache.get((i, j)), values[i, j])
        cache.wait()
    assert source.reads  # read through the source, not through dask
    cache.close()


def test_a_deferred_prefetch_starts_only_when_asked():
    x, values, source = counted()
    cache = ChunkCache(x, 2, max_bytes=10**8, position_first=False)
    np.testing.assert_array_equal(cache.get((2, 5), defer_prefetch=True), values[2, 5])
    cache.wait()
    assert len(source.reads) == 1 and cache.stats.prefetched == 0  # only the move's own chunk
    cache.start_prefetch()
    cache.wait()
    assert cache.stats.prefetched == 4 and len(source.reads) == 5
    cache.start_prefetch()  # nothing new to start
    cache.wait()
    assert len(source.reads) == 5
    cache.close()


def test_close_and_a_dropped_cache_end_the_prefetch_thread():
    x, _, _ = counted()
    for drop in (False, True):
        cache = ChunkCache(x, 2, max_bytes=10**8)
        cache.get((0, 0))
        cache.wait()
        (thread,) = cache._threads
        assert thread.is_alive()  # kept between moves, waiting for the next one
        if drop:  # no close(): the thread must not keep the cache (and its chunks) alive
            ref = weakref.ref(cache)
            del cache
            gc.collect()
            assert ref() is None
        else:
            cache.close()
        thread.join(60)  # (a failsafe bound: the thread ends as soon as it is woken)
        assert not thread.is_alive()


def test_the_cache_never_holds_more_than_its_bound():
    x, values, source = counted()
    chunk_bytes = 2 * 4 * 10 * 8
    bound = 3 * chunk_bytes
    cache = ChunkCache(x, 2, max_bytes=bound)
    rng = np.random.default_rng(1)
    for _ in range(40):
        pos = (int(rng.integers(8)), int(rng.integers(12)))
        np.testing.assert_array_equal(cache.get(pos), values[pos])
        assert cache.reserved_bytes <= bound
        cache.wait()
        assert cache.nbytes <= bound and len(cache.cached_keys) <= 3
        assert cache.key_of(pos) in cache.cached_keys  # the chunk at the cursor is kept
    cache.close()


def test_a_chunk_larger_than_the_bound_is_read_position_by_position():
    x, values, source = counted()
    cache = ChunkCache(x, 2, max_bytes=100)  # one chunk is 640 bytes
    for pos in [(0, 0), (0, 1)]:
        np.testing.assert_array_equal(cache.get(pos), values[pos])
    cache.wait()
    assert cache.nbytes == 0 and cache.stats.uncached == 2 and cache.stats.prefetched == 0
    assert len(source.reads) == 2
    cache.close()


def test_reset_forgets_chunks_and_reads_the_new_data():
    x, values, source = counted()
    cache = ChunkCache(x, 2, max_bytes=10**8)
    cache.get((0, 0))
    cache.wait()
    cache.reset(x * 2)
    assert cache.cached_keys == ()
    np.testing.assert_array_equal(cache.get((0, 0)), 2 * values[0, 0])
    cache.close()


def test_prefetch_runs_as_futures_on_a_distributed_client():
    x, values, source = counted()
    with LocalCluster(n_workers=1, processes=False, threads_per_worker=2, dashboard_address=":0") as cluster, \
            Client(cluster) as client:
        cache = ChunkCache(x, 2, max_bytes=10**8, position_first=False)
        with get_task_stream(client) as stream:
            np.testing.assert_array_equal(cache.get((2, 5)), values[2, 5])
            cache.wait()
        assert cache.stats.prefetched == 4
        # The chunk at the cursor and its 4 neighbours were read by the cluster's workers.
        assert len([t for t in stream.data if "counted" in str(t["key"])]) >= 5
        assert len(source.reads) == 5
        cache.prefetch = False
        reads = len(source.reads)
        np.testing.assert_array_equal(cache.get((4, 5)), values[4, 5])
        assert len(source.reads) == reads
        cache.close()


@pytest.mark.parametrize("chunks", [(1, 12, 10), (3, 5, 10), (8, 12, 10), (2, 4, 3)])
def test_every_position_equals_numpy_whatever_the_chunks(chunks):
    x, values, _ = counted(chunks=chunks, seed=3)
    cache = ChunkCache(x, 2, max_bytes=4 * 2 * 12 * 10 * 8)
    with dask.config.set(scheduler="threads"):
        for i in range(8):
            for j in range(12):
                np.testing.assert_array_equal(cache.get((i, j)), values[i, j])
    cache.close()
