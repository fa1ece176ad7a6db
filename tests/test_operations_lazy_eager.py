"""Every foundation operation, run eagerly and lazily over random shapes, dtypes and chunkings."""

import operator

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import lazysignal as ls
from lazysignal.testing import assert_signals_equal, chunks_for, signals

REDUCTIONS = ["sum", "mean", "max", "min", "std", "var",
              "nansum", "nanmean", "nanmax", "nanmin", "nanstd", "nanvar"]
AXIS_SPECS = ["navigation", "signal", None, 0, -1, "name", "tuple", "signal_axes", "dataaxis"]


def lazy_copy(data, s):
    return s.as_lazy(chunks=data.draw(chunks_for(s.data.shape)))


def resolve_axis(s, spec):
    am = s.axes_manager
    natural = list(am._get_axes_in_natural_order())
    if spec == "name":
        return natural[-1].name
    if spec == "tuple":
        return tuple(a.name for a in natural[: max(1, len(natural) - 1)])
    if spec == "signal_axes":
        return am.signal_axes
    if spec == "dataaxis":
        return natural[0]
    return spec


@pytest.mark.parametrize("name", REDUCTIONS)
@given(data=st.data())
def test_reductions_lazy_equals_eager(name, data):
    s = data.draw(signals(dtypes=("float64", "float32", "int32", "uint16"), finite=False))
    spec = data.draw(st.sampled_from(AXIS_SPECS))
    if spec in (0, -1) and len(s.axes_manager) == 0:
        return
    axis = resolve_axis(s, spec)
    eager = getattr(s, name)(axis=axis)
    lazy = getattr(lazy_copy(data, s), name)(axis=resolve_axis(s, spec))
    assert lazy.lazy
    with np.errstate(all="ignore"):
        assert_signals_equal(lazy, eager, atol=_summation_tolerance(s, name))


def _summation_tolerance(s, name):
    """Round-off bound of a reduction: summation order differs between numpy and dask."""
    data = np.asarray(s.data, dtype=float)
    finite = np.abs(data[np.isfinite(data)])
    magnitude = float(finite.max()) if finite.size else 1.0
    eps = np.finfo(np.float32 if s.data.dtype.itemsize <= 4 else np.float64).eps
    if name.endswith("var"):
        return 8 * eps * data.size * magnitude**2
    if name.endswith("std"):
        return 8 * np.sqrt(eps * data.size) * magnitude
    return 8 * eps * data.size * magnitude


@pytest.mark.parametrize("name", ["indexmax", "indexmin", "valuemax", "valuemin",
                                  "integrate1D", "diff", "derivative"])
@given(data=st.data())
def test_axis_operations_lazy_equals_eager(name, data):
    s = data.draw(signals(dtypes=("float64", "float32", "int32")))
    natural = list(s.axes_manager._get_axes_in_natural_order())
    axis = data.draw(st.sampled_from(range(len(natural))))
    if name in ("diff", "derivative") and natural[axis].size < 3:
        return
    eager = getattr(s, name)(axis)
    lazy = getattr(lazy_copy(data, s), name)(axis)
    assert lazy.lazy
    assert_signals_equal(lazy, eager)


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
