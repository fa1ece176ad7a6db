"""ROI tests: cases run through the peer (HyperSpy) in one subprocess, and through ours."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

import lazysignal as ls
from lazysignal.axes import DataAxis

# The peer's side: build each case's signal, apply the ROI, save data and axes.
PEER_SNIPPET = r"""
import sys, json, numpy as np, hyperspy.api as hs
folder = sys.argv[1] if len(sys.argv) > 1 else FOLDER
cases = json.load(open(folder + "/cases.json"))
results = []
for i, c in enumerate(cases):
    data = np.load(f"{folder}/in_{i}.npy")
    cls = hs.signals.Signal1D if c["sig_dim"] == 1 else hs.signals.Signal2D
    s = cls(data)
    for ax, (scale, offset) in zip(s.axes_manager._axes, c["calib"]):
        ax.scale, ax.offset = scale, offset
    roi = getattr(hs.roi, c["roi"])(**c["params"])
    kwargs = dict(c.get("kwargs", {}))
    if c.get("axes") is not None:
        kwargs["axes"] = tuple(c["axes"])
    try:
        r = roi(s, **kwargs)
    except Exception as exc:
        results.append({"error": type(exc).__name__ + ": " + str(exc)})
        continue
    np.save(f"{folder}/out_{i}.npy", np.asarray(r.data))
    results.append({"axes": [[a.size, float(a.scale), float(a.offset), bool(a.navigate)]
                             for a in r.axes_manager._axes], "dtype": str(r.data.dtype)})
emit(results)
"""


def our_signal(case: dict[str, Any], data: np.ndarray):
    """Our signal for ``case``: same class, same calibration (numpy order)."""
    n_nav = data.ndim - case["sig_dim"]
    axes = [DataAxis(size=n, scale=scale, offset=offset, navigate=i < n_nav)
            for i, (n, (scale, offset)) in enumerate(zip(data.shape, case["calib"]))]
    cls = ls.signals.Signal1D if case["sig_dim"] == 1 else ls.signals.Signal2D
    return cls(data, axes)


def our_roi(case: dict[str, Any]):
    return getattr(ls.roi, case["roi"])(**case["params"])


def our_call(case: dict[str, Any], signal):
    kwargs = dict(case.get("kwargs", {}))
    if case.get("axes") is not None:
        kwargs["axes"] = tuple(case["axes"])
    return our_roi(case)(signal, **kwargs)


def write_cases(folder: Path, cases: list[dict[str, Any]]) -> None:
    for i, case in enumerate(cases):
        np.save(folder / f"in_{i}.npy", make_data(case))
    (folder / "cases.json").write_text(json.dumps(
        [{k: v for k, v in c.items() if k not in ("id", "scalar")} for c in cases]))


def make_data(case: dict[str, Any]) -> np.ndarray:
    rng = np.random.default_rng(case.get("seed", 0))
    values = rng.random(case["shape"]) * 1000
    return values.astype(case.get("dtype", "float64"))
