"""The processing methods of signals (map, rebin, histogram, ...), mixed into BaseSignal."""

from __future__ import annotations

__all__ = ["ProcessingMixin"]


class ProcessingMixin:
    """Signal methods that call the array functions of :mod:`lazysignal.processing`."""
