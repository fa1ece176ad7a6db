"""Memory bound: every lazy operation on a synthetic 16 GiB cube keeps the process' peak resident
memory under 1 GiB, read from the kernel (VmHWM, reset before each operation), in a child
process. The cube is generated chunk by chunk (float64: fewest elements per byte, so a pass
over 16 GiB stays a few seconds); the zspy save compresses it to a few tens of MB on disk.

The decomposition runs on a cube of the same 16 GiB with 128 channels instead of 512
((4096, 4096, 128), rank 2, integer counts): the exact SVD builds a channels x channels Gram
matrix, whose cost grows with the square of the channels. Its loadings (16.7 M pixels x 2
components, 256 MiB) are the result and are held, as HyperSpy holds them; the rest stays
bounded by the blocks in flight.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from lazysignal.testing.damage import run_isolated

GiB = 2**30

_CHILD = r"""
import json, os, sys, tempfile, shutil
import numpy as np, dask.array as da
import lazysignal as ls
from lazysignal.signals import Signal1D

def peak():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024

shape, chunks = (2048, 2048, 512), (4, 2048, 512)          # 16 GiB of float64, 32 MiB chunks
pattern = da.from_array((np.arange(2048) % 7).astype("f8")[None, :, None], chunks=(1, 2048, 1))
s = Signal1D(da.ones(shape, dtype="f8", chunks=chunks) + pattern)   # value 1 + x % 7
axis = s.axes_manager.signal_axes[0]
axis.scale, axis.units = 0.02, "keV"
assert s.data.nbytes == 16 * 2**30
out = {}

def run(name, fn):
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                                           # reset VmHWM to the current RSS
    out[name] = {"result": fn(), "peak": peak()}
    print(json.dumps({name: out[name]}), flush=True)

run("sum_signal", lambda: np.asarray(s.sum(axis=-1).data.compute())[0].tolist())
run("sum_navigation", lambda: np.asarray(s.sum(axis=(0, 1)).data.compute()).tolist())
run("rebin", lambda: float(s.rebin(scale=(2, 2, 8)).data.sum().compute()))

def navigator():
    s.compute_navigator()
    return np.asarray(s.navigator.data)[0].tolist()
run("navigator", navigator)
run("roi_rectangle", lambda: float(
    ls.roi.RectangularROI(left=100, top=200, right=1900, bottom=1800)(s).data.sum().compute()))

def line_profile():
    p = np.asarray(ls.roi.Line2DROI(x1=10, y1=10, x2=2000, y2=1500, linewidth=3)(s).data.compute())
    return [list(p.shape), float(p.min()), float(p.max())]
run("roi_line", line_profile)

def line_maps():
    eds = Signal1D(s.data)
    eds.axes_manager.signal_axes[0].scale, eds.axes_manager.signal_axes[0].units = 0.02, "keV"
    eds.set_signal_type("EDS_TEM")
    eds.set_microscope_parameters(beam_energy=200)
    maps = eds.get_lines_intensity(xray_lines=["Fe_Ka", "Cu_Ka"])
    return [np.asarray(m.data.compute() if m.lazy else m.data)[0, :2].tolist() for m in maps]
run("line_maps", line_maps)

def save_zspy():
    folder = tempfile.mkdtemp(dir=sys.argv[1])
    path = os.path.join(folder, "big.zspy")
    s.save(path, show_progressbar=False)
    size = sum(os.path.getsize(os.path.join(r, f)) for r, _, fs in os.walk(folder) for f in fs)
    back = ls.load(path, lazy=True)
    corner = np.asarray(back.data[-4:, -3:, :5].compute())
    shutil.rmtree(folder)
    return [size, corner.tolist()]
run("save_zspy", save_zspy)

# 16 GiB, 128 channels: pixel (y, x) holds 1 + (x % 7) * (channel % 2).
ramp = da.from_array((np.arange(128) % 2).astype("f8")[None, None, :], chunks=(1, 1, 128))
wide = da.from_array((np.arange(4096) % 7).astype("f8")[None, :, None], chunks=(1, 4096, 1))
cube = Signal1D(da.ones((4096, 4096, 128), dtype="f8", chunks=(8, 4096, 128)) + wide * ramp)
assert cube.data.nbytes == 16 * 2**30

def decomposition():
    cube.decomposition(output_dimension=2, print_info=False)
    lr = cube.learning_results
    pixels = [(0, 0), (7, 3), (4095, 4094)]
    model = [(lr.loadings[y * 4096 + x] @ lr.factors.T).tolist() for y, x in pixels]
    return [list(lr.loadings.shape), np.asarray(lr.explained_variance).tolist(), pixels, model]
run("decomposition", decomposition)
"""


@pytest.mark.slow
def test_lazy_operations_on_16_gib_stay_under_1_gib(tmp_path):
    free = shutil.disk_usage(tmp_path).free
    assert free > 2 * GiB, f"the zspy save needs ~100 MB on disk and 2 GiB free; {free} free"
    run = run_isolated(_CHILD, timeout=900, args=[str(tmp_path)])
    assert run.returncode == 0 and not run.timed_out, (run.signal_name, run.stderr[-3000:])
    got = {}
    for line in run.stdout.splitlines():
        got.update(json.loads(line))
    peaks = {name: round(value["peak"] / 2**20) for name, value in got.items()}
    print("peak RSS (MiB) per operation:", peaks)  # shown with pytest -s
    assert all(p < 1024 for p in peaks.values()), f"peak RSS in MiB: {peaks}"
    pattern = 1 + np.arange(2048) % 7
    # The answers are right, not just small.
    np.testing.assert_array_equal(got["sum_signal"]["result"], 512 * pattern)
    np.testing.assert_array_equal(got["sum_navigation"]["result"], [2048 * pattern.sum()] * 512)
    assert got["rebin"]["result"] == 2048 * 512 * pattern.sum()
    np.testing.assert_array_equal(got["navigator"]["result"], 512 * pattern)
    assert got["roi_rectangle"]["result"] == 1600 * 512 * pattern[100:1900].sum()
    shape, low, high = got["roi_line"]["result"]
    assert shape[1] == 512 and shape[0] > 2000 and 1 <= low <= high <= 7
    for window in got["line_maps"]["result"]:  # x = 0 and x = 1: values 1 and 2
        assert window[0] > 0 and window[1] == 2 * window[0]
    shape, variance, pixels, model = got["decomposition"]["result"]
    assert shape == [4096 * 4096, 2]
    # The cube's spectra take 7 values (x % 7), each on 4096 * 4096 / 7 pixels (4096 = 7 * 585 + 1:
    # value 0 once more): the exact Gram matrix from those, and each pixel's model is its spectrum.
    values = np.arange(4096) % 7
    spectra = 1 + np.arange(7)[:, None] * (np.arange(128) % 2)[None, :]
    counts = 4096 * np.bincount(values, minlength=7)
    gram = (spectra.T * counts) @ spectra
    expected = np.sort(np.linalg.eigvalsh(gram))[::-1][:2] / 4096**2
    np.testing.assert_allclose(variance, expected, rtol=1e-9)
    for (y, x), row in zip(pixels, model):
        np.testing.assert_allclose(row, 1 + (x % 7) * (np.arange(128) % 2), rtol=1e-9, atol=1e-9)
    size, corner = got["save_zspy"]["result"]
    assert size < 512 * 2**20
    np.testing.assert_array_equal(corner, np.broadcast_to(pattern[-3:, None], (4, 3, 5)))
