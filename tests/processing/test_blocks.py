"""iterate_blocks: exact round trip over chunkings, masks applied, every signal chunk read."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lazysignal.errors import ShapeMismatchError
from lazysignal.signals import Signal1D, Signal2D
from lazysignal.testing import chunks_for, signals


@given(data=st.data())
def test_round_trip_flat_and_not_flat(data):
    s = data.draw(signals(dtypes=("float64", "uint16"), nav_dims=(1, 2), sig_dims=(1, 2)))
    lazy = s.as_lazy(chunks=data.draw(chunks_for(s.data.shape)))
    nav = s.axes_manager.navigation_size
    flat = np.concatenate(list(lazy.iterate_blocks()))
    np.testing.assert_array_equal(flat, s.data.reshape(nav, -1))
    whole = np.concatenate(list(lazy.iterate_blocks(flat_signal=False)))
    np.testing.assert_array_equal(whole, s.data)
    # Eager signals iterate the same way.
    np.testing.assert_array_equal(np.concatenate(list(s.iterate_blocks())), s.data.reshape(nav, -1))


@given(data=st.data())
def test_masks(data):
    s = data.draw(signals(dtypes=("float64", "int32"), nav_dims=(1, 2), sig_dims=(1, 2)))
    lazy = s.as_lazy(chunks=data.draw(chunks_for(s.data.shape)))
    nav_shape = s.data.shape[: len(s.axes_manager.navigation_shape)]
    sig_shape = s.data.shape[len(nav_shape):]
    nmask = np.asarray(data.draw(st.lists(st.booleans(), min_size=int(np.prod(nav_shape)),
                                          max_size=int(np.prod(nav_shape))))).reshape(nav_shape)
    smask = np.asarray(data.draw(st.lists(st.booleans(), min_size=int(np.prod(sig_shape)),
                                          max_size=int(np.prod(sig_shape))))).reshape(sig_shape)
    flat = np.concatenate(list(lazy.iterate_blocks(navigation_mask=nmask, signal_mask=smask)))
    expected = s.data.reshape(-1, int(np.prod(sig_shape)))[~nmask.ravel()][:, ~smask.ravel()]
    np.testing.assert_array_equal(flat, expected)
    whole = np.concatenate(list(lazy.iterate_blocks(flat_signal=False, navigation_mask=nmask,
                                                    signal_mask=smask)))
    fill = np.nan if s.data.dtype.kind == "f" else 0
    expected = s.data.astype(float if fill is np.nan else s.data.dtype).copy()
    expected[nmask] = fill
    expected[..., smask] = fill
    np.testing.assert_array_equal(whole, expected)
    assert whole.dtype == s.data.dtype


def test_blocks_cover_every_signal_chunk():
    data = np.arange(4 * 6 * 12, dtype=float).reshape(4, 6, 12)
    lazy = Signal1D(data).as_lazy(chunks=(2, 6, 4))  # three signal chunks
    blocks = list(lazy.iterate_blocks())
    assert [b.shape for b in blocks] == [(12, 12), (12, 12)]  # rows kept, signal whole
    np.testing.assert_array_equal(np.concatenate(blocks), data.reshape(24, 12))


def test_masks_as_signals_and_wrong_shape():
    s = Signal2D(np.ones((2, 3, 4, 5))).as_lazy()
    nmask = Signal2D(np.zeros((2, 3), bool))
    assert sum(b.shape[0] for b in s.iterate_blocks(navigation_mask=nmask)) == 6
    with pytest.raises(ShapeMismatchError, match="navigation_mask"):
        list(s.iterate_blocks(navigation_mask=np.zeros((3, 2), bool)))
    assert list(s._block_iterator())[0].shape == (6, 20)  # HyperSpy's private name works
