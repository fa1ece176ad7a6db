"""``virtual_image``: each frame's sum under a detector mask (virtual bright/dark field).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import AxisError
from . import virtual_image as _virtual_image

if TYPE_CHECKING:
    from ..signal_protocol import SignalLike as _Signal
else:
    _Signal = object

__all__ = ["VirtualImageMixin"]


class VirtualImageMixin(_Signal):
    """Virtual detector images of 4D-STEM-like signals."""

    def virtual_image(self, mask: Any):
        """Each frame's sum under a detector ``mask``: a virtual bright-field or dark-field image.

        Parameters
        ----------
        mask
            Boolean mask (or weights) with the shape of one frame in numpy order (rows,
            columns); a boolean mask is summed over its bounding box only.

        Returns
        -------
        BaseSignal
            The navigation axes only (lazy if this signal is); ``.T`` makes it an image.
            Equal to ``(s * mask).sum(axis="signal")``, without the masked copy.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal2D
        >>> s = Signal2D(np.ones((3, 4, 8, 8), dtype="uint16")).as_lazy()
        >>> mask = np.zeros((8, 8), bool); mask[2:6, 2:6] = True
        >>> vbf = s.virtual_image(mask)
        >>> vbf
        <LazyBaseSignal, title: , dimensions: (4, 3|)>
        >>> int(vbf.compute().data[0, 0])
        16
        """
        if self.axes_manager.signal_dimension != 2:
            raise AxisError(
                f"virtual_image needs two signal axes (frames); this signal has "
                f"{self.axes_manager.signal_dimension}. Use as_signal2D first."
            )
        if self.axes_manager.navigation_dimension == 0:
            raise AxisError("virtual_image needs navigation axes: this signal is a single frame; "
                            "use (s * mask).sum(axis='signal').")
        data = _virtual_image.virtual_image(self.data, mask)
        axes = [a.copy() for a in self.axes_manager._axes if a.navigate]
        return self._new_like(data, axes)
