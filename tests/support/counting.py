"""Array sources that count the reads dask makes of them."""

from __future__ import annotations

import threading


class CountingSource:
    """An array source that records which blocks dask reads from it."""

    def __init__(self, array):
        self.array = array
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim
        self.reads: list[tuple] = []
        self._lock = threading.Lock()

    def __getitem__(self, key):
        with self._lock:
            self.reads.append(tuple((k.start, k.stop) for k in key))
        return self.array[key]
