"""The navigator/signal pair of ``s.plot()``, bound to the signal's events.

The axes manager's ``indices`` is the position; its ``indices_changed`` event moves the
cursor and shows the signal there. For lazy data the signal comes from a
:class:`~lazysignal.plot.chunk_cache.ChunkCache` (the navigation chunk at the cursor and
its prefetched neighbours); ``data_changed`` empties the cache and redraws (a navigator
summed from eager data is summed again; data of a new shape get a new plot). Arrow keys on
either figure move the position: left/right the first navigation axis, up/down the
second, shift+arrows the third and fourth; page up/down change the step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from ..preferences import preferences
from .chunk_cache import ChunkCache
from .navigator import NavigatorView
from .signal_view import SignalView

__all__ = ["Explorer", "KEYS"]

#: Key -> (navigation axis in the user's order, direction).
KEYS = {
    "left": (0, -1), "right": (0, 1), "up": (1, -1), "down": (1, 1),
    "4": (0, -1), "6": (0, 1), "8": (1, -1), "2": (1, 1),
    "shift+left": (2, -1), "shift+right": (2, 1), "shift+up": (3, -1), "shift+down": (3, 1),
}


class Explorer:
    """The figures of one plotted signal and the listeners that keep them current.

    Parameters
    ----------
    signal
        The signal (duck-typed: ``data``, ``lazy``, ``axes_manager``, ``events``).
    axes_manager
        The axes manager whose position is shown (the signal's own, or one shared by
        several plots).
    navigator_data, navigator_mode
        Navigator values (numpy order) and ``"image"``/``"line"``/``"slider"``, or None for
        no navigator figure.
    title, quantity
        Labels.
    signal_kwargs
        Passed to :class:`~lazysignal.plot.signal_view.SignalView`.
    """

    def __init__(self, signal: Any, axes_manager: Any, navigator_data: Any, navigator_mode: str | None, *, title: str = "",
                 quantity: str = "", signal_kwargs: dict[str, Any] | None = None,
                 navigator_kwargs: dict[str, Any] | None = None,
                 on_close: Callable[[], None] | None = None,
                 navigator_source: Callable[[], np.ndarray] | None = None,
                 replot: Callable[[], object] | None = None) -> None:
        self.signal = signal
        self.axes_manager = axes_manager
        self.step = 1
        self._on_close = on_close
        self._navigator_source = navigator_source
        self._replot = replot
        self._shape = tuple(signal.data.shape)
        self._closed = False
        self.cache: ChunkCache | None = None
        nav_ndim = len(signal.axes_manager.navigation_axes)
        if signal.lazy and nav_ndim:
            self.cache = ChunkCache(signal.data, nav_ndim, max_bytes=preferences.plot_cache_bytes)
        self.navigator: NavigatorView | None = None
        if navigator_mode is not None and nav_ndim:
            self.navigator = NavigatorView(axes_manager, navigator_data, mode=navigator_mode, title=title,
                                           **(navigator_kwargs or {}))
        sig_axes = list(signal.axes_manager.signal_axes)
        self.signal_view = SignalView(sig_axes, self.current_data(), title=title, quantity=quantity,
                                      **(signal_kwargs or {}))
        self._cids = []
        for figure in self.figures:
            self._cids.append((figure, figure.canvas.mpl_connect("key_press_event", self._on_key)))
        self._cids.append((self.signal_view.figure,
                           self.signal_view.figure.canvas.mpl_connect("close_event", lambda event: self.close())))
        axes_manager.events.indices_changed.connect(self.update, [])
        signal.events.data_changed.connect(self._on_data_changed, [])
        for figure in self.figures:
            figure.canvas.draw_idle()

    @property
    def is_active(self) -> bool:
        """Whether the figures are open and follow the signal."""
        return not self._closed

    @property
    def figures(self) -> list[Any]:
        """The navigator figure (if any) and the signal figure."""
        return ([self.navigator.figure] if self.navigator is not None else []) + [self.signal_view.figure]

    def _nav_index(self) -> tuple[int, ...]:
        return tuple(reversed(tuple(self.axes_manager.indices)))

    def current_data(self, defer_prefetch: bool = False) -> np.ndarray:
        """The signal at the current position (numpy, numpy axis order)."""
        data = self.signal.data
        if not len(self.signal.axes_manager.navigation_axes):
            return np.asarray(data.compute() if self.signal.lazy else data)
        if self.cache is not None:
            return self.cache.get(self._nav_index(), defer_prefetch=defer_prefetch)
        return np.asarray(data[self._nav_index()])

    def update(self) -> None:
        """Show the current position in both figures."""
        if self._closed:
            return
        if self.navigator is not None:
            self.navigator.update()
        self.signal_view.update(self.current_data(defer_prefetch=True))
        if self.cache is not None:  # background reads start once the frame is drawn
            self.cache.start_prefetch()

    def _on_data_changed(self) -> None:
        if tuple(self.signal.data.shape) != self._shape:
            # New axes (a crop, a rebin in place): these figures no longer fit; plot afresh.
            self.close()
            if self._replot is not None:
                self._replot()
            return
        if self.cache is not None:
            self.cache.reset(self.signal.data)
        if self.navigator is not None and self._navigator_source is not None:
            self.navigator.set_data(self._navigator_source())
        self.update()

    def _on_key(self, event: Any) -> None:
        key = event.key
        if key in ("pageup", "pagedown"):
            self.step = self.step + 1 if key == "pageup" else max(1, self.step - 1)
            return
        if key not in KEYS:
            return
        axis, direction = KEYS[key]
        nav_axes = self.axes_manager.navigation_axes
        if axis >= len(nav_axes):
            return
        indices = list(self.axes_manager.indices)
        indices[axis] = int(np.clip(indices[axis] + direction * self.step, 0, nav_axes[axis].size - 1))
        if tuple(indices) != tuple(self.axes_manager.indices):
            self.axes_manager.indices = tuple(indices)

    def close(self) -> None:
        """Disconnect from the signal and close both figures."""
        if self._closed:
            return
        self._closed = True
        for event, callback in ((self.axes_manager.events.indices_changed, self.update),
                                (self.signal.events.data_changed, self._on_data_changed)):
            if callback in event.connected:
                event.disconnect(callback)
        for figure, cid in self._cids:
            figure.canvas.mpl_disconnect(cid)
        if self.cache is not None:
            self.cache.close()
        if self.navigator is not None:
            self.navigator.close()
        self.signal_view.blit.disconnect()
        plt.close(self.signal_view.figure)
        if self._on_close is not None:
            self._on_close()
