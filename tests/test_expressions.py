"""The reductions users write, recognised and fused (lazysignal.expressions): same results.

Each expression is evaluated three ways on the same data: eagerly (numpy), lazily as
written (recognised, fused), and lazily the plain dask way (the same dask calls without
the recognition). Integer results must be identical to both; floating-point results
identical to the plain lazy evaluation (same blocks, same sums) and equal to numpy within
summation round-off. Each test also checks that the fused path was taken, so that a
recognition that silently stops working fails here.
"""

import os
import tempfile

import dask.array as da
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import lazysignal as ls
from lazysignal.expressions import describe, fast_reduce
from lazysignal import block_source
from lazysignal.io.backends.chunked_file import file_array

DATA_DTYPES = ["u1", "<u2", "<i2", "<i4", "<f4", "<f8"]
MASK_DTYPES = ["bool", "u1", "i2", "i8", "f4", "f8"]


def _fused(signal) -> bool:
    return any(str(name).startswith("fused-sum-") for name in signal.data.dask.layers)


def _file_signal(values: np.ndarray, chunks, signal_dim: int):
    """A lazy signal read from a raw file by the binary back end (a block source)."""
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "data.raw")
    values.tofile(path)
    x = file_array(path, shape=values.shape, dtype=values.dtype.str, chunks=chunks,
                   frame_ndim=signal_dim)
    cls = ls.signals.Signal2D if signal_dim == 2 else ls.signals.Signal1D
    return cls(x)


def _memory_signal(values: np.ndarray, chunks, signal_dim: int):
    """A lazy signal over an in-memory dask array (no block source: only a constant helps)."""
    cls = ls.signals.Signal2D if signal_dim == 2 else ls.signals.Signal1D
    return cls(da.from_array(values, chunks=chunks))


@st.composite
def cube(draw, signal_dim: int):
    """Random data (navigation 1-2 axes, signal ``signal_dim`` axes), a dtype and chunks."""
    nav = draw(st.lists(st.integers(1, 5), min_size=1, max_size=2))
    sig = draw(st.lists(st.integers(1, 9), min_size=signal_dim, max_size=signal_dim))
    shape = tuple(nav + sig)
    dtype = np.dtype(draw(st.sampled_from(DATA_DTYPES)))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    if dtype.kind == "f":
        values = rng.normal(0, 100, shape).astype(dtype)
    else:
        info = np.iinfo(dtype)
        values = rng.integers(max(info.min, -3000), min(info.max, 3000), shape, endpoint=True).astype(dtype)
    chunks = tuple(draw(st.integers(1, n)) for n in shape)
    return values, chunks


def _mask(draw, shape, dtype):
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    mask = np.zeros(shape, dtype=dtype)
    # A rectangle of values (a detector region) somewhere, so the bounding box is a real crop.
    lo = [draw(st.integers(0, n - 1)) for n in shape]
    hi = [draw(st.integers(a + 1, n)) for a, n in zip(lo, shape)]
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    if np.dtype(dtype) == bool:
        mask[box] = rng.random(mask[box].shape) < 0.7
    elif np.dtype(dtype).kind == "f":
        mask[box] = rng.normal(0, 2, mask[box].shape)
    else:
        mask[box] = rng.integers(-3 if np.dtype(dtype).kind == "i" else 0, 4, mask[box].shape)
    return mask


def _check(fast, plain_dask, eager):
    """``fast`` (a lazy signal) against the plain dask evaluation and numpy."""
    value = fast.compute().data
    plain = plain_dask.compute()
    assert value.dtype == plain.dtype == np.asarray(eager).dtype
    np.testing.assert_array_equal(value, plain)
    if value.dtype.kind in "biu":
        np.testing.assert_array_equal(value, eager)
    else:
        np.testing.assert_allclose(value, eager, rtol=1e-5 if value.dtype == np.float32 else 1e-12,
                                   atol=1e-3 if value.dtype == np.float32 else 1e-9)


@pytest.mark.parametrize("make", [_file_signal, _memory_signal], ids=["file", "memory"])
@given(data=st.data())
def test_masked_sum_over_signal_axes(make, data):
    """``(s * mask).sum(axis=signal axes)``: the virtual image, for masks of several dtypes."""
    values, chunks = data.draw(cube(signal_dim=2))
    mask = _mask(data.draw, values.shape[-2:], data.draw(st.sampled_from(MASK_DTYPES)))
    s = make(values, chunks, 2)
    masked = s * mask
    fast = masked.sum(axis=masked.axes_manager.signal_axes)
    assert _fused(fast), describe(masked.data)
    plain = (da.from_array(values, chunks=chunks) * mask).sum(axis=(-2, -1))
    _check(fast, plain, (values * mask).sum(axis=(-2, -1)))


@given(data=st.data())
def test_weighted_sum_over_navigation(data):
    """``(s * weights).sum()`` with weights over the navigation axes (a weighted mean spectrum)."""
    values, chunks = data.draw(cube(signal_dim=1))
    nav_shape = values.shape[:-1]
    weights = _mask(data.draw, nav_shape, data.draw(st.sampled_from(MASK_DTYPES)))[..., np.newaxis]
    s = _file_signal(values, chunks, 1)
    weighted = ls.signals.Signal1D(weights) * s  # the constant on the left, as a signal
    fast = weighted.sum(axis="navigation")
    assert _fused(fast)
    plain = (da.from_array(values, chunks=chunks) * weights).sum(axis=tuple(range(len(nav_shape))))
    _check(fast, plain, (values * weights).sum(axis=tuple(range(len(nav_shape)))))


@given(data=st.data())
def test_signal_window_sum(data):
    """``s.isig[a:b].sum(axis=-1)``: only the window is read, into reused buffers."""
    values, chunks = data.draw(cube(signal_dim=1))
    n = values.shape[-1]
    a = data.draw(st.integers(0, n - 1))
    b = data.draw(st.integers(a + 1, n))
    s = _file_signal(values, chunks, 1)
    fast = s.isig[a:b].sum(axis=-1)
    assert _fused(fast), describe(s.isig[a:b].data)
    plain = da.from_array(values, chunks=chunks)[..., a:b].sum(axis=-1)
    _check(fast, plain, values[..., a:b].sum(axis=-1))


@given(data=st.data())
def test_navigation_window_sum(data):
    """``s.inav[roi].sum()``: a rectangle of pixels summed into one spectrum."""
    values, chunks = data.draw(cube(signal_dim=1))
    nav = values.shape[:-1]
    lo = [data.draw(st.integers(0, n - 1)) for n in nav]
    hi = [data.draw(st.integers(a + 1, n)) for a, n in zip(lo, nav)]
    s = _file_signal(values, chunks, 1)
    roi = tuple(slice(a, b) for a, b in zip(reversed(lo), reversed(hi)))  # inav takes x first
    fast = s.inav[roi].sum()
    assert _fused(fast)
    box = tuple(slice(a, b) for a, b in zip(lo, hi))
    axes = tuple(range(len(nav)))
    plain = da.from_array(values, chunks=chunks)[box].sum(axis=axes)
    _check(fast, plain, values[box].sum(axis=axes))


def test_the_read_shrinks_to_the_masks_bounding_box():
    """An integer product reads only the rows and columns where the mask is non-zero."""
    values = np.arange(4 * 3 * 16 * 20, dtype="<u2").reshape(4, 3, 16, 20)
    s = _file_signal(values, (2, 3, 16, 20), 2)
    source = block_source.source_of(s.data)
    regions = []

    class Recording:
        reads_regions = True

        def read_into(self, block_id, out, region=None):
            regions.append((block_id, region))
            return source.read_into(block_id, out, region)

    block_source.attach(s.data, Recording())
    mask = np.zeros((16, 20), bool)
    mask[5:9, 2:13] = True
    result = (s * mask).sum(axis="signal").compute().data
    np.testing.assert_array_equal(result, (values * mask).sum(axis=(2, 3)))
    assert sorted(b for b, _ in regions) == [(0, 0, 0, 0), (1, 0, 0, 0)]
    assert all(r[2:] == (slice(5, 9), slice(2, 13)) for _, r in regions)


def test_floating_products_read_every_pixel():
    """A float product keeps every pixel (0 * nan is nan): identical to the plain evaluation."""
    values = np.ones((2, 2, 4, 4), "<f8")
    values[0, 0, 0, 0] = np.nan
    s = _file_signal(values, (1, 2, 4, 4), 2)
    mask = np.zeros((4, 4), bool)
    mask[1:3, 1:3] = True
    result = (s * mask).sum(axis="signal").compute().data
    assert np.isnan(result[0, 0]) and (result.ravel()[1:] == 4).all()


def test_other_expressions_take_the_plain_path():
    """Other reductions, operators and arrays without a block source are left to dask."""
    x = da.ones((4, 6), chunks=2)
    assert fast_reduce("sum", x, (1,)) is None  # no constant, no source
    s = _file_signal(np.ones((4, 6)), (2, 6), 1)
    assert fast_reduce("max", (s * np.ones(6)).data, (1,)) is None
    assert fast_reduce("sum", (s + np.ones(6)).data, (1,)) is None
    assert describe((s * np.ones(6)).data) == "product with a float64 constant of shape (1, 6) of a block source"


def test_the_mask_is_copied_when_the_expression_is_written():
    """Changing the mask after writing ``s * mask`` changes nothing, as with dask's own graph."""
    values = np.arange(2 * 2 * 4 * 4, dtype="<u2").reshape(2, 2, 4, 4)
    s = _file_signal(values, (1, 2, 4, 4), 2)
    mask = np.zeros((4, 4), bool)
    mask[1:3, 1:3] = True
    expected = (values * mask).sum(axis=(2, 3))
    masked = s * mask
    mask[...] = True
    np.testing.assert_array_equal(masked.sum(axis="signal").compute().data, expected)


def test_scratch_buffers_are_reused_and_released():
    """Blocks are read into pooled buffers; a computation leaves none behind."""
    values = np.arange(8 * 4 * 10, dtype="<f8").reshape(8, 4, 10)
    s = _file_signal(values, (2, 4, 10), 1)
    r = s.sum(axis="navigation")
    np.testing.assert_array_equal(r.compute().data, values.sum(axis=(0, 1)))
    assert block_source.scratch.free_bytes == 0


@pytest.mark.parametrize("ext", ["hspy", "zspy"])
@given(data=st.data())
def test_sums_of_hdf5_and_zarr_reads(ext, data, tmp_path_factory):
    """Sums of a lazily loaded .hspy / .zspy read each block into a reused buffer; same sums."""
    values, _ = data.draw(cube(signal_dim=1))
    values = values.astype("<f8") if values.dtype.kind == "f" else values
    path = tmp_path_factory.mktemp("files") / f"cube.{ext}"
    chunks = tuple(data.draw(st.integers(1, n)) for n in values.shape)
    ls.signals.Signal1D(values).save(path, chunks=chunks)
    s = ls.load(path, lazy=True)
    assert block_source.source_of(s.data) is not None
    for axis in ("navigation", "signal"):
        fast = s.sum(axis=axis)
        assert _fused(fast)
        axes = tuple(range(values.ndim - 1)) if axis == "navigation" else (values.ndim - 1,)
        plain = da.from_array(values, chunks=s.data.chunks).sum(axis=axes)
        _check(fast, plain, values.sum(axis=axes))
    s.close_file()


@pytest.mark.parametrize("split_every", [None, 2, 3, 9])
@given(data=st.data())
def test_tree_of_partial_sums_is_dasks_tree(split_every, data):
    """The partial sums are added by our own tasks (no dask.array on workers), grouped as
    dask's tree groups them: bit for bit dask's sum, for many blocks and any split_every."""
    import dask

    shape = tuple(data.draw(st.lists(st.integers(1, 12), min_size=2, max_size=3)))
    chunks = tuple(data.draw(st.integers(1, n)) for n in shape)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16)))
    values = rng.normal(size=shape) * 10.0 ** rng.integers(-8, 9, size=shape)
    axes = tuple(sorted(data.draw(st.sets(st.integers(0, len(shape) - 1), min_size=1))))
    folder = tempfile.mkdtemp()
    path = os.path.join(folder, "tree.raw")
    values.tofile(path)
    x = file_array(path, shape=shape, dtype="<f8", chunks=chunks, frame_ndim=1)
    with dask.config.set({"split_every": split_every} if split_every else {}):
        fast = fast_reduce("sum", x, axes)
        plain = da.from_array(values, chunks=chunks).sum(axis=axes)
        assert fast is not None
        got, expected = fast.compute(), plain.compute()
    assert got.shape == expected.shape and got.tobytes() == expected.tobytes()


@pytest.mark.parametrize("axes", [(0,), (0, 1)])
@pytest.mark.parametrize("split_every", [None, 2, 8])
def test_read_tasks_add_up_whole_subtrees(axes, split_every):
    """With many blocks along the reduced axes, each read task sums a whole subtree of dask's
    tree (fewer tasks on a cluster); the result is still dask's, bit for bit."""
    import dask

    rng = np.random.default_rng(7)
    values = rng.normal(size=(37, 3, 10)) * 10.0 ** rng.integers(-8, 9, size=(37, 3, 10))
    path = os.path.join(tempfile.mkdtemp(), "subtrees.raw")
    values.tofile(path)
    x = file_array(path, shape=values.shape, dtype="<f8", chunks=(1, 1, 5), frame_ndim=1)
    with dask.config.set({"split_every": split_every} if split_every else {}):
        fast = fast_reduce("sum", x, axes)
        plain = da.from_array(values, chunks=(1, 1, 5)).sum(axis=axes)
        reads = [k for k in dict(fast.__dask_graph__()) if str(k[0]).startswith("fused-sum-")]
        assert len(reads) < x.npartitions  # subtrees, not one task per block
        assert fast.compute().tobytes() == plain.compute().tobytes()
