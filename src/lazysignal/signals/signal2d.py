"""Signal2D: two signal axes (images, diffraction patterns)."""

from __future__ import annotations

from ..signal import BaseSignal
from ..signal_registry import register_signal_class

__all__ = ["Signal2D"]


@register_signal_class
class Signal2D(BaseSignal):
    """A signal with two signal axes, e.g. a 4D-STEM stack (x, y|kx, ky).

    Examples
    --------
    >>> import numpy as np
    >>> Signal2D(np.zeros((8, 16, 256, 256), dtype="uint16"))
    <Signal2D, title: , dimensions: (16, 8|256, 256)>
    """

    _signal_dimension = 2
