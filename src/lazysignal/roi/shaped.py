"""What circle and polygon ROIs share: cut the bounding box, then NaN outside the shape."""

from __future__ import annotations

from typing import Any

import numpy as np

from .masks import nan_outside

__all__ = ["masked_box"]


def masked_box(roi: Any, signal: Any, axes: Any, keys: list[Any], outside: np.ndarray) -> Any:
    """``signal`` cut to ``keys`` (slices on ``axes``), NaN where ``outside`` (rows: axes[1]).

    ``outside`` has shape ``(len(axes[1] part), len(axes[0] part))``: y rows, x columns.
    """
    box = roi._slice_box(signal, axes, keys)
    am = box.axes_manager
    # The cut keeps the ROI's axes (slices keep axes); find them in the new signal by order.
    old = signal.axes_manager
    pos = [old.numpy_index(ax) for ax in axes]
    if pos[0] > pos[1]:  # x after y in numpy order: rows are the first numpy axis (y)
        positions, mask = (pos[1], pos[0]), outside
    else:
        positions, mask = (pos[0], pos[1]), outside.T
    data = nan_outside(box.data, mask, positions)
    return box._new_like(data, [a.copy() for a in am._axes])
