"""Our decoder of zstd Blosc frames (``blosc_raw.FrameDecoder``) against numcodecs' Blosc:
the same bytes for every type size, block size, shuffle, compressibility and range; other
frames left to Blosc; damaged frames refused; threads decoding at once."""

from __future__ import annotations

import threading

import numcodecs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lazysignal.io.backends import blosc_raw

DTYPES = ["u1", "<u2", "<i4", "<f4", "<f8", "<c16"]


def _data(kind: str, dtype: str, n: int, rng: np.random.Generator) -> np.ndarray:
    dtype_ = np.dtype(dtype)
    if kind == "random":  # incompressible: blocks are stored as they are
        return np.frombuffer(rng.bytes(n * dtype_.itemsize), dtype_).copy()
    if kind == "zeros":
        return np.zeros(n, dtype_)
    return rng.poisson(3.0, n).astype(dtype_)  # counts: what spectrum images hold


def _frame(data: np.ndarray, shuffle: int, blocksize: int) -> np.ndarray:
    codec = numcodecs.Blosc("zstd", 1, shuffle, blocksize=blocksize)
    return np.frombuffer(codec.encode(data), np.uint8)


@settings(max_examples=120, deadline=None)
@given(dtype=st.sampled_from(DTYPES), n=st.integers(1, 6000),
       kind=st.sampled_from(["counts", "random", "zeros", "mixed"]),
       shuffle=st.sampled_from([numcodecs.Blosc.SHUFFLE, numcodecs.Blosc.NOSHUFFLE]),
       blocksize=st.sampled_from([0, 256, 1024, 4096]), seed=st.integers(0, 2**16),
       cut=st.tuples(st.floats(0, 1), st.floats(0, 1)))
def test_decoded_items_equal_blosc(dtype, n, kind, shuffle, blocksize, seed, cut):
    rng = np.random.default_rng(seed)
    if kind == "mixed":  # some blocks compress, others are stored
        data = _data("counts", dtype, n, rng)
        data[: n // 2] = _data("random", dtype, n // 2, rng)
    else:
        data = _data(kind, dtype, n, rng)
    frame = _frame(data, shuffle, blocksize)
    decoder = blosc_raw.FrameDecoder.for_frame(frame)
    flags, typesize, nbytes, block = blosc_raw.header(frame)
    if flags & 0x2:  # Blosc stored the whole frame (too small or incompressible): not ours
        assert decoder is None
        return
    assert decoder is not None
    out = np.full_like(data, 7)
    decoder.decode(0, n, out)
    assert out.tobytes() == data.tobytes()
    # A range: block-aligned ones are decoded by us, the others by Blosc's getitem.
    per_block = block // typesize
    a, b = sorted(int(c * n) for c in cut)
    last = (n - 1) - (n - 1) % per_block  # the last block alone (often short)
    for start, stop in ((a, b), (a - a % per_block, min(n, b - b % per_block + per_block)), (last, n)):
        if stop > start:
            part = np.empty(stop - start, data.dtype)
            decoder.decode(start, stop - start, part)
            assert part.tobytes() == data[start:stop].tobytes()


@pytest.mark.parametrize("codec", [numcodecs.Blosc("lz4", 5, numcodecs.Blosc.SHUFFLE),
                                   numcodecs.Blosc("zstd", 1, numcodecs.Blosc.BITSHUFFLE),
                                   numcodecs.Blosc("blosclz", 5, numcodecs.Blosc.SHUFFLE),
                                   numcodecs.Blosc("zstd", 0, numcodecs.Blosc.SHUFFLE)],
                         ids=["lz4", "bitshuffle", "blosclz", "stored-whole"])
def test_other_frames_are_left_to_blosc(codec):
    data = np.arange(20000.0)
    assert blosc_raw.FrameDecoder.for_frame(np.frombuffer(codec.encode(data), np.uint8)) is None


def test_a_block_table_pointing_outside_the_frame_is_refused():
    frame = _frame(np.arange(20000.0), numcodecs.Blosc.SHUFFLE, 4096).copy()
    frame[16:20] = np.frombuffer(np.int32(frame.size + 100).tobytes(), np.uint8)
    with pytest.raises(ValueError, match="block table"):
        blosc_raw.FrameDecoder.for_frame(frame)


def test_a_stream_longer_than_the_frame_is_refused():
    frame = _frame(np.arange(20000.0), numcodecs.Blosc.SHUFFLE, 4096).copy()
    last = int(frame[16 + 4 * 39:16 + 4 * 40].view("<i4")[0])  # the last of 40 blocks
    frame[last:last + 4] = np.frombuffer(np.int32(frame.size).tobytes(), np.uint8)
    with pytest.raises(ValueError, match="past the end"):
        blosc_raw.FrameDecoder.for_frame(frame)


def test_a_cut_stream_does_not_decode():
    frame = _frame(np.arange(20000.0), numcodecs.Blosc.SHUFFLE, 4096).copy()
    first = int(frame[16:20].view("<i4")[0])
    size = int(frame[first:first + 4].view("<i4")[0])
    frame[first:first + 4] = np.frombuffer(np.int32(size - 3).tobytes(), np.uint8)  # its end cut off
    decoder = blosc_raw.FrameDecoder.for_frame(frame)
    assert decoder is not None
    with pytest.raises(ValueError, match="do not decode"):
        decoder.decode(0, 20000, np.empty(20000))


def test_threads_decode_at_once():
    """Each thread has its own zstd context and staging frame: no thread sees another's bytes."""
    rng = np.random.default_rng(5)
    datas = [rng.poisson(2.0 + k, 300_000).astype("<f8") for k in range(4)]
    frames = [_frame(d, numcodecs.Blosc.SHUFFLE, 32768) for d in datas]
    start, errors = threading.Barrier(4), []

    def work(k):
        out = np.empty_like(datas[k])
        start.wait()
        for _ in range(5):
            blosc_raw.FrameDecoder.for_frame(frames[k]).decode(0, out.size, out)
            if out.tobytes() != datas[k].tobytes():
                errors.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.parametrize("dtype", ["<u2", "<f4", "<f8", "<c16"])
def test_unshuffle_undoes_hdf5s_shuffle_over_several_slabs(dtype):
    """``unshuffle`` goes a MiB at a time: several full slabs and a short last one."""
    values = np.random.default_rng(1).random(3 * (1 << 20) // np.dtype(dtype).itemsize + 777).astype(dtype)
    planes = values.view(np.uint8).reshape(-1, values.dtype.itemsize).T.copy()  # HDF5's shuffle
    out = np.empty_like(values)
    blosc_raw.unshuffle(planes, out)
    assert out.tobytes() == values.tobytes()
