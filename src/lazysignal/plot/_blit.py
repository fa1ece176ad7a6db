"""Redraw only the artists that change (blitting), on any matplotlib backend.

A moving cursor or a new spectrum must not re-render the rest of a figure (a navigator
image of 512 x 512 pixels, tick labels, a colorbar). The changing artists are marked
*animated*: a full draw leaves them out, this module saves the rendered background and
draws them on top; an update restores the background, draws them and blits. Backends
without blitting (or before the first full draw, or after a resize or a ``savefig`` at
another dpi) fall back to ``draw_idle``, which redraws everything once.

*Static* artists (a colorbar, a spectrum's y axis) change rarely: they are drawn once over
the background into a second saved layer, redrawn only when an update says so
(``update(static=True)``: new colour or value range), so a new range costs the colorbar or
the tick labels, not the whole figure.
"""

from __future__ import annotations

from typing import Any

from matplotlib.artist import Artist
from matplotlib.figure import Figure

__all__ = ["BlitManager"]


class BlitManager:
    """The animated artists of one figure and the background they are drawn over.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> fig, ax = plt.subplots()
    >>> line, = ax.plot([0, 1], [0, 1])
    >>> blit = BlitManager(fig); _ = blit.add(line)
    >>> fig.canvas.draw()                 # full draw: the background is saved
    >>> line.set_ydata([1, 0]); blit.update()
    >>> blit.blits
    1
    >>> plt.close(fig)
    """

    def __init__(self, figure: Figure):
        self.figure = figure
        self.artists: list[Artist] = []
        self.static_artists: list[Artist] = []
        self._layered: Any = None     # the background with the static artists drawn on it
        self.blits = 0          # updates done by blitting (for tests and benchmarks)
        self.full_draws = 0     # updates that had to redraw the whole figure
        self.static_draws = 0   # updates that redrew the static artists (a new range)
        self._background: Any = None
        self._key: Any = None
        self._cid = figure.canvas.mpl_connect("draw_event", self._on_draw)

    def add(self, artist: Artist, static: bool = False) -> Artist:
        """Mark ``artist`` animated and draw it over the saved background from now on.

        ``static``: it changes rarely; it is redrawn only by ``update(static=True)``.
        """
        artist.set_animated(True)
        (self.static_artists if static else self.artists).append(artist)
        self._layered = None
        return artist

    def remove(self, artist: Artist) -> None:
        """Stop managing ``artist`` (it is not removed from its axes)."""
        for group in (self.artists, self.static_artists):
            if artist in group:
                group.remove(artist)
        self._layered = None

    def _state(self) -> tuple[int, tuple[float, ...], float]:
        canvas = self.figure.canvas
        return id(canvas), tuple(self.figure.bbox.size), self.figure.dpi

    def _on_draw(self, event: Any) -> None:
        canvas = self.figure.canvas
        if event is not None and event.canvas is canvas and getattr(canvas, "supports_blit", False):
            try:
                self._background = canvas.copy_from_bbox(self.figure.bbox)
                self._key = self._state()
            except (AttributeError, NotImplementedError, RuntimeError):
                self._background = None
        self._layered = None
        renderer = event.renderer if event is not None else None
        if renderer is None:
            return
        for artist in self.static_artists + self.artists:
            if artist.get_visible() and artist.figure is not None:
                artist.draw(renderer)

    def update(self, full: bool = False, static: bool = False) -> None:
        """Show the current state of the animated artists.

        ``static``: redraw the static artists too; ``full``: redraw the whole figure.
        """
        canvas: Any = self.figure.canvas
        if full or self._background is None or self._key != self._state():
            self.full_draws += 1
            canvas.draw_idle()
            return
        if static or self._layered is None:
            canvas.restore_region(self._background)
            for artist in self.static_artists:
                if artist.get_visible() and artist.figure is not None:
                    self.figure.draw_artist(artist)
            self._layered = canvas.copy_from_bbox(self.figure.bbox) if self.static_artists else self._background
            self.static_draws += static
        else:
            canvas.restore_region(self._layered)
        for artist in self.artists:
            if artist.get_visible() and artist.figure is not None:
                self.figure.draw_artist(artist)
        canvas.blit(self.figure.bbox)
        self.blits += 1

    def disconnect(self) -> None:
        """Stop listening to the figure's draws."""
        self.figure.canvas.mpl_disconnect(self._cid)
