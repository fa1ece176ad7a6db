"""Every ROI gives numpy's selection, eagerly and lazily under drawn chunkings (hypothesis).

Bounds are drawn as pixel indices and given as the calibrated values of those pixels, so the
reference is plain numpy slicing (or a numpy distance mask for circles).
"""

from __future__ import annotations

import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

import lazysignal as ls
from lazysignal.axes import DataAxis
from lazysignal.testing import assert_signals_equal
from lazysignal.testing.strategies import chunks_for, signals


def _lazy(data, signal):
    return signal.as_lazy(chunks=data.draw(chunks_for(signal.data.shape)))


def _index_pair(data, n):
    i0 = data.draw(st.integers(0, n - 1))
    return i0, data.draw(st.integers(i0 + 1, n))


def _value(axis, index):
    # One past the last index is a valid range end (HyperSpy: beyond the axis means "to the end").
    return axis.offset + axis.scale * index


def _numpy(s):
    return np.asarray(s.data.compute() if s.lazy else s.data)


@given(data=st.data())
def test_box_rois_are_numpy_slicing(data):
    s = data.draw(signals(uniform_only=True, nav_dims=(0, 2), sig_dims=(1, 2), max_side=6))
    assume(all(a.scale > 0 for a in s.axes_manager._axes))
    am = s.axes_manager
    ndim = data.draw(st.sampled_from([n for n in (1, 2) if len(am._axes) >= n]))
    axes = data.draw(st.permutations(list(am))).__getitem__(slice(0, ndim))
    point = data.draw(st.booleans())
    index = [slice(None)] * len(am._axes)
    params = []
    for ax in axes:
        if point:
            i = data.draw(st.integers(0, ax.size - 1))
            index[am.numpy_index(ax)] = i
            params.append(_value(ax, i))
        else:
            i0, i1 = _index_pair(data, ax.size)
            index[am.numpy_index(ax)] = slice(i0, i1)
            params += [_value(ax, i0), _value(ax, i1)]
    if point:
        roi = ls.roi.Point1DROI(*params) if ndim == 1 else ls.roi.Point2DROI(*params)
    elif ndim == 1:
        roi = ls.roi.SpanROI(*params)
    else:
        roi = ls.roi.RectangularROI(left=params[0], right=params[1], top=params[2], bottom=params[3])
    eager = roi(s, axes=tuple(axes))
    lazy = roi(_lazy(data, s), axes=tuple(axes))
    assert lazy.lazy and not eager.lazy
    np.testing.assert_array_equal(_numpy(eager).reshape(-1), s.data[tuple(index)].reshape(-1))
    assert_signals_equal(lazy, eager)


def _plane_signal(data, dtype):
    """A signal whose two navigation axes share one uniform scale (so a circle is round in pixels)."""
    ny, nx = data.draw(st.integers(3, 12)), data.draw(st.integers(3, 12))
    extra = data.draw(st.integers(1, 4))
    scale = data.draw(st.sampled_from([1.0, 0.5, 2.0]))
    offsets = [data.draw(st.sampled_from([0.0, -3.0, 10.0])) for _ in range(2)]
    values = np.random.default_rng(data.draw(st.integers(0, 99))).random((ny, nx, extra)) * 200
    axes = [DataAxis(size=ny, scale=scale, offset=offsets[0], name="y"),
            DataAxis(size=nx, scale=scale, offset=offsets[1], name="x"),
            DataAxis(size=extra, navigate=False, name="E")]
    return ls.signals.Signal1D(values.astype(dtype), axes)


@given(data=st.data(), dtype=st.sampled_from(["float64", "float32", "uint16", "int64"]))
def test_circle_is_a_numpy_distance_mask(data, dtype):
    s = _plane_signal(data, dtype)
    ay, ax = s.axes_manager._axes[:2]
    iy, ix = data.draw(st.integers(0, ay.size - 1)), data.draw(st.integers(0, ax.size - 1))
    k = data.draw(st.integers(1, 5))
    k_inner = data.draw(st.integers(0, k - 1))
    cx, cy, r, r_inner = _value(ax, ix), _value(ay, iy), k * ax.scale, k_inner * ax.scale
    roi = ls.roi.CircleROI(cx=cx, cy=cy, r=r, r_inner=r_inner)
    eager = roi(s)
    lazy = roi(_lazy(data, s))
    assert_signals_equal(lazy, eager)
    # HyperSpy measures from the centre moved by half a pixel (plus 1e-4 px to break ties).
    d2 = ((ax.axis - (cx + 0.5001 * ax.scale))[np.newaxis, :] ** 2
          + (ay.axis - (cy + 0.5001 * ay.scale))[:, np.newaxis] ** 2)
    inside = (d2 <= r * r) & (d2 >= r_inner * r_inner)
    values = _numpy(eager)
    assert values.dtype == (np.float64 if dtype in ("float64", "int64") else np.float32)
    assert np.count_nonzero(~np.isnan(values[..., 0])) == np.count_nonzero(inside)
    expected = s.data[inside].astype(np.float64).sum(axis=0)
    np.testing.assert_allclose(np.nansum(values, axis=(0, 1), dtype=np.float64), expected, rtol=1e-6)


@given(data=st.data())
def test_rectangular_polygon_is_numpy_slicing(data):
    s = _plane_signal(data, "float64")
    am = s.axes_manager
    for axis in am._axes[:2]:
        axis.scale, axis.offset = 1.0, 0.0  # HyperSpy rasterises on the grid of index * scale
    ay, ax = am._axes[:2]
    (x0, x1), (y0, y1) = _index_pair(data, ax.size - 1), _index_pair(data, ay.size - 1)
    roi = ls.roi.PolygonROI([(x0, y0), (x1, y0), (x1, y1), (x0, y1)])
    eager = roi(s)
    lazy = roi(_lazy(data, s))
    assert_signals_equal(lazy, eager)
    values = _numpy(eager)
    inside = ~np.isnan(values[..., 0])
    assert inside.sum() == (x1 - x0 + 1) * (y1 - y0 + 1)
    np.testing.assert_array_equal(values[inside.nonzero()], s.data[y0:y1 + 1, x0:x1 + 1].reshape(-1, s.data.shape[2]))
    inverted = roi(s, inverted=True)
    assert np.isnan(_numpy(inverted)[y0:y1 + 1, x0:x1 + 1]).all()
    assert np.count_nonzero(np.isnan(_numpy(inverted)[..., 0])) == inside.sum()
