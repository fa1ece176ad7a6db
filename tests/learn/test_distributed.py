"""Decompositions on a dask.distributed LocalCluster with two worker processes."""

import numpy as np
import pytest

import lazysignal as ls
from lazysignal.signals import Signal1D
from clusters import client  # noqa: F401  (the fixture: two worker processes)


def test_decompositions_run_on_the_workers(client, rank3, tmp_path):
    from distributed import get_task_stream

    Signal1D(rank3[0]).save(tmp_path / "cube.zspy", chunks=(4, 10, 48))
    s = ls.load(tmp_path / "cube.zspy", lazy=True)
    for algorithm, kwargs in (("SVD", {"normalize_poissonian_noise": True}), ("PCA", {}),
                              ("ORPCA", {}), ("NMF", {"random_state": 0})):
        eager = Signal1D(rank3[0])
        eager.decomposition(algorithm=algorithm, output_dimension=3, print_info=False, **kwargs)
        with get_task_stream(client) as stream:
            s.decomposition(algorithm=algorithm, output_dimension=3, print_info=False, **kwargs)
        assert {task["worker"] for task in stream.data} <= set(client.scheduler_info()["workers"])
        assert len(stream.data) >= 3  # the blocks were read and reduced on the cluster
        model = s.get_decomposition_model().data.compute()
        reference = eager.get_decomposition_model().data
        tolerance = 1e-8 if algorithm in ("SVD", "PCA") else 0.1
        assert np.linalg.norm(model - reference) / np.linalg.norm(reference) < tolerance, algorithm
