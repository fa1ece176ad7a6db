"""ChunkCache: reads counted at the storage; prefetch waited on through its futures; byte bound."""

import dask
import dask.array as da
import numpy as np
import pytest
from distributed import Client, LocalCluster, get_task_stream

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
    cache = ChunkCache(x, 2, max_bytes=10**8)
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
    cache = ChunkCache(x, 2, max_bytes=10**8)
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
        cache = ChunkCache(x, 2, max_bytes=10**8)
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
