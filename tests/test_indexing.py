"""inav / isig, eager and lazy over random shapes, dtypes and chunkings."""


import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from lazysignal.testing import assert_signals_equal, lazy_copy, signals


@st.composite
def index_keys(draw, axis):
    n = axis.size
    kind = draw(st.sampled_from(["int", "neg", "float", "slice", "step", "fslice"]))
    if kind == "int":
        return draw(st.integers(0, n - 1))
    if kind == "neg":
        return -draw(st.integers(1, n))
    if kind == "float":
        return float(axis.axis[draw(st.integers(0, n - 1))])
    if kind == "slice":
        a = draw(st.integers(-n, n))
        b = draw(st.integers(-n, n))
        return slice(a, b)
    if kind == "step":
        return slice(None, None, draw(st.sampled_from([1, 2, 3, -1, -2])))
    if not axis.is_uniform or axis.scale < 0:
        return slice(1, None)
    i = draw(st.integers(0, n - 1))
    j = draw(st.integers(i, n - 1))
    return slice(float(axis.axis[i]), float(axis.axis[j]))


@given(data=st.data())
def test_inav_isig_lazy_equals_eager(data):
    s = data.draw(signals(dtypes=("float64", "uint16")))
    lazy = lazy_copy(data, s)
    for slicer, axes in (("inav", s.axes_manager.navigation_axes), ("isig", s.axes_manager.signal_axes)):
        if not axes:
            continue
        key = tuple(data.draw(index_keys(a)) for a in axes)
        eager = getattr(s, slicer)[key]
        result = getattr(lazy, slicer)[key]
        assume(eager.data.size > 0)
        assert result.lazy
        assert_signals_equal(result, eager)
        np.testing.assert_array_equal(np.asarray(result.data), s.data[_numpy_key(s, slicer, key)].reshape(eager.data.shape))


def _numpy_key(s, slicer, key):
    group = s.axes_manager.navigation_axes if slicer == "inav" else s.axes_manager.signal_axes
    translated = {}
    for axis, k in zip(group, key):
        if isinstance(k, float):
            k = int(np.argmin(np.abs(axis.axis - k)))
        elif isinstance(k, slice) and isinstance(k.start, float):
            k = slice(int(np.argmin(np.abs(axis.axis - k.start))), int(np.argmin(np.abs(axis.axis - k.stop))))
        translated[id(axis)] = k
    return tuple(translated.get(id(a), slice(None)) for a in s.axes_manager._axes)
