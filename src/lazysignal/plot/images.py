"""``plot_images``: several images (line maps, frames, navigators) side by side in one figure.

HyperSpy's function and vocabulary (``per_row``, ``label``, ``colorbar``, ``scalebar``,
``axes_decor``, ``suptitle``, ``vmin``/``vmax`` as values or ``"1th"`` percentiles). Lazy
inputs are computed together, in one pass (shared chunks read once).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from ..errors import PlotError, UnsupportedOptionError
from ..lazy import compute_arrays
from .signal_view import axis_label, image_extent

__all__ = ["plot_images", "computed_data"]

_NOT_IMPLEMENTED = ("overlay", "centre_colormap", "padding", "tight_layout", "min_asp", "namefrac_thresh",
                    "labelwrap", "colors", "alphas", "legend_picking", "pixel_size_factor", "no_nans")


def computed_data(signals: Sequence[Any]) -> list[np.ndarray]:
    """The signals' data as numpy arrays; lazy ones computed together, in one pass.

    Examples
    --------
    >>> import numpy as np
    >>> from lazysignal.signals import Signal1D
    >>> s = Signal1D(np.arange(6.0).reshape(2, 3)).as_lazy()
    >>> [d.sum() for d in computed_data([s, s * 2])]
    [np.float64(15.0), np.float64(30.0)]
    """
    return [np.asarray(d) for d in compute_arrays(*(s.data for s in signals), show_progressbar=False)]


def as_signal_list(signals: Any, function: str) -> list[Any]:
    """A list of signals from one signal or an iterable of them (not empty)."""
    signals = [signals] if hasattr(signals, "axes_manager") else list(signals)
    if not signals:
        raise PlotError(f"{function} needs at least one signal.")
    return signals


def _reject_unsupported(kwargs: dict[str, Any], function: str) -> None:
    unsupported = sorted(set(kwargs) & set(_NOT_IMPLEMENTED))
    if unsupported:
        raise UnsupportedOptionError(f"{function}: {unsupported} are HyperSpy options lazysignal does not "
                                     "implement; leave them out.")


def _images(signals: Sequence[Any], arrays: Sequence[np.ndarray]) -> list[tuple[np.ndarray, Any, str]]:
    """(2-D array, signal, index label) for every image: stacks split into their frames."""
    out = []
    for s, data in zip(signals, arrays):
        am = s.axes_manager
        if am.signal_dimension == 0 and am.navigation_dimension == 2:
            s, data = s.T, data  # a navigation image (a BaseSignal of scalars): its data are the image
            am = s.axes_manager
        if am.signal_dimension != 2:
            raise PlotError(f"plot_images needs images (2 signal axes); {s!r} has {am.signal_dimension}. "
                            "Use s.as_signal2D((0, 1)) or s.T first.")
        nav_shape = data.shape[: data.ndim - 2]
        for index in np.ndindex(*nav_shape):
            label = f" {tuple(reversed(index))}" if nav_shape else ""
            out.append((data[index], s, label))
    return out


def _limit(value: Any, data: np.ndarray, low: bool) -> float | None:
    """A colour limit: None (data range), a number, or ``"Nth"`` (percentile of the values)."""
    if value is None:
        return None
    if isinstance(value, str):
        if not value.endswith("th"):
            raise PlotError(f"vmin/vmax strings are percentiles such as '1th'; got {value!r}.")
        pct = float(value[:-2])
        if not 0 <= pct <= 100:
            raise PlotError(f"vmin/vmax percentile must be within [0, 100]; got {value!r}.")
        return float(np.nanpercentile(data, pct if low else 100 - pct))
    return float(value)


def _per_image(value: Any, n: int, name: str) -> list[Any]:
    if isinstance(value, (list, tuple)):
        if not value:
            raise PlotError(f"{name} is an empty list; give one value or a list.")
        return [value[i % len(value)] for i in range(n)]
    return [value] * n


def _labels(label: Any, images: list[tuple[np.ndarray, Any, str]]) -> list[str | None]:
    n = len(images)
    if label is None:
        return [None] * n
    if label in ("auto", "titles"):
        return [(str(s.metadata.get_item("General.title", "")) or f"Image {i}") + suffix
                for i, (_, s, suffix) in enumerate(images)]
    if isinstance(label, str):
        return [f"{label} {i}" for i in range(n)]
    return [str(x) for x in _per_image(list(label), n, "label")]


def _split_shared_title(labels: list[str | None]) -> tuple[list[str | None], str | None]:
    """HyperSpy's ``label="auto"``: titles sharing a long beginning (over 40 % of the first)
    keep their own ends as labels, and the shared part becomes the figure title.

    >>> _split_shared_title(["Maps of S: Fe_Ka", "Maps of S: Pt_La"])
    (['Fe_Ka', 'Pt_La'], 'Maps of S')
    >>> _split_shared_title(["t (0,)", "t (1,)"])
    (['t (0,)', 't (1,)'], None)
    """
    titles = [t for t in labels if t]
    if len(titles) < 2 or len(titles) != len(labels):
        return labels, None
    common = os.path.commonprefix(titles)
    ends = [t[len(common):].strip() for t in titles]
    shared = common.rstrip(" :(")
    if not all(ends) or len(shared) <= 0.4 * len(titles[0]):
        return labels, None
    return list(ends), shared


def _add_scalebar(ax: Any, axis: Any, color: str) -> None:
    from matplotlib.font_manager import FontProperties
    from mpl_toolkits.axes_grid1.anchored_artists import AnchoredSizeBar

    width = abs(float(axis.axis[-1] - axis.axis[0])) if axis.size > 1 else 1.0
    raw = width / 5
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1.0
    length = min((m * magnitude for m in (1, 2, 5, 10)), key=lambda v: abs(v - raw))
    text = f"{length:g} {axis.units or ''}".strip()
    bar = AnchoredSizeBar(ax.transData, length, text, "lower left", pad=0.3, color=color, frameon=False,
                          size_vertical=width / 100, fontproperties=FontProperties(size=8))
    ax.add_artist(bar)


def plot_images(images: Any, cmap: Any = None, per_row: int = 3, label: Any = "auto",
                colorbar: str | None = "default", scalebar: Any = None, scalebar_color: str = "white",
                axes_decor: str | None = "all", suptitle: str | None = None, aspect: Any = "auto",
                fig: Any = None, vmin: Any = None, vmax: Any = None, **kwargs: Any) -> list[Any]:
    """Plot images side by side, ``per_row`` to a row; returns the axes.

    Parameters
    ----------
    images
        Signals with two signal axes (a stack gives one image per navigation position), or
        a navigation image (two navigation axes, no signal axis). Lazy ones are computed
        together, once.
    cmap
        A colormap (name) or a list of them, cycled through.
    per_row
        Images per row.
    label
        ``"titles"``: each signal's title (and its index in a stack); ``"auto"`` (default): the
        same, but titles sharing a long beginning show only their ends and the shared part
        becomes the figure title (unless ``suptitle`` is given), as HyperSpy does; a string:
        that prefix and the image number; a list: those labels; None: no titles.
    colorbar
        ``"default"``/``"multi"``: one per image; ``"single"``: one for all, on a common
        scale; None: none.
    scalebar
        None, ``"all"`` or a list of image numbers to draw a scale bar on.
    axes_decor
        ``"all"`` (ticks and axis labels), ``"ticks"`` (no axis labels), ``"off"`` (nothing),
        None (frame only).
    suptitle
        Figure title.
    aspect
        ``"auto"`` (equal for calibrated pixels), ``"equal"``, or a number (imshow's aspect).
    fig
        Draw into this figure.
    vmin, vmax
        Colour limits: numbers, ``"1th"``-style percentiles, or lists (one per image).
    **kwargs
        Passed to ``imshow`` (e.g. ``interpolation``).

    Returns
    -------
    list of matplotlib.axes.Axes
        One per image, in order.

    Examples
    --------
    >>> import numpy as np
    >>> from lazysignal.signals import Signal2D
    >>> a = Signal2D(np.arange(12.0).reshape(3, 4), metadata={"General": {"title": "Fe_Ka"}})
    >>> axes = plot_images([a, a.as_lazy() * 2], per_row=2)
    >>> [ax.get_title() for ax in axes], axes[1].images[0].get_array().max()
    (['Fe_Ka', 'Fe_Ka'], np.float64(22.0))
    """
    _reject_unsupported(kwargs, "plot_images")
    if colorbar not in ("default", "multi", "single", None):
        raise PlotError(f"colorbar must be 'default', 'multi', 'single' or None; got {colorbar!r}.")
    if axes_decor not in ("all", "ticks", "off", None):
        raise PlotError(f"axes_decor must be 'all', 'ticks', 'off' or None; got {axes_decor!r}.")
    if int(per_row) < 1:
        raise PlotError(f"per_row must be at least 1; got {per_row!r}.")
    images = as_signal_list(images, "plot_images")
    flat = _images(images, computed_data(images))
    n = len(flat)
    cmaps = _per_image(cmap, n, "cmap")
    if colorbar == "single" and len({str(c) for c in cmaps}) > 1:
        raise PlotError("colorbar='single' needs one colormap for all images; got several.")
    labels = _labels(label, flat)
    if label == "auto":
        labels, shared = _split_shared_title(labels)
        suptitle = suptitle if suptitle is not None else shared
    lows = [_limit(v, d, True) for v, (d, _, _) in zip(_per_image(vmin, n, "vmin"), flat)]
    highs = [_limit(v, d, False) for v, (d, _, _) in zip(_per_image(vmax, n, "vmax"), flat)]
    if colorbar == "single":
        low = min(float(np.nanmin(d)) if lo is None else lo for lo, (d, _, _) in zip(lows, flat))
        high = max(float(np.nanmax(d)) if hi is None else hi for hi, (d, _, _) in zip(highs, flat))
        lows, highs = [low] * n, [high] * n
    bars = set(range(n)) if scalebar == "all" else set(scalebar or [])
    rows, cols = math.ceil(n / per_row), min(n, int(per_row))
    fig = fig if fig is not None else plt.figure(figsize=(4 * cols, 3.6 * rows))
    axes = []
    for i, (data, s, _) in enumerate(flat):
        ax = fig.add_subplot(rows, cols, i + 1)
        x_axis, y_axis = s.axes_manager.signal_axes
        shown = np.abs(data) if np.iscomplexobj(data) else data
        image = ax.imshow(shown, cmap=cmaps[i], vmin=lows[i], vmax=highs[i], interpolation="nearest",
                          extent=image_extent(x_axis, y_axis),
                          aspect="equal" if aspect == "auto" else aspect, **kwargs)
        if labels[i] is not None:
            ax.set_title(labels[i])
        if axes_decor == "all":
            ax.set_xlabel(axis_label(x_axis))
            ax.set_ylabel(axis_label(y_axis))
        elif axes_decor == "off":
            ax.set_axis_off()
        elif axes_decor is None:
            ax.set_xticks([])
            ax.set_yticks([])
        if colorbar in ("default", "multi"):
            fig.colorbar(image, ax=ax)
        if i in bars:
            _add_scalebar(ax, x_axis, scalebar_color)
        axes.append(ax)
    if colorbar == "single":
        fig.colorbar(axes[-1].images[0], ax=axes)
    if suptitle:
        fig.suptitle(suptitle)
    return axes
