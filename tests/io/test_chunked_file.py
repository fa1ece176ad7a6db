"""The per-chunk binary reader core: lazy == eager, headers, truncation, memory, pickling."""

from __future__ import annotations

import gc
import mmap
import pickle
import threading
import time

import dask
import dask.array as da
import distributed
import numpy as np
import psutil
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lazysignal.errors import ChunksError, FileFormatError, TruncatedFileError
from lazysignal.io.backends.chunked_file import file_array, normalize_file_chunks, read_file_array

OFFSET = 13
HEADER = 7


def _write_frames(path, data, *, offset=OFFSET, header=HEADER, frame_ndim=2):
    """Write ``data`` frame by frame, each frame behind ``header`` bytes of junk."""
    frames = data.reshape((-1,) + data.shape[data.ndim - frame_ndim :])
    with open(path, "wb") as f:
        f.write(b"\xab" * offset)
        for i, frame in enumerate(frames):
            f.write(bytes([i % 251]) * header)
            f.write(frame.tobytes())
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    rng = np.random.default_rng(42)
    data = rng.integers(0, 2**16, size=(5, 6, 12, 10), dtype=np.uint16).astype(">u2")
    path = _write_frames(tmp_path_factory.mktemp("core") / "stack.bin", data)
    return path, data


def _chunk_entry(n):
    return st.one_of(
        st.integers(1, n),
        st.just(-1),
        st.just("auto"),
        st.lists(st.integers(1, n), min_size=1, max_size=n)
        .map(lambda parts: _fit(parts, n)),
    )


def _fit(parts, n):
    """Turn a list of positive ints into block sizes summing to n."""
    out, total = [], 0
    for p in parts:
        if total + p > n:
            break
        out.append(p)
        total += p
    if total < n:
        out.append(n - total)
    return tuple(out)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    c0=_chunk_entry(5), c1=_chunk_entry(6), c2=_chunk_entry(12), c3=_chunk_entry(10),
    distributed=st.booleans(),
)
def test_lazy_equals_eager_any_chunks(stack, c0, c1, c2, c3, distributed):
    path, data = stack
    eager = read_file_array(path, shape=data.shape, dtype=data.dtype, offset=OFFSET, frame_header=HEADER)
    np.testing.assert_array_equal(eager, data)
    lazy = file_array(
        path, shape=data.shape, dtype=data.dtype, offset=OFFSET, frame_header=HEADER,
        chunks=(c0, c1, c2, c3), distributed=distributed,
    )
    assert lazy.dtype == data.dtype
    np.testing.assert_array_equal(lazy.compute(scheduler="threads"), data)


@pytest.mark.parametrize("distributed", [True, False])
def test_chunks_honoured_exactly(stack, distributed):
    path, data = stack
    arr = file_array(
        path, shape=data.shape, dtype=data.dtype, offset=OFFSET, frame_header=HEADER,
        chunks=(1, 1, 6, 5), distributed=distributed,
    )
    assert arr.chunks == ((1,) * 5, (1,) * 6, (6, 6), (5, 5))
    np.testing.assert_array_equal(arr[2:4, 1:5, 3:9].compute(), data[2:4, 1:5, 3:9])


def test_auto_chunks_keep_frames_whole():
    chunks = normalize_file_chunks("auto", (128, 128, 256, 256), "u2")
    assert chunks[2:] == ((256,), (256,))
    with dask.config.set({"array.chunk-size": "8MiB"}):
        small = normalize_file_chunks("auto", (128, 128, 256, 256), "u2")
    assert max(small[0]) * max(small[1]) * 256 * 256 * 2 <= 8 * 2**20
    assert normalize_file_chunks({0: 2}, (4, 3, 2, 2), "u1") == ((2, 2), (3,), (2,), (2,))


@pytest.mark.parametrize(
    "bad", [(1, 2, 3), (0, 1, 1, 1), (-3, 1, 1, 1), ((2, 2), 6, 12, 10), "lots", {7: 1}, (1.5, 1, 1, 1)]
)
def test_wrong_chunks_raise_naming_the_shape(stack, bad):
    path, data = stack
    with pytest.raises(ChunksError, match=r"\(5, 6, 12, 10\)"):
        file_array(path, shape=data.shape, dtype=data.dtype, offset=OFFSET, frame_header=HEADER, chunks=bad)


def test_headers_are_stripped_and_no_header_layout(tmp_path):
    data = np.arange(3 * 4 * 2 * 3, dtype="<i4").reshape(3, 4, 2, 3)
    with_headers = _write_frames(tmp_path / "h.bin", data, offset=0, header=16)
    plain = _write_frames(tmp_path / "p.bin", data, offset=100, header=0)
    a = file_array(with_headers, shape=data.shape, dtype="<i4", frame_header=16, chunks=(2, 3, 1, 3))
    b = file_array(plain, shape=data.shape, dtype="<i4", offset=100, chunks=(2, 3, 1, 3))
    np.testing.assert_array_equal(a.compute(), data)
    np.testing.assert_array_equal(b.compute(), data)
    # frame_ndim=1: spectra with a header each
    spectra = _write_frames(tmp_path / "s.bin", data, offset=4, header=3, frame_ndim=1)
    c = file_array(spectra, shape=data.shape, dtype="<i4", offset=4, frame_header=3, frame_ndim=1)
    np.testing.assert_array_equal(c.compute(), data)


@pytest.mark.parametrize("distributed", [True, False])
def test_truncated_file_raises_or_pads(tmp_path, distributed):
    data = np.arange(4 * 3 * 8 * 8, dtype="<u2").reshape(4, 3, 8, 8) + 1
    path = _write_frames(tmp_path / "t.bin", data, offset=8, header=4)
    full = path.stat().st_size
    with open(path, "r+b") as f:
        f.truncate(full - 100)
    kw = dict(shape=data.shape, dtype="<u2", offset=8, frame_header=4)
    with pytest.raises(TruncatedFileError, match="t.bin") as err:
        file_array(path, distributed=distributed, **kw)
    assert str(full) in str(err.value) and str(full - 100) in str(err.value)
    with pytest.raises(TruncatedFileError):
        read_file_array(path, **kw)
    padded = file_array(path, pad=True, chunks=(1, 1, 8, 8), distributed=distributed, **kw).compute()
    expect = data.copy()
    # The last 100 bytes are the last 50 pixels of the last frame: they read as zeros.
    flat = expect.reshape(-1)
    flat[-50:] = 0
    np.testing.assert_array_equal(padded, expect)
    np.testing.assert_array_equal(read_file_array(path, pad=True, **kw), expect)


def test_graph_is_small_and_picklable(tmp_path):
    # A sparse 2 GiB file: the graph never reads it, so this costs nothing.
    path = tmp_path / "big.bin"
    shape = (128, 128, 256, 256)
    with open(path, "wb") as f:
        f.truncate(1024 + int(np.prod(shape)) * 2)
    arr = file_array(path, shape=shape, dtype="<u2", offset=1024)
    assert arr.nbytes == 2 * 2**30
    graph = dict(arr.__dask_graph__())
    assert len(pickle.dumps(graph)) < 2**20
    # A fine chunking still pickles a compact (unmaterialised) graph.
    fine = file_array(path, shape=shape, dtype="<u2", offset=1024, chunks=(4, 4, 256, 256))
    import cloudpickle

    assert len(cloudpickle.dumps(fine.__dask_graph__())) < 2**20
    restored = pickle.loads(pickle.dumps(fine))
    np.testing.assert_array_equal(restored[:1, :1, :2, :2].compute(), np.zeros((1, 1, 2, 2), "u2"))


class _PeakRSS:
    def __init__(self):
        self.proc = psutil.Process()
        self.peak = 0
        self.stop = threading.Event()

    def _loop(self):
        while not self.stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            time.sleep(0.002)

    def __enter__(self):
        gc.collect()
        self.base = self.proc.memory_info().rss
        self.thread = threading.Thread(target=self._loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


@pytest.mark.parametrize("distributed", [False, True])
def test_memory_stays_bounded(tmp_path, distributed):
    shape = (128, 64, 128, 128)  # 256 MiB of uint16
    path = tmp_path / "mem.bin"
    frame = np.arange(128 * 128, dtype="<u2").reshape(128, 128)
    with open(path, "wb") as f:
        for _ in range(shape[0] * shape[1] // 64):
            f.write(np.broadcast_to(frame, (64, 128, 128)).tobytes())
    arr = file_array(path, shape=shape, dtype="<u2", chunks=(4, 64, 128, 128), distributed=distributed)
    with _PeakRSS() as rss:
        total = arr.sum(axis=(0, 1), dtype=np.uint64).compute(scheduler="threads", num_workers=2)
    np.testing.assert_array_equal(total, frame.astype(np.uint64) * shape[0] * shape[1])
    size = path.stat().st_size
    # 8 MiB chunks on 2 threads: far below the 256 MiB file.
    assert rss.peak - rss.base < size / 4, (rss.peak - rss.base) / 2**20


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None
    )
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


def test_local_cluster_equals_threads(stack, client):
    path, data = stack
    arr = file_array(
        path, shape=data.shape, dtype=data.dtype, offset=OFFSET, frame_header=HEADER,
        chunks=(2, 3, 12, 10),
    )
    mask = np.zeros(data.shape[2:], dtype=bool)
    mask[3:8, 2:7] = True
    vbf = (arr * mask).sum(axis=(2, 3), dtype=np.uint64)
    threaded = vbf.compute(scheduler="threads")
    on_cluster = client.compute(vbf).result()
    np.testing.assert_array_equal(on_cluster, threaded)
    np.testing.assert_array_equal(threaded, (data.astype(np.uint64) * mask).sum(axis=(2, 3)))


@pytest.mark.parametrize("lazy", [False, True])
def test_write_file_array_round_trip(tmp_path, lazy):
    data = np.arange(3 * 4 * 5 * 6, dtype=">i2").reshape(3, 4, 5, 6)
    path = tmp_path / "w.bin"
    path.write_bytes(b"H" * 9)
    from lazysignal.io.backends.chunked_file import write_file_array

    src = da.from_array(data, chunks=(2, 3, 5, 4)) if lazy else data
    write_file_array(path, src, offset=9, frame_header=3)
    assert path.read_bytes()[:9] == b"H" * 9
    assert path.stat().st_size == 9 + 12 * (3 + 60)
    back = read_file_array(path, shape=data.shape, dtype=">i2", offset=9, frame_header=3)
    np.testing.assert_array_equal(back, data)


@pytest.mark.parametrize("reader", [file_array, read_file_array])
def test_negative_offsets_are_refused_lazy_and_eager(tmp_path, reader):
    path = tmp_path / "x.bin"
    np.zeros(16, "u1").tofile(path)
    with pytest.raises(FileFormatError, match="must be >= 0"):
        reader(path, shape=(4, 4), dtype="u1", offset=-2)


@pytest.fixture(scope="module")
def multi_huge_page_file(tmp_path_factory):
    """A float64 file of 3.5 huge pages (2 MiB each) behind an odd-sized header."""
    rng = np.random.default_rng(7)
    data = rng.random((7, 256, 512))  # 7 MiB
    path = tmp_path_factory.mktemp("huge") / "frames.bin"
    with open(path, "wb") as f:
        f.write(b"\x01" * 4099)
        f.write(data.tobytes())
    return path, data


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.integers(1, 80), min_size=1, max_size=12).map(lambda p: _fit(p, 256)),
       frames=st.lists(st.integers(1, 7), min_size=1, max_size=7).map(lambda p: _fit(p, 7)))
def test_mapped_chunks_straddling_huge_pages_read_exactly(multi_huge_page_file, rows, frames):
    # Maps are widened to whole 2 MiB pages within the file: chunks starting and ending
    # anywhere (mid-page, on a page, at the end of the file) still see exactly their bytes.
    path, data = multi_huge_page_file
    lazy = file_array(path, shape=data.shape, dtype=data.dtype, offset=4099,
                      chunks=(frames, rows, 512), distributed=False)
    np.testing.assert_array_equal(lazy.compute(scheduler="threads"), data)
    np.testing.assert_array_equal(lazy.sum(axis=2).compute(), data.sum(axis=2))


def test_mapped_blocks_are_read_only_views_of_the_file(multi_huge_page_file):
    path, data = multi_huge_page_file
    lazy = file_array(path, shape=data.shape, dtype=data.dtype, offset=4099,
                      chunks=(3, 100, 512), distributed=False)
    # The task's own output, before dask assembles anything: what a reduction receives.
    block = dask.get(dict(lazy.__dask_graph__()), (lazy.name, 1, 1, 0))
    np.testing.assert_array_equal(block, data[3:6, 100:200])
    assert not block.flags.writeable
    base = block  # no copy was made: the base chain ends in a map of the file
    while isinstance(base, np.ndarray) and base.base is not None:
        base = base.base
    assert isinstance(base, mmap.mmap)
    with pytest.raises(ValueError, match="read-only"):
        block[0, 0, 0] = 1.0
