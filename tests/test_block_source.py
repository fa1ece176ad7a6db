"""The scratch pool hands buffers from one block to the next (``block_source.ScratchPool``)."""

import numpy as np

from lazysignal.block_source import ScratchPool


def _base(array: np.ndarray) -> np.ndarray:
    while isinstance(array.base, np.ndarray):
        array = array.base
    return array


def test_blocks_of_varying_size_reuse_one_buffer():
    """Compressed chunks differ in size by a few percent: the first allocation has room for
    the next larger one, so no new buffer (fresh pages to fault in) is made per new maximum."""
    pool = ScratchPool()
    first = pool.take((4_700_000,), np.uint8)
    base = _base(first)
    for size in (4_750_000, 4_690_000, 4_810_000, 5_100_000):
        pool.give(first)
        first = pool.take((size,), np.uint8)
        assert first.nbytes == size
        assert _base(first) is base


def test_taken_buffers_have_the_asked_shape_and_dtype_and_clear_drops_them():
    pool = ScratchPool(keep_bytes=1 << 20)
    a = pool.take((3, 5), np.float64)
    assert a.shape == (3, 5) and a.dtype == np.float64 and a.flags.c_contiguous
    pool.give(a)
    assert pool.free_bytes >= a.nbytes
    b = pool.take((2, 2), np.int32)
    assert b.shape == (2, 2) and b.dtype == np.int32
    pool.clear()
    assert pool.free_bytes == 0
