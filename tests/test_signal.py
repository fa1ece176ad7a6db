import dask.array as da
import numpy as np
import pytest

import lazysignal as ls
from lazysignal.errors import DtypeError, LazyAssignmentError, ShapeMismatchError, AxisError, AxisIndexError
from lazysignal.signals import BaseSignal, Signal1D, Signal2D
from lazysignal.testing import assert_signals_equal


def cube(lazy=False):
    s = Signal1D(np.arange(4 * 5 * 10, dtype=float).reshape(4, 5, 10),
                 axes=[{"name": "y", "size": 4}, {"name": "x", "size": 5},
                       {"name": "Energy", "size": 10, "scale": 0.5, "offset": 1.0, "units": "keV"}],
                 metadata={"General": {"title": "cube"}})
    return s.as_lazy(chunks=(2, 5, 10)) if lazy else s


def test_repr_and_classes():
    assert repr(cube()) == "<Signal1D, title: cube, dimensions: (5, 4|10)>"
    assert repr(cube(lazy=True)) == "<LazySignal1D, title: cube, dimensions: (5, 4|10)>"
    assert repr(Signal2D(np.zeros((3, 8, 8)))) == "<Signal2D, title: , dimensions: (3|8, 8)>"
    assert repr(BaseSignal(np.zeros((3, 8)))) == "<BaseSignal, title: , dimensions: (|8, 3)>"


def test_repr_html_shows_bytes_shape_and_chunks():
    html = cube(lazy=True)._repr_html_()
    assert "(5, 4|10)" in html and "(5, 2|10)" in html and "1.56 KiB" in html and "float64" in html


def test_construct_from_dask_and_data_setter_checks_shape():
    s = Signal1D(da.zeros((3, 4), chunks=2))
    assert s.lazy
    with pytest.raises(ShapeMismatchError, match=r"\(5,\).*\(3, 4\)"):
        s.data = np.zeros(5)
    with pytest.raises(ShapeMismatchError, match="Signal2D needs at least 2"):
        Signal2D(np.zeros(5))
    with pytest.raises(ShapeMismatchError, match="2 axes were given"):
        Signal1D(np.zeros((2, 3, 4)), axes=[{"size": 2}, {"size": 3}])


def test_compute_in_place_and_as_lazy():
    s = cube(lazy=True)
    data = s.data
    assert s.compute() is s and not s.lazy
    np.testing.assert_array_equal(s.data, data.compute())
    l = s.as_lazy()
    assert l.lazy and not s.lazy and l.data.chunks[-1] == (10,)


def test_copy_and_deepcopy():
    s = cube()
    shallow, deep = s.copy(), s.deepcopy()
    s.data[0, 0, 0] = -1
    assert shallow.data[0, 0, 0] == -1 and deep.data[0, 0, 0] == 0
    deep.metadata.General.title = "other"
    deep.axes_manager["x"].scale = 3
    assert s.metadata.General.title == "cube" and s.axes_manager["x"].scale == 1


def test_transpose_and_as_signal():
    s = cube()
    t = s.T
    assert isinstance(t, Signal2D) and t.axes_manager.navigation_shape == (10,)
    assert t.axes_manager.signal_shape == (5, 4)
    assert t.data.shape == (10, 4, 5)
    np.testing.assert_array_equal(t.data[3], s.data[..., 3])
    assert s.as_signal1D("x").axes_manager.signal_axes[0].name == "x"
    img = s.as_signal2D(("x", "y"))
    assert img.axes_manager.signal_shape == (5, 4) and img.axes_manager.navigation_shape == (10,)
    assert cube(lazy=True).transpose(signal_axes=2, optimize=True).data.chunks[-2:] == ((10,), (4,))
    with pytest.raises(AxisError, match="exactly once"):
        s.transpose(signal_axes=["x"], navigation_axes=["x", "y"])


def test_change_dtype():
    s = cube(lazy=True)
    s.change_dtype("float32")
    assert s.lazy and s.data.dtype == np.float32
    with pytest.raises(DtypeError, match="not a dtype"):
        s.change_dtype("floaty")
    c = Signal1D(np.ones(3, dtype=complex))
    with pytest.raises(DtypeError, match="imaginary part would be lost.*abs"):
        c.change_dtype("float64")


def test_set_signal_type_and_errors():
    s = cube()
    s.set_signal_type("")
    assert type(s) is Signal1D
    with pytest.raises(ValueError, match="Unknown signal_type 'nope'"):
        s.set_signal_type("nope")


def test_reductions_keep_remaining_axes():
    s = cube()
    nav = s.sum()
    assert isinstance(nav, Signal1D) and nav.axes_manager.signal_axes[0].name == "Energy"
    sig = s.sum(axis=s.axes_manager.signal_axes)
    assert type(sig) is BaseSignal and sig.axes_manager.navigation_shape == (5, 4)
    one = s.sum(axis=("x", "y", "Energy"))
    assert one.data.shape == (1,) and one.data[0] == s.data.sum()
    assert s.mean("x").axes_manager.navigation_shape == (4,)
    assert s.valuemax("Energy").data[0, 0] == pytest.approx(5.5)
    assert s.diff("Energy").axes_manager["Energy"].offset == pytest.approx(1.25)


def test_in_place_operator_rebinds_lazy_data_without_touching_source():
    s = cube(lazy=True)
    source = s.data
    s += 1
    assert s.data is not source and s.lazy
    np.testing.assert_array_equal(s.data.compute(), source.compute() + 1)


def test_assignment_into_lazy_data_suggests_rebinding():
    s = cube(lazy=True)
    with pytest.raises(LazyAssignmentError, match=r"s = s \+ 1"):
        s.isig[2] = 0
    e = cube()
    e.isig[2] = 0
    assert (e.data[..., 2] == 0).all()


def test_shape_mismatch_names_the_axes():
    a = cube()
    b = Signal1D(np.zeros((4, 5, 9)), axes=[{"name": "y", "size": 4}, {"name": "x", "size": 5},
                                           {"name": "E2", "size": 9}])
    with pytest.raises(ShapeMismatchError, match=r"signal axes disagree.*'Energy' has 10.*'E2' has 9"):
        a + b
    with pytest.raises(ShapeMismatchError, match="In-place add would change the shape"):
        a.isig[0:1].__iadd__(a)


def test_index_errors_name_axis_and_range():
    s = cube()
    with pytest.raises(AxisIndexError, match=r"'x'.*0\.\.4"):
        s.inav[7]
    with pytest.raises(AxisIndexError, match=r"'Energy'.*keV"):
        s.isig[20.0]
    with pytest.raises(AxisError, match="3 indices.*2 navigation axes"):
        s.inav[1, 2, 3]
    with pytest.raises(AxisError, match="s.inav"):
        s[0]
    with pytest.raises(AxisError, match="No axis named 'z'"):
        s.sum("z")
    with pytest.raises(AxisError, match="use an int"):
        s.inav["a"]


def test_broadcast_spectrum_over_image_and_ufunc_tuple():
    s = cube()
    spectrum = s.inav[0, 0]
    r = s - spectrum
    assert r.axes_manager == s.axes_manager
    np.testing.assert_array_equal(r.data, s.data - s.data[0, 0])
    frac, whole = np.modf(s / 3)
    assert_signals_equal(frac + whole, s / 3)


def test_close_file_runs_closers_once():
    s = cube(lazy=True)
    calls = []
    s._file_closers.append(lambda: calls.append(1))
    s.compute(close_file=True)
    s.close_file()
    assert calls == [1]


def test_stack_errors():
    with pytest.raises(ShapeMismatchError, match="equal dimensions"):
        ls.stack([cube(), cube().isig[1:]])
    with pytest.raises(ValueError, match="at least one"):
        ls.stack([])


def test_transpose_tells_apart_axes_with_equal_calibrations():
    # Axes of equal size and calibration compare equal; transpose must still move each one.
    data = np.arange(2 * 3 * 3 * 5.0).reshape(2, 3, 3, 5)
    s = Signal1D(data)
    assert np.array_equal(s.T.data, data.transpose(3, 0, 1, 2))
    nav_only = Signal1D(np.ones((4, 4, 8))).as_lazy().sum(axis="signal")
    assert nav_only.T.compute().data.shape == (4, 4)
