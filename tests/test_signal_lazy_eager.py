"""transpose, as_signal1D/2D, change_dtype and stack, eager and lazy."""


import numpy as np
from hypothesis import given
from hypothesis import strategies as st

import lazysignal as ls
from lazysignal.testing import assert_signals_equal, lazy_copy, signals


@given(data=st.data())
def test_transpose_as_signal_and_change_dtype(data):
    s = data.draw(signals(dtypes=("float64", "int32"), nav_dims=(1, 2), sig_dims=(1, 2)))
    lazy = lazy_copy(data, s)
    assert_signals_equal(lazy.T, s.T)
    assert_signals_equal(lazy.as_signal1D(0), s.as_signal1D(0))
    if len(s.axes_manager) >= 2:
        assert_signals_equal(lazy.as_signal2D((0, 1)), s.as_signal2D((0, 1)))
    eager = s.deepcopy()
    eager.change_dtype("float32")
    lazy.change_dtype("float32")
    assert lazy.lazy and lazy.data.dtype == np.float32
    assert_signals_equal(lazy, eager)


@given(data=st.data())
def test_stack_lazy_equals_eager(data):
    s = data.draw(signals(dtypes=("float64",)))
    t = s * 2
    eager = ls.stack([s, t])
    lazy = ls.stack([lazy_copy(data, s), t])
    assert lazy.lazy and not eager.lazy
    assert_signals_equal(lazy, eager)
    assert eager.axes_manager.navigation_axes[-1].name == "stack_element"
    axis = data.draw(st.sampled_from(range(len(s.axes_manager))))
    assert_signals_equal(ls.stack([lazy_copy(data, s), t], axis=axis), ls.stack([s, t], axis=axis))
