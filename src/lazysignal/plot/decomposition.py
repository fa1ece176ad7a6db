"""Figures of a decomposition: the scree plot and the factors / loadings.

They draw what :mod:`lazysignal.learn` returns (``get_explained_variance_ratio``,
``get_decomposition_factors``, ``get_decomposition_loadings``): spectra as lines on one
axes (a legend names each component), images through :func:`plot_images`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from ..errors import PlotError
from .images import plot_images
from .signal_view import axis_label

__all__ = ["plot_ratio", "plot_components", "component_ids"]

_MAX_DEFAULT = 30


def component_ids(comp_ids: int | Sequence[int] | None, n_components: int) -> list[int]:
    """Components to show: None (all, up to 30), an int n (the first n) or a list.

    Examples
    --------
    >>> component_ids(3, 10), component_ids([4, 1], 10), component_ids(None, 2)
    ([0, 1, 2], [4, 1], [0, 1])
    """
    if comp_ids is None:
        if n_components > _MAX_DEFAULT:
            raise PlotError(f"The decomposition has {n_components} components; choose which to plot with "
                            f"comp_ids= (an int n for the first n, or a list), or decompose with output_dimension.")
        return list(range(n_components))
    ids = list(range(int(comp_ids))) if isinstance(comp_ids, (int, np.integer)) else [int(i) for i in comp_ids]
    bad = [i for i in ids if not 0 <= i < n_components]
    if bad or not ids:
        raise PlotError(f"comp_ids {bad or comp_ids!r} do not name components; there are {n_components} "
                        f"(0..{n_components - 1}).")
    return ids


def plot_ratio(ratio: np.ndarray, *, n: int = 30, log: bool = True, title: str = "", fig: Any = None,
               ax: Any = None) -> Any:
    """The explained variance ratio of the first ``n`` components (points), log scale by default.

    Examples
    --------
    >>> ax = plot_ratio(np.array([0.7, 0.2, 0.1]), n=2)
    >>> ax.lines[0].get_ydata().tolist(), ax.get_yscale()
    ([0.7, 0.2], 'log')
    """
    ratio = np.asarray(ratio, dtype=float)[: max(1, int(n))]
    if ax is None:
        fig = fig if fig is not None else plt.figure()
        ax = fig.add_subplot(111)
    ax.plot(np.arange(ratio.size), ratio, "o", markersize=5)
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("Principal component index")
    ax.set_ylabel("Proportion of variance")
    ax.set_title(title)
    return ax


def plot_components(components: Any, ids: list[int], *, label: str, per_row: int = 3, cmap: Any = "gray",
                    title: str | None = None) -> Any:
    """Components (a signal indexed by component along its navigation axis), chosen by ``ids``.

    One signal axis: one line per component on one axes (returned). Two: images through
    :func:`plot_images` (their axes returned).
    """
    data = np.asarray(components.data)
    sig_axes = list(components.axes_manager.signal_axes)
    labels = [f"{label} {i}" for i in ids]
    if len(sig_axes) == 1:
        fig = plt.figure()
        ax = fig.add_subplot(111)
        x = np.asarray(sig_axes[0].axis)
        for i, text in zip(ids, labels):
            ax.plot(x, data[i], label=text)
        ax.set_xlabel(axis_label(sig_axes[0]))
        ax.legend()
        ax.set_title(title if title is not None else str(components.metadata.get_item("General.title", "")))
        return ax
    if len(sig_axes) == 2:
        chosen = [components.inav[i] for i in ids]
        suptitle = title if title is not None else str(components.metadata.get_item("General.title", ""))
        return plot_images(chosen, cmap=cmap, per_row=per_row, label=labels, suptitle=suptitle)
    raise PlotError(f"{label}s with {len(sig_axes)} axes cannot be drawn; 1 (lines) or 2 (images) are.")
