"""A dask.distributed worker process killed (SIGKILL) in the middle of a lazy reduction, a save
or a decomposition on a real LocalCluster: the computation still finishes with the right answer
(tasks read their chunks from the file again on another worker)."""

from __future__ import annotations

import os

import distributed
import numpy as np
import pytest

import lazysignal as ls
from lazysignal.signals import Signal1D
from lazysignal.testing.damage import kill_process_once

SHAPE = (16, 12, 64)


@pytest.fixture
def cluster():
    # A fresh cluster per test: the one that lost a worker is not reused (its nanny restarts
    # the worker in its own time, which a busy machine can stretch past any fixed wait).
    cluster = distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                       dashboard_address=None)
    client = distributed.Client(cluster)
    yield client
    client.close()
    cluster.close()


@pytest.fixture
def on_disk(tmp_path):
    rng = np.random.default_rng(14)
    data = rng.poisson(5.0, SHAPE).astype("float32") + 1
    path = tmp_path / "cube.hspy"
    Signal1D(data).save(path, chunks=(2, 12, 64))
    return path, data


def _with_a_worker_killed(signal, marker, at=3):
    """The same lazy signal, whose computation kills the worker that reaches block ``at``."""
    killing = signal.data.map_blocks(kill_process_once, str(marker), at, dtype=signal.data.dtype)
    return signal._new_like(killing) if hasattr(signal, "_new_like") else Signal1D(killing)


def test_a_reduction_finishes_when_a_worker_dies(cluster, on_disk, tmp_path):
    path, data = on_disk
    s = ls.load(path, lazy=True)
    marker = tmp_path / "killed"
    total = _with_a_worker_killed(s, marker).sum(axis=-1)
    result = np.asarray(total.data.compute())
    assert marker.exists()  # a worker really died mid-compute ...
    np.testing.assert_allclose(result, data.sum(axis=-1), rtol=1e-6)  # ... and the answer is right
    s.close_file()


@pytest.mark.parametrize("ext", ["zspy", "hspy"])
def test_a_save_finishes_when_a_worker_dies(cluster, on_disk, tmp_path, ext):
    path, data = on_disk
    s = ls.load(path, lazy=True)
    marker = tmp_path / "killed"
    out = tmp_path / f"out.{ext}"
    _with_a_worker_killed(s, marker, at=5).save(out, show_progressbar=False)
    assert marker.exists()
    np.testing.assert_array_equal(ls.load(out).data, data)
    s.close_file()


def test_a_decomposition_finishes_when_a_worker_dies(cluster, on_disk, tmp_path):
    path, data = on_disk
    s = ls.load(path, lazy=True)
    marker = tmp_path / "killed"
    killed = _with_a_worker_killed(s, marker, at=2)
    killed.decomposition(print_info=False)
    assert marker.exists()
    eager = Signal1D(data)
    eager.decomposition(print_info=False)
    got, want = killed.learning_results, eager.learning_results
    np.testing.assert_allclose(got.explained_variance[:5], want.explained_variance[:5], rtol=1e-4)
    s.close_file()
