"""A workflow against a real cluster started from the command line (docs/distributed.md).

``dask scheduler`` and two ``dask worker`` processes are started as separate programs, as a
SLURM job script (dask-jobqueue) or a Kubernetes deployment (dask-kubernetes) starts them,
and find each other through a scheduler file. The client loads files with
``distributed=True``, runs the recognised expressions and a save on the workers, and gets
the same numbers as numpy. Startup waits are bounded (generous: CI's two cores are busy),
and every process started here is stopped by its own id.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import distributed
import numpy as np
import pytest

import lazysignal as ls

STARTUP_TIMEOUT_S = 180


def _start(args: list[str], log: Path) -> subprocess.Popen:
    # ``dask scheduler`` / ``dask worker`` of this Python (the one running the tests).
    command = [sys.executable, "-m", "dask"] + args
    with open(log, "w") as out:
        return subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)  # the process and its nanny's children, by id
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=30)


@pytest.fixture(scope="module")
def cli_cluster(tmp_path_factory):
    """A scheduler and two one-thread workers, each its own command-line process."""
    folder = tmp_path_factory.mktemp("cluster")
    scheduler_file = folder / "scheduler.json"
    procs = [_start(["scheduler", "--port", "0", "--no-dashboard", "--scheduler-file",
                     str(scheduler_file)], folder / "scheduler.log")]
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not scheduler_file.exists():
            if procs[0].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("dask scheduler did not start:\n" + (folder / "scheduler.log").read_text())
            time.sleep(0.2)
        for i in range(2):
            procs.append(_start(["worker", "--scheduler-file", str(scheduler_file), "--nthreads", "1",
                                 "--nworkers", "1", "--no-dashboard", "--name", f"cli-worker-{i}",
                                 "--local-directory", str(folder / f"w{i}")], folder / f"worker{i}.log"))
        client = distributed.Client(scheduler_file=str(scheduler_file), timeout=STARTUP_TIMEOUT_S)
        try:
            client.wait_for_workers(2, timeout=max(1.0, deadline - time.monotonic()))
        except Exception:
            logs = "\n".join(p.read_text()[-2000:] for p in folder.glob("worker*.log"))
            client.close()
            raise RuntimeError("two dask workers did not join the scheduler in time:\n" + logs) from None
        yield client
        client.close()
    finally:
        for proc in reversed(procs):
            _stop(proc)


def _stem_file(folder: Path) -> tuple[Path, np.ndarray]:
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 4000, (6, 5, 32, 32)).astype("<u2")
    path = folder / "stack.mrc"
    ls.signals.Signal2D(frames).save(path)
    return path, frames


def test_workflow_on_command_line_cluster(cli_cluster, tmp_path):
    """Load with distributed=True, compute the recognised expressions and save, all on the workers."""
    client = cli_cluster
    assert len(client.scheduler_info()["workers"]) == 2
    path, frames = _stem_file(tmp_path)
    s = ls.load(path, lazy=True, distributed=True, chunks=(2, 5, 32, 32))
    mask = np.zeros((32, 32), bool)
    mask[8:20, 10:24] = True

    masked = s * mask
    vbf = masked.sum(axis=masked.axes_manager.signal_axes)  # a virtual bright field
    total = s.sum(axis="navigation")
    window = s.isig[4:12, 6:30].sum(axis="signal")
    ls.compute(vbf, total, window)
    np.testing.assert_array_equal(vbf.data, (frames * mask).sum(axis=(2, 3)))
    np.testing.assert_array_equal(total.data, frames.sum(axis=(0, 1)))
    np.testing.assert_array_equal(window.data, frames[:, :, 6:30, 4:12].sum(axis=(2, 3)))

    out = tmp_path / "saved.zspy"
    ls.load(path, lazy=True, distributed=True, chunks=(2, 5, 32, 32)).save(out)
    back = ls.load(out, lazy=True)
    np.testing.assert_array_equal(back.data.compute(), frames)
    back.close_file()


def test_tasks_run_in_the_worker_processes(cli_cluster, tmp_path):
    """Each block's read happens in a worker process (its pid), never in the client."""
    client = cli_cluster
    path, frames = _stem_file(tmp_path)
    s = ls.load(path, lazy=True, distributed=True, chunks=(1, 5, 32, 32))
    pids = s.data.map_blocks(lambda b: np.full((1,) * b.ndim, os.getpid()), chunks=(1, 1, 1, 1),
                             dtype=np.int64).compute()
    worker_pids = set(client.run(os.getpid).values())
    assert set(np.unique(pids)) <= worker_pids
    assert os.getpid() not in set(np.unique(pids))
    assert int(s.sum().compute().data.sum()) == int(frames.sum(dtype=np.uint64))
