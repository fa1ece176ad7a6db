"""Every ROI selects what HyperSpy (the peer) selects on the same data, eagerly and lazily.

All peer calls run in one subprocess for the module (a fixture); each case is then checked
against our eager result and our lazy results under several chunkings.
"""

from __future__ import annotations

import numpy as np
import pytest
from peer import run_peer
from roi_cases import PEER_SNIPPET, make_data, our_call, our_signal, write_cases

F = [1.0, 0.0]  # scale, offset of an uncalibrated axis

CASES = [
    # points
    dict(id="point1d-signal", roi="Point1DROI", params=dict(value=3.5), shape=(4, 20), sig_dim=1,
         calib=[F, [0.5, 1.0]], axes=[1]),
    dict(id="point1d-half-negative", roi="Point1DROI", params=dict(value=-2.5), shape=(4, 20),
         sig_dim=1, calib=[F, [1.0, -9.0]], axes=[1]),
    dict(id="point1d-nav", roi="Point1DROI", params=dict(value=2.0), shape=(6, 5, 7), sig_dim=1,
         calib=[F, [0.5, 0.0], F]),
    dict(id="point2d-nav", roi="Point2DROI", params=dict(x=3, y=5), shape=(8, 6, 4), sig_dim=1,
         calib=[F, F, F]),
    # HyperSpy's default axes: signal axes when navigation has too few, (signal, navigation) for 1+1
    dict(id="rectangle-default-signal", roi="RectangularROI", params=dict(left=2, top=1, right=7, bottom=6),
         shape=(3, 8, 10), sig_dim=2, calib=[F, F, F]),
    # Selecting a point on every axis leaves HyperSpy's (|1) scalar; its offset is the indexing
    # code's business (HyperSpy keeps the last axis' value, we a plain "Scalar" axis), not the ROI's.
    dict(id="point2d-one-plus-one", roi="Point2DROI", params=dict(x=3, y=2), shape=(6, 10), sig_dim=1,
         calib=[F, F], scalar=True),
    dict(id="span-default-nav", roi="SpanROI", params=dict(left=1, right=4), shape=(6, 10), sig_dim=1,
         calib=[F, F]),
    # span and rectangle (calibrated, partly outside)
    dict(id="span-signal", roi="SpanROI", params=dict(left=1.2, right=4.75), shape=(3, 40),
         sig_dim=1, calib=[F, [0.25, 0.5]], axes=[1]),
    dict(id="span-clipped", roi="SpanROI", params=dict(left=-5.0, right=3.0), shape=(3, 12),
         sig_dim=1, calib=[F, [1.0, 0.0]], axes=[1]),
    dict(id="span-to-end", roi="SpanROI", params=dict(left=5.0, right=30.0), shape=(3, 12),
         sig_dim=1, calib=[F, [1.0, 0.0]], axes=[1]),
    dict(id="rectangle-nav", roi="RectangularROI", params=dict(left=1, top=2, right=4, bottom=7),
         shape=(10, 12, 8), sig_dim=1, calib=[F, F, F]),
    dict(id="rectangle-calibrated", roi="RectangularROI",
         params=dict(left=-0.6, top=0.3, right=2.1, bottom=2.6), shape=(10, 12, 8), sig_dim=1,
         calib=[[0.5, -1.0], [0.5, -1.0], F]),
    dict(id="rectangle-signal2d", roi="RectangularROI", params=dict(left=2, top=1, right=9, bottom=5),
         shape=(3, 8, 10), sig_dim=2, calib=[F, F, F], axes=[1, 2]),
    # circle: HyperSpy's pixels, NaN outside; integers too
    dict(id="circle-nav", roi="CircleROI", params=dict(cx=7, cy=7, r=4), shape=(16, 16, 5),
         sig_dim=1, calib=[F, F, F]),
    dict(id="circle-ring", roi="CircleROI", params=dict(cx=8, cy=7.5, r=5.5, r_inner=2.5),
         shape=(16, 16, 3), sig_dim=1, calib=[F, F, F]),
    dict(id="circle-signal-uint16", roi="CircleROI", params=dict(cx=9, cy=10, r=6),
         shape=(2, 20, 20), sig_dim=2, calib=[F, F, F], dtype="uint16", axes=[1, 2]),
    dict(id="circle-calibrated", roi="CircleROI", params=dict(cx=2.0, cy=1.5, r=1.2),
         shape=(12, 12, 2), sig_dim=1, calib=[[0.25, 0.0], [0.25, 0.0], F]),
    # polygon
    dict(id="polygon-triangle", roi="PolygonROI", params=dict(vertices=[[1, 1], [9, 2], [3, 10]]),
         shape=(14, 13, 3), sig_dim=1, calib=[F, F, F]),
    dict(id="polygon-concave", roi="PolygonROI",
         params=dict(vertices=[[2, 2], [12, 2], [12, 11], [7, 5], [2, 11]]), shape=(15, 15, 2),
         sig_dim=1, calib=[F, F, F]),
    dict(id="polygon-inverted", roi="PolygonROI", params=dict(vertices=[[2, 2], [7, 3], [4, 8]]),
         shape=(10, 10, 2), sig_dim=1, calib=[F, F, F], kwargs=dict(inverted=True)),
    # line profiles
    dict(id="line-image-diagonal", roi="Line2DROI", params=dict(x1=1, y1=2, x2=17, y2=11),
         shape=(14, 20), sig_dim=2, calib=[F, F]),
    dict(id="line-image-wide", roi="Line2DROI", params=dict(x1=2, y1=3, x2=15, y2=9, linewidth=3),
         shape=(14, 20), sig_dim=2, calib=[F, F]),
    dict(id="line-image-bilinear", roi="Line2DROI",
         params=dict(x1=1.3, y1=2.2, x2=16.1, y2=10.4, linewidth=2), shape=(14, 20), sig_dim=2,
         calib=[F, F], kwargs=dict(order=1)),
    dict(id="line-image-cubic", roi="Line2DROI", params=dict(x1=1, y1=2, x2=12, y2=9),
         shape=(14, 20), sig_dim=2, calib=[F, F], kwargs=dict(order=3)),
    dict(id="line-leaves-image", roi="Line2DROI", params=dict(x1=-3, y1=4, x2=25, y2=8),
         shape=(14, 20), sig_dim=2, calib=[F, F]),
    dict(id="line-calibrated", roi="Line2DROI",
         params=dict(x1=0.5, y1=1.0, x2=4.5, y2=2.5, linewidth=0.5), shape=(14, 20), sig_dim=2,
         calib=[[0.25, 0.0], [0.25, 0.0]]),
    dict(id="line-nav-4d", roi="Line2DROI", params=dict(x1=0, y1=1, x2=6, y2=5, linewidth=2),
         shape=(7, 8, 5, 4), sig_dim=2, calib=[F, F, F, F]),
    dict(id="line-float32", roi="Line2DROI", params=dict(x1=1, y1=1, x2=8, y2=5),
         shape=(3, 10, 12), sig_dim=2, calib=[F, F, F], dtype="float32", axes=[1, 2]),
]

CHUNKINGS = [None, 1, 3, "auto"]


@pytest.fixture(scope="module")
def peer_results(tmp_path_factory):
    folder = tmp_path_factory.mktemp("peer_roi")
    write_cases(folder, CASES)
    results = run_peer(f"FOLDER = {str(folder)!r}\n" + PEER_SNIPPET, timeout=600)
    return folder, results


def _chunked(signal, chunking):
    if chunking is None:
        return signal
    if chunking == "auto":
        return signal.as_lazy()
    return signal.as_lazy(chunks=tuple(max(1, min(n, chunking + i)) for i, n in
                                       enumerate(signal.data.shape)))


@pytest.mark.peer
@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
@pytest.mark.parametrize("chunking", CHUNKINGS, ids=["eager", "chunks1", "chunks3", "auto"])
def test_same_selection_as_peer(case, chunking, peer_results):
    folder, results = peer_results
    i = CASES.index(case)
    peer = results[i]
    assert "error" not in peer, f"the peer failed on {case['id']}: {peer.get('error')}"
    expected = np.load(folder / f"out_{i}.npy")
    signal = _chunked(our_signal(case, make_data(case)), chunking)
    result = our_call(case, signal)
    assert result.lazy == signal.lazy
    ours = np.asarray(result.data.compute() if result.lazy else result.data)
    assert ours.shape == expected.shape
    np.testing.assert_array_equal(np.isnan(ours), np.isnan(expected))
    rtol = 1e-5 if ours.dtype == np.float32 or expected.dtype == np.float32 else 1e-10
    np.testing.assert_allclose(ours, expected, rtol=rtol, atol=rtol * 1000, equal_nan=True)
    axes = [[a.size, a.scale, a.offset, a.navigate] for a in result.axes_manager._axes]
    assert [a[0] for a in axes] == [a[0] for a in peer["axes"]]
    assert [a[3] for a in axes] == [a[3] for a in peer["axes"]]
    if not case.get("scalar"):
        np.testing.assert_allclose([a[1:3] for a in axes], [a[1:3] for a in peer["axes"]], rtol=1e-12)
