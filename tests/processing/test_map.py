"""map: lazy == eager for iterated and constant arguments, ragged output, inplace/lazy_output."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lazysignal.errors import ShapeMismatchError
from lazysignal.signal import BaseSignal
from lazysignal.signals import Signal1D, Signal2D
from lazysignal.testing import assert_signals_equal, chunks_for, signals


def _weighted(x, w, scale=1.0):
    return (x * w).sum() * scale


def _com(frame):
    total = frame.sum()
    ys, xs = np.indices(frame.shape)
    return np.array([(ys * frame).sum(), (xs * frame).sum()]) / max(total, 1)


@given(data=st.data())
def test_map_constant_kwarg_lazy_equals_eager(data):
    s = data.draw(signals(dtypes=("float64", "int32", "uint16"), nav_dims=(1, 2), sig_dims=(1, 2)))
    lazy = s.as_lazy(chunks=data.draw(chunks_for(s.data.shape)))
    eager = s.map(lambda x, k: x * k, k=3, inplace=False)
    result = lazy.map(lambda x, k: x * k, k=3, inplace=False)
    assert result.lazy and not eager.lazy
    # The data of the original is untouched and keeps its chunks.
    assert lazy.data.chunks == lazy.as_lazy().data.chunks
    assert_signals_equal(result, eager)


@given(data=st.data())
def test_map_iterated_signal_kwarg_rechunked_to_match(data):
    s = data.draw(signals(dtypes=("float64",), nav_dims=(1, 2), sig_dims=(1, 1)))
    nav_shape = s.data.shape[:-1]
    weights = Signal1D(np.arange(np.prod(s.data.shape), dtype=float).reshape(s.data.shape))
    lazy = s.as_lazy(chunks=data.draw(chunks_for(s.data.shape)))
    lazy_w = weights.as_lazy(chunks=data.draw(chunks_for(weights.data.shape)))
    expected = np.array([_weighted(x, w, 2.0) for x, w in zip(s.data.reshape(-1, s.data.shape[-1]),
                                                               weights.data.reshape(-1, s.data.shape[-1]))])
    for src, w in ((s, weights), (lazy, lazy_w), (lazy, weights), (s, lazy_w)):
        out = src.map(_weighted, w=w, scale=2.0, inplace=False)
        got = out.data.compute() if out.lazy else out.data
        np.testing.assert_allclose(got.reshape(-1), expected, rtol=1e-12)
        assert got.shape == nav_shape


def test_map_iterates_scalar_per_pixel_signal_and_positional_args():
    s = Signal1D(np.arange(24.0).reshape(2, 3, 4)).as_lazy(chunks=(1, 2, 4))
    shift = s.sum(axis="signal")  # a navigation-only signal: one value per pixel
    out = s.map(lambda x, d, c: x + d + c, shift, 1.0, inplace=False)
    expected = s.data.compute() + shift.data.compute()[..., None] + 1.0
    np.testing.assert_array_equal(out.data.compute(), expected)


def test_map_signal_without_navigation_is_constant():
    s = Signal1D(np.ones((3, 4)))
    kernel = Signal1D(np.arange(4.0))
    out = s.map(lambda x, k: x * k, k=kernel, inplace=False)
    np.testing.assert_array_equal(out.data, np.tile(np.arange(4.0), (3, 1)))


def test_map_rejects_signal_with_other_navigation_shape():
    s = Signal1D(np.ones((3, 4)))
    with pytest.raises(ShapeMismatchError, match="navigation shape"):
        s.map(lambda x, k: x, k=Signal1D(np.ones((5, 4))))


@pytest.mark.parametrize("lazy_in", [False, True])
@pytest.mark.parametrize("lazy_output", [None, False, True])
@pytest.mark.parametrize("inplace", [False, True])
def test_map_inplace_and_lazy_output_combinations(lazy_in, lazy_output, inplace):
    base = Signal2D(np.random.default_rng(1).integers(0, 50, (3, 4, 8, 8)).astype("uint16"))
    s = base.as_lazy(chunks=(1, 2, 8, 8)) if lazy_in else base.deepcopy()
    result = s.map(_com, inplace=inplace, lazy_output=lazy_output)
    target = s if inplace else result
    if inplace:
        assert result is None
    else:
        assert s.data.shape == base.data.shape  # the original is untouched
    expected_lazy = lazy_in if lazy_output is None else lazy_output
    assert target.lazy is expected_lazy
    assert target.axes_manager.navigation_shape == (4, 3)
    assert target.axes_manager.signal_shape == (2,)
    got = target.data.compute() if target.lazy else target.data
    expected = np.array([_com(f) for f in base.data.reshape(-1, 8, 8)]).reshape(3, 4, 2)
    np.testing.assert_allclose(got, expected)


@pytest.mark.parametrize("lazy", [False, True])
def test_map_ragged(lazy):
    data = np.arange(30.0).reshape(3, 10)
    s = Signal1D(data)
    s = s.as_lazy(chunks=(2, 10)) if lazy else s
    out = s.map(lambda x: x[x > x.mean() + (x[0] % 3)], ragged=True, inplace=False)
    assert out.ragged
    got = out.data.compute() if out.lazy else out.data
    assert got.dtype == object and got.shape == (3,)
    for row, value in zip(data, got):
        np.testing.assert_array_equal(value, row[row > row.mean() + (row[0] % 3)])


@pytest.mark.parametrize("lazy", [False, True])
def test_map_axis_function_applied_to_blocks(lazy):
    calls = []

    def total(x, axis=None):
        calls.append(np.shape(x))
        return np.sum(x, axis=axis)

    data = np.random.default_rng(0).random((6, 5, 7))
    s = Signal1D(data)
    s = s.as_lazy(chunks=(2, 5, 7)) if lazy else s
    out = s.map(total, inplace=False)
    got = out.data.compute() if out.lazy else out.data
    np.testing.assert_allclose(got, data.sum(axis=-1))
    # Called on whole blocks (plus one probe), never per pixel.
    assert len(calls) <= 4
    assert all(len(c) == 3 for c in calls)


@pytest.mark.parametrize("lazy", [False, True])
def test_map_axes_function_applied_to_blocks_like_hyperspy(lazy):
    # HyperSpy's map also hands whole arrays to a function with an ``axes`` parameter.
    calls = []

    def centre_of_mass(frames, axes=(-2, -1)):
        calls.append(np.shape(frames))
        rows = frames.sum(axis=axes[-1])
        cols = frames.sum(axis=axes[-2])
        total = rows.sum(axis=-1)
        return np.stack([rows @ np.arange(rows.shape[-1]), cols @ np.arange(cols.shape[-1])], -1) / total[..., None]

    data = np.random.default_rng(1).random((4, 6, 9, 8))
    s = Signal2D(data)
    s = s.as_lazy(chunks=(2, 3, 9, 8)) if lazy else s
    out = s.map(centre_of_mass, inplace=False)
    got = out.data.compute() if out.lazy else out.data
    per_frame = np.array([[centre_of_mass(frame) for frame in row] for row in data])
    np.testing.assert_allclose(got, per_frame)
    assert all(len(c) == 4 for c in calls[: -per_frame.size])  # whole blocks, then the check
    assert len(calls) - per_frame.size <= 5
    # Given explicitly, the keyword is a constant: one call per frame, as written.
    calls.clear()
    s.map(centre_of_mass, axes=(0, 1), inplace=False, lazy_output=False)
    assert calls and all(c == (9, 8) for c in calls)


def test_map_output_signal_size_and_dtype_given_skips_the_probe():
    calls = []

    def f(x):
        calls.append(1)
        return np.array([x.min(), x.max()])

    s = Signal1D(np.arange(12.0).reshape(3, 4)).as_lazy(chunks=(1, 4))
    out = s.map(f, inplace=False, output_signal_size=(2,), output_dtype="float32")
    assert not calls  # nothing ran yet: shape and dtype were given
    assert out.data.dtype == np.float32
    np.testing.assert_array_equal(out.data.compute(), [[0, 3], [4, 7], [8, 11]])


def test_map_keeps_signal_axes_when_shape_kept():
    s = Signal1D(np.ones((2, 5)))
    s.axes_manager.signal_axes[0].scale = 0.5
    out = s.map(np.sqrt, inplace=False)
    assert out.axes_manager.signal_axes[0].scale == 0.5
    scalar = BaseSignal(np.ones(4))
    assert scalar.map(lambda x: x * 2, inplace=False).data.tolist() == [2.0] * 4


def test_map_navigation_chunks_and_progressbar_off(capsys):
    s = Signal1D(np.arange(40.0).reshape(8, 5)).as_lazy(chunks=(8, 5))
    out = s.map(lambda x: x + 1, inplace=False, navigation_chunks=(2,))
    assert out.data.chunks[0] == (2, 2, 2, 2)
    s.map(lambda x: x + 1, inplace=False, lazy_output=False, show_progressbar=False)
    assert "Completed" not in capsys.readouterr().out
    s.map(lambda x: x + 1, inplace=False, lazy_output=False, show_progressbar=True)
    assert "Completed" in capsys.readouterr().out
