"""The chunk planner: signal whole, target bytes, work for every worker, cheap rechunks."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lazysignal.chunks import chunk_table, normalize, plan_chunks
from lazysignal.errors import ChunksError
from lazysignal.lazy import default_chunks
from lazysignal.preferences import preferences


@given(shape=st.lists(st.integers(1, 300), min_size=1, max_size=4), sig=st.integers(0, 2),
       itemsize=st.sampled_from([1, 2, 8]), target=st.integers(2**12, 2**22), workers=st.integers(1, 8))
def test_plan_is_valid_and_keeps_signal_whole_when_it_fits(shape, sig, itemsize, target, workers):
    sig = min(sig, len(shape))
    chunks = plan_chunks(shape, sig, itemsize, target_bytes=target, workers=workers)
    assert tuple(sum(c) for c in chunks) == tuple(shape)
    sig_bytes = int(np.prod(shape[len(shape) - sig:])) * itemsize
    if sig_bytes <= target:
        assert all(len(c) == 1 for c in chunks[len(shape) - sig:])
        biggest = int(np.prod([max(c) for c in chunks])) * itemsize
        assert biggest <= max(target, sig_bytes)


def test_plan_splits_signal_only_when_too_big_for_auto():
    chunks = plan_chunks((4, 4096, 4096), 2, 8, target_bytes=2**20, sig_chunks="auto")
    assert max(chunks[2]) * max(chunks[1]) * 8 <= 2**20
    whole = plan_chunks((4, 4096, 4096), 2, 8, target_bytes=2**20)  # default sig_chunks=-1
    assert whole[1:] == ((4096,), (4096,))


def test_plan_gives_every_worker_work():
    chunks = plan_chunks((64, 64, 256), 1, 8, target_bytes=100 * 2**20, workers=4)
    assert len(chunks[0]) * len(chunks[1]) >= 4


def test_plan_aligns_with_previous_chunks():
    previous = ((16,) * 32, (512,), (992,))
    chunks = plan_chunks((512, 512, 992), 1, 8, target_bytes=128 * 2**20, previous=previous)
    assert all(c % 16 == 0 for c in chunks[0][:-1])


def test_explicit_entries_and_errors():
    assert plan_chunks((10, 20), 1, nav_chunks=3, sig_chunks=5) == ((3, 3, 3, 1), (5, 5, 5, 5))
    with pytest.raises(ChunksError, match="one entry per axis"):
        plan_chunks((10, 20), 1, nav_chunks=(1, 2))
    with pytest.raises(ChunksError):
        plan_chunks((10, 20), 1, nav_chunks=-5)
    with pytest.raises(ChunksError, match="do not fit"):
        normalize((3, 3, 3), (10, 20))


def test_default_chunks_follow_preference():
    with preferences.set(chunk_target_bytes=8 * 1024, num_workers=1):
        chunks = default_chunks((100, 256), 1, "float64")
    assert chunks[1] == (256,) and max(chunks[0]) == 4


def test_chunk_table_text():
    text = chunk_table(((64,) * 8, (512,), (248,) * 4), 8, ["y", "x", "Energy"])
    assert "Energy" in text and "248 x4" in text and "32 chunks of at most 62.00 MiB" in text
