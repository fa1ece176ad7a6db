"""Sums over leading axes decoded a slab of rows at a time (row_sums, h5_rows, zarr_chunks):
bit for bit numpy's sum of the block, for every filter, codec, dtype and chunking."""

from __future__ import annotations

import math

import h5py
import numcodecs
import numpy as np
import pytest
import zarr
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lazysignal import block_source
from lazysignal.io.backends import blosc_raw, row_sums
from lazysignal.io.backends import h5chunks as hc
from lazysignal.io.backends import zarr_chunks as zc

DTYPES = ["<f8", "<f4", ">f8", "u1", "<u2", "<i4", ">i4"]


def _values(shape, dtype, rng):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        # Magnitudes over many decades make the order of additions show in the last bits.
        values = rng.normal(size=shape) * 10.0 ** rng.integers(-6, 7, size=shape)
        flat = values.reshape(-1)
        for special in (-0.0, np.nan, np.inf):
            if flat.size > 8 and rng.random() < 0.3:
                flat[rng.integers(flat.size)] = special
        return values.astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, size=shape, endpoint=True).astype(dtype)


@st.composite
def _cases(draw):
    ndim = draw(st.integers(2, 4))
    shape = tuple(draw(st.lists(st.integers(1, 9), min_size=ndim, max_size=ndim)))
    stored = tuple(draw(st.integers(1, s)) for s in shape)
    mult = tuple(draw(st.sampled_from([1, 2, -1])) for _ in shape)
    dtype = draw(st.sampled_from(DTYPES))
    nreduce = draw(st.integers(1, ndim - 1))
    piece = draw(st.sampled_from([1, 24, 200, 1 << 20]))  # bytes per slab: 1 row ... all rows
    return shape, stored, mult, dtype, nreduce, piece, draw(st.integers(0, 2**16))


def _streamable(lo, hi, stored, nreduce, dtype) -> bool:
    """When the slab path must answer (else it may decline and the block is read whole)."""
    kept_block = math.prod(b - a for a, b in zip(lo[nreduce:], hi[nreduce:]))
    return (all(hi[ax] - lo[ax] == stored[ax] for ax in range(1, nreduce))
            and math.prod(stored[nreduce:]) >= 2 and kept_block >= 2)


def _check_blocks(x, values, stored, nreduce, monkeypatch, piece):
    """Every block's slab sum against numpy's sum of the block, bit for bit."""
    source = block_source.source_of(x)
    acc = np.sum(np.zeros(1, values.dtype)).dtype
    monkeypatch.setattr(row_sums, "PIECE_BYTES", piece)
    answered = 0
    for block_id in np.ndindex(*x.numblocks):
        lo = [sum(c[:i]) for c, i in zip(x.chunks, block_id)]
        hi = [a + c[i] for a, c, i in zip(lo, x.chunks, block_id)]
        block = values[tuple(slice(a, b) for a, b in zip(lo, hi))]
        got = source.sum_rows(block_id, nreduce, acc)
        if _streamable(lo, hi, stored, nreduce, values.dtype):
            assert got is not None, (lo, hi, stored, nreduce)
        if got is None:
            continue
        answered += 1
        expected = np.sum(block, axis=tuple(range(nreduce)), dtype=acc, keepdims=True)
        assert got.dtype == expected.dtype and got.shape == expected.shape
        assert got.tobytes() == expected.tobytes(), (lo, hi, got, expected)
    return answered


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_cases(), filters=st.sampled_from([(None, False), (None, True), ("gzip", False), ("gzip", True)]))
def test_hdf5_slab_sums_equal_numpy(tmp_path, monkeypatch, case, filters):
    shape, stored, mult, dtype, nreduce, piece, seed = case
    values = _values(shape, dtype, np.random.default_rng(seed))
    path = str(tmp_path / "x.h5")
    with h5py.File(path, "w") as f:
        f.create_dataset("x", data=values, chunks=stored, compression=filters[0], shuffle=filters[1])
    try:
        x = hc.lazy_dataset(path, "x", chunks=tuple(m if m == -1 else m * c for m, c in zip(mult, stored)))
        _check_blocks(x, values, stored, nreduce, monkeypatch, piece)
    finally:
        hc.close(path)


def test_hdf5_unwritten_chunks_sum_as_the_fill_value(tmp_path):
    path = str(tmp_path / "f.h5")
    with h5py.File(path, "w") as f:
        d = f.create_dataset("x", shape=(6, 4, 5), dtype="<f8", chunks=(2, 4, 5), fillvalue=0.5,
                             shuffle=True)
        d[:2] = np.arange(40.0).reshape(2, 4, 5)  # chunks 1 and 2 are never written
    try:
        x = hc.lazy_dataset(path, "x", chunks=(6, 4, 5))
        got = block_source.source_of(x).sum_rows((0, 0, 0), 2, np.dtype("f8"))
        with h5py.File(path, "r") as f:
            expected = f["x"][...].sum(axis=(0, 1), keepdims=True)
        assert got.tobytes() == expected.tobytes()
    finally:
        hc.close(path)


CODECS = {
    "blosc-zstd-shuffle": numcodecs.Blosc("zstd", 1, numcodecs.Blosc.SHUFFLE),
    # Many Blosc blocks per chunk: our zstd decoder, in batches, aligned slabs or Blosc's getitem.
    "blosc-zstd-shuffle-small-blocks": numcodecs.Blosc("zstd", 1, numcodecs.Blosc.SHUFFLE, blocksize=256),
    "blosc-zstd-noshuffle-small-blocks": numcodecs.Blosc("zstd", 1, numcodecs.Blosc.NOSHUFFLE, blocksize=256),
    "blosc-lz4-bitshuffle-small-blocks": numcodecs.Blosc("lz4", 5, numcodecs.Blosc.BITSHUFFLE, blocksize=256),
    "blosc-noshuffle": numcodecs.Blosc("blosclz", 3, numcodecs.Blosc.NOSHUFFLE),
    "uncompressed": None,
}


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=_cases(), codec=st.sampled_from(sorted(CODECS)), zeros=st.booleans())
def test_zarr_slab_sums_equal_numpy(tmp_path_factory, monkeypatch, case, codec, zeros):
    shape, stored, mult, dtype, nreduce, piece, seed = case
    values = _values(shape, dtype, np.random.default_rng(seed))
    if zeros:  # zarr 3 does not write chunks equal to the fill value: they read as it
        values[: max(1, shape[0] // 2)] = 0
    root = str(tmp_path_factory.mktemp("z"))
    z = zarr.create_array(root, name="a", shape=shape, chunks=stored, dtype=values.dtype, zarr_format=2,
                          compressors=CODECS[codec], fill_value=0)
    z[...] = values
    x = zc.lazy_array(zc.layout_of(z, root), chunks=tuple(
        n if m == -1 else m * c for m, c, n in zip(mult, stored, shape)), missing="fill")
    _check_blocks(x, values, stored, nreduce, monkeypatch, piece)


def test_zarr_codecs_without_item_access_decline(tmp_path):
    """Codecs other than Blosc decode whole chunks: the slab path says so (None)."""
    root = str(tmp_path)
    z = zarr.create_array(root, name="a", shape=(4, 6), chunks=(2, 6), dtype="f8", zarr_format=2,
                          compressors=numcodecs.Zlib(1), fill_value=0)
    z[...] = 1.0
    x = zc.lazy_array(zc.layout_of(z, root))
    assert block_source.source_of(x).sum_rows((0, 0), 1, np.dtype("f8")) is None


def test_blosc_unshuffle_is_hdf5s_byte_unshuffle():
    values = np.random.default_rng(3).random(1000)
    un = blosc_raw.Unshuffler(8, values.size)
    un.planes[...] = values.view(np.uint8).reshape(-1, 8).T  # HDF5's shuffle: byte planes
    out = np.empty_like(values)
    un.into(out)
    assert out.tobytes() == values.tobytes()


def test_single_kept_value_declines():
    """numpy sums a single column pairwise: the running-sum order would differ, so no answer."""
    def never(origin):
        raise AssertionError("no chunk is read when the plan declines")
    assert row_sums.sum_leading([0, 0], [8, 1], (8, 1), (8, 1), 1, np.dtype("f8"), np.dtype("f8"),
                                never) is None


@pytest.mark.parametrize("ext", ["hspy", "zspy"])
def test_navigation_sums_of_files_take_the_slab_path(ext, tmp_path, monkeypatch):
    """``s.sum(axis="navigation")`` of a lazily loaded file goes through ``sum_rows`` and
    equals the plain dask evaluation bit for bit (several chunkings)."""
    import dask.array as da

    import lazysignal as ls

    calls = []
    for reader in (hc._BlockReader, zc._BlockReader):
        original = reader.sum_rows

        def counting(self, *args, _original=original):
            got = _original(self, *args)
            calls.append(got is not None)
            return got
        monkeypatch.setattr(reader, "sum_rows", counting)
    values = _values((6, 5, 7), "<f8", np.random.default_rng(5))
    for i, chunks in enumerate([(2, 5, 7), (3, 5, 4), (6, 5, 7), (1, 5, 5)]):
        path = tmp_path / f"c{i}.{ext}"
        ls.signals.Signal1D(values).save(path, chunks=chunks)
        s = ls.load(path, lazy=True)
        calls.clear()
        got = s.sum(axis="navigation").compute().data
        plain = da.from_array(values, chunks=s.data.chunks).sum(axis=(0, 1)).compute()
        assert calls and all(calls)
        assert got.tobytes() == plain.tobytes()
        s.close_file()


@pytest.mark.parametrize("blocksize", [1024, 4096])
@pytest.mark.parametrize("piece", [1024, 5000, 1 << 20])
def test_zstd_chunks_of_counts_sum_through_our_decoder(tmp_path, monkeypatch, blocksize, piece):
    """Counts compress, so Blosc writes zstd blocks that ``FrameDecoder`` decodes (slabs on
    block edges in batches, others through Blosc's getitem); sums equal numpy bit for bit."""
    values = np.random.default_rng(blocksize + piece).poisson(4.0, (24, 16, 31)).astype("<f8")
    root = str(tmp_path)
    z = zarr.create_array(root, name="a", shape=values.shape, chunks=(8, 16, 31), dtype="<f8",
                          zarr_format=2, fill_value=0,
                          compressors=numcodecs.Blosc("zstd", 1, numcodecs.Blosc.SHUFFLE, blocksize=blocksize))
    z[...] = values
    layout = zc.layout_of(z, root)
    for index in ((0, 0, 0), (1, 0, 0), (2, 0, 0)):
        with open(layout.chunk_path(index), "rb") as f:
            assert blosc_raw.FrameDecoder.for_frame(np.frombuffer(f.read(), np.uint8)) is not None
    monkeypatch.setattr(row_sums, "PIECE_BYTES", piece)
    for chunks in ((8, 16, 31), (16, 16, 31), (24, 16, 31)):
        x = zc.lazy_array(layout, chunks=chunks)
        got = np.concatenate([block_source.source_of(x).sum_rows((i, 0, 0), 2, np.dtype("f8"))
                              for i in range(len(x.chunks[0]))])
        expected = np.concatenate([values[a:a + c].sum(axis=(0, 1), keepdims=True)
                                   for a, c in zip(np.cumsum((0,) + x.chunks[0][:-1]), x.chunks[0])])
        assert got.tobytes() == expected.tobytes()
        assert np.asarray(x).tobytes() == values.tobytes()  # whole chunks: the same decoder
