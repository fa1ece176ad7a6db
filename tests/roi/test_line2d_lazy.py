"""Line2DROI on lazy data: lazy result, one read per chunk the line crosses, one compute.

HyperSpy computes its lazy line profile once per signal pixel and returns eager data; ours
builds one task per chunk crossed and computes when asked, equal to the eager profile.
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest
import scipy.ndimage as ndi
from dask.callbacks import Callback
from hypothesis import given
from hypothesis import strategies as st

import lazysignal as ls
from lazysignal.roi.profile import line_profile, sample_coordinates
from lazysignal.testing import assert_signals_equal

NAV, SIG, CHUNKS = (8, 8), (4, 5), (2, 2, 4, 5)
VALUES = np.random.default_rng(3).random(NAV + SIG)


class ComputeCount(Callback):
    """Counts graph executions (``compute`` calls reaching the scheduler)."""

    def __init__(self):
        super().__init__()
        self.runs = 0

    def _start(self, dsk):
        self.runs += 1


def _counted_stack():
    reads = []

    class Source:
        ndim, dtype, shape = 4, VALUES.dtype, VALUES.shape

        def __getitem__(self, key):
            reads.append(tuple(k.start // c for k, c in zip(key[:2], CHUNKS)))
            return VALUES[key]

    x = da.from_array(Source(), chunks=CHUNKS, asarray=False, name="counted-stem", meta=np.empty((0,) * 4))
    return ls.signals.Signal2D(x), reads


@pytest.mark.parametrize("line, chunks_crossed", [
    ((0, 1, 7, 1, 0), {(0, 0), (0, 1), (0, 2), (0, 3)}),     # along row 1
    ((0, 0, 7, 7, 0), {(0, 0), (1, 1), (2, 2), (3, 3)}),     # diagonal: only the chunks it meets
    ((1, 3, 6, 3, 3), {(1, 0), (1, 1), (1, 2), (1, 3), (2, 0), (2, 1), (2, 2), (2, 3)}),  # rows 2-4
])
def test_lazy_profile_reads_each_crossed_chunk_once_in_one_compute(line, chunks_crossed):
    s, reads = _counted_stack()
    roi = ls.roi.Line2DROI(*line)
    with ComputeCount() as count:
        profile = roi(s)
        assert profile.lazy and reads == [] and count.runs == 0
        with dask.config.set(scheduler="synchronous"):
            lazy_values = profile.data.compute()
        assert count.runs == 1
    assert sorted(reads) == sorted(chunks_crossed)  # each crossed chunk once, no other
    eager = roi(ls.signals.Signal2D(VALUES.copy()))
    assert_signals_equal(profile, eager)
    np.testing.assert_allclose(lazy_values, eager.data, rtol=1e-12)
    assert profile.axes_manager.navigation_shape == (eager.data.shape[0],)


def test_profile_of_a_line_outside_the_plane_is_zero_and_reads_nothing():
    s, reads = _counted_stack()
    profile = ls.roi.Line2DROI(20, 20, 30, 25)(s)
    with dask.config.set(scheduler="synchronous"):
        values = profile.data.compute()
    assert reads == [] and values.shape[1:] == SIG and not values.any()


def _scipy_reference(data, src, dst, rows_axis, cols_axis, width, order):
    coords = sample_coordinates(src, dst, width)
    planes = np.moveaxis(data, (rows_axis, cols_axis), (0, 1))
    flat = planes.reshape(planes.shape[:2] + (-1,))
    out = np.stack([ndi.map_coordinates(flat[:, :, i], coords, order=order, mode="constant",
                                        cval=0.0).mean(axis=1) for i in range(flat.shape[2])], axis=-1)
    return np.moveaxis(out.reshape((coords.shape[1],) + planes.shape[2:]), 0, min(rows_axis, cols_axis))


@given(data=st.data())
def test_profile_matches_scipy_eagerly_and_lazily(data):
    ndim = data.draw(st.integers(2, 4))
    shape = tuple(data.draw(st.integers(1, 7)) for _ in range(ndim))
    rows_axis, cols_axis = data.draw(st.permutations(range(ndim)))[:2]
    array = np.random.default_rng(data.draw(st.integers(0, 99))).random(shape)
    coordinate = st.floats(-2.0, 9.0, allow_nan=False)
    src = (data.draw(coordinate), data.draw(coordinate))
    dst = (data.draw(coordinate), data.draw(coordinate))
    width = data.draw(st.integers(1, 4))
    order = data.draw(st.sampled_from([0, 1, 2]))
    chunks = tuple(data.draw(st.integers(1, n)) for n in shape)
    expected = _scipy_reference(array, src, dst, rows_axis, cols_axis, width, order)
    eager = line_profile(array, src, dst, rows_axis, cols_axis, width, order)
    lazy = line_profile(da.from_array(array, chunks=chunks), src, dst, rows_axis, cols_axis, width, order)
    assert isinstance(lazy, da.Array)
    np.testing.assert_allclose(eager, expected, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-10, atol=1e-12)


def test_a_straight_line_is_numpy_slicing():
    s = ls.signals.Signal2D(VALUES.copy())
    horizontal = ls.roi.Line2DROI(1, 2, 3, 2)(s, axes=(0, 1))
    np.testing.assert_array_equal(horizontal.data, VALUES[2, 1:4])
    vertical = ls.roi.Line2DROI(3, 0, 3, 5)(s.as_lazy(chunks=(3, 3, 2, 2)), axes=(0, 1))
    np.testing.assert_array_equal(vertical.data.compute(), VALUES[0:6, 3])


@pytest.mark.parametrize("dtype", ["uint16", "int32", "float32"])
def test_integer_and_single_precision_dtypes(dtype):
    data = (VALUES * 1000).astype(dtype)
    roi = ls.roi.Line2DROI(0, 0, 6, 4, linewidth=2)
    eager = roi(ls.signals.Signal2D(data))
    lazy = roi(ls.signals.Signal2D(data).as_lazy(chunks=(3, 2, 4, 5)))
    assert eager.data.dtype == (np.float32 if dtype == "float32" else np.float64)
    assert_signals_equal(lazy, eager)
