"""``plot_spectra`` (several spectra in one figure) and ``plot_signals`` (one shared navigator).

HyperSpy's styles: ``"overlap"`` (lines on one axes), ``"cascade"`` (each shifted up by
``padding`` times the largest range), ``"mosaic"`` (one axes each, stacked), ``"heatmap"``
(one image, a row per spectrum). Lazy spectra are computed together, once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from ..errors import PlotError
from .images import _per_image, _reject_unsupported, as_signal_list, computed_data
from .signal_view import axis_label

__all__ = ["plot_spectra", "plot_signals"]

_STYLES = ("overlap", "cascade", "mosaic", "heatmap")


def _spectra(spectra: Sequence[Any]) -> list[tuple[np.ndarray, Any, str]]:
    """(1-D array, signal, title) of every spectrum; a spectrum image gives one per position."""
    out = []
    for s, data in zip(spectra, computed_data(spectra)):
        if s.axes_manager.signal_dimension != 1:
            raise PlotError(f"plot_spectra needs spectra (1 signal axis); {s!r} has "
                            f"{s.axes_manager.signal_dimension}. Use s.as_signal1D(axis) first.")
        title = str(s.metadata.get_item("General.title", ""))
        nav_shape = data.shape[:-1]
        for index in np.ndindex(*nav_shape):
            out.append((data[index], s, f"{title} {tuple(reversed(index))}".strip() if nav_shape else title))
    return out


def plot_spectra(spectra: Any, style: str = "overlap", color: Any = None, linestyle: Any = None,
                 drawstyle: str = "default", padding: float = 1.0, legend: Any = None,
                 legend_loc: str = "upper right", fig: Any = None, ax: Any = None, **kwargs: Any) -> Any:
    """Plot several spectra in one figure.

    Parameters
    ----------
    spectra
        Signals with one signal axis; one with navigation axes gives a spectrum per position.
    style
        ``"overlap"``, ``"cascade"``, ``"mosaic"`` or ``"heatmap"``.
    color, linestyle
        One matplotlib value or a list (cycled) for the lines.
    drawstyle
        matplotlib's line drawstyle (``"steps-mid"`` for histograms).
    padding
        ``"cascade"``: the shift between spectra, in units of the largest range.
    legend
        None, ``"auto"`` (the titles) or a list of labels.
    legend_loc
        Where the legend goes.
    fig, ax
        Draw into this figure, or into this axes (``"overlap"``, ``"cascade"``, ``"heatmap"``).
    **kwargs
        ``"heatmap"``: passed to ``imshow`` (e.g. ``cmap``).

    Returns
    -------
    matplotlib.axes.Axes or list of Axes
        The axes; ``"mosaic"`` gives one per spectrum.

    Examples
    --------
    >>> import numpy as np
    >>> from lazysignal.signals import Signal1D
    >>> s = Signal1D(np.arange(12.0).reshape(3, 4)).as_lazy()
    >>> ax = plot_spectra(s, style="cascade", padding=0.5)
    >>> [line.get_ydata().tolist()[0] for line in ax.lines]
    [0.0, 5.5, 11.0]
    """
    _reject_unsupported(kwargs, "plot_spectra")
    if style not in _STYLES:
        raise PlotError(f"style must be one of {_STYLES}; got {style!r}.")
    spectra = as_signal_list(spectra, "plot_spectra")
    if style != "heatmap" and kwargs:
        raise PlotError(f"plot_spectra passes extra options to imshow only for style='heatmap'; "
                        f"got {sorted(kwargs)} with style={style!r}.")
    items = _spectra(spectra)
    n = len(items)
    colors = _per_image(color, n, "color")
    styles = _per_image(linestyle, n, "linestyle")
    if legend is None:
        labels = None
    elif legend == "auto":
        labels = [title or f"Spectrum {i}" for i, (_, _, title) in enumerate(items)]
    else:
        labels = [str(x) for x in _per_image(list(legend), n, "legend")]
    axis = items[0][1].axes_manager.signal_axes[0]
    if style == "mosaic":
        fig = fig if fig is not None else plt.figure(figsize=(6, 1.6 * n + 1))
        axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0].tolist()
        for i, (data, s, _) in enumerate(items):
            x = np.asarray(s.axes_manager.signal_axes[0].axis)
            axes[i].plot(x, data, color=colors[i], linestyle=styles[i], drawstyle=drawstyle,
                         label=labels[i] if labels else None)
            if labels:
                axes[i].legend(loc=legend_loc)
        axes[-1].set_xlabel(axis_label(axis))
        return axes
    if ax is None:
        fig = fig if fig is not None else plt.figure()
        ax = fig.add_subplot(111)
    if style == "heatmap":
        sizes = {d.shape[0] for d, _, _ in items}
        if len(sizes) > 1:
            raise PlotError(f"style='heatmap' needs spectra of one length; got lengths {sorted(sizes)}.")
        x = np.asarray(axis.axis)
        step = float(x[1] - x[0]) if x.size > 1 else 1.0
        image = ax.imshow(np.stack([d for d, _, _ in items]), aspect="auto", interpolation="nearest",
                          extent=(x[0] - step / 2, x[-1] + step / 2, n - 0.5, -0.5), **kwargs)
        ax.set_xlabel(axis_label(axis))
        ax.set_ylabel("Spectrum")
        ax.figure.colorbar(image, ax=ax)
        return ax
    shift = 0.0
    if style == "cascade":
        ranges = [float(np.nanmax(d) - np.nanmin(d)) for d, _, _ in items]
        shift = padding * max(ranges)
    for i, (data, s, _) in enumerate(items):
        x = np.asarray(s.axes_manager.signal_axes[0].axis)
        ax.plot(x, data + i * shift, color=colors[i], linestyle=styles[i], drawstyle=drawstyle,
                label=labels[i] if labels else None)
    ax.set_xlabel(axis_label(axis))
    quantity = items[0][1].metadata.get_item("Signal.quantity", "")
    ax.set_ylabel(str(quantity or ""))
    if labels:
        ax.legend(loc=legend_loc)
    return ax


def plot_signals(signals: Any, navigator: Any = "auto", **kwargs: Any) -> list[Any]:
    """Plot several signals that move together under one navigator.

    All signals need the same navigation shape; the first one's navigator (``navigator``,
    as in ``s.plot``) drives all of them through its axes manager.

    Parameters
    ----------
    signals
        Signals with equal navigation shapes.
    navigator
        As ``s.plot(navigator=...)`` for the first signal.
    **kwargs
        Passed to every ``s.plot`` (e.g. ``autoscale``).

    Returns
    -------
    list of Explorer
        One per signal (the first holds the navigator).

    Examples
    --------
    >>> import numpy as np
    >>> from lazysignal.signals import Signal1D
    >>> a = Signal1D(np.arange(24.0).reshape(2, 3, 4))
    >>> plots = plot_signals([a, a * 10])
    >>> a.axes_manager.indices = (2, 1)
    >>> plots[1].signal_view.data.tolist()
    [200.0, 210.0, 220.0, 230.0]
    """
    signals = as_signal_list(signals, "plot_signals")
    shape = tuple(signals[0].axes_manager.navigation_shape)
    for s in signals[1:]:
        if tuple(s.axes_manager.navigation_shape) != shape:
            raise PlotError(f"plot_signals needs equal navigation shapes; {signals[0]!r} navigates {shape}, "
                            f"{s!r} navigates {tuple(s.axes_manager.navigation_shape)}.")
    first = signals[0].plot(navigator=navigator, **kwargs)
    am = signals[0].axes_manager
    return [first] + [s.plot(navigator=None, axes_manager=am, **kwargs) for s in signals[1:]]
