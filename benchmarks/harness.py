"""Timing, peak-memory sampling and the report every benchmark module shares.

A benchmark module is ``benchmarks/bench_<topic>.py`` with a function
``run(ctx: Context) -> None`` that calls ``ctx.record(...)`` once per operation.
Each operation is compared with a plain-numpy limit measured in the same run.
"""

from __future__ import annotations

import gc
import os
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import psutil

__all__ = ["Context", "Result", "measure", "drop_page_cache_of", "warm_page_cache"]


@dataclass
class Result:
    """One measured operation."""

    name: str
    seconds: float
    nbytes: int
    peak_mib: float
    limit_seconds: float | None = None
    limit_name: str = "numpy"
    note: str = ""

    @property
    def gbps(self) -> float:
        return self.nbytes / self.seconds / 1e9

    @property
    def ratio(self) -> float | None:
        """Our throughput divided by the limit's (>1 means faster than the limit)."""
        return None if self.limit_seconds is None else self.limit_seconds / self.seconds

    def row(self) -> str:
        ratio = "" if self.ratio is None else f"{self.ratio:6.2f}x {self.limit_name}"
        return (
            f"{self.name:<52} {self.seconds:8.3f} s {self.gbps:7.2f} GB/s "
            f"{self.peak_mib:8.0f} MiB  {ratio:<24} {self.note}"
        )


class _PeakSampler:
    """Peak resident memory of this process (and of its children) during a ``with`` block.

    On Linux the kernel keeps the peak itself (``VmHWM``), reset on entry through
    ``/proc/self/clear_refs``: exact, and free. A thread polling every few ms would miss
    short peaks and, worse, take CPU from the operation measured: listing child processes
    through ``/proc`` costs about 1 ms, which on two cores slowed threaded operations by up
    to 20 % while one-core numpy limits ran unharmed. Child processes alive on entry (a
    cluster's workers) are polled, cheaply, every 20 ms; elsewhere this process is polled too.
    """

    def __init__(self, interval: float = 0.02):
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._proc = psutil.Process()

    @staticmethod
    def _reset_high_water_mark() -> bool:
        try:
            with open("/proc/self/clear_refs", "w") as f:
                f.write("5")
            return True
        except OSError:
            return False

    @staticmethod
    def _high_water_mark() -> int:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) * 1024
        return 0

    def _sampled(self) -> int:
        rss = 0 if self._exact else self._proc.memory_info().rss
        for child in self._children:
            try:
                rss = max(rss, child.memory_info().rss)
            except psutil.Error:
                pass
        return rss

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self._sampled())
            time.sleep(self.interval)

    def __enter__(self) -> "_PeakSampler":
        self._exact = self._reset_high_water_mark()
        self._children = self._proc.children(recursive=True)
        self.peak = max(self._proc.memory_info().rss, self._sampled())
        self._thread = None
        if self._children or not self._exact:
            self._thread = threading.Thread(target=self._loop, daemon=True)
            self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        self.peak = max(self.peak, self._sampled(), self._proc.memory_info().rss)
        if self._exact:
            self.peak = max(self.peak, self._high_water_mark())


def measure(fn: Callable[[], object], *, repeat: int = 3) -> tuple[float, float]:
    """Best wall time of ``repeat`` calls of ``fn`` and the peak RSS (MiB) seen during them."""
    best = float("inf")
    peak = 0
    for _ in range(repeat):
        gc.collect()
        with _PeakSampler() as sampler:
            t0 = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t0)
        peak = max(peak, sampler.peak)
    return best, peak / 2**20


def warm_page_cache(path: str | os.PathLike) -> None:
    """Read a file (or every file under a folder) once so it sits in the page cache."""
    path = Path(path)
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    for p in files:
        with open(p, "rb", buffering=0) as f:
            while f.read(1 << 24):
                pass


def drop_page_cache_of(path: str | os.PathLike) -> None:
    """Advise the kernel to drop a file's pages (best effort, for cold-cache runs)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


@dataclass
class Context:
    """What a benchmark module receives: a data folder, the quick flag, and ``record``."""

    quick: bool = False
    data_dir: Path = field(
        default_factory=lambda: Path(
            os.environ.get("LAZYSIGNAL_BENCH_DATA", Path(tempfile.gettempdir()) / "lazysignal-bench")
        )
    )
    results: list[Result] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)

    def record(self, result: Result) -> Result:
        self.results.append(result)
        print(result.row(), flush=True)
        return result
