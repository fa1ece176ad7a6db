"""ls.interactive: results kept up to date (same object) by events; ROI sums follow the ROI.

Reads are counted at the source: after a move, recomputing a lazy ROI sum reads only the
chunks under the new selection, each once.
"""

from __future__ import annotations

import dask
import dask.array as da
import numpy as np
import pytest

import lazysignal as ls
from lazysignal.errors import EventError
from lazysignal.interactive import Interactive

SHAPE, CHUNKS = (16, 16, 8), (4, 4, 8)
VALUES = np.random.default_rng(1).random(SHAPE)


def _counted():
    reads = []

    class Source:
        ndim, dtype, shape = 3, VALUES.dtype, SHAPE

        def __getitem__(self, key):
            # dask may fuse the selection into the read (a smaller key): record the chunk read.
            y, x = (k.start // c for k, c in zip(key[:2], CHUNKS))
            assert all((k.stop - 1) // c == k.start // c for k, c in zip(key[:2], CHUNKS))
            reads.append((y, x))
            return VALUES[key]

    x = da.from_array(Source(), chunks=CHUNKS, asarray=False, name="counted-roi", meta=np.empty((0,) * 3))
    return ls.signals.Signal1D(x), reads


def _value(s):
    return np.asarray(s.data.compute() if s.lazy else s.data)


def test_lazy_roi_sum_follows_the_roi_reading_only_the_chunks_under_it_once():
    s, reads = _counted()
    roi = ls.roi.RectangularROI(left=1, top=1, right=3, bottom=3)
    part = ls.interactive(roi, event=roi.events.changed, recompute_out_event=None, signal=s)
    total = ls.interactive(part.sum, event=part.events.data_changed, recompute_out_event=None)
    assert part.lazy and total.lazy and reads == []
    with dask.config.set(scheduler="synchronous"):
        np.testing.assert_allclose(_value(total), VALUES[1:3, 1:3].sum(axis=(0, 1)))
        assert reads == [(0, 0)]
        reads.clear()
        same_total, same_part = total, part
        roi.x = 9  # moves to columns 9-10: chunk (0, 2)
        assert reads == []  # moving reads nothing: the results stay lazy
        np.testing.assert_allclose(_value(total), VALUES[1:3, 9:11].sum(axis=(0, 1)))
        assert reads == [(0, 2)]
        reads.clear()
        roi.set(left=3, top=7, right=6, bottom=9)  # straddles chunks (1, 0) (1, 1) (2, 0) (2, 1)
        np.testing.assert_allclose(_value(total), VALUES[7:9, 3:6].sum(axis=(0, 1)))
        assert sorted(reads) == sorted([(1, 0), (1, 1), (2, 0), (2, 1)])
    assert total is same_total and part is same_part
    assert part.axes_manager.navigation_shape == (3, 2)


def test_eager_roi_sum_updates_at_once_when_the_roi_moves():
    s = ls.signals.Signal1D(VALUES.copy())
    roi = ls.roi.RectangularROI(left=1, top=1, right=3, bottom=3)
    part = ls.interactive(roi, event=roi.events.changed, recompute_out_event=None, signal=s)
    total = ls.interactive(part.sum, event=part.events.data_changed, recompute_out_event=None)
    updates = []
    total.events.data_changed.connect(lambda obj: updates.append(obj))
    roi.x = 9
    assert updates == [total] and not total.lazy
    np.testing.assert_allclose(total.data, VALUES[1:3, 9:11].sum(axis=(0, 1)))
    roi.width = 5
    np.testing.assert_allclose(total.data, VALUES[1:3, 9:14].sum(axis=(0, 1)))
    assert len(updates) == 2


@pytest.mark.parametrize("lazy", [False, True])
def test_close_disconnects(lazy):
    s = ls.signals.Signal1D(VALUES.copy())
    s = s.as_lazy(chunks=CHUNKS) if lazy else s
    roi = ls.roi.SpanROI(0, 3)
    op = Interactive(roi, roi.events.changed, None, signal=s)
    before = _value(op.out).copy()
    op.close()
    roi.right = 6
    np.testing.assert_array_equal(_value(op.out), before)
    assert roi.events.changed.connected == ()


def test_auto_events_of_a_signal_method():
    s = ls.signals.Signal1D(np.arange(12.0).reshape(3, 4))
    total = ls.interactive(s.sum, axis=1)
    np.testing.assert_array_equal(total.data, [6.0, 22.0, 38.0])
    s.data = s.data * 2  # data_changed -> total updated through sum(out=...)
    np.testing.assert_array_equal(total.data, [12.0, 44.0, 76.0])
    s.axes_manager.navigation_axes[0].scale = 0.5  # any_axis_changed -> total rebuilt
    assert total.axes_manager.navigation_axes[0].scale == 0.5


def test_a_function_without_out_is_recomputed_and_moved_into_the_same_object():
    s = ls.signals.Signal1D(np.arange(12.0).reshape(3, 4))

    def middle(signal):
        return signal.isig[1:3]

    part = ls.interactive(middle, s.events.data_changed, None, s)
    changes = []
    part.events.data_changed.connect(lambda obj: changes.append(obj))
    s.data = s.data + 100
    assert changes == [part]
    np.testing.assert_array_equal(part.data, np.arange(12.0).reshape(3, 4)[:, 1:3] + 100)


def test_bad_events_and_functions_are_refused():
    s = ls.signals.Signal1D(np.zeros((2, 3)))
    with pytest.raises(EventError, match="is not an event"):
        ls.interactive(s.sum, event=42)
    with pytest.raises(EventError, match="'auto' or None"):
        ls.interactive(s.sum, event="sometimes")
    with pytest.raises(EventError, match="returned None"):
        ls.interactive(lambda: None, event=None, recompute_out_event=None)


@pytest.mark.parametrize("lazy", [False, True])
def test_roi_interactive_follows_moves_and_axis_recalibration(lazy):
    s = ls.signals.Signal1D(VALUES.copy())
    s = s.as_lazy(chunks=CHUNKS) if lazy else s
    roi = ls.roi.CircleROI(cx=5, cy=5, r=2)
    disk = roi.interactive(s, navigation_signal=None)
    assert disk.lazy == lazy
    np.testing.assert_array_equal(_value(disk), _value(roi(s)))
    roi.cx = 9
    np.testing.assert_array_equal(_value(disk), _value(roi(s)))
    assert disk.axes_manager.navigation_axes[0].offset == 8.0  # box from x = 8 (HyperSpy's rule)
    moved = _value(disk).copy()
    s.axes_manager.navigation_axes[0].offset = 2.0  # the same cx now lies 2 pixels further left
    np.testing.assert_array_equal(_value(disk), _value(roi(s)))
    assert not np.array_equal(_value(disk), moved, equal_nan=True)


def test_roi_interactive_fills_unset_parameters_from_the_axes():
    s = ls.signals.Signal2D(np.zeros((3, 9, 17)))
    line = ls.roi.Line2DROI()
    profile = line.interactive(s, navigation_signal=None)
    assert (line.x1, line.x2, line.y1, line.y2) == (4.0, 12.0, 2.0, 6.0)  # the axes' central half
    line.set(x2=16.0)
    assert profile.data.shape == (3, int(np.ceil(np.hypot(12.0, 4.0) + 1)))
