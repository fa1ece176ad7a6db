"""The parallel HDF5 chunk path: lazy reads equal h5py's, writes equal h5py's layout."""

from __future__ import annotations

import os
import pickle

import dask
import dask.array as da
import distributed
import h5py
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lazysignal import block_source
from lazysignal.errors import ChunksError, FileChangedError
from lazysignal.io.backends import h5chunks as hc

DTYPES = ["f8", "f4", "i2", "u1", "?", "c16", ">i4"]


def _data(shape, dtype, seed=0):
    rng = np.random.default_rng(seed)
    dtype = np.dtype(dtype)
    if dtype.kind == "b":
        return rng.random(shape) > 0.5
    if dtype.kind == "c":
        return (rng.normal(size=shape) + 1j * rng.normal(size=shape)).astype(dtype)
    if dtype.kind == "f":
        return rng.poisson(3, size=shape).astype(dtype) + 0.25
    return rng.integers(0, 100, size=shape).astype(dtype)


def _h5(path, data, **kw):
    with h5py.File(path, "w") as f:
        f.create_dataset("g/x", data=data, **kw)
    return str(path)


@pytest.fixture(autouse=True)
def _close_handles():
    yield
    for path, _stamp in list(hc._handles):
        hc.close(path)


@st.composite
def _cases(draw):
    ndim = draw(st.integers(1, 3))
    shape = tuple(draw(st.lists(st.integers(1, 13), min_size=ndim, max_size=ndim)))
    stored = tuple(draw(st.integers(1, s)) for s in shape)
    mult = tuple(draw(st.sampled_from([1, 2, 3, -1])) for _ in shape)
    dtype = draw(st.sampled_from(DTYPES))
    comp = draw(st.sampled_from([("gzip", True), ("gzip", False), (None, True), (None, False)]))
    return shape, stored, mult, dtype, comp


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_cases())
def test_lazy_equals_h5py(tmp_path_factory, case):
    shape, stored, mult, dtype, (compression, shuffle) = case
    path = tmp_path_factory.mktemp("h") / "d.h5"
    data = _data(shape, dtype)
    _h5(path, data, chunks=stored, compression=compression, shuffle=shuffle)
    chunks = tuple(-1 if m == -1 else m * c for m, c in zip(mult, stored))
    x = hc.lazy_dataset(path, "g/x", chunks=chunks)
    assert x.dtype == data.dtype
    out = x.compute(scheduler="threads")
    np.testing.assert_array_equal(out, data)
    assert out.flags.writeable
    # the stored chunk grid is the default
    assert hc.lazy_dataset(path, "g/x").chunksize == tuple(min(c, s) for c, s in zip(stored, shape))


def test_edge_chunks_and_multi_chunk_blocks(tmp_path):
    data = _data((37, 21, 50), "f8")
    path = _h5(tmp_path / "e.h5", data, chunks=(8, 5, 16), compression="gzip", shuffle=True)
    x = hc.lazy_dataset(path, "g/x", chunks=(16, 10, -1))
    assert x.chunks == ((16, 16, 5), (10, 10, 1), (50,))
    np.testing.assert_array_equal(x.compute(), data)
    np.testing.assert_array_equal(x[30:, 19:, 40:].compute(), data[30:, 19:, 40:])
    # explicit block sizes whose edges are on the stored grid are allowed too
    y = hc.lazy_dataset(path, "g/x", chunks=((8, 24, 5), 5, 16))
    np.testing.assert_array_equal(y.compute(), data)


def test_auto_chunks_are_multiples(tmp_path):
    data = _data((64, 30, 20), "f4")
    path = _h5(tmp_path / "a.h5", data, chunks=(4, 30, 20), compression="gzip")
    with dask.config.set({"array.chunk-size": "100KiB"}):
        x = hc.lazy_dataset(path, "g/x", chunks="auto")
    assert all(c % 4 == 0 for c in x.chunks[0][:-1]) and x.chunks[0][0] > 4
    np.testing.assert_array_equal(x.compute(), data)


def test_unwritten_chunks_read_the_fill_value(tmp_path):
    path = tmp_path / "f.h5"
    with h5py.File(path, "w") as f:
        d = f.create_dataset("x", shape=(10, 10), chunks=(5, 5), dtype="f8",
                             compression="gzip", shuffle=True, fillvalue=7.5)
        d[:5, :5] = 1.0
        expected = d[()]
    np.testing.assert_array_equal(hc.lazy_dataset(path, "x").compute(), expected)
    assert expected[9, 9] == 7.5


@pytest.mark.parametrize("kw", [
    {"compression": "lzf"},
    {"compression": "gzip", "fletcher32": True},
    {"scaleoffset": 0},
    {"compression": "gzip", "shuffle": True, "fletcher32": True},
])
def test_other_filters_fall_back_to_h5py(tmp_path, kw):
    data = _data((20, 12), "i4")
    path = _h5(tmp_path / "l.h5", data, chunks=(6, 5), **kw)
    x = hc.lazy_dataset(path, "g/x", chunks=(12, 10))
    with h5py.File(path) as f:
        assert hc._pipeline(f["g/x"]) is None
    np.testing.assert_array_equal(x.compute(), data)


def test_contiguous_dataset(tmp_path):
    data = _data((30, 8), "u2")
    path = _h5(tmp_path / "c.h5", data)
    x = hc.lazy_dataset(path, "g/x", chunks=(7, 8))
    assert x.chunks[0] == (7, 7, 7, 7, 2)
    np.testing.assert_array_equal(x.compute(), data)


@pytest.mark.parametrize("chunks, match", [
    ((5, 4), "axis 0.*5 is not a positive multiple of 4"),
    ((8, 3), "axis 1.*multiple of 4"),
    ((8,), "one entry per axis"),
    ("big", "expected None, 'auto'"),
    (((6, 10), 4), "stored chunk boundaries"),
    (((4, 4), 4), "do not add up"),
])
def test_bad_chunks_raise(tmp_path, chunks, match):
    path = _h5(tmp_path / "b.h5", _data((16, 16), "f8"), chunks=(4, 4), compression="gzip")
    with pytest.raises(ChunksError, match=match) as err:
        hc.lazy_dataset(path, "g/x", chunks=chunks)
    assert "b.h5" in str(err.value)


def test_handles_cached_closed_and_reopened_after_rewrite(tmp_path):
    path = tmp_path / "r.h5"
    _h5(path, np.zeros((4, 4)), chunks=(2, 2), compression="gzip")
    assert hc.lazy_dataset(path, "g/x").sum().compute() == 0
    assert any(key == str(path) for key, _stamp in hc._handles)
    assert hc.close(path) is True and hc.close(path) is False
    _h5(path, np.ones((4, 4)), chunks=(2, 2), compression="gzip")  # replaced
    assert hc.lazy_dataset(path, "g/x").sum().compute() == 16


def test_graph_pickles_small_for_a_2gib_dataset(tmp_path):
    path = tmp_path / "big.h5"
    with h5py.File(path, "w") as f:  # chunks never written: a 2 GiB dataset in a tiny file
        f.create_dataset("x", shape=(128, 128, 256, 256), dtype="u2",
                         chunks=(4, 8, 256, 256), compression="gzip", shuffle=True)
    x = hc.lazy_dataset(path, "x")
    assert x.nbytes == 2**31 and x.npartitions == 512
    graph = dict(x.__dask_graph__())
    assert len(pickle.dumps(graph)) < 256 * 1024
    assert x[:4, :8].sum().compute() == 0


@pytest.fixture(scope="module")
def client():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster:
        with distributed.Client(cluster, set_as_default=False) as c:
            yield c


def test_distributed_equals_threaded(tmp_path, client):
    data = _data((40, 30, 24), "f8")
    path = _h5(tmp_path / "d.h5", data, chunks=(8, 30, 12), compression="gzip", shuffle=True)
    x = hc.lazy_dataset(path, "g/x", chunks=(16, -1, 12))
    expected = x.sum(axis=(0, 1)).compute(scheduler="threads")
    got = client.compute(x.sum(axis=(0, 1))).result()
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(client.compute(x).result(), data)


def test_write_on_distributed_cluster(tmp_path, client):
    data = _data((20, 9, 10), "f4")
    src = hc.lazy_dataset(_h5(tmp_path / "s.h5", data, chunks=(5, 9, 10)), "g/x")
    with dask.config.set(scheduler=client.get), h5py.File(tmp_path / "o.h5", "w") as f:
        assert hc._distributed_client(src) is client  # the cluster path is the one taken
        hc.write_dataset(f, "y", src * 2, chunks=(4, 9, 5))
        hc.write_dataset(f, "z", src, chunks=(4, 9, 5), compression="lzf", compression_opts=None)
    with h5py.File(tmp_path / "o.h5") as f:
        np.testing.assert_array_equal(f["y"][()], data * 2)
        np.testing.assert_array_equal(f["z"][()], data)


# --------------------------------------------------------------------------- writing
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("compression, shuffle", [("gzip", True), ("gzip", False), (None, True),
                                                  (None, False)])
@pytest.mark.parametrize("lazy", [False, True])
def test_write_reads_back_in_h5py(tmp_path, dtype, compression, shuffle, lazy):
    data = _data((13, 7, 10), dtype)
    src = da.from_array(data, chunks=(5, 7, 3)) if lazy else data  # unaligned dask blocks
    with h5py.File(tmp_path / "w.h5", "w") as f:
        hc.write_dataset(f, "x", src, chunks=(4, 3, 10), compression=compression, shuffle=shuffle)
    with h5py.File(tmp_path / "w.h5") as f:
        d = f["x"]
        assert (d.chunks, d.compression, d.shuffle, d.dtype) == (
            (4, 3, 10), compression, shuffle, data.dtype)
        np.testing.assert_array_equal(d[()], data)
    np.testing.assert_array_equal(hc.lazy_dataset(tmp_path / "w.h5", "x").compute(), data)


def test_write_has_h5py_filter_pipeline(tmp_path):
    data = _data((16, 16), "f8")
    with h5py.File(tmp_path / "p.h5", "w") as f:
        ours = hc.write_dataset(f, "ours", data, chunks=(8, 8), compression_opts=6)
        theirs = f.create_dataset("theirs", data=data, chunks=(8, 8), compression="gzip",
                                  compression_opts=6, shuffle=True)
        pipe = [ds.id.get_create_plist() for ds in (ours, theirs)]
        assert [[p.get_filter(i) for i in range(p.get_nfilters())] for p in pipe][0] == \
            [[p.get_filter(i) for i in range(p.get_nfilters())] for p in pipe][1]
        # the stored chunks are real zlib streams of the shuffled bytes
        import zlib
        _, raw = ours.id.read_direct_chunk((8, 0))
        block = np.ascontiguousarray(data[8:, :8])
        assert zlib.decompress(raw) == hc._shuffle(block.reshape(-1).view(np.uint8), 8).tobytes()


def test_write_other_compression_falls_back(tmp_path):
    data = _data((10, 10), "i2")
    with h5py.File(tmp_path / "z.h5", "w") as f:
        d = hc.write_dataset(f, "x", da.from_array(data, chunks=5), chunks=(5, 5),
                             compression="lzf", compression_opts=None)
        assert d.compression == "lzf"
        np.testing.assert_array_equal(d[()], data)


def test_write_streams_dask_blocks(tmp_path):
    """Each block is computed once and written as it comes (no full materialisation)."""
    calls = []

    def gen(block_info=None):
        loc = block_info[None]["array-location"]
        calls.append(loc[0][0])
        return np.full([b - a for a, b in loc], loc[0][0], "f8")

    x = da.map_blocks(gen, chunks=((8,) * 6, (20,)), dtype="f8")
    with h5py.File(tmp_path / "s.h5", "w") as f:
        d = hc.write_dataset(f, "x", x, chunks=(4, 20))
        assert sorted(calls) == list(range(0, 48, 8))
        assert d[17, 3] == 16


@pytest.mark.parametrize("level", [0, 1, 4, 9])
def test_write_levels_give_zlib_streams(tmp_path, level):
    data = _data((32, 32), "f8")
    with h5py.File(tmp_path / "l.h5", "w") as f:
        d = hc.write_dataset(f, "x", data, chunks=(16, 16), compression_opts=level)
        assert d.compression_opts == level
        np.testing.assert_array_equal(d[()], data)


def test_write_numpy_with_tiny_chunks(tmp_path):
    data = _data((300, 40), "i8")
    with h5py.File(tmp_path / "t.h5", "w") as f:
        d = hc.write_dataset(f, "x", data, chunks=(1, 7))
        np.testing.assert_array_equal(d[()], data)
    assert hc._grow((300, 40), (1, 7), 8, 1 << 24) == (300, 40)


def test_lazy_array_keeps_reading_its_file_after_the_path_is_replaced(tmp_path):
    path = tmp_path / "d.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.arange(64.0).reshape(8, 8), chunks=(4, 8), compression="gzip")
    x = hc.lazy_dataset(path, "x")
    replacement = tmp_path / "new.h5"
    with h5py.File(replacement, "w") as f:
        f.create_dataset("x", data=-np.arange(64.0).reshape(8, 8), chunks=(4, 8), compression="gzip")
    os.replace(replacement, path)
    np.testing.assert_array_equal(x.compute(), np.arange(64.0).reshape(8, 8))
    assert float(hc.lazy_dataset(path, "x").sum().compute()) == -np.arange(64.0).sum()
    hc.close(path)


def test_a_process_without_the_handle_refuses_a_replaced_file(tmp_path):
    path = tmp_path / "d.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=np.ones((8, 8)), chunks=(4, 8))
    x = hc.lazy_dataset(path, "x")
    hc.close(path)  # as on a worker process that never opened it
    with h5py.File(tmp_path / "new.h5", "w") as f:
        f.create_dataset("x", data=np.zeros((8, 8)), chunks=(4, 8))
    os.replace(tmp_path / "new.h5", path)
    with pytest.raises(FileChangedError, match="replaced or rewritten.*Load the file again"):
        x.compute()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_cases(), data=st.data())
def test_region_reads_equal_numpy_slices(tmp_path_factory, case, data):
    # The block source reads any region of a block: only the stored chunks it touches,
    # each cropped to the region (compressed chunks are inflated whole, unshuffled in part).
    shape, stored, mult, dtype, (compression, shuffle) = case
    values = _data(shape, dtype)
    path = _h5(tmp_path_factory.mktemp("r") / "r.h5", values, chunks=stored,
               compression=compression, shuffle=shuffle)
    chunks = tuple(-1 if m == -1 else s * m for s, m in zip(stored, mult))
    x = hc.lazy_dataset(path, "g/x", chunks=chunks)
    source = block_source.source_of(x)
    assert source.reads_regions
    block_id = tuple(data.draw(st.integers(0, len(c) - 1)) for c in x.chunks)
    starts = [sum(c[:i]) for c, i in zip(x.chunks, block_id)]
    region = []
    for c, i in zip(x.chunks, block_id):
        a = data.draw(st.integers(0, c[i] - 1))
        region.append(slice(a, data.draw(st.integers(a + 1, c[i]))))
    region = tuple(region)
    out = np.full([r.stop - r.start for r in region], 7, dtype=values.dtype)
    got = source.read_into(block_id, out, region)
    want = values[tuple(slice(a + r.start, a + r.stop) for a, r in zip(starts, region))]
    np.testing.assert_array_equal(got, want)
