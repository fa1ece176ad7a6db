"""Summing many files through LazyReadData proxies, with and without PreloadIterator.

The limit is a plain loop of ``np.load`` (``sum(np.load(p) for p in paths)``), measured in the same
run on the same files. The preloaded run should beat it whenever loading releases the GIL (reading a
file does), since the next files are read while the current one is added, and must never be more than
10 % slower. Both the page-cached case and the cold case (pages dropped with ``posix_fadvise``
before each run) are measured.

Full size: 64 files of 32 MiB (2 GiB, written once under the benchmark data folder).
Quick: 8 files of 1 MiB.
"""

from __future__ import annotations

import time

import numpy as np

from lazysignal.proxy import LazyReadData, PreloadIterator

from .harness import Context, Result, drop_page_cache_of, measure, warm_page_cache

NPRELOAD = 4


def _files(ctx: Context) -> list[str]:
    n, mib = (8, 1) if ctx.quick else (64, 32)
    folder = ctx.data_dir / f"proxy_{n}x{mib}MiB"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k in range(n):
        path = folder / f"{k:03d}.npy"
        if not path.exists():
            tmp = path.with_suffix(".tmp.npy")
            np.save(tmp, np.full(mib * 2**20 // 8, float(k)))
            tmp.replace(path)
        paths.append(str(path))
    return paths


def _plain(paths: list[str]) -> np.ndarray:
    return sum(np.load(p) for p in paths)


def _proxies(paths: list[str]) -> np.ndarray:
    return sum(LazyReadData(p, loader=np.load, nops=1) for p in paths).data


def _preloaded(paths: list[str]) -> np.ndarray:
    with PreloadIterator((LazyReadData(p, loader=np.load, nops=1) for p in paths), npreload=NPRELOAD) as it:
        return sum(it).data


def _best_interleaved(fns, paths: list[str], repeat: int, *, cold: bool) -> dict:
    """Best time and peak RSS of each function over ``repeat`` rounds, taking turns.

    Taking turns spreads the machine's noise over every variant alike. ``cold`` drops the
    files' pages before each run.
    """
    best = {fn: (float("inf"), 0.0) for fn in fns}
    for _ in range(repeat):
        for fn in fns:
            if cold:
                for p in paths:
                    drop_page_cache_of(p)
            seconds, mib = measure(lambda: fn(paths), repeat=1)
            best[fn] = (min(best[fn][0], seconds), max(best[fn][1], mib))
    return best


def run(ctx: Context) -> None:
    paths = _files(ctx)
    n = len(paths)
    nbytes = sum(np.load(p, mmap_mode="r").nbytes for p in paths)
    expected = n * (n - 1) / 2
    for fn in (_plain, _proxies, _preloaded):  # correctness once, outside the timings
        assert float(fn(paths)[0]) == expected
    repeat = 3 if ctx.quick else 5
    size = f"{n} x {nbytes // n // 2**20} MiB"

    for p in paths:
        warm_page_cache(p)
    warm = _best_interleaved((_plain, _proxies, _preloaded), paths, repeat, cold=False)
    limit = warm[_plain][0]
    ctx.record(Result(f"proxy sum, plain np.load loop, page cache ({size})", limit, nbytes, warm[_plain][1],
                      note="the limit"))
    ctx.record(Result("proxy sum, LazyReadData nops=1, page cache", warm[_proxies][0], nbytes,
                      warm[_proxies][1], limit_seconds=limit, limit_name="plain loop"))
    ctx.record(Result(f"proxy sum, PreloadIterator({NPRELOAD}), page cache", warm[_preloaded][0], nbytes,
                      warm[_preloaded][1], limit_seconds=limit, limit_name="plain loop"))

    t0 = time.perf_counter()
    cold = _best_interleaved((_plain, _preloaded), paths, repeat, cold=True)
    note = f"best of {repeat}; cold runs took {time.perf_counter() - t0:.0f} s in all"
    ctx.record(Result(f"proxy sum, plain np.load loop, cold ({size})", cold[_plain][0], nbytes, cold[_plain][1],
                      note="the limit"))
    ctx.record(Result(f"proxy sum, PreloadIterator({NPRELOAD}), cold", cold[_preloaded][0], nbytes,
                      cold[_preloaded][1], limit_seconds=cold[_plain][0], limit_name="plain loop", note=note))
