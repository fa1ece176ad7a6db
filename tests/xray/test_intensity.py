"""Window sums: lazy == eager for any chunking, and the lazy pass reads only needed chunks, once."""

from __future__ import annotations


import dask
import dask.array as da
import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from lazysignal.testing import chunks_for
from lazysignal.xray import SharedLineSums, WindowPlan, line_intensities, window_sums
from counting import CountingSource


def reference(data: np.ndarray, plan: WindowPlan) -> np.ndarray:
    """Plain numpy: each line's window sum minus the scaled background sums."""
    out = []
    for i, sig in enumerate(plan.signal):
        a, b = plan.ranges[sig]
        line = data[..., a:b].astype(float).sum(axis=-1)
        if plan.left[i] >= 0:
            (la, lb), (ra, rb) = plan.ranges[plan.left[i]], plan.ranges[plan.right[i]]
            back = data[..., la:lb].astype(float).sum(axis=-1) + data[..., ra:rb].astype(float).sum(axis=-1)
            line = line - back * plan.factor[i]
        out.append(line)
    return np.stack(out, axis=-1)


@st.composite
def plans(draw, channels: int):
    n_lines = draw(st.integers(1, 3))
    ranges, signal, left, right, factor = [], [], [], [], []
    for _ in range(n_lines):
        a = draw(st.integers(0, channels - 1))
        b = draw(st.integers(a, channels))
        signal.append(len(ranges))
        ranges.append((a, b))
        if draw(st.booleans()):
            la = draw(st.integers(0, channels - 1))
            ra = draw(st.integers(0, channels - 1))
            left.append(len(ranges))
            ranges.append((la, draw(st.integers(la + 1, channels))))
            right.append(len(ranges))
            ranges.append((ra, draw(st.integers(ra + 1, channels))))
            factor.append(draw(st.floats(0.1, 3.0)))
        else:
            left.append(-1)
            right.append(-1)
            factor.append(0.0)
    return WindowPlan(tuple(ranges), tuple(signal), tuple(left), tuple(right), tuple(factor))


@given(data=st.data())
def test_lazy_equals_eager_equals_numpy(data):
    shape = data.draw(st.sampled_from([(5,), (3, 7), (4, 3, 9), (2, 2, 2, 12)]))
    dtype = data.draw(st.sampled_from(["float64", "float32", "uint16", "int32"]))
    values = np.random.default_rng(data.draw(st.integers(0, 99))).integers(0, 50, shape).astype(dtype)
    plan = data.draw(plans(shape[-1]))
    eager = line_intensities(values, plan)
    np.testing.assert_allclose(eager, reference(values, plan), rtol=1e-6 if dtype == "float32" else 1e-12)
    assert eager.dtype == (np.dtype(dtype) if dtype.startswith("float") else np.float64)
    shared = line_intensities(da.from_array(values, chunks=data.draw(chunks_for(shape))), plan)
    lazy = shared.array.compute()
    assert lazy.dtype == eager.dtype
    np.testing.assert_allclose(lazy, eager, rtol=1e-6 if dtype == "float32" else 1e-12)
    np.testing.assert_allclose(shared.result(), lazy)


def test_window_sums_add_partial_chunks():
    x = np.arange(40.0).reshape(2, 20)
    out = window_sums(x[:, :8], [(5, 12), (15, 20)], 0)
    window_sums(x[:, 8:16], [(5, 12), (15, 20)], 8, out=out)
    window_sums(x[:, 16:], [(5, 12), (15, 20)], 16, out=out)
    np.testing.assert_array_equal(out, np.stack([x[:, 5:12].sum(1), x[:, 15:20].sum(1)], axis=-1))


def test_only_chunks_holding_a_window_are_read_and_each_once():
    values = np.random.default_rng(0).poisson(2.0, (8, 6, 40)).astype(float)
    source = CountingSource(values)
    x = da.from_array(source, chunks=(4, 6, 10), asarray=False, name="counted", meta=np.empty((0, 0, 0)))
    # windows in channel chunks 1 ([10, 20)) and 3 ([30, 40)); chunks 0 and 2 hold none
    plan = WindowPlan(((12, 15), (31, 33), (17, 19)), (0, 1), (-1, 2), (-1, 2), (0.0, 0.5))
    shared = SharedLineSums(x, plan)
    assert shared.needed_chunks == [1, 3]
    line0, line1 = shared.array[..., 0], shared.array[..., 1]
    a, b = dask.compute(line0, line1)  # two maps, one pass
    expected = sorted(((n, n + 4), (0, 6), (c, c + 10)) for n in (0, 4) for c in (10, 30))
    assert sorted(source.reads) == expected
    np.testing.assert_allclose(np.stack([a, b], -1), reference(values, plan))
    # Every block's intensities are kept for the maps of the call (the signals' fill).
    assert shared.complete
    np.testing.assert_allclose(shared.result(), reference(values, plan))


def test_one_map_computed_alone_reads_each_needed_chunk_once():
    values = np.random.default_rng(1).random((6, 30))
    source = CountingSource(values)
    x = da.from_array(source, chunks=(2, 10), asarray=False, name="counted-2", meta=np.empty((0, 0)))
    shared = SharedLineSums(x, WindowPlan(((3, 6), (22, 29)), (0, 1), (-1, -1), (-1, -1), (0.0, 0.0)))
    shared.array[..., 1].compute()
    assert sorted(source.reads) == sorted(((r, r + 2), (c, c + 10)) for r in (0, 2, 4) for c in (0, 20))
    assert shared.complete
    np.testing.assert_allclose(shared.result()[..., 0], values[:, 3:6].sum(-1))


def test_single_spectrum_and_pickling():
    import pickle

    x = da.arange(30.0, chunks=10)
    shared = SharedLineSums(x, WindowPlan(((3, 6), (22, 29)), (0, 1), (-1, -1), (-1, -1), (0.0, 0.0)))
    np.testing.assert_array_equal(shared.array.compute(), [12.0, np.arange(22, 29).sum()])
    # As dask.distributed sends it inside a task: without the arrays and the kept blocks.
    clone = pickle.loads(pickle.dumps(shared))
    assert not clone.complete and not hasattr(clone, "array")
    np.testing.assert_array_equal(clone._finish((), np.array([12.0, 175.0])), [12.0, 175.0])
    assert clone.complete
