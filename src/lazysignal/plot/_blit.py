"""Redraw only the artists that change (blitting), on any matplotlib backend.

A moving cursor or a new spectrum must not re-render the rest of a figure (a navigator
image of 512 x 512 pixels, tick labels, a colorbar). The changing artists are marked
*animated*: a full draw leaves them out, this module saves the rendered background and
draws them on top; an update restores the background, draws them and blits. Backends
without blitting (or before the first full draw, or after a resize or a ``savefig`` at
another dpi) fall back to ``draw_idle``, which redraws everything once.
"""

from __future__ import annotations

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
        self.blits = 0          # updates done by blitting (for tests and benchmarks)
        self.full_draws = 0     # updates that had to redraw the whole figure
        self._background = None
        self._key = None
        self._cid = figure.canvas.mpl_connect("draw_event", self._on_draw)

    def add(self, artist: Artist) -> Artist:
        """Mark ``artist`` animated and draw it over the saved background from now on."""
        artist.set_animated(True)
        self.artists.append(artist)
        return artist

    def remove(self, artist: Artist) -> None:
        """Stop managing ``artist`` (it is not removed from its axes)."""
        if artist in self.artists:
            self.artists.remove(artist)

    def _state(self):
        canvas = self.figure.canvas
        return id(canvas), tuple(self.figure.bbox.size), self.figure.dpi

    def _on_draw(self, event) -> None:
        canvas = self.figure.canvas
        if event is not None and event.canvas is canvas and getattr(canvas, "supports_blit", False):
            try:
                self._background = canvas.copy_from_bbox(self.figure.bbox)
                self._key = self._state()
            except (AttributeError, NotImplementedError, RuntimeError):
                self._background = None
        renderer = event.renderer if event is not None else None
        if renderer is None:
            return
        for artist in self.artists:
            if artist.get_visible() and artist.figure is not None:
                artist.draw(renderer)

    def update(self, full: bool = False) -> None:
        """Show the current state of the animated artists (``full``: redraw everything)."""
        canvas = self.figure.canvas
        if full or self._background is None or self._key != self._state():
            self.full_draws += 1
            canvas.draw_idle()
            return
        canvas.restore_region(self._background)
        for artist in self.artists:
            if artist.get_visible() and artist.figure is not None:
                self.figure.draw_artist(artist)
        canvas.blit(self.figure.bbox)
        self.blits += 1

    def disconnect(self) -> None:
        """Stop listening to the figure's draws."""
        self.figure.canvas.mpl_disconnect(self._cid)
