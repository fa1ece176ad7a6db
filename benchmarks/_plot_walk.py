"""One plot walk in a fresh process: ``python _plot_walk.py LIB KEY MOVES RATE`` prints JSON.

LIB is ``lazysignal`` or ``peer`` (HyperSpy, run with the peer's python); the same code
drives both: load lazily, ``s.plot(navigator=<a zero image>)`` (the navigator is given so
that the walk, not the navigator's computation, is measured), then ``MOVES`` moves of
``s.axes_manager.indices = ...`` across navigation chunk boundaries at ``RATE`` moves per
second (a human pace: the time between moves is what prefetch can use). Each move's latency
is the wall time of that assignment; on Agg both libraries draw synchronously inside it.

After the walk, "one chunk read" is measured in the same process: ``s.data[chunk].compute()``
of one full-size navigation chunk (all its signal) that the walk did not read, first *cold*
(the file's pages dropped from the page cache with ``posix_fadvise(DONTNEED)``, so it comes
from disk) and then *warm* (the same read again, best of two). The caller warms the page
cache again before the next walk.
"""

from __future__ import annotations

import json
import os
import sys
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

DATA = os.environ.get("PEER_DATA", "/tmp/lazysignal-peer/data")
FILES = {"B": "synthetic_dataset_chunking.hspy", "mrc": "stem4d.mrc"}


def main() -> None:
    lib, key, moves, rate = sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
    if lib == "peer":
        import hyperspy.api as api
    else:
        import lazysignal as api
    path = os.path.join(DATA, FILES[key])
    extra = {"navigation_shape": (128, 128)} if key == "mrc" else {}
    s = api.load(path, lazy=True, **extra)
    for axis in s.axes_manager.signal_axes:
        if axis.is_uniform and not axis.scale:  # the MRC header holds no calibration: scale 0 read by the peer
            axis.scale = 1.0
    nav_shape = tuple(s.axes_manager.navigation_shape)
    navigator = api.signals.Signal2D(np.zeros(nav_shape[::-1]))
    # File B's chunks split y (16 rows, x whole): walk down a column. The MRC's split both: walk a row.
    if key == "B":
        path_xy = [(nav_shape[0] // 2, i % nav_shape[1]) for i in range(moves + 1)]
    else:
        path_xy = [(i % nav_shape[0], nav_shape[1] // 2) for i in range(moves + 1)]
    s.axes_manager.indices = path_xy[0]
    t0 = time.perf_counter()
    s.plot(navigator=navigator)
    first = time.perf_counter() - t0

    if lib == "peer":
        def reads():
            return repr(s._cache_dask_chunk_slice)
    else:
        def reads():
            return s._plot.cache.stats.reads  # moves that read (a chunk or their position) or waited

    if lib != "peer":
        s._plot.cache.stats.longest_wait_s = 0.0  # the plot's first read is not a move
    latencies, waited, waited_moves = [], 0, []
    period = 1.0 / rate
    tick = time.perf_counter()
    for xy in path_xy[1:]:
        tick += period
        before = reads()
        start = time.perf_counter()
        s.axes_manager.indices = xy
        latencies.append(time.perf_counter() - start)
        waited_moves.append(reads() != before)
        waited += waited_moves[-1]
        time.sleep(max(0.0, tick - time.perf_counter()))
    # One read of a full-size navigation chunk, cold (from disk) then warm (page cache).
    chunks = s.data.chunks
    nav_chunks = chunks[: len(nav_shape)]
    block = [1 if len(c) > 2 else 0 for c in nav_chunks]  # full size (only a last chunk is smaller)
    if key == "mrc":  # rows of a chunk three chunks away from the walked row: never prefetched
        walked = int(np.searchsorted(np.cumsum(nav_chunks[0]), path_xy[0][1], side="right"))
        block[0] = (walked + 3) % (len(nav_chunks[0]) - 1)
    far = tuple(slice(sum(c[:b]), sum(c[:b + 1])) for c, b in zip(nav_chunks, block))
    fd = os.open(path, os.O_RDONLY)
    os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(fd)
    start = time.perf_counter()
    s.data[far].compute()
    cold = time.perf_counter() - start
    read_times = []
    for _ in range(2):
        start = time.perf_counter()
        s.data[far].compute()
        read_times.append(time.perf_counter() - start)
    lat = np.array(latencies) * 1e3
    if lib == "peer":  # its waits are the moves that replaced its one cached chunk
        longest_wait = max((x for x, w in zip(lat, waited_moves) if w), default=0.0)
    else:
        longest_wait = 1e3 * s._plot.cache.stats.longest_wait_s
    print(json.dumps({
        "lib": lib, "key": key, "moves": moves, "rate": rate, "first_plot_s": round(first, 3),
        "p50_ms": round(float(np.percentile(lat, 50)), 2), "p95_ms": round(float(np.percentile(lat, 95)), 2),
        "max_ms": round(float(lat.max()), 2), "waited": int(waited), "longest_wait_ms": round(float(longest_wait), 1),
        "chunk_read_ms": round(1e3 * min(read_times), 1), "cold_chunk_read_ms": round(1e3 * cold, 1),
        "chunk_read_block": [f"{sl.start}:{sl.stop}" for sl in far], "nav_chunks": [list(c[:3]) for c in chunks[:2]],
        "latencies_ms": [round(float(x), 1) for x in lat],
    }))


if __name__ == "__main__":
    main()
