"""fft / ifft: lazy == eager over chunkings (split signal axes are made whole), round trip."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from lazysignal.signals import Signal1D, Signal2D
from lazysignal.testing import assert_signals_equal, chunks_for, signals


@given(data=st.data())
def test_fft_lazy_equals_eager(data):
    s = data.draw(signals(dtypes=("float64", "complex128", "int32"), uniform_only=True))
    shift = data.draw(st.booleans())
    lazy = s.as_lazy(chunks=data.draw(chunks_for(s.data.shape)))
    eager_f = s.fft(shift=shift)
    lazy_f = lazy.fft(shift=shift)
    assert lazy_f.lazy
    assert_signals_equal(lazy_f, eager_f)
    back = lazy_f.ifft(return_real=False)
    np.testing.assert_allclose(back.data.compute(), s.data, atol=1e-9 * max(1.0, float(np.abs(s.data).max())))


def test_fft_axes_and_metadata():
    s = Signal2D(np.ones((3, 8, 16)))
    for ax in s.axes_manager.signal_axes:
        ax.scale, ax.units = 0.5, "nm"
    f = s.as_lazy(chunks=(1, 4, 4)).fft(shift=True)
    kx = f.axes_manager.signal_axes[0]
    assert kx.scale == 1 / (16 * 0.5) and kx.offset == -8 * kx.scale and kx.units == "1 / nm"
    assert f.metadata.Signal.FFT.shifted is True
    assert f.data.chunks[0] == (1, 1, 1)  # navigation chunks kept
    back = f.ifft()
    assert back.axes_manager.signal_axes[0].units == "nm"
    assert back.axes_manager.signal_axes[0].scale == 0.5
    np.testing.assert_allclose(back.data.compute(), 1.0)


def test_fft_of_1d_matches_numpy():
    x = np.random.default_rng(0).random((4, 32))
    f = Signal1D(x).as_lazy(chunks=(2, 8)).fft()
    np.testing.assert_allclose(f.data.compute(), np.fft.fft(x, axis=-1))
