"""Issue 2: lazy ``sum`` over navigation and over signal axes of a memory-mapped .npy file.

A (512, 512|1024) float64 signal (2 GiB) is stored as ``.npy``, opened with
``np.load(mmap_mode="r")`` and wrapped lazily with ``as_lazy()``; with the page cache warm,
its lazy sums are compared with one-core numpy summing the same bytes already in memory.

How the cache got warm matters to a memory map. A file read sequentially (``cat``, ``cp``,
Python ``read``, or lazysignal's own chunk maps) sits in the cache in 2 MiB folios on ext4
and xfs (Linux 6.x), which a map takes in one fault per 2 MiB. A file whose cache was
filled otherwise (read-around faults of small maps, partial eviction and re-reads) can sit
in small folios, which cost one fault per 64 KiB. So the file is first dropped from the
cache and read once sequentially: a defined, common state (see docs/benchmarks.md for
figures in the other one).
"""

from __future__ import annotations

import gc

import numpy as np

from lazysignal.signals import Signal1D

from .harness import Context, Result, drop_page_cache_of, measure, warm_page_cache


def _data_file(ctx: Context, shape: tuple[int, int, int]):
    """Write the file as an instrument would: sequential buffered writes, a frame row at a time."""
    path = ctx.data_dir / f"reductions_{'x'.join(map(str, shape))}.npy"
    if not path.exists():
        partial = path.with_suffix(".partial")
        rng = np.random.default_rng(0)
        with open(partial, "wb") as f:
            np.lib.format.write_array_header_1_0(
                f, {"descr": "<f8", "fortran_order": False, "shape": shape})
            for _ in range(shape[0]):
                f.write(rng.random(shape[1:]).tobytes())
        partial.rename(path)
    return path


def run(ctx: Context) -> None:
    shape = (32, 32, 1024) if ctx.quick else (512, 512, 1024)
    path = _data_file(ctx, shape)
    drop_page_cache_of(path)
    warm_page_cache(path)
    nbytes = int(np.prod(shape)) * 8

    in_memory = np.load(path)
    limit_nav, _ = measure(lambda: in_memory.sum(axis=(0, 1)))
    limit_sig, _ = measure(lambda: in_memory.sum(axis=2))
    expected_nav = in_memory.sum(axis=(0, 1))
    del in_memory
    gc.collect()

    signal = Signal1D(np.load(path, mmap_mode="r")).as_lazy()
    chunks = "x".join(str(c) for c in signal.data.chunksize)
    seconds, peak = measure(lambda: signal.sum(axis="navigation").compute())
    ctx.record(Result(f"sum navigation, lazy mmap .npy {shape} chunks {chunks}", seconds, nbytes, peak,
                      limit_seconds=limit_nav, limit_name="numpy 1-core in RAM"))
    np.testing.assert_allclose(signal.sum(axis="navigation").compute().data, expected_nav, rtol=1e-9)
    seconds, peak = measure(lambda: signal.sum(axis="signal").compute())
    ctx.record(Result(f"sum signal, lazy mmap .npy {shape}", seconds, nbytes, peak,
                      limit_seconds=limit_sig, limit_name="numpy 1-core in RAM"))
