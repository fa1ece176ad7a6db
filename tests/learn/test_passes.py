"""How passes hold blocks: exact narrow packing, the packed cache, signs found slab by slab, and
lazy == eager on integer counts (the data that pack narrowest)."""

from collections import Counter

import dask.array as da
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lazysignal as ls
from lazysignal.learn.passes import Packed, SourceChunk, Unfolded, narrowest, row_slabs
from lazysignal.learn.svd import flip_signs
from lazysignal.signals import Signal1D
from lazysignal.testing import chunks_for

_VALUES = {
    "counts": st.integers(0, 255).map(float),
    "signed": st.integers(-30_000, 30_000).map(float),
    "large": st.integers(-2**40, 2**40).map(float),
    "halves": st.integers(-1000, 1000).map(lambda v: v / 2),
    "any": st.floats(allow_nan=True, allow_infinity=True, width=64),
}


@given(kind=st.sampled_from(sorted(_VALUES)), data=st.data(),
       dtype=st.sampled_from(["f8", "f4", "i8", "u2"]))
@settings(max_examples=60)
def test_narrowest_keeps_every_value(kind, data, dtype):
    values = data.draw(st.lists(_VALUES[kind], min_size=1, max_size=300))
    with np.errstate(all="ignore"):
        rows = np.asarray(values).astype(dtype).reshape(-1, 1)
    if dtype[0] in "iu" and not np.all(np.isfinite(values)):
        return  # NaN/inf have no integer array to start from
    narrow = narrowest(rows)
    assert narrow.dtype.itemsize <= rows.dtype.itemsize
    np.testing.assert_array_equal(narrow.astype(rows.dtype), rows)  # NaN == NaN here


def test_counts_pack_as_bytes_and_mixed_slabs_come_back_exactly():
    rng = np.random.default_rng(1)
    counts = rng.poisson(3.0, (40, 6, 20)).astype(float)
    counts[33, 2, 5] = 0.1  # row 200, in the last slab of 48 rows: it stays float64, the others uint8
    pieces = [Packed(counts[..., :7], 2, 48), Packed(counts[..., 7:], 2, 48)]
    kinds = [dtype for dtype, _ in pieces[0].slabs]
    assert kinds[:3] == [np.dtype("u1")] * 3 and kinds[-1] == np.dtype("f8")
    rows = np.concatenate([r for _, _, r in row_slabs(pieces, 2, 20)])
    assert rows.dtype == np.float64
    np.testing.assert_array_equal(rows, counts.reshape(240, 20))


def test_packing_for_a_later_pass_stops_over_its_budget():
    smooth = np.linspace(0, 1, 64 * 50).reshape(64, 50) ** 3  # compresses little
    assert Packed.within(smooth, 1, 8, budget=1_000) is None
    packed = Packed.within(smooth, 1, 8, budget=10**7)
    assert packed is not None and packed.nbytes <= 10**7
    np.testing.assert_array_equal(np.concatenate([r for _, _, r in row_slabs([packed], 1, 50)]), smooth)


def test_signs_are_found_across_slabs_without_copies():
    n = (2**22 // 2) * 3 + 5  # three slabs of 2**21 rows for k = 2, and a few more rows
    scaled = np.zeros((n, 2))
    scaled[10, 0], scaled[n - 1, 0] = 1.0, -5.0  # largest magnitude in the last slab, negative
    scaled[3, 1], scaled[2**21 + 7, 1] = -2.0, 2.0  # a tie: the first row decides, as argmax
    other = np.ones((4, 2))
    flip_signs(scaled, other)
    assert scaled[n - 1, 0] == 5.0 and scaled[3, 1] == 2.0
    np.testing.assert_array_equal(other, [[-1.0, -1.0]] * 4)


@given(data=st.data(), poisson=st.booleans())
@settings(max_examples=8, deadline=None)
def test_lazy_equals_eager_on_integer_counts(data, poisson):
    """Counts pack as uint8: the cached second pass and the narrowed first give eager's result."""
    rng = np.random.default_rng(2)
    peaks = np.exp(-((np.linspace(0, 1, 40)[None, :] - np.array([[0.3], [0.7]])) / 0.1) ** 2)
    counts = rng.poisson(rng.random((9, 8, 2)) @ (20 * peaks) + 1).astype(float)
    chunks = data.draw(chunks_for(counts.shape))
    eager, lazy = Signal1D(counts), Signal1D(da.from_array(counts, chunks=chunks)).as_lazy()
    for s in (eager, lazy):
        s.decomposition(normalize_poissonian_noise=poisson, output_dimension=4, print_info=False)
    a, b = eager.learning_results, lazy.learning_results
    np.testing.assert_allclose(b.explained_variance, a.explained_variance, rtol=1e-10)
    np.testing.assert_allclose(b.factors, a.factors, atol=1e-10)  # signs are deterministic
    np.testing.assert_allclose(b.loadings, a.loadings, atol=1e-9)


def test_integer_counts_are_read_once_with_the_cache(counted_array):
    rng = np.random.default_rng(3)
    counts = rng.poisson(2.0, (16, 6, 30)).astype(float)
    array, reads = counted_array(counts, (4, 6, 10))
    Signal1D(array).as_lazy().decomposition(output_dimension=3, print_info=False)
    assert set(Counter(reads).values()) == {1}


@pytest.mark.parametrize("extension", ["hspy", "zspy"])
def test_file_chunks_are_read_through_the_block_source(tmp_path, extension):
    """Blocks of a loaded file read their chunks through the back end into reused buffers:
    same result as eager, and the pass really took that way."""
    rng = np.random.default_rng(5)
    counts = rng.poisson(rng.random((12, 10, 2)) @ (9 * rng.random((2, 40))) + 0.5).astype(float)
    path = tmp_path / f"cube.{extension}"
    Signal1D(counts).save(path, chunks=(4, 10, 20))  # the signal split in two chunks
    lazy = ls.load(path, lazy=True)
    u = Unfolded(lazy.data, 2)
    assert all(isinstance(a, SourceChunk) for _, d in u.fused_blocks() for a in d.arrays)
    eager = Signal1D(counts)
    for s in (eager, lazy):
        s.decomposition(normalize_poissonian_noise=True, output_dimension=3, print_info=False)
    np.testing.assert_allclose(lazy.learning_results.explained_variance,
                               eager.learning_results.explained_variance, rtol=1e-10)
    np.testing.assert_allclose(lazy.learning_results.loadings, eager.learning_results.loadings, atol=1e-9)


@pytest.mark.parametrize("poisson", [False, True])
@pytest.mark.parametrize("fraction", [False, True])
def test_stored_slabs_feed_the_kernels_directly(monkeypatch, poisson, fraction):
    """Blocks kept as packed signal chunks reach the Gram and projection kernels as the chunks
    store them (uint8 counts; a slab with a fraction stays float64, so the pieces mix types):
    the sums, the Poisson scaling while filling, and the projection a few rows at a time give
    eager's result, and those kernels really ran."""
    import lazysignal.learn.svd as svd

    calls = Counter()
    for name in ("_gram_pieces", "_project_pieces"):
        real = getattr(svd, name)

        def spy(*args, _real=real, _name=name):
            calls[_name] += 1
            return _real(*args)

        monkeypatch.setattr(svd, name, spy)
    rng = np.random.default_rng(6)
    counts = rng.poisson(rng.random((10, 12, 2)) @ (9 * rng.random((2, 30))) + 0.5).astype(float)
    if fraction:
        counts[1, 3, 25] += 0.25  # in the second signal chunk of the first block
    eager, lazy = Signal1D(counts), Signal1D(da.from_array(counts, chunks=(4, 6, 13))).as_lazy()
    for s in (eager, lazy):
        s.decomposition(normalize_poissonian_noise=poisson, output_dimension=3, print_info=False)
    a, b = eager.learning_results, lazy.learning_results
    np.testing.assert_allclose(b.explained_variance, a.explained_variance, rtol=1e-10)
    np.testing.assert_allclose(b.factors, a.factors, atol=1e-10)
    np.testing.assert_allclose(b.loadings, a.loadings, atol=1e-9)
    assert calls["_gram_pieces"] >= 6 and calls["_project_pieces"] >= 6  # every block, both passes


def test_bytes_are_kept_as_they_are_unless_they_compress_well():
    """Noisy counts stay bytes (LZ4 would take little off, for much CPU); very regular counts
    are compressed; both come back exactly, and kept bytes never alias the caller's buffer."""
    rng = np.random.default_rng(7)
    noisy = rng.poisson(3.0, (300, 40)).astype(float)
    regular = np.tile(np.arange(40.0) % 3, (300, 1))
    buffer = rng.integers(0, 9, (300, 40)).astype(np.uint8)  # already bytes: a reused read buffer
    packed = {name: Packed(a, 1, 64) for name, a in (("noisy", noisy), ("regular", regular), ("buffer", buffer))}
    expected_buffer = buffer.copy()
    buffer[:] = 255  # the next chunk read into the same buffer
    assert all(isinstance(b, np.ndarray) for _, b in packed["noisy"].slabs)
    assert all(isinstance(b, bytes) for _, b in packed["regular"].slabs)
    assert packed["regular"].nbytes * 4 < regular.size
    for name, want in (("noisy", noisy), ("regular", regular), ("buffer", expected_buffer)):
        got = np.concatenate([r for _, _, r in row_slabs([packed[name]], 1, 40)])
        np.testing.assert_array_equal(got, want)
