"""Helpers for the proxy tests: .npy files, a counting loader, preload-thread census."""

from __future__ import annotations

import threading
import time
import weakref
from collections import Counter
from pathlib import Path

import numpy as np

PRELOAD_THREAD_PREFIX = "lazysignal-preload"


def preload_threads() -> list[threading.Thread]:
    """The live threads started by any PreloadIterator."""
    return [t for t in threading.enumerate() if t.name.startswith(PRELOAD_THREAD_PREFIX)]


class CountingLoader:
    """Loads .npy files, counting calls per path and how many loaded arrays are alive at once.

    ``max_live`` is the most arrays this loader had returned that were still
    referenced anywhere, sampled at every load (arrays only appear at loads, so
    this is the peak). ``delay`` seconds of sleep stand for a slow disk.
    """

    def __init__(self, delay: float = 0.0, fail: set[str] | None = None):
        self.delay = delay
        self.fail = fail or set()
        self.calls: Counter[str] = Counter()
        self.kwargs: list[dict] = []
        self._refs: list[weakref.ref] = []
        self.max_live = 0
        self._lock = threading.Lock()

    def live(self) -> int:
        return sum(r() is not None for r in self._refs)

    def __call__(self, path: str, **kwargs) -> np.ndarray:
        with self._lock:
            self.calls[path] += 1
            self.kwargs.append(kwargs)
        if self.delay:
            time.sleep(self.delay)
        if Path(path).name in self.fail:
            raise ValueError(f"simulated corrupt content in {Path(path).name}")
        array = np.load(path)
        with self._lock:
            self._refs.append(weakref.ref(array))
            self.max_live = max(self.max_live, self.live())
        return array

    @property
    def total(self) -> int:
        return sum(self.calls.values())


def write_npy(folder: Path, n: int, shape=(2, 3), dtype=float) -> tuple[list[str], list[np.ndarray]]:
    """n files ``k.npy`` holding distinct arrays; returns their paths and contents."""
    rng = np.random.default_rng(n)
    paths, arrays = [], []
    for k in range(n):
        array = (rng.random(shape) * 10 + 1).astype(dtype)
        path = folder / f"{k}.npy"
        np.save(path, array)
        paths.append(str(path))
        arrays.append(array)
    return paths, arrays
