"""Operators and ufuncs, eager and lazy over random shapes, dtypes and chunkings."""

import operator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lazysignal as ls
from lazysignal.testing import assert_signals_equal, lazy_copy, signals


BINARY = [operator.add, operator.sub, operator.mul, operator.truediv, operator.floordiv,
          operator.pow, operator.mod, operator.lt, operator.le, operator.gt, operator.ge,
          operator.eq, operator.ne]


@pytest.mark.parametrize("op", BINARY, ids=lambda op: op.__name__)
@given(data=st.data())
def test_binary_with_number_array_and_signal(op, data):
    s = data.draw(signals(dtypes=("float64", "int32")))
    number = data.draw(st.sampled_from([2, 3.5, -1.25]))
    other_kind = data.draw(st.sampled_from(["number", "rnumber", "array", "signal", "spectrum"]))
    lazy = lazy_copy(data, s)
    if other_kind == "number":
        make = lambda x: op(x, number)  # noqa: E731
    elif other_kind == "rnumber":
        make = lambda x: op(number, x)  # noqa: E731
    elif other_kind == "array":
        arr = np.linspace(1, 2, s.data.shape[-1])
        make = lambda x: op(x, arr)  # noqa: E731
    elif other_kind == "signal":
        other = s.deepcopy() * 0 + 2
        make = lambda x: op(x, other)  # noqa: E731
    else:
        # A signal with signal axes only broadcasts over the navigation axes.
        sig = s.inav[(0,) * s.axes_manager.navigation_dimension] if s.axes_manager.navigation_dimension else s
        other = sig.deepcopy() * 0 + 3
        make = lambda x: op(x, other)  # noqa: E731
    with np.errstate(all="ignore"):
        try:
            eager = make(s)
        except (ZeroDivisionError, OverflowError, ValueError):
            return
        result = make(lazy)
    assert result.lazy
    with np.errstate(all="ignore"):
        assert_signals_equal(result, eager)


@pytest.mark.parametrize("func", [operator.neg, abs, np.sin, np.sqrt, np.exp, np.isnan],
                         ids=lambda f: getattr(f, "__name__", str(f)))
@given(data=st.data())
def test_unary_and_ufuncs(func, data):
    s = data.draw(signals(dtypes=("float64", "float32")))
    with np.errstate(all="ignore"):
        eager = func(s)
        lazy = func(lazy_copy(data, s))
        assert lazy.lazy
        assert_signals_equal(lazy, eager)


def test_two_input_ufunc_and_mixed_laziness():
    s = ls.signals.Signal1D(np.arange(24.0).reshape(2, 3, 4))
    l = s.as_lazy(chunks=(1, 2, 4))
    assert_signals_equal(np.add(l, s), np.add(s, s))
    assert np.add(l, s).lazy and np.add(s, l).lazy


@pytest.mark.parametrize("op", ["__iadd__", "__isub__", "__imul__", "__itruediv__", "__ipow__"])
@given(data=st.data())
def test_inplace_operators(op, data):
    s = data.draw(signals(dtypes=("float64",)))
    lazy = lazy_copy(data, s)
    graph_before = lazy.data
    eager = s.deepcopy()
    with np.errstate(all="ignore"):
        assert getattr(eager, op)(2.0) is eager
        assert getattr(lazy, op)(2.0) is lazy
    assert lazy.lazy and lazy.data is not graph_before
    assert_signals_equal(lazy, eager)
