"""Issue 10: X-ray line maps of seed 004 (``get_lines_intensity(["Fe_Ka", "Pt_La"])``).

For the peer's files A (chunks (64, 512, 248)) and B (chunks (16, 512, 992)) of
``shared/bench`` (``$PEER_DATA``), the workflow script ``hyperspy_workflow.py lines KEY``
runs in fresh processes, once with HyperSpy (the peer) and once with
``WORKFLOW_LIB=lazysignal``: both build the maps and compute them one by one, as a user
does. Beside them, in this process, the physical bound: inflating just the chunks that hold
the windows, with the same threads, and nothing else. ``--quick`` (or no peer data) runs a
small file written here, ours against the bound only.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import dask
import numpy as np

import lazysignal as ls
from lazysignal.signals import Signal1D
from lazysignal.xray import SharedLineSums, plan_windows

from .harness import Context, Result, measure, warm_page_cache

LINES = ["Fe_Ka", "Pt_La"]
PEER_DATA = Path(os.environ.get("PEER_DATA", "/tmp/lazysignal-peer/data"))
PEER_PYTHON = os.environ.get("LAZYSIGNAL_PEER_PYTHON", "/tmp/lazysignal-peer/venv/bin/python")
WORKFLOW = Path(__file__).resolve().parents[2] / "shared" / "bench" / "hyperspy_workflow.py"
FILES = {"A": "synthetic_dataset.hspy", "B": "synthetic_dataset_chunking.hspy"}


def _workflow(python: str, key: str, lib: str) -> dict:
    """One fresh process of the workflow script; its JSON record and /usr/bin/time's peak RSS."""
    env = {**os.environ, "PEER_DATA": str(PEER_DATA), "PYTHONPATH": ""}
    if lib == "lazysignal":
        env["WORKFLOW_LIB"] = "lazysignal"
    done = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M", python, str(WORKFLOW), "lines", key],
                          capture_output=True, text=True, env=env, check=False, timeout=900)
    record = next((json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")), None)
    if record is None or record.get("error"):
        raise RuntimeError(f"workflow lines {key} ({lib}) failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    rss = [int(x.split()[1]) for x in done.stderr.splitlines() if x.startswith("MAXRSS")]
    record["time_maxrss_mib"] = rss[0] / 1024 if rss else record["peak_rss_self_mib"]
    return record


def _bound(path: Path) -> tuple[float, float, int]:
    """Best of 3: inflate the chunks that hold a window (threads), keeping one value of each."""
    s = ls.load(path, lazy=True)
    x = s.data
    axis = s.axes_manager.signal_axes[0]
    plan = plan_windows(s.estimate_integration_windows(2.0, LINES), None, offset=axis.offset,
                        scale=axis.scale, size=axis.size)
    needed = SharedLineSums(x, plan).needed_chunks
    columns = [x.blocks[..., j] for j in needed]
    touched = sum(c.nbytes for c in columns)
    first = [c.map_blocks(lambda b: b[..., :1].copy(), chunks=c.chunks[:-1] + ((1,),)) for c in columns]
    seconds, peak = measure(lambda: dask.compute(*first))
    return seconds, peak, touched


def _ours_in_process(path: Path) -> tuple[float, float]:
    def run() -> None:
        maps = ls.load(path, lazy=True).get_lines_intensity(LINES)
        for m in maps:
            m.compute()

    return measure(run)


def _quick_file(ctx: Context) -> Path:
    path = ctx.data_dir / "eds_quick.hspy"
    if not path.exists():
        rng = np.random.default_rng(0)
        s = Signal1D(rng.poisson(1.5, (64, 64, 992)).astype(float), metadata={"General": {"title": "quick"}})
        e = s.axes_manager.signal_axes[0]
        e.scale, e.offset, e.units, e.name = 0.01, -0.1, "keV", "Energy"
        s.set_signal_type("EDS_TEM")
        s.save(path, chunks=(16, 64, 248))
    return path


def run(ctx: Context) -> None:
    have_peer = all((PEER_DATA / f).exists() for f in FILES.values()) and Path(PEER_PYTHON).exists()
    if ctx.quick or not have_peer:
        path = _quick_file(ctx)
        bound, bound_peak, touched = _bound(path)
        seconds, peak = _ours_in_process(path)
        ctx.record(Result("lines Fe_Ka+Pt_La, quick .hspy (64,64|992)", seconds, touched, peak,
                          limit_seconds=bound, limit_name="bound: inflate window chunks"))
        return
    for key, name in FILES.items():
        path = PEER_DATA / name
        warm_page_cache(path)
        peer = _workflow(PEER_PYTHON, key, "hyperspy")
        ours = _workflow(sys.executable, key, "lazysignal")
        if abs(peer["checksum"] - ours["checksum"]) > 1e-6 * abs(peer["checksum"]):
            raise RuntimeError(f"checksums differ on {key}: peer {peer['checksum']} ours {ours['checksum']}")
        bound, bound_peak, touched = _bound(path)
        per_line = ", ".join(f"{t:.2f}" for t in ours["extra"]["per_line_compute_s"])
        ctx.record(Result(f"lines {key}: peer (HyperSpy, fresh process)", peer["seconds"], touched,
                          peer["time_maxrss_mib"], note=f"per line {peer['extra']['per_line_compute_s']} s"))
        ctx.record(Result(f"lines {key}: ours (fresh process)", ours["seconds"], touched, ours["time_maxrss_mib"],
                          limit_seconds=peer["seconds"], limit_name="peer", note=f"per line [{per_line}] s"))
        ctx.record(Result(f"lines {key}: bound, inflate window chunks (in process)", bound, touched, bound_peak,
                          limit_seconds=ours["seconds"], limit_name="ours"))
