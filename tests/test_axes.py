import math

import numpy as np
import pytest

from lazysignal.axes import AxesManager, DataAxis, Shape
from lazysignal.errors import AxisError, AxisIndexError


def energy_axis():
    return DataAxis(size=992, name="Energy", units="keV", scale=0.01, offset=-0.1, navigate=False)


def test_uniform_axis_values_and_lookup():
    ax = energy_axis()
    assert ax.axis[0] == pytest.approx(-0.1) and ax.axis[-1] == pytest.approx(9.81)
    assert ax.value2index(6.3) == 640
    assert ax.value2index(6.304) == 640 and ax.value2index(6.306) == 641
    assert ax.value2index(6.304, rounding=math.ceil) == 641
    assert ax.index2value(640) == pytest.approx(6.3)
    assert ax.index2value(-1) == pytest.approx(9.81)


def test_value2index_out_of_range_names_axis_and_range():
    with pytest.raises(AxisIndexError, match=r"'Energy'.*0\.\.991.*-0\.1\.\.9\.81 keV"):
        energy_axis().value2index(12.0)
    with pytest.raises(IndexError):
        energy_axis().index2value(992)


def test_non_uniform_axis():
    ax = DataAxis(axis=[0.0, 1.0, 4.0, 9.0], name="t", units="s")
    assert not ax.is_uniform and ax.size == 4
    assert ax.value2index(3.9) == 2 and ax.value2index(0.4) == 0
    assert ax.index2value(3) == 9.0
    with pytest.raises(AxisIndexError, match="'t'"):
        ax.value2index(20.0)
    sliced = ax.sliced(slice(1, None, 2))
    np.testing.assert_array_equal(sliced.axis, [1.0, 9.0])


def test_slices_follow_offset_and_scale():
    ax = energy_axis()
    assert ax.index_slice(slice(None, 9.0)) == slice(None, 910, None)
    part = ax.sliced(ax.index_slice(slice(1.0, 2.0, 3)))
    assert part.offset == pytest.approx(1.0) and part.scale == pytest.approx(0.03) and part.size == 34
    rev = ax.sliced(slice(None, None, -1))
    assert rev.offset == pytest.approx(9.81) and rev.scale == pytest.approx(-0.01)
    assert ax.index_slice(slice(None, 9.81 + 0.01)).stop == 992


def test_copy_and_dict_round_trip():
    ax = energy_axis()
    assert DataAxis.from_dict(ax.to_dict()) == ax
    c = ax.copy()
    c.scale = 1.0
    assert ax.scale == 0.01
    nu = DataAxis(axis=[1, 2, 5.0], name="q")
    assert DataAxis.from_dict(nu.to_dict()) == nu


def test_axes_manager_orders_and_shapes():
    am = AxesManager([{"size": 4, "name": "y"}, {"size": 5, "name": "x"}, energy_axis()])
    assert [a.name for a in am.navigation_axes] == ["x", "y"]
    assert am.navigation_shape == (5, 4) and am.signal_shape == (992,)
    assert am.navigation_dimension == 2 and am.signal_dimension == 1
    assert am.navigation_size == 20 and am.shape == (5, 4, 992)
    assert am[0].name == "x" and am[-1].name == "Energy" and am["y"].size == 4
    assert am.numpy_index("x") == 1
    assert str(am.dimensions) == "(5, 4|992)"
    text = repr(am)
    assert "Energy" in text and "keV" in text and text.startswith("<Axes manager, axes: (5, 4|992)>")


def test_axes_manager_lookup_errors():
    am = AxesManager([{"size": 4, "name": "y"}, {"size": 5, "name": "x"}])
    with pytest.raises(AxisError, match="No axis named 'z'.*x .*y"):
        am["z"]
    with pytest.raises(AxisError, match="out of range"):
        am[5]
    with pytest.raises(AxisError, match="navigate flags"):
        AxesManager([{"size": 3, "navigate": False}, {"size": 3, "navigate": True}])


def test_navigation_size_is_zero_without_navigation():
    am = AxesManager([energy_axis()])
    assert am.navigation_size == 0 and am.navigation_shape == ()


def test_shape_value_object():
    sh = Shape(nav=(512, 256), sig=(992,))
    assert sh.numpy == (256, 512, 992)
    assert Shape.from_numpy(sh.numpy, 1) == sh
