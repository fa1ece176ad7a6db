"""The direct chunk-file path of zarr v2 directory stores equals zarr's own reads and writes."""

import os

import dask.array as da
import numcodecs
import numpy as np
import pytest
import zarr
from hypothesis import given
from hypothesis import strategies as st

from lazysignal.errors import ChunksError, MissingFileError
from lazysignal.io.backends import zarr_chunks as zc


def _array(root, data, chunks, compressor="blosc", separator="/"):
    codec = {"blosc": numcodecs.Blosc(cname="zstd", clevel=1, shuffle=1), "zlib": numcodecs.Zlib(1),
             None: None}[compressor]
    z = zarr.create_array(root, name="a/data", shape=data.shape, chunks=chunks, dtype=data.dtype,
                          zarr_format=2, compressors=codec, fill_value=0,
                          chunk_key_encoding={"name": "v2", "separator": separator})
    return z


@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=3), data=st.data(),
       compressor=st.sampled_from(["blosc", "zlib", None]), separator=st.sampled_from(["/", "."]),
       dtype=st.sampled_from(["<f8", "<u2", "<i4", "<c8"]))
def test_direct_reads_equal_zarr_reads(tmp_path_factory, shape, data, compressor, separator, dtype):
    root = str(tmp_path_factory.mktemp("z"))
    values = (np.arange(np.prod(shape)).reshape(shape) % 251).astype(dtype)
    chunks = tuple(data.draw(st.integers(1, n)) for n in shape)
    z = _array(root, values, chunks, compressor, separator)
    z[...] = values
    layout = zc.layout_of(z, root)
    # zarr 3 skipped the chunks equal to the fill value: read them as zarr does.
    np.testing.assert_array_equal(zc.lazy_array(layout, missing="fill").compute(), z[...])
    multiple = tuple(c * data.draw(st.integers(1, 3)) for c in chunks)
    x = zc.lazy_array(layout, chunks=multiple, missing="fill")
    np.testing.assert_array_equal(x.compute(), values)


@given(shape=st.lists(st.integers(1, 9), min_size=1, max_size=3), data=st.data())
def test_direct_writes_read_back_with_zarr(tmp_path_factory, shape, data):
    root = str(tmp_path_factory.mktemp("z"))
    values = np.random.default_rng(0).random(shape)
    stored = tuple(data.draw(st.integers(1, n)) for n in shape)
    z = _array(root, values, stored)
    dask_chunks = tuple(data.draw(st.integers(1, n)) for n in shape)  # not aligned: rechunked
    zc.store_array(zc.layout_of(z, root), da.from_array(values, chunks=dask_chunks))
    np.testing.assert_array_equal(zarr.open_array(root, path="a/data")[...], values)


def test_missing_chunk_raises_or_reads_as_fill_value_and_edges_are_padded(tmp_path):
    root = str(tmp_path)
    values = np.arange(1.0, 26.0).reshape(5, 5)
    z = _array(root, values, (2, 2))
    zc.store_array(zc.layout_of(z, root), da.from_array(values, chunks=(2, 2)))
    # the edge chunk is stored full size (2, 2), as zarr v2 requires
    edge = numcodecs.get_codec(z.metadata.compressor.get_config()).decode(
        open(os.path.join(root, "a", "data", "2", "2"), "rb").read())
    assert np.frombuffer(edge, "<f8").size == 4
    os.remove(os.path.join(root, "a", "data", "0", "0"))
    # Every chunk is written (HyperSpy, lazysignal): a missing one is a lost file ...
    with pytest.raises(MissingFileError, match=r"data/0/0' is missing.*chunk \(0, 0\)"):
        zc.lazy_array(zc.layout_of(z, root)).compute()
    # ... unless the store was written without fill-value chunks (zarr 3's default).
    got = zc.lazy_array(zc.layout_of(z, root), missing="fill").compute()
    expected = values.copy()
    expected[:2, :2] = 0
    np.testing.assert_array_equal(got, expected)


def test_unaligned_chunks_are_refused(tmp_path):
    z = _array(str(tmp_path), np.zeros((8, 8)), (4, 4))
    with pytest.raises(ChunksError, match="multiple"):
        zc.lazy_array(zc.layout_of(z, str(tmp_path)), chunks=(3, 4))


def test_unsupported_layouts_fall_back(tmp_path):
    z = zarr.create_array(str(tmp_path), shape=(4,), chunks=(2,), dtype="f8", zarr_format=3)
    assert zc.layout_of(z, str(tmp_path)) is None
