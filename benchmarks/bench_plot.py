"""Plot browsing: frame latency walking across navigation chunk boundaries, beside the peer.

For file B (``synthetic_dataset_chunking.hspy``: (512, 512|992) float64, gzip chunks of
16 scan rows, one signal chunk per navigation chunk) and the 4D-STEM MRC ((128, 128|256,
256) uint16, each library's default chunks), both libraries load lazily, plot with a given
navigator and walk ``s.axes_manager.indices`` across chunk boundaries at 20 moves per
second, each in a fresh process on Agg (``_plot_walk.py``; the peer with its own python).
Reported per move: p50 and p95 latency, the slowest move, the number of moves that waited
for a read (ours: a chunk not yet in the cache; the peer: its one cached chunk replaced) and
the longest such wait (ours: the time the cache spent reading or waiting; the peer: the
slowest of those moves), beside "one chunk read" of that library in the same process:
``s.data[chunk].compute()`` of one full-size navigation chunk, cold (the file's pages dropped
from the page cache first) and warm (again, best of two). The page cache is warmed before
every walk.

Targets (issue 13): p95 under 50 ms, no move waiting longer than one chunk read (checked
against the *warm* read, the stricter), and at least 10x better p95 than the peer.
``--quick``: 24 moves instead of 128.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from .harness import Context, Result, warm_page_cache

PEER_PYTHON = os.environ.get("PEER_PYTHON", "/tmp/lazysignal-peer/venv/bin/python")
DATA = Path(os.environ.get("PEER_DATA", "/tmp/lazysignal-peer/data"))
FILES = {"B": "synthetic_dataset_chunking.hspy", "mrc": "stem4d.mrc"}
RATE = 20.0


def walk(python: str, lib: str, key: str, moves: int) -> dict:
    """Run one walk in a fresh process and return its JSON report."""
    script = Path(__file__).with_name("_plot_walk.py")
    env = {**os.environ, "PEER_DATA": str(DATA), "MPLBACKEND": "Agg"}
    out = subprocess.run([python, str(script), lib, key, str(moves), str(RATE)], capture_output=True,
                         text=True, env=env, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"{lib} walk on {key} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def run(ctx: Context) -> None:
    moves = 24 if ctx.quick else 128
    missing = [name for name in FILES.values() if not (DATA / name).exists()]
    if missing:
        raise FileNotFoundError(f"{missing} not in {DATA}: run /work/shared/bench/make_data.py all first.")
    print(f"{'walk':<34} {'p50 ms':>8} {'p95 ms':>8} {'max ms':>8} {'waited':>7} {'longest wait':>13} "
          f"{'chunk read ms warm / cold':>26}")
    for key in FILES:
        rows = {}
        for lib, python in (("lazysignal", sys.executable), ("peer", PEER_PYTHON)):
            warm_page_cache(DATA / FILES[key])  # the walk before dropped it to time a cold read
            rows[lib] = walk(python, lib, key, moves)
        for lib, r in rows.items():
            print(f"{key + ' ' + lib + f' ({moves} moves, {RATE:g}/s)':<34} {r['p50_ms']:8.2f} {r['p95_ms']:8.2f} "
                  f"{r['max_ms']:8.1f} {r['waited']:7d} {r['longest_wait_ms']:13.1f} "
                  f"{r['chunk_read_ms']:12.1f} / {r['cold_chunk_read_ms']:<11.1f}"
                  f"   nav chunks {r['nav_chunks']}, chunk read {r['chunk_read_block']}",
                  flush=True)
        ours, peer = rows["lazysignal"], rows["peer"]
        ratio = peer["p95_ms"] / ours["p95_ms"]
        met = (ours["p95_ms"] < 50, ours["longest_wait_ms"] <= ours["chunk_read_ms"], ratio >= 10)
        note = (f"p95 {ours['p95_ms']:.1f} ms vs peer {peer['p95_ms']:.1f} ms = {ratio:.1f}x; longest wait "
                f"{ours['longest_wait_ms']:.1f} ms vs one chunk read {ours['chunk_read_ms']:.1f} ms warm, "
                f"{ours['cold_chunk_read_ms']:.1f} ms cold; targets p95<50 ms / longest wait<=one warm chunk "
                f"read / >=10x: {'/'.join('met' if m else 'NOT met' for m in met)}")
        ctx.record(Result(f"plot walk {key}: p95 per move", ours["p95_ms"] / 1e3, 0, 0.0,
                          limit_seconds=peer["p95_ms"] / 1e3, limit_name="peer", note=note))
        warm_page_cache(DATA / FILES[key])  # leave the file as found: the walk's cold read dropped it
