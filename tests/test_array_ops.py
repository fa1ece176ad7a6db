"""The array layer: memory-mapped ``.npy`` files wrapped lazily read per chunk, never copied whole."""

from __future__ import annotations

import pickle

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lazysignal.array_ops import as_dask
from lazysignal.signals import Signal1D
from lazysignal.testing import assert_signals_equal


def _npy(tmp_path_factory, shape, dtype):
    data = np.random.default_rng(3).random(shape).astype(dtype)
    path = tmp_path_factory.mktemp("npy") / "cube.npy"
    np.save(path, data)
    return path, data


_settings = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_settings
@given(c0=st.integers(1, 6), c1=st.integers(1, 9), c2=st.sampled_from([-1, 17, 64]),
       dtype=st.sampled_from(["<f8", "<f4", "<u2", ">i4"]))
def test_memmapped_npy_lazy_equals_eager(tmp_path_factory, c0, c1, c2, dtype):
    path, data = _npy(tmp_path_factory, (6, 9, 300), dtype)
    mapped = np.load(path, mmap_mode="r")
    eager = Signal1D(np.asarray(mapped).copy())
    lazy = Signal1D(mapped).as_lazy(chunks=(c0, c1, c2))
    assert lazy.data.chunksize[:2] == (c0, c1)
    for axis in ("navigation", "signal"):
        assert_signals_equal(lazy.sum(axis=axis).compute(), eager.sum(axis=axis), rtol=1e-6)
    assert_signals_equal(lazy.isig[5:40].mean(axis="navigation").compute(),
                         eager.isig[5:40].mean(axis="navigation"), rtol=1e-6)


def test_memmapped_npy_graph_reads_the_file_not_a_copy(tmp_path_factory):
    path, data = _npy(tmp_path_factory, (64, 64, 256), "<f8")  # 8 MiB
    lazy = as_dask(np.load(path, mmap_mode="r"), chunks=(16, 64, 256))
    # The graph names the file; it does not carry its 8 MiB of data.
    assert len(pickle.dumps(dict(lazy.__dask_graph__()))) < 64 * 2**10
    np.testing.assert_array_equal(lazy.compute(), data)
    # Changing the file is seen by the graph: it reads at compute time.
    np.save(path, data + 1)
    np.testing.assert_array_equal(lazy[:2].compute(), data[:2] + 1)


def test_plain_arrays_are_wrapped_with_the_given_chunks():
    arr = np.arange(24.0).reshape(4, 6)
    lazy = as_dask(arr, chunks=(3, 4))
    assert lazy.chunks == ((3, 1), (4, 2))
    np.testing.assert_array_equal(lazy.compute(), arr)
