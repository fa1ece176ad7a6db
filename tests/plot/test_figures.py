"""plot_images / plot_spectra / plot_signals: artists hold the signals' data and titles; lazy computed once."""

import dask
import dask.array as da
import matplotlib.pyplot as plt
import numpy as np
import pytest

import lazysignal as ls
from lazysignal.errors import PlotError, UnsupportedOptionError
from lazysignal.signals import BaseSignal, Signal1D, Signal2D


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def image(values, title, scale=1.0, units="nm"):
    return Signal2D(values, axes=[{"size": values.shape[0], "name": "y", "units": units, "scale": scale},
                                  {"size": values.shape[1], "name": "x", "units": units, "scale": scale}],
                    metadata={"General": {"title": title}})


def counted_lazy(values, chunks):
    reads = []

    def record(block, block_info=None):
        reads.append(block_info[0]["chunk-location"])
        return block

    return da.from_array(values, chunks=chunks).map_blocks(record, dtype=values.dtype), reads


def test_plot_images_artists_hold_the_data_and_titles():
    rng = np.random.default_rng(0)
    fe, pt = rng.random((5, 7)), rng.random((5, 7))
    axes = ls.plot.plot_images([image(fe, "Fe_Ka", 2.0), image(pt, "Pt_La", 2.0)], per_row=1,
                               suptitle="maps", scalebar="all")
    assert [ax.get_title() for ax in axes] == ["Fe_Ka", "Pt_La"]
    np.testing.assert_array_equal(axes[0].images[0].get_array(), fe)
    np.testing.assert_array_equal(axes[1].images[0].get_array(), pt)
    assert axes[0].images[0].get_extent() == [-1.0, 13.0, 9.0, -1.0]
    assert axes[0].get_xlabel() == "x (nm)" and axes[0].figure._suptitle.get_text() == "maps"
    assert len(axes[0].figure.axes) == 4  # two images, two colorbars
    top, bottom = axes[0].get_position(), axes[1].get_position()  # per_row=1: one above the other
    assert bottom.y1 < top.y0 and bottom.x0 == top.x0


def test_plot_images_lazy_inputs_are_computed_together_once():
    values = np.arange(2 * 6 * 8.0).reshape(2, 6, 8)
    data, reads = counted_lazy(values, (1, 6, 8))
    stack = Signal2D(data, metadata={"General": {"title": "stack"}})
    doubled = stack * 2
    with dask.config.set(scheduler="synchronous"):
        axes = ls.plot.plot_images([stack, doubled], colorbar="single", label=["a", "b", "c", "d"])
    assert len(reads) == 2  # each chunk once, shared by both signals
    assert [ax.get_title() for ax in axes] == ["a", "b", "c", "d"]
    np.testing.assert_array_equal(axes[1].images[0].get_array(), values[1])
    np.testing.assert_array_equal(axes[3].images[0].get_array(), 2 * values[1])
    assert {ax.images[0].get_clim() for ax in axes} == {(0.0, 2 * values.max())}


def test_plot_images_stack_labels_percentiles_and_decor():
    values = np.arange(2 * 3 * 4.0).reshape(2, 3, 4)
    axes = ls.plot.plot_images(Signal2D(values, metadata={"General": {"title": "t"}}), vmin="10th",
                               vmax=5.0, axes_decor="off", colorbar=None, cmap=["gray", "viridis"])
    assert [ax.get_title() for ax in axes] == ["t (0,)", "t (1,)"]
    assert axes[0].images[0].get_clim() == (np.percentile(values[0], 10), 5.0)
    assert not axes[0].axison and axes[1].images[0].get_cmap().name == "viridis"
    nav_image = BaseSignal(np.arange(6.0).reshape(2, 3), axes=[{"size": 2, "navigate": True},
                                                                 {"size": 3, "navigate": True}])
    (ax,) = ls.plot.plot_images([nav_image])
    np.testing.assert_array_equal(ax.images[0].get_array(), np.arange(6.0).reshape(2, 3))


def test_plot_images_bad_input():
    with pytest.raises(PlotError, match="2 signal axes"):
        ls.plot.plot_images([Signal1D(np.zeros(4))])
    with pytest.raises(PlotError, match="colorbar"):
        ls.plot.plot_images([image(np.zeros((2, 2)), "a")], colorbar="both")
    with pytest.raises(PlotError, match="percentile"):
        ls.plot.plot_images([image(np.zeros((2, 2)), "a")], vmin="5%")
    with pytest.raises(UnsupportedOptionError, match="overlay"):
        ls.plot.plot_images([image(np.zeros((2, 2)), "a")], overlay=True)


@pytest.mark.parametrize("style", ["overlap", "cascade", "mosaic", "heatmap"])
def test_plot_spectra_styles_hold_the_data(style):
    values = np.random.default_rng(1).random((3, 10))
    s = Signal1D(values, axes=[{"size": 3, "navigate": True},
                               {"size": 10, "name": "E", "units": "keV", "scale": 0.1, "navigate": False}],
                 metadata={"General": {"title": "spec"}})
    out = ls.plot.plot_spectra(s.as_lazy(chunks=(1, 10)), style=style, legend="auto", padding=2.0)
    if style == "heatmap":
        np.testing.assert_array_equal(out.images[0].get_array(), values)
        return
    lines = [ax.lines[0] for ax in out] if style == "mosaic" else out.lines
    shift = 2.0 * (values.max(1) - values.min(1)).max() if style == "cascade" else 0.0
    for i, line in enumerate(lines):
        np.testing.assert_allclose(line.get_ydata(), values[i] + i * shift)
        np.testing.assert_allclose(line.get_xdata(), 0.1 * np.arange(10))
        assert line.get_label() == f"spec ({i},)"


def test_plot_spectra_of_a_list_with_colors_and_legend():
    a, b = Signal1D(np.arange(5.0)), Signal1D(np.ones(5))
    ax = ls.plot.plot_spectra([a, b], color=["red", "blue"], legend=["a", "b"])
    assert [line.get_color() for line in ax.lines] == ["red", "blue"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b"]
    with pytest.raises(PlotError, match="style"):
        ls.plot.plot_spectra([a], style="stacked")
    with pytest.raises(PlotError, match="1 signal axis"):
        ls.plot.plot_spectra([Signal2D(np.zeros((2, 2)))])


def test_plot_signals_share_one_navigator():
    values = np.random.default_rng(2).random((4, 5, 6))
    a = Signal1D(values).as_lazy(chunks=(2, 5, 6))
    b = Signal1D(values * 2)
    plots = ls.plot.plot_signals([a, b])
    assert plots[0].navigator is not None and plots[1].navigator is None
    a.axes_manager.indices = (3, 2)
    np.testing.assert_array_equal(plots[0].signal_view.data, values[2, 3])
    np.testing.assert_array_equal(plots[1].signal_view.data, 2 * values[2, 3])
    with pytest.raises(PlotError, match="equal navigation shapes"):
        ls.plot.plot_signals([a, Signal1D(np.zeros((3, 6)))])


def test_plot_images_auto_labels_move_a_shared_title_beginning_to_the_figure_title():
    # HyperSpy's label="auto": line maps titled "... of S: Fe_Ka at ..." show "Fe_Ka at ...".
    rng = np.random.default_rng(1)
    maps = [image(rng.random((4, 4)), f"X-ray line intensity of sample: {line}", 1.0)
            for line in ("Fe_Ka at 6.41 keV", "Pt_La at 9.44 keV")]
    axes = ls.plot.plot_images(maps)
    assert [ax.get_title() for ax in axes] == ["Fe_Ka at 6.41 keV", "Pt_La at 9.44 keV"]
    assert axes[0].figure._suptitle.get_text() == "X-ray line intensity of sample"
    axes = ls.plot.plot_images(maps, suptitle="mine", label="titles")
    assert axes[0].get_title() == maps[0].metadata.get_item("General.title")
    assert axes[0].figure._suptitle.get_text() == "mine"
