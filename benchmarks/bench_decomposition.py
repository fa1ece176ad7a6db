"""Decomposition (issue 12): exact SVD/PCA in two reads, against HyperSpy and against one sum.

Full run, on the peer's EDS cube A (``$PEER_DATA/synthetic_dataset.hspy``, (512, 512|992)
float64, chunks (64, 512, 248), gzip + shuffle), page cache warm, dask threads:

* ``inav[:256, :256].decomposition(algorithm, output_dimension=8)`` for "SVD" and "PCA",
  as ``/work/shared/bench/hyperspy_workflow.py decomp_svd|decomp_pca A`` does it (the EDS
  class's defaults: Poisson scaling when the class asks for it). The peer runs the same
  script now, in its own python, so both are timed under the same load; its RESULTS.md
  figures are quoted too. Targets: PCA >= 8x and SVD >= 5x faster than the peer, peak RSS
  under 1 GiB, at most 2 reads of every block (counted with a recording ``map_blocks``).
* The whole cube: SVD (8 components, as the workflow asks of the crop) against one ``sum``
  over it, each in a fresh process, best of two (limit: 3x that sum's time), peak RSS under
  1 GiB. (``output_dimension=None`` would keep all 992 components: loadings of 2 GB.)
  Printed beside it, the floor of an exact float64 SVD on this machine, measured in the
  same run: the Gram matrix ``y.T @ y`` of data of the cube's shape, in memory, on two BLAS
  threads (eight (32768, 992) float64 blocks, as the file's), plus the file's decode time
  (the sum's time: it decodes every chunk and adds them up). Ours / floor is how far the
  SVD is from what two cores allow; floor / sum is the best ratio to the sum there is.

``--quick``: a small gzip .hspy written here, no peer runs.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np

import lazysignal as ls

from .harness import Context, Result, measure, warm_page_cache

PEER_PYTHON = os.environ.get("PEER_PYTHON", "/tmp/lazysignal-peer/venv/bin/python")
WORKFLOW = Path(__file__).resolve().parents[2] / "shared" / "bench" / "hyperspy_workflow.py"
# HyperSpy 2.5 on the same kind of 2-core machine (RESULTS.md, median seconds).
PEER = {"decomp_svd": 21.4, "decomp_pca": 35.0}
TARGET = {"decomp_svd": 5.0, "decomp_pca": 8.0}


def _peer_data() -> Path:
    return Path(os.environ.get("PEER_DATA", "/tmp/lazysignal-peer/data"))


def _workflow(op: str, key: str, lib: str) -> dict | None:
    """One run of the shared workflow script (a fresh process): its JSON record."""
    if os.environ.get("LAZYSIGNAL_BENCH_PEER", "1") == "0":
        return None
    python = PEER_PYTHON if lib == "peer" else os.environ.get("PYTHON", "python")
    env = dict(os.environ, PEER_DATA=str(_peer_data()))
    if lib == "lazysignal":
        env["WORKFLOW_LIB"] = "lazysignal"
    else:
        env.pop("WORKFLOW_LIB", None)
    done = subprocess.run([python, str(WORKFLOW), op, key], capture_output=True, text=True, env=env,
                          timeout=900)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            rec = json.loads(line)
            return None if rec.get("error") else rec
    return None


def _counted_reads(signal, **kwargs) -> int:
    """The most times any block of the signal's data is read by one decomposition."""
    reads: list[tuple[int, ...]] = []

    def record(block, block_info=None):
        reads.append(tuple(block_info[0]["chunk-location"]))
        return block

    counted = signal.deepcopy()
    counted.data = signal.data.map_blocks(record, dtype=signal.data.dtype)
    counted.decomposition(print_info=False, **kwargs)
    return max(Counter(reads).values())


def _quick_file(ctx: Context) -> Path:
    path = ctx.data_dir / "decomposition-quick" / "cube.hspy"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        x = np.linspace(0, 1, 248)
        peaks = np.stack([np.exp(-((x - c) / 0.03) ** 2) for c in (0.2, 0.5, 0.8)])
        data = rng.poisson(rng.random((64, 64, 3)) @ (5 * peaks) + 0.5).astype(np.float64)
        ls.signals.Signal1D(data).save(path, chunks=(16, 64, 62), overwrite=True)
    return path


def run(ctx: Context) -> None:
    path = _quick_file(ctx) if ctx.quick else _peer_data() / "synthetic_dataset.hspy"
    if not path.exists():
        print(f"# skipped: {path} not found; generate the peer data with /work/shared/bench/make_data.py")
        return
    warm_page_cache(path)
    s = ls.load(path, lazy=True)
    crop = s.inav[:256, :256] if not ctx.quick else s.inav[:32, :32]
    nbytes = crop.data.nbytes
    for algorithm, op in (("SVD", "decomp_svd"), ("PCA", "decomp_pca")):
        def decompose(signal=crop, algorithm=algorithm):
            signal.decomposition(algorithm=algorithm, output_dimension=8, print_info=False)

        seconds, peak = measure(decompose, repeat=2 if not ctx.quick else 3)  # best of 2: first-call costs apart
        lr = crop.learning_results
        reads = _counted_reads(crop, algorithm=algorithm, output_dimension=8)
        notes = [f"reads {reads}", f"Poisson {lr.poissonian_noise_normalized}",
                 f"ev[:3] {np.array2string(np.asarray(lr.explained_variance[:3]), precision=4)}"]
        if not ctx.quick:
            notes.append(f"RESULTS.md peer {PEER[op]:.1f} s: {PEER[op] / seconds:.1f}x (target {TARGET[op]:.0f}x)")
            ours, peer = _workflow(op, "A", "lazysignal"), _workflow(op, "A", "peer")
            if ours and peer:
                notes.append(f"workflow now: ours {ours['seconds']:.2f} s / {ours['peak_rss_self_mib']:.0f} MiB, "
                             f"peer {peer['seconds']:.2f} s / {peer['peak_rss_self_mib']:.0f} MiB: "
                             f"{peer['seconds'] / ours['seconds']:.1f}x")
        ctx.record(Result(f"{algorithm} inav[:256, :256] of A, 8 components" if not ctx.quick
                          else f"{algorithm} quick cube, 8 components", seconds, nbytes, peak, note="; ".join(notes)))

    # The whole cube: one sum and the SVD, each in a fresh process (page cache warm), twice.
    sums = [_fresh(path, "s.sum().data.compute()") for _ in range(2)]
    svds = [_fresh(path, "s.decomposition(output_dimension=8, print_info=False)") for _ in range(2)]
    grams = [_fresh_gram(s.data.shape, s.data.chunks) for _ in range(2)]
    total = min(r["seconds"] for r in sums)
    best = min(svds, key=lambda r: r["seconds"])
    seconds = best["seconds"]
    peak = max(r["peak_mib"] for r in svds)
    gram = min(r["seconds"] for r in grams)
    floor = gram + total
    ctx.record(Result(f"SVD whole cube {s.axes_manager.dimensions}, 8 components (fresh process)", seconds,
                      s.data.nbytes, peak, limit_seconds=3 * total, limit_name="(3x one sum)",
                      note=f"one sum {total:.2f} s (fresh process, {max(r['peak_mib'] for r in sums):.0f} MiB); "
                           f"SVD runs {', '.join('%.2f' % r['seconds'] for r in svds)} s "
                           f"(best: {best['cpu']:.1f} s CPU); ratio {seconds / total:.2f} (target <= 3); "
                           f"floor {floor:.2f} s = Gram in memory on 2 threads {gram:.2f} s "
                           f"({grams[0]['blocks']} blocks of {grams[0]['rows']} x {grams[0]['cols']}) + decode "
                           f"(the sum) {total:.2f} s; ours / floor {seconds / floor:.2f}; "
                           f"floor / sum {floor / total:.2f}"))


_FRESH = """
import json, os, resource, sys, time
import lazysignal as ls
s = ls.load(sys.argv[1], lazy=True)
start, cpu = time.perf_counter(), os.times()
{op}
seconds, done = time.perf_counter() - start, os.times()
print(json.dumps({{"seconds": seconds, "cpu": done.user - cpu.user + done.system - cpu.system,
                  "peak_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}}))
"""


_GRAM = """
import json, sys, time
import numpy as np
from threadpoolctl import threadpool_limits
rows, cols, blocks = (int(a) for a in sys.argv[1:4])
# Counts of the file's kind (values do not change the speed of the product, only its size).
y = np.random.default_rng(0).poisson(0.7, (rows, cols)).astype(np.float64)
gram = np.zeros((cols, cols))
with threadpool_limits(2, user_api="blas"):
    _ = y[:64].T @ y[:64]  # BLAS threads started before the clock
    start = time.perf_counter()
    for _ in range(blocks):
        gram += y.T @ y
    seconds = time.perf_counter() - start
print(json.dumps({"seconds": seconds, "rows": rows, "cols": cols, "blocks": blocks}))
"""


def _fresh_gram(shape: tuple[int, ...], chunks: tuple[tuple[int, ...], ...]) -> dict:
    """The float64 Gram matrix of data of ``shape`` (navigation blocks as the file's chunks),
    in memory, on two BLAS threads, in a new process: the product an exact SVD cannot skip."""
    python = os.environ.get("PYTHON", "python")
    cols = int(np.prod(shape[2:]))
    rows = int(np.prod([c[0] for c in chunks[:2]]))
    blocks = int(np.prod(shape[:2])) // rows
    done = subprocess.run([python, "-c", _GRAM, str(rows), str(cols), str(blocks)], capture_output=True, text=True,
                          timeout=900, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def _fresh(path: Path, op: str) -> dict:
    """Time ``op`` on ``s`` (the file loaded lazily) in a new python process; its peak RSS (MiB)."""
    python = os.environ.get("PYTHON", "python")
    done = subprocess.run([python, "-c", _FRESH.format(op=op), str(path)], capture_output=True, text=True,
                          timeout=900, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])
