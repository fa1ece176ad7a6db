"""EDS line markers and line maps, decomposition figures: artists read back."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

from lazysignal.errors import PlotError, UnsupportedOptionError
from lazysignal.signals import Signal1D, Signal2D
from lazysignal.signals.eds import EDSTEMSpectrum
from lazysignal.xray.lines import line_energy


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def eds(units="keV"):
    data = np.random.default_rng(0).poisson(5.0, (4, 5, 1000)).astype("float32")
    s = EDSTEMSpectrum(data)
    e = s.axes_manager.signal_axes[0]
    scale = 0.01 if units == "keV" else 10.0
    e.scale, e.offset, e.units, e.name = scale, -10 * scale, units, "Energy"
    s.add_elements(["Fe", "Pt"])
    s.add_lines()
    return s, data


@pytest.mark.parametrize("units", ["keV", "eV"])
def test_xray_lines_are_marked_on_the_spectrum(units):
    s, _ = eds(units)
    p = s.as_lazy().plot(xray_lines=True)
    lines = list(s.metadata.Sample.xray_lines)
    factor = 1000.0 if units == "eV" else 1.0
    marked = sorted(line.get_xdata()[0] for line in p.signal_view.markers)
    assert marked == sorted(line_energy(x) * factor for x in lines)
    assert sorted(t.get_text() for t in p.signal_view.ax.texts) == sorted(lines)


def test_xray_lines_given_and_refused_where_they_do_not_apply():
    s, _ = eds()
    p = s.plot(xray_lines=["Fe_Ka"])
    assert [t.get_text() for t in p.signal_view.ax.texts] == ["Fe_Ka"]
    with pytest.raises(UnsupportedOptionError, match="EDS"):
        Signal1D(np.zeros((2, 10))).plot(xray_lines=True)


def test_get_lines_intensity_plot_result_shows_the_maps():
    s, _ = eds()
    maps = s.as_lazy().get_lines_intensity(plot_result=True)
    axes = plt.gcf().axes[::2]  # each image has its colorbar beside it
    shared = axes[0].figure._suptitle.get_text()  # label="auto": the titles' shared beginning
    for ax, m in zip(axes, maps):
        title = m.metadata.General.title
        assert shared and title.startswith(shared) and title.endswith(ax.get_title())
    assert [ax.get_title().split()[0] for ax in axes] == [m.metadata.Sample.xray_lines[0] for m in maps]
    for ax, m in zip(axes, maps):
        np.testing.assert_array_equal(ax.images[0].get_array(), np.asarray(m.compute().data))


def test_decomposition_figures():
    rng = np.random.default_rng(1)
    s = Signal1D(rng.random((6, 5, 12)))
    s.decomposition(output_dimension=3, print_info=False)
    ratio = s.get_explained_variance_ratio().data
    ax = s.plot_explained_variance_ratio(n=3, log=False)
    np.testing.assert_allclose(ax.lines[0].get_ydata(), ratio[:3])
    ax = s.plot_decomposition_factors()
    factors = s.get_decomposition_factors().data
    for i, line in enumerate(ax.lines):
        np.testing.assert_allclose(line.get_ydata(), factors[i])
    axes = s.plot_decomposition_loadings([1, 2])
    loadings = s.get_decomposition_loadings().data
    np.testing.assert_allclose(axes[1].images[0].get_array(), loadings[2])
    with pytest.raises(PlotError, match="comp_ids"):
        s.plot_decomposition_factors([5])
    image_stack = Signal2D(rng.random((8, 4, 4)))
    image_stack.decomposition(output_dimension=2, print_info=False)
    axes = image_stack.plot_decomposition_factors()
    np.testing.assert_allclose(axes[0].images[0].get_array(), image_stack.get_decomposition_factors().data[0])
