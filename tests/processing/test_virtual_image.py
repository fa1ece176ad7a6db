import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lazysignal.errors import AxisError, ShapeMismatchError
from lazysignal.signals import Signal1D, Signal2D
from lazysignal.testing import assert_signals_equal


def disk(shape, radius):
    ky, kx = np.mgrid[: shape[0], : shape[1]]
    return (ky - shape[0] / 2) ** 2 + (kx - shape[1] / 2) ** 2 <= radius**2


@given(data=st.data(), dtype=st.sampled_from(["uint16", "uint8", "int32", "float32", "float64"]),
       weighted=st.booleans())
def test_virtual_image_equals_masked_sum_eager_and_lazy(data, dtype, weighted):
    nav = tuple(data.draw(st.integers(1, 5)) for _ in range(data.draw(st.integers(1, 2))))
    frame = (data.draw(st.integers(2, 9)), data.draw(st.integers(2, 9)))
    values = (np.arange(np.prod(nav + frame)) % 97).reshape(nav + frame).astype(dtype)
    s = Signal2D(values)
    mask = disk(frame, data.draw(st.floats(0.5, 5)))
    if weighted:
        mask = mask * 0.5 + 0.25
    expected = (s * mask).sum(axis="signal")
    eager = s.virtual_image(mask)
    chunks = tuple(data.draw(st.integers(1, n)) for n in values.shape)
    lazy = s.as_lazy(chunks=chunks).virtual_image(mask)
    assert lazy.lazy
    assert_signals_equal(eager, expected, check_metadata=False)
    assert_signals_equal(lazy, eager)


def test_virtual_image_errors():
    s = Signal2D(np.zeros((3, 4, 8, 8)))
    with pytest.raises(ShapeMismatchError, match=r"mask has shape \(4, 4\).*\(8, 8\)"):
        s.virtual_image(np.ones((4, 4), bool))
    with pytest.raises(AxisError, match="two signal axes"):
        Signal1D(np.zeros((3, 8))).virtual_image(np.ones((8,), bool))
