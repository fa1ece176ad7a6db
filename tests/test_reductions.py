"""Reductions, eager and lazy over random shapes, dtypes and chunkings."""


import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lazysignal.testing import assert_signals_equal, lazy_copy, signals


REDUCTIONS = ["sum", "mean", "max", "min", "std", "var",
              "nansum", "nanmean", "nanmax", "nanmin", "nanstd", "nanvar"]
AXIS_SPECS = ["navigation", "signal", None, 0, -1, "name", "tuple", "signal_axes", "dataaxis"]


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
