"""Signal classes by dimension and type; importing this package registers them."""

from ..signal import BaseSignal
from .signal1d import Signal1D
from .signal2d import Signal2D
from .eds import EDSSEMSpectrum, EDSSpectrum, EDSTEMSpectrum

__all__ = ["BaseSignal", "Signal1D", "Signal2D", "EDSSpectrum", "EDSTEMSpectrum", "EDSSEMSpectrum"]
