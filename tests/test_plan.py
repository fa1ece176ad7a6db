"""explain_array: tasks, storage chunks and bytes, rechunks, peak memory estimate."""

import dask.array as da
import numpy as np

from lazysignal.plan import explain_array


def test_plan_counts_only_the_chunks_needed():
    x = da.ones((64, 32, 40), chunks=(16, 32, 10))
    plan = explain_array(x[:, :, 12:18].sum(axis=-1), workers=2)
    assert plan.source_chunks == 4  # one chunk column of 4 navigation chunks
    assert plan.source_bytes == 4 * 16 * 32 * 10 * 8
    assert plan.sources[0]["chunks_total"] == 16
    assert plan.rechunks == []
    assert plan.peak_memory_bytes >= 2 * 2 * 16 * 32 * 10 * 8


def test_plan_reports_rechunk():
    x = da.ones((64, 40), chunks=(8, 40))
    plan = explain_array(x.rechunk((64, 8)), workers=1)
    assert plan.rechunks and plan.rechunks[0]["from"] == (8, 40) and plan.rechunks[0]["to"] == (64, 8)
    text = str(plan)
    assert "rechunk:" in text and "storage reads:       8 chunks" in text


def test_plan_of_numpy_backed_array_and_output():
    x = da.from_array(np.zeros((10, 10)), chunks=5)
    plan = explain_array(x + 1, workers=1, title="t")
    assert plan.output_shape == (10, 10) and plan.output_bytes == 800 and plan.output_chunks == 4
    assert str(plan).startswith("Plan for t")
