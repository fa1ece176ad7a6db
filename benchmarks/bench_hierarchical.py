"""hspy / zspy: lazy sums and lazy saves on the peer's EDS cube, against numpy and HyperSpy.

Full run: the peer's files (``/work/shared/bench/make_data.py``), found in
``$PEER_DATA`` (default ``/tmp/lazysignal-peer/data``): A = ``synthetic_dataset.hspy``
(512, 512|992) float64, chunks (64, 512, 248), gzip + shuffle; Z = the same as
``synthetic_dataset.zspy``. The peer's figures (HyperSpy 2.5, same kind of machine,
``/work/shared/bench/RESULTS.md``) are quoted in the notes with our speed-up over them,
and the peer's ``hyperspy_workflow.py`` is run again now, on the same files, so the two
are compared under the same load (set ``LAZYSIGNAL_BENCH_PEER=0`` to skip that). Notes
also give this process' CPU seconds, a figure that does not depend on other load.

Limit: numpy summing the same bytes already in memory (one core). For reference, the
single-threaded ``h5py`` read of A is measured too. ``--quick``: a small file pair
generated here.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import h5py
import numpy as np

import lazysignal as ls
from lazysignal.io.backends import h5chunks as _h5chunks

from .harness import Context, Result, measure, warm_page_cache

# HyperSpy 2.5 on the same kind of 2-core machine (RESULTS.md, median seconds).
PEER = {"sum_nav A": 7.841, "sum_sig A": 7.801, "sum_nav Z": 2.062, "save_zspy": 8.136,
        "save_hspy": 25.7, "h5py read A": 9.494}
TARGET = {"sum_nav A": 3, "sum_sig A": 3, "sum_nav Z": 2, "save_zspy": 2, "save_hspy": 3}


PEER_PYTHON = os.environ.get("PEER_PYTHON", "/tmp/lazysignal-peer/venv/bin/python")
WORKFLOW = Path(__file__).resolve().parents[2] / "shared" / "bench" / "hyperspy_workflow.py"


def _peer_now(op: str, key: str) -> float | None:
    """The peer's inner seconds for ``op`` on data ``key``, run now (same conditions)."""
    if os.environ.get("LAZYSIGNAL_BENCH_PEER", "1") == "0":
        return None
    workflow = Path(os.environ.get("PEER_WORKFLOW", WORKFLOW))
    if not (Path(PEER_PYTHON).exists() and workflow.exists()):
        return None
    env = dict(os.environ, PEER_DATA=str(_peer_data()))
    done = subprocess.run([PEER_PYTHON, str(workflow), op, key], capture_output=True, text=True,
                          env=env, timeout=600)
    for line in reversed(done.stdout.splitlines()):
        if line.startswith("{"):
            rec = json.loads(line)
            return None if rec.get("error") else float(rec["seconds"])
    return None


def _timed(fn):
    """``fn`` wrapped to add this process' CPU seconds (all threads) to a list."""
    cpu: list[float] = []

    def wrapped():
        c0 = time.process_time()
        fn()
        cpu.append(time.process_time() - c0)
    return wrapped, cpu


def _peer_data() -> Path:
    return Path(os.environ.get("PEER_DATA", "/tmp/lazysignal-peer/data"))


def _quick_files(ctx: Context) -> tuple[Path, Path]:
    """A small gzip .hspy and its .zspy copy, written by lazysignal (HyperSpy layout)."""
    folder = ctx.data_dir / "hierarchical-quick"
    a, z = folder / "cube.hspy", folder / "cube.zspy"
    if not (a.exists() and z.exists()):
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(0)
        data = rng.poisson(1.6, size=(64, 64, 248)).astype(np.float64)
        s = ls.signals.Signal1D(data)
        s.save(a, chunks=(16, 64, 62), overwrite=True)
        s.save(z, chunks=(16, 64, 62), overwrite=True)
    return a, z


def _data_path(path: Path) -> str:
    with h5py.File(path, "r") as f:
        title = next(iter(f["Experiments"]))
    return f"Experiments/{title}/data"


def _note(key: str, seconds: float, quick: bool, cpu: list[float] | None = None,
          peer_now: float | None = None) -> str:
    parts = [f"cpu {min(cpu):.2f} s"] if cpu else []
    if quick:
        return "; ".join(parts + ["quick data"])
    if key in PEER:
        speedup = PEER[key] / seconds
        target = TARGET.get(key)
        verdict = "" if target is None else (
            f" (target {target}x " + ("met)" if speedup >= target else "NOT met)"))
        parts.append(f"vs RESULTS.md peer {PEER[key]:.2f} s: {speedup:.2f}x{verdict}")
    if peer_now is not None:
        parts.append(f"vs peer run now {peer_now:.2f} s: {peer_now / seconds:.2f}x")
    return "; ".join(parts)


def _rm(path: Path) -> None:
    if path.is_dir():
        shutil.rmtree(path)
    elif path.exists():
        path.unlink()


def run(ctx: Context) -> None:
    quick = ctx.quick
    if quick:
        a_path, z_path = _quick_files(ctx)
    else:
        a_path = _peer_data() / "synthetic_dataset.hspy"
        z_path = _peer_data() / "synthetic_dataset.zspy"
        if not (a_path.exists() and z_path.exists()):
            print(f"# skipped: peer data not found under {_peer_data()}; generate it with\n"
                  f"#   cd /work/shared/bench && PEER_DATA={_peer_data()} "
                  f"$PEER_PYTHON make_data.py all")
            return
    repeat = 3
    dp = _data_path(a_path)
    warm_page_cache(a_path)
    warm_page_cache(z_path)

    # Reference: h5py's own single-threaded read (HDF5 inflates behind its lock), which
    # also gives the in-memory copy for the numpy limit.
    with h5py.File(a_path, "r") as f:
        dset = f[dp]
        arr = np.empty(dset.shape, dset.dtype)
        t0 = time.perf_counter()
        dset.read_direct(arr)
        h5_seconds = time.perf_counter() - t0
    nbytes = arr.nbytes
    limit_nav, _ = measure(lambda: arr.sum(axis=(0, 1)), repeat=repeat)
    limit_sig, _ = measure(lambda: arr.sum(axis=2), repeat=repeat)
    ctx.record(Result("h5py read_direct A (1 thread, reference)", h5_seconds, nbytes,
                      arr.nbytes / 2**20, limit_nav, note=_note("h5py read A", h5_seconds, quick)))
    del arr

    def peer(op, key):
        return None if quick else _peer_now(op, key)

    # Raw chunk path alone (no signal layer): parallel inflate + unshuffle.
    x = _h5chunks.lazy_dataset(a_path, dp)
    fn, cpu = _timed(lambda: x.sum(axis=(0, 1)).compute())
    sec, peak = measure(fn, repeat=repeat)
    ctx.record(Result("_h5chunks.lazy_dataset(A).sum(nav)", sec, nbytes, peak, limit_nav,
                      note=_note("sum_nav A", sec, quick, cpu)))

    s = ls.load(a_path, lazy=True)
    fn, cpu = _timed(lambda: s.sum(axis="navigation").compute())
    sec, peak = measure(fn, repeat=repeat)
    ctx.record(Result("hspy A lazy sum over navigation", sec, nbytes, peak, limit_nav,
                      note=_note("sum_nav A", sec, quick, cpu, peer("sum_nav", "A"))))
    fn, cpu = _timed(lambda: s.sum(axis="signal").compute())
    sec, peak = measure(fn, repeat=repeat)
    ctx.record(Result("hspy A lazy sum over signal", sec, nbytes, peak, limit_sig,
                      note=_note("sum_sig A", sec, quick, cpu)))

    sz = ls.load(z_path, lazy=True)
    fn, cpu = _timed(lambda: sz.sum(axis="navigation").compute())
    sec, peak = measure(fn, repeat=repeat)
    ctx.record(Result("zspy Z lazy sum over navigation", sec, nbytes, peak, limit_nav,
                      note=_note("sum_nav Z", sec, quick, cpu, peer("sum_nav", "Z"))))

    # Saving the lazy signal loaded from A (read + inflate + encode + write).
    chunks = (16, 64, 62) if quick else (64, 512, 248)
    out_dir = ctx.data_dir / "hierarchical-out"
    out_dir.mkdir(parents=True, exist_ok=True)
    for ext, key in ((".zspy", "save_zspy"), (".hspy", "save_hspy")):
        out = out_dir / f"saved{ext}"

        def save(out=out):
            _rm(out)
            s.save(out, chunks=chunks, overwrite=True)

        fn, cpu = _timed(save)
        sec, peak = measure(fn, repeat=1 if not quick else repeat)
        size = sum(p.stat().st_size for p in out.rglob("*") if p.is_file()) if out.is_dir() \
            else out.stat().st_size
        note = _note(key, sec, quick, cpu, peer(key, "A"))
        ctx.record(Result(f"save lazy A -> {ext} chunks {chunks}", sec, nbytes, peak, None,
                          note=f"{note}; {size / 2**20:.0f} MiB on disk"))
        _rm(out)
    _h5chunks.close(a_path)
