"""rebin: lazy == eager over chunkings, after calibrated slicing, axes scaled correctly."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lazysignal.signals import Signal1D, Signal2D
from lazysignal.testing import assert_signals_equal, chunks_for, signals


@given(data=st.data())
def test_rebin_lazy_equals_eager(data):
    s = data.draw(signals(dtypes=("float64", "uint16", "int32"), nav_dims=(0, 2), sig_dims=(1, 2),
                          uniform_only=True, max_side=8))
    factors = [data.draw(st.integers(1, n)) for n in s.axes_manager.shape]
    crop = data.draw(st.booleans())
    dtype = data.draw(st.sampled_from([None, "same", "float32"]))
    lazy = s.as_lazy(chunks=data.draw(chunks_for(s.data.shape)))
    eager = s.rebin(scale=factors, crop=crop, dtype=dtype)
    result = lazy.rebin(scale=factors, crop=crop, dtype=dtype)
    assert result.lazy
    assert_signals_equal(result, eager)


def test_rebin_sums_and_scales_axes():
    data = np.arange(4 * 6 * 10, dtype="uint16").reshape(4, 6, 10)
    s = Signal1D(data)
    x = s.axes_manager.navigation_axes[0]
    x.scale, x.offset = 2.0, 1.0
    r = s.as_lazy(chunks=(2, 3, 5)).rebin(scale=(3, 2, 5))
    assert r.axes_manager.shape == (2, 2, 2)
    rx = r.axes_manager.navigation_axes[0]
    assert rx.scale == 6.0 and rx.offset == 1.0 + (3 - 1) * 2.0 / 2
    expected = data.reshape(2, 2, 2, 3, 2, 5).sum(axis=(1, 3, 5))
    np.testing.assert_array_equal(r.data.compute(), expected)
    assert r.data.dtype == np.sum(np.zeros(1, "uint16")).dtype


def test_rebin_new_shape_and_crop_false_keeps_counts():
    s = Signal1D(np.ones((5, 7)))
    assert s.rebin(new_shape=(5, 7)).data.shape == (5, 7)
    kept = s.as_lazy(chunks=(2, 3)).rebin(scale=(2, 3), crop=False)
    assert kept.data.shape == (3, 3)
    assert float(kept.data.sum().compute()) == 35.0
    cropped = s.rebin(scale=(2, 3))
    assert cropped.data.shape == (2, 2) and float(cropped.data.sum()) == 24.0


def test_rebin_after_calibrated_slicing_lazy():
    rng = np.random.default_rng(0)
    data = rng.poisson(2.0, (16, 16, 100)).astype(float)
    s = Signal1D(data)
    e = s.axes_manager.signal_axes[0]
    e.scale, e.offset, e.units = 0.1, -0.1, "keV"
    lazy = s.as_lazy(chunks=(4, 16, 100))
    r = lazy.isig[:9.0].rebin(scale=(4, 4, 1))
    assert r.axes_manager.signal_shape == (91,)
    assert r.axes_manager.signal_axes[0].offset == pytest.approx(-0.1)
    assert r.axes_manager.navigation_shape == (4, 4)
    np.testing.assert_allclose(r.data.compute(), data[:, :, :91].reshape(4, 4, 4, 4, 91).sum(axis=(1, 3)))
    # Chunks (4, 16, 100) are multiples of the factors: no rechunk in the graph.
    assert not any(name.startswith("rechunk") for name in r.data.__dask_graph__().layers)


def test_rebin_rejects_non_integer_factors():
    with pytest.raises(ValueError, match="integer"):
        Signal2D(np.ones((4, 4))).rebin(scale=(1.5, 1))
    with pytest.raises(ValueError, match="exactly one"):
        Signal2D(np.ones((4, 4))).rebin()
