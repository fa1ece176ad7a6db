"""``s.plot()``: the plotting method of signals, mixed into BaseSignal.

Chooses the navigator as HyperSpy does: ``"auto"`` takes the stored navigator (lazy data:
``compute_navigator()`` first, which sums ONE signal chunk and stores the result), eager
data sum over the signal axes; ``"slider"`` shows sliders only; ``None`` no navigator; a
signal is used when its shape fits the navigation shape (all of it, its first two axes or
its first axis). Then builds an :class:`~lazysignal.plot.explorer.Explorer`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import PlotError, UnsupportedOptionError
from ..xray.lines import line_energy

if TYPE_CHECKING:
    from ..signal_protocol import SignalLike as _Signal
else:
    _Signal = object

__all__ = ["PlotMixin"]

_SIGNAL_OPTIONS = ("autoscale", "cmap", "colorbar", "vmin", "vmax")
_NAVIGATOR_OPTIONS = ("navigator_cmap",)
_MARKER_OPTIONS = ("xray_lines",)


class PlotMixin(_Signal):
    """The ``plot`` method of signals."""

    def plot(self, navigator: Any = "auto", axes_manager: Any = None, **kwargs: Any) -> Any:
        """Plot the signal at the current navigation position and a navigator to move it.

        Parameters
        ----------
        navigator
            ``"auto"``: the stored navigator (``s.navigator``; for lazy data computed by
            ``compute_navigator()`` from one signal chunk and stored), or for eager data the
            sum over the signal axes. ``"slider"``: sliders only. ``None``: no navigator. A
            signal whose shape is the navigation shape (or its first two / first axis).
        axes_manager
            Navigate with this axes manager (same navigation shape) instead of the signal's
            own: plots sharing one axes manager move together.
        **kwargs
            ``autoscale`` (value range follows the data, default True), ``cmap``,
            ``colorbar``, ``vmin``, ``vmax`` for the signal; ``navigator_cmap``; for EDS
            spectra ``xray_lines`` (True: the lines of ``metadata.Sample``; or a list of
            line names) marks the lines on the spectrum.

        Returns
        -------
        Explorer
            The figures (``.navigator.figure``, ``.signal_view.figure``), the chunk cache of
            lazy data (``.cache``) and ``close()``. Also kept as ``s._plot``.

        Raises
        ------
        PlotError
            Ragged data, a signal dimension other than 1 or 2, a navigator that does not fit.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.arange(4 * 5 * 8.0).reshape(4, 5, 8)).as_lazy(chunks=(2, 5, 8))
        >>> p = s.plot()
        >>> p.navigator.image.get_array().shape, p.signal_view.data.tolist()[:3]
        ((4, 5), [0.0, 1.0, 2.0])
        >>> s.axes_manager.indices = (1, 2)
        >>> p.signal_view.data.tolist()[:3]
        [88.0, 89.0, 90.0]
        >>> p.close()
        """
        from .explorer import Explorer

        s: Any = self  # a signal (this is its mixin)

        unknown = set(kwargs) - set(_SIGNAL_OPTIONS) - set(_NAVIGATOR_OPTIONS) - set(_MARKER_OPTIONS)
        if unknown:
            raise UnsupportedOptionError(
                f"plot() does not know {sorted(unknown)}; it accepts navigator, axes_manager and "
                f"{sorted(_SIGNAL_OPTIONS + _NAVIGATOR_OPTIONS + _MARKER_OPTIONS)}.")
        xray_lines = kwargs.pop("xray_lines", False)
        markers = s._plot_xray_markers(xray_lines)
        if getattr(s, "ragged", False):
            raise PlotError("A ragged signal (an object array of varying lengths per position) cannot be "
                            "plotted; map it to a regular signal first (e.g. s.map(len, ragged=False)).")
        am = s.axes_manager
        if am.signal_dimension not in (1, 2):
            raise PlotError(
                f"plot shows 1 or 2 signal axes; this signal has {am.signal_dimension} "
                f"{am.dimensions}. Use s.transpose(signal_axes=1) or s.transpose(signal_axes=2) first.")
        nav_am = am if axes_manager is None else axes_manager
        if tuple(nav_am.navigation_shape) != tuple(am.navigation_shape):
            raise PlotError(f"axes_manager has navigation shape {tuple(nav_am.navigation_shape)}; this "
                            f"signal navigates {tuple(am.navigation_shape)}. They must be equal.")
        nav_data, mode = s._plot_navigator(navigator)
        previous = getattr(s, "_plot", None)
        if previous is not None:
            previous.close()
        signal_kwargs = {k: v for k, v in kwargs.items() if k in _SIGNAL_OPTIONS}
        if am.signal_dimension == 1:
            for name in ("cmap", "colorbar"):
                if name in signal_kwargs:
                    raise UnsupportedOptionError(f"{name}= applies to images; this signal is a spectrum.")
        navigator_kwargs = {"cmap": kwargs["navigator_cmap"]} if "navigator_cmap" in kwargs else {}
        title = str(s.metadata.get_item("General.title", "") or "")
        quantity = str(s.metadata.get_item("Signal.quantity", "") or "")

        def forget() -> None:
            if getattr(s, "_plot", None) is explorer:
                s._plot = None

        summed = navigator is not None and isinstance(navigator, str) and navigator == "auto" \
            and not s.lazy and s.navigator is None and mode in ("image", "line")
        replot_kwargs = dict(kwargs, xray_lines=xray_lines)

        def replot() -> Any:
            return s.plot(navigator=navigator, axes_manager=axes_manager, **replot_kwargs)

        explorer = Explorer(s, nav_am, nav_data, mode, title=title, quantity=quantity,
                            signal_kwargs=signal_kwargs, navigator_kwargs=navigator_kwargs, on_close=forget,
                            navigator_source=s._summed_navigator if summed else None, replot=replot)
        s._plot = explorer
        if markers:
            explorer.signal_view.add_line_markers(*markers)
        return explorer

    def _plot_xray_markers(self: Any, xray_lines: Any) -> tuple[list[float], list[str]] | None:
        """Energies and names of the X-ray lines to mark (``plot(xray_lines=...)`` of EDS signals)."""
        if xray_lines is False or xray_lines is None:
            return None
        if not hasattr(self, "_xray_lines"):
            raise UnsupportedOptionError(
                "xray_lines= marks X-ray lines on EDS spectra; set the signal type first "
                "(s.set_signal_type('EDS_TEM')) and add elements (s.add_elements([...])).")
        names = self._xray_lines(None if xray_lines is True else xray_lines)
        energies = [line_energy(name) * self._keV() for name in names]
        return energies, names

    # -- decomposition figures ------------------------------------------------------------
    def plot_explained_variance_ratio(self: Any, n: int = 30, log: bool = True, fig: Any = None,
                                      ax: Any = None) -> Any:
        """Scree plot: the explained variance ratio of the first ``n`` components (log scale).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.random.default_rng(0).random((6, 5, 10))).as_lazy()
        >>> s.decomposition(print_info=False)
        >>> ax = s.plot_explained_variance_ratio(n=4)
        >>> len(ax.lines[0].get_ydata()), ax.get_yscale()
        (4, 'log')
        """
        from . import decomposition as _decomposition  # matplotlib on first use

        ratio = self.get_explained_variance_ratio()
        title = str(ratio.metadata.get_item("General.title", ""))
        return _decomposition.plot_ratio(ratio.data, n=n, log=log, title=title, fig=fig, ax=ax)

    def plot_decomposition_factors(self: Any, comp_ids: Any = None, per_row: int = 3, cmap: Any = "gray",
                                   title: str | None = None) -> Any:
        """Plot decomposition factors: lines for spectra, images for 2-D signals.

        ``comp_ids``: None (all, when at most 30), an int n (the first n) or a list.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.random.default_rng(0).random((6, 5, 10)))
        >>> s.decomposition(output_dimension=3, print_info=False)
        >>> [line.get_label() for line in s.plot_decomposition_factors(2).lines]
        ['Factor 0', 'Factor 1']
        """
        from . import decomposition as _decomposition  # matplotlib on first use

        factors = self.get_decomposition_factors()
        ids = _decomposition.component_ids(comp_ids, factors.data.shape[0])
        return _decomposition.plot_components(factors, ids, label="Factor", per_row=per_row, cmap=cmap,
                                              title=title)

    def plot_decomposition_loadings(self: Any, comp_ids: Any = None, per_row: int = 3, cmap: Any = "gray",
                                    title: str | None = None) -> Any:
        """Plot decomposition loadings: images for 2 navigation axes, lines for 1.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.random.default_rng(0).random((6, 5, 10)))
        >>> s.decomposition(output_dimension=3, print_info=False)
        >>> [ax.get_title() for ax in s.plot_decomposition_loadings([0, 2])]
        ['Loading 0', 'Loading 2']
        """
        from . import decomposition as _decomposition  # matplotlib on first use

        loadings = self.get_decomposition_loadings()
        ids = _decomposition.component_ids(comp_ids, loadings.data.shape[0])
        return _decomposition.plot_components(loadings, ids, label="Loading", per_row=per_row, cmap=cmap,
                                              title=title)

    def _summed_navigator(self: Any) -> np.ndarray:
        """Eager data summed over the signal axes (HyperSpy's default navigator)."""
        nav_ndim = self.axes_manager.navigation_dimension
        return np.asarray(self.data).sum(axis=tuple(range(nav_ndim, self.data.ndim)))

    def _plot_navigator(self: Any, navigator: Any) -> tuple[np.ndarray | None, str | None]:
        """Navigator values (numpy order) and the navigator mode for ``plot``."""
        am = self.axes_manager
        nav_shape = tuple(am.navigation_shape)
        nav_ndim = len(nav_shape)
        if nav_ndim == 0 or navigator is None:
            return None, None
        uniform = all(a.is_uniform for a in am.navigation_axes[:2])
        shown_mode = "line" if nav_ndim == 1 else ("image" if uniform else "slider")
        if isinstance(navigator, str):
            if navigator == "slider":
                return None, "slider"
            if navigator != "auto":
                raise PlotError(f"navigator must be 'auto', 'slider', None or a signal; got {navigator!r}.")
            if shown_mode == "slider":
                return None, "slider"
            if self.navigator is not None:
                navigator = self.navigator
            elif self.lazy:
                self.compute_navigator()
                navigator = self.navigator
            else:
                return self._summed_navigator(), shown_mode
        if not hasattr(navigator, "data") or not hasattr(navigator, "axes_manager"):
            raise PlotError(f"navigator must be 'auto', 'slider', None or a signal; got {type(navigator).__name__}.")
        user_shape = tuple(reversed(navigator.data.shape))
        fits = [nav_shape, nav_shape[:2], nav_shape[:1]]
        if user_shape not in fits or (nav_ndim > 1 and user_shape == nav_shape[:1]):
            raise PlotError(
                f"The navigator has shape {user_shape} (x first) but this signal navigates {nav_shape}: give "
                f"a navigator of shape {nav_shape}" + (f" or {nav_shape[:2]}" if nav_ndim > 2 else "")
                + ", navigator='slider', or navigator=None.")
        data = navigator.data
        return np.asarray(data.compute() if getattr(navigator, "lazy", False) else data), shown_mode
