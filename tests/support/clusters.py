"""A dask.distributed cluster of two worker processes, for tests where distribution is the point.

Import the fixture into a test module (``from clusters import client``): one cluster per module.
"""

from __future__ import annotations

import pytest


@pytest.fixture(scope="module")
def client():
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, processes=True, threads_per_worker=1, dashboard_address=None)
    c = Client(cluster)
    yield c
    c.close()
    cluster.close()
