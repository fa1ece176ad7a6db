"""Regions of interest: select part of a signal by calibrated values, lazily on lazy data.

One class per shape; each is called on a signal (``roi(s)``) and fires
``roi.events.changed`` when moved, which :func:`lazysignal.interactive` listens to.

Examples
--------
>>> import numpy as np, lazysignal as ls
>>> s = ls.signals.Signal1D(np.ones((20, 20, 8))).as_lazy()
>>> roi = ls.roi.RectangularROI(left=2, top=2, right=6, bottom=5)
>>> roi(s)
<LazySignal1D, title: , dimensions: (4, 3|8)>
"""

from .base import BaseROI
from .circle import CircleROI
from .line2d import Line2DROI
from .point1d import Point1DROI
from .point2d import Point2DROI
from .polygon import PolygonROI
from .rectangle import RectangularROI
from .span import SpanROI

__all__ = ["BaseROI", "Point1DROI", "Point2DROI", "SpanROI", "RectangularROI", "CircleROI",
           "Line2DROI", "PolygonROI"]
