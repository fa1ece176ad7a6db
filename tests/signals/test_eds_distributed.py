"""Line maps on a dask.distributed LocalCluster with two worker processes."""

import numpy as np
import pytest

import lazysignal as ls
from lazysignal.signals import Signal1D
from clusters import client  # noqa: F401  (the fixture: two worker processes)


def test_maps_computed_together_read_each_needed_chunk_once_on_the_workers(client, tmp_path):
    from distributed import get_task_stream

    values = np.random.default_rng(8).poisson(2.0, (8, 6, 1100)).astype(float)
    s = Signal1D(values)
    e = s.axes_manager.signal_axes[0]
    e.scale, e.offset, e.units = 0.01, -0.1, "keV"
    s.set_signal_type("EDS_TEM")
    s.save(tmp_path / "eds.zspy", chunks=(4, 6, 275))
    lazy = ls.load(tmp_path / "eds.zspy", lazy=True)
    reads = lazy.data.name
    maps = lazy.get_lines_intensity(["Fe_Ka", "Pt_La"])
    with get_task_stream(client) as stream:
        ls.compute(*maps)
    # The reads are fused with the window sums: their keys keep the reader's prefix.
    prefix = reads.rsplit("-", 1)[0]
    read_keys = [t["key"] for t in stream.data if t["key"][0].startswith(prefix)]
    # Fe_Ka and its windows lie in channel chunk 2, Pt_La in chunk 3: 2 row blocks x 2 columns.
    assert sorted(k[1:] for k in read_keys) == [(0, 0, 2), (0, 0, 3), (1, 0, 2), (1, 0, 3)]
    assert {t["worker"] for t in stream.data} <= set(client.scheduler_info()["workers"])
    for m, expected in zip(maps, s.get_lines_intensity(["Fe_Ka", "Pt_La"])):
        assert not m.lazy
        np.testing.assert_allclose(m.data, expected.data)
    # One by one, each map is its own computation on the cluster (the kept block results live
    # in the workers): documented in docs/eds.md.
    one, two = lazy.get_lines_intensity(["Fe_Ka", "Pt_La"])
    one.compute()
    assert two.lazy
    np.testing.assert_allclose(two.compute().data, maps[1].data)
