"""get_histogram: lazy == eager for int/array/scott bins, fd when capped, at most two passes."""

import dask
import dask.array as da
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lazysignal.signals import Signal1D
from lazysignal.testing import chunks_for, signals


def _pair(h_lazy, h_eager):
    assert h_lazy.lazy and not h_eager.lazy
    np.testing.assert_array_equal(h_lazy.data.compute(), h_eager.data)
    assert h_lazy.axes_manager == h_eager.axes_manager


@given(data=st.data())
def test_histogram_int_array_scott_lazy_equals_eager(data):
    s = data.draw(signals(dtypes=("float64", "int32"), nav_dims=(0, 2), max_side=8))
    lazy = s.as_lazy(chunks=data.draw(chunks_for(s.data.shape)))
    bins = data.draw(st.sampled_from([5, 17, np.linspace(-500, 500, 9), "scott"]))
    range_bins = data.draw(st.sampled_from([None, (-100.0, 100.0)])) if not isinstance(bins, np.ndarray) else None
    _pair(lazy.get_histogram(bins=bins, range_bins=range_bins), s.get_histogram(bins=bins, range_bins=range_bins))


@pytest.mark.parametrize("chunks", [(100, 50), (7, 50), (13, 11)])
def test_histogram_fd_lazy_equals_eager_when_capped(chunks):
    data = np.random.default_rng(3).normal(size=(100, 50))
    s = Signal1D(data)
    eager = s.get_histogram(bins="fd", max_num_bins=30)
    lazy = s.as_lazy(chunks=chunks).get_histogram(bins="fd", max_num_bins=30)
    assert eager.data.size == 30
    _pair(lazy, eager)


def test_histogram_fd_single_chunk_exact_and_close_with_many():
    data = np.random.default_rng(4).normal(size=(40, 30))
    s = Signal1D(data)
    eager = s.get_histogram(bins="fd")
    _pair(s.as_lazy(chunks=-1).get_histogram(bins="fd"), eager)
    many = s.as_lazy(chunks=(7, 30)).get_histogram(bins="fd")
    assert abs(many.data.shape[0] - eager.data.shape[0]) <= 2
    assert int(many.data.sum().compute()) == data.size


def test_histogram_reads_data_at_most_twice():
    reads = []

    class Source:
        shape, dtype, ndim = (64, 32), np.dtype(float), 2

        def __getitem__(self, key):
            reads.append(key)
            return np.random.default_rng(abs(hash(str(key))) % 2**32).normal(size=(16, 32))[
                : key[0].stop - key[0].start]

    x = da.from_array(Source(), chunks=(16, 32), asarray=False, name="counted-source",
                      meta=np.empty((0, 0)))
    s = Signal1D(x)
    with dask.config.set(scheduler="synchronous"):
        h = s.get_histogram(bins="fd")
        h.compute()
    assert len(reads) == 2 * 4  # pass 1 (statistics) + pass 2 (counts), 4 chunks each
    reads.clear()
    Signal1D(x).get_histogram(bins=10, range_bins=(-3, 3)).compute()
    assert len(reads) == 4  # edges known: one pass


@pytest.mark.parametrize("rule", ["knuth", "blocks"])
def test_histogram_knuth_blocks_refused_on_lazy(rule):
    s = Signal1D(np.ones(10)).as_lazy()
    with pytest.raises(ValueError, match="not available for lazy data.*compute"):
        s.get_histogram(bins=rule)


def test_histogram_axis_and_title():
    s = Signal1D(np.arange(10.0))
    s.metadata.General.title = "counts"
    h = s.get_histogram(bins=2)
    ax = h.axes_manager[0]
    assert (ax.name, ax.offset, ax.scale, ax.is_binned) == ("value", 0.0, 4.5, True)
    assert h.metadata.General.title == "counts histogram"
    uneven = s.get_histogram(bins=np.array([0.0, 1.0, 5.0, 9.0]))
    assert not uneven.axes_manager[0].is_uniform
    assert uneven.data.tolist() == [1, 4, 5]
