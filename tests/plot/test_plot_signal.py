"""s.plot(): figures read back through matplotlib (Agg), moves by indices, mouse, keys and sliders."""

import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.backend_bases import KeyEvent, MouseEvent

from lazysignal.errors import PlotError, UnsupportedOptionError
from lazysignal.signals import BaseSignal, Signal1D, Signal2D


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def spectrum_image(lazy: bool, chunks=(2, 3, 16)):
    data = np.random.default_rng(0).random((6, 9, 16))
    s = Signal1D(data, axes=[{"size": 6, "name": "y", "units": "nm", "scale": 2.0, "navigate": True},
                             {"size": 9, "name": "x", "units": "nm", "scale": 2.0, "offset": 10.0,
                              "navigate": True},
                             {"size": 16, "name": "Energy", "units": "keV", "scale": 0.5, "navigate": False}],
                 metadata={"General": {"title": "SI"}, "Signal": {"quantity": "Counts"}})
    return (s.as_lazy(chunks=chunks) if lazy else s), data


def click(figure, ax, x, y, name="button_press_event", button=1):
    """A mouse event at data coordinates (x, y), through matplotlib's event machinery."""
    px, py = ax.transData.transform((x, y))
    event = MouseEvent(name, figure.canvas, px, py, button=button)
    figure.canvas.callbacks.process(name, event)


def press_key(figure, key):
    figure.canvas.callbacks.process("key_press_event", KeyEvent("key_press_event", figure.canvas, key))


@pytest.mark.parametrize("lazy", [False, True])
def test_navigator_and_signal_show_the_data_before_and_after_moving(lazy):
    s, data = spectrum_image(lazy)
    p = s.plot()
    if lazy:
        np.testing.assert_array_equal(p.navigator.image.get_array(), s.navigator.data)
    else:
        np.testing.assert_allclose(p.navigator.image.get_array(), data.sum(-1))
    line = p.signal_view.artist
    np.testing.assert_array_equal(line.get_xdata(), 0.5 * np.arange(16))
    np.testing.assert_array_equal(line.get_ydata(), data[0, 0])
    assert p.signal_view.ax.get_xlabel() == "Energy (keV)" and p.signal_view.ax.get_title() == "SI"
    assert p.signal_view.ax.get_ylabel() == "Counts"
    assert p.navigator.ax.get_xlabel() == "x (nm)" and p.navigator.ax.get_ylabel() == "y (nm)"
    s.axes_manager.indices = (7, 4)
    np.testing.assert_array_equal(line.get_ydata(), data[4, 7])
    assert p.navigator.cursor_indices == (7, 4)
    x0, y0 = p.navigator.cursor.get_xy()
    assert (x0, y0) == (10.0 + 2.0 * 7 - 1.0, 2.0 * 4 - 1.0)  # the pixel's edges, calibrated


def test_a_move_redraws_the_cursor_only():
    s, data = spectrum_image(lazy=True)
    p = s.plot()
    nav = p.navigator
    nav.figure.canvas.draw()
    full, blits = nav.blit.full_draws, nav.blit.blits
    for pos in [(1, 0), (2, 0), (2, 1)]:
        s.axes_manager.indices = pos
    assert nav.blit.full_draws == full and nav.blit.blits == blits + 3
    assert nav.image.get_animated() is False and nav.cursor.get_animated() is True
    # The rendered buffer holds the new cursor: the red edge is at the new pixel.
    rgba = np.asarray(nav.figure.canvas.buffer_rgba())
    px, py = nav.ax.transData.transform((10.0 + 2.0 * 2 - 1.0, 2.0 * 1))
    row = rgba.shape[0] - int(round(py))
    assert (rgba[row, int(round(px)) - 1: int(round(px)) + 2, 0] > 200).any()


def test_lazy_auto_navigator_is_computed_once_and_stored():
    s, _ = spectrum_image(lazy=True)
    assert s.navigator is None
    s.plot()
    stored = s.navigator
    assert stored is not None
    s.plot()
    assert s.navigator is stored


def test_navigator_signal_slider_and_none():
    s, data = spectrum_image(lazy=False)
    nav = Signal2D(np.arange(54.0).reshape(6, 9))
    p = s.plot(navigator=nav)
    np.testing.assert_array_equal(p.navigator.image.get_array(), nav.data)
    p = s.plot(navigator="slider")
    assert p.navigator.mode == "slider" and len(p.navigator.sliders) == 2
    p.navigator.sliders[1].set_val(3)
    assert s.axes_manager.indices == (0, 3)
    np.testing.assert_array_equal(p.signal_view.data, data[3, 0])
    p = s.plot(navigator=None)
    assert p.navigator is None and len(p.figures) == 1


def test_clicking_and_dragging_on_the_navigator_moves_the_position():
    s, data = spectrum_image(lazy=True)
    p = s.plot()
    nav = p.navigator
    nav.figure.canvas.draw()
    click(nav.figure, nav.ax, 10.0 + 2.0 * 5, 2.0 * 3)
    assert s.axes_manager.indices == (5, 3)
    np.testing.assert_array_equal(p.signal_view.data, data[3, 5])
    click(nav.figure, nav.ax, 10.0 + 2.0 * 6 + 0.4, 2.0 * 2 - 0.4, name="motion_notify_event")
    assert s.axes_manager.indices == (6, 2)
    click(nav.figure, nav.ax, 0, 0, name="button_release_event")
    click(nav.figure, nav.ax, 10.0, 0.0, name="motion_notify_event")  # no button held: no move
    assert s.axes_manager.indices == (6, 2)


def test_arrow_keys_move_the_position_on_either_figure():
    s, data = spectrum_image(lazy=False)
    p = s.plot()
    press_key(p.navigator.figure, "right")
    press_key(p.signal_view.figure, "down")
    assert s.axes_manager.indices == (1, 1)
    press_key(p.signal_view.figure, "left")
    press_key(p.signal_view.figure, "left")  # clamped at the edge
    assert s.axes_manager.indices == (0, 1)
    press_key(p.navigator.figure, "pageup")
    press_key(p.navigator.figure, "right")
    assert s.axes_manager.indices == (2, 1)
    np.testing.assert_array_equal(p.signal_view.data, data[1, 2])


def test_one_navigation_axis_gives_a_line_navigator():
    data = np.random.default_rng(1).random((7, 20))
    s = Signal1D(data).as_lazy(chunks=(3, 20))
    p = s.plot()
    assert p.navigator.mode == "line"
    np.testing.assert_array_equal(p.navigator.line.get_ydata(), s.navigator.data)
    s.axes_manager.indices = (5,)
    assert p.navigator.cursor_indices == (5,)
    np.testing.assert_array_equal(p.signal_view.data, data[5])


def test_images_and_sliders_beyond_two_navigation_axes():
    data = np.random.default_rng(2).random((3, 4, 5, 6, 7))
    s = Signal2D(data, axes=[{"size": n, "navigate": i < 3} for i, n in enumerate(data.shape)])
    p = s.plot()
    assert len(p.navigator.sliders) == 1
    np.testing.assert_allclose(p.navigator.image.get_array(), data[0].sum(axis=(-2, -1)))
    frame = p.signal_view.artist
    np.testing.assert_array_equal(frame.get_array(), data[0, 0, 0])
    assert frame.get_extent() == [-0.5, 6.5, 5.5, -0.5]
    s.axes_manager.indices = (1, 2, 2)
    np.testing.assert_allclose(p.navigator.image.get_array(), data[2].sum(axis=(-2, -1)))
    assert p.navigator.sliders[0].val == 2
    np.testing.assert_array_equal(frame.get_array(), data[2, 2, 1])
    p.navigator.sliders[0].set_val(1)
    assert s.axes_manager.indices == (1, 2, 1)
    np.testing.assert_array_equal(frame.get_array(), data[1, 2, 1])


def test_no_navigation_shows_the_signal_only():
    s = Signal2D(np.arange(12.0).reshape(3, 4)).as_lazy()
    p = s.plot(cmap="gray", colorbar=False)
    assert p.navigator is None
    np.testing.assert_array_equal(p.signal_view.data, np.arange(12.0).reshape(3, 4))


def test_data_changed_empties_the_cache_and_redraws():
    s, data = spectrum_image(lazy=True)
    p = s.plot()
    s.axes_manager.indices = (2, 2)
    p.cache.wait()
    s.data = s.data * 3
    assert p.cache.stats.hits == 0 and p.cache.stats.reads == 1  # fresh stats: one read since
    np.testing.assert_allclose(p.signal_view.data, 3 * data[2, 2])


def test_shared_axes_manager_moves_two_plots():
    a, data = spectrum_image(lazy=True)
    b = Signal1D(data * 2)
    pa = a.plot()
    pb = b.plot(axes_manager=a.axes_manager, navigator=None)
    a.axes_manager.indices = (3, 1)
    np.testing.assert_array_equal(pb.signal_view.data, 2 * data[1, 3])
    np.testing.assert_array_equal(pa.signal_view.data, data[1, 3])


def test_close_disconnects_and_replotting_closes_the_previous_plot():
    s, _ = spectrum_image(lazy=True)
    p = s.plot()
    q = s.plot()
    open_figures = [plt.figure(n) for n in plt.get_fignums()]
    assert all(f not in open_figures for f in p.figures) and all(f in open_figures for f in q.figures)
    assert p.update not in s.axes_manager.events.indices_changed.connected
    q.close()
    assert s._plot is None and q.update not in s.axes_manager.events.indices_changed.connected


@pytest.mark.parametrize("chunks", [(1, 9, 16), (2, 3, 16), (6, 9, 8), (4, 2, 5)])
def test_lazy_plot_equals_eager_plot_at_every_position(chunks):
    eager, data = spectrum_image(lazy=False)
    lazy, _ = spectrum_image(lazy=True, chunks=chunks)
    pe, pl = eager.plot(navigator=None), lazy.plot(navigator=None)
    for y in range(6):
        for x in range(9):
            eager.axes_manager.indices = lazy.axes_manager.indices = (x, y)
            np.testing.assert_array_equal(pl.signal_view.data, pe.signal_view.data)


def test_bad_input_is_refused_with_clear_errors():
    s, _ = spectrum_image(lazy=False)
    with pytest.raises(PlotError, match=r"navigates \(9, 6\)"):
        s.plot(navigator=Signal2D(np.zeros((5, 9))))
    with pytest.raises(PlotError, match="'auto', 'slider', None"):
        s.plot(navigator="spectrum")
    with pytest.raises(UnsupportedOptionError, match="colour"):
        s.plot(colour="red")
    with pytest.raises(UnsupportedOptionError, match="images"):
        s.plot(cmap="gray")
    with pytest.raises(PlotError, match="this signal has 3"):
        BaseSignal(np.zeros((2, 3, 4))).plot()
    ragged = np.empty(3, dtype=object)
    for i in range(3):
        ragged[i] = np.arange(i + 1)
    with pytest.raises(PlotError, match="ragged"):
        BaseSignal(ragged, axes=[{"size": 3, "navigate": True}], ragged=True).plot()
    with pytest.raises(PlotError, match="axes_manager"):
        s.plot(axes_manager=Signal1D(np.zeros((2, 16))).axes_manager)
    assert plt.get_fignums() == []  # nothing half-built is left open


def test_a_lazy_navigator_signal_is_computed_and_shown():
    s, data = spectrum_image(lazy=True)
    nav = Signal2D(da.from_array(np.arange(54.0).reshape(6, 9), chunks=3))
    p = s.plot(navigator=nav)
    np.testing.assert_array_equal(p.navigator.image.get_array(), np.arange(54.0).reshape(6, 9))


def test_eager_summed_navigator_follows_the_data_and_a_new_shape_replots():
    s, data = spectrum_image(lazy=False)
    p = s.plot()
    s.data = s.data * 2
    np.testing.assert_allclose(p.navigator.image.get_array(), 2 * data.sum(-1))
    s.axes_manager.indices = (1, 1)
    np.testing.assert_allclose(p.signal_view.data, 2 * data[1, 1])
    new_axes = [a.copy() for a in s.axes_manager._axes]
    new_axes[-1].size = 8
    s._replace(s.data[..., :8], axes=new_axes)
    assert not p.is_active and s._plot is not None and s._plot is not p
    np.testing.assert_allclose(s._plot.signal_view.data, 2 * data[s.axes_manager.indices[::-1]][:8])
