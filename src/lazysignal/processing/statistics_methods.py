"""Statistics of a signal's values: ``get_histogram`` (lazy data: at most two passes).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..axes import DataAxis
from ..options import check_method_options
from ..signal_registry import signal_class_for
from . import histogram as _histogram

if TYPE_CHECKING:
    from ..signal_protocol import SignalLike as _Signal
else:
    _Signal = object

__all__ = ["StatisticsMixin"]


class StatisticsMixin(_Signal):
    """Histograms of the values of a signal."""

    def get_histogram(self, bins: Any = "fd", range_bins: tuple[float, float] | None = None,
                      max_num_bins: int = 250, out: Any = None, **kwargs: Any) -> Any:
        """Histogram of all the values (lazy data: at most two passes, result lazy).

        Parameters
        ----------
        bins
            ``"fd"``, ``"scott"`` (and numpy's other rules), an int, or an array of edges.
            ``"knuth"`` and ``"blocks"`` need all values in memory and raise on lazy data.
        range_bins
            (min, max) of the bins; default the data's range.
        max_num_bins
            Cap on the number of bins a rule may choose.
        out
            A signal with as many bins to receive the counts (written into its array when both
            are in memory; its ``data_changed`` fires); None is returned.
        **kwargs
            None are accepted (HyperSpy passes them to its histogram function, e.g.
            ``density``, ``weights``; ``rechunk`` for lazy data): each raises
            ``UnsupportedOptionError`` naming it.

        Returns
        -------
        Signal1D
            Counts, with a binned axis named ``"value"`` whose offset is the first edge.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> h = Signal1D(np.arange(10.0)).as_lazy().get_histogram(bins=2)
        >>> h.compute().data.tolist(), h.axes_manager[0].scale
        ([5, 5], 4.5)
        """
        check_method_options(kwargs, [], where="get_histogram",
                             hint="Normalise the counts afterwards (h / h.data.sum()) for a density.")
        counts, edges = _histogram.histogram(self.data, bins, range_bins, max_num_bins)
        widths = np.diff(edges)
        name = self.metadata.get_item("Signal.quantity", None) or "value"
        units = None
        if np.allclose(widths, widths[0], rtol=1e-9, atol=0):
            axis = DataAxis(size=counts.shape[0], name="value", units=units, scale=float(widths[0]),
                            offset=float(edges[0]), navigate=False, is_binned=True)
        else:
            axis = DataAxis(axis=edges[:-1], name="value", units=units, navigate=False, is_binned=True)
        hist = signal_class_for(1)(counts, axes=[axis])
        title = self.metadata.get_item("General.title", "")
        hist.metadata.set_item("General.title", f"{title} histogram".strip())
        hist.metadata.set_item("Signal.quantity", f"{name} counts" if name != "value" else "Counts")
        if out is not None:
            out._receive(hist.data)
            return None
        return hist
