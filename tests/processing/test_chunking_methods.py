"""rechunk and explain as signal methods; no method changes the chunks of its signal."""

import numpy as np
import pytest

from lazysignal.preferences import preferences
from lazysignal.signals import Signal1D, Signal2D


def test_rechunk_inplace_default_and_not_inplace():
    s = Signal1D(np.zeros((16, 8, 100))).as_lazy(chunks=(2, 8, 25))
    before = s.data.chunks
    new = s.rechunk(inplace=False)
    assert s.data.chunks == before
    assert new.data.chunks[-1] == (100,)
    assert s.rechunk() is None  # HyperSpy's default: in place
    assert s.data.chunks[-1] == (100,)
    np.testing.assert_array_equal(s.data.compute(), 0)


def test_rechunk_explicit_chunks_and_target():
    s = Signal2D(np.zeros((32, 32, 16, 16), "uint16")).as_lazy()
    s.rechunk(nav_chunks=(4, 8), sig_chunks=(8, -1))
    assert s.data.chunksize == (4, 8, 8, 16)
    with preferences.set(chunk_target_bytes=64 * 1024):
        s.rechunk()
    assert s.data.chunksize[2:] == (16, 16)
    assert np.prod(s.data.chunksize) * 2 <= 64 * 1024
    with pytest.raises(TypeError, match="as_lazy"):
        Signal1D(np.zeros(3)).rechunk()


def test_operations_do_not_change_chunks_of_their_signal():
    s = Signal1D(np.random.default_rng(0).random((8, 6, 20))).as_lazy(chunks=(3, 2, 7))
    chunks = s.data.chunks
    s.map(np.sqrt, inplace=False)
    s.rebin(scale=(2, 2, 2))
    s.get_histogram(bins=5)
    s.fft()
    s.compute_navigator()
    list(s.iterate_blocks())
    s.transpose(optimize=True)
    assert s.data.chunks == chunks


def test_explain_prints_plan(capsys):
    s = Signal1D(np.zeros((8, 16, 40))).as_lazy(chunks=(4, 16, 10))
    sub = s.isig[20:30].sum(axis="signal")
    plan = sub.explain()
    out = capsys.readouterr().out
    assert plan.source_chunks == 2 and plan.source_bytes == 2 * 4 * 16 * 10 * 8
    assert "storage reads:       2 chunks" in out and "rechunks:            none" in out
    assert "estimated peak memory" in out
    r = s.rechunk(nav_chunks=-1, sig_chunks=-1, inplace=False).explain(print_plan=False)
    assert r.rechunks and r.source_chunks == 8
    with pytest.raises(TypeError, match="in memory"):
        Signal1D(np.zeros(3)).explain()
