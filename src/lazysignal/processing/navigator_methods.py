"""The navigator in one place: computed (``compute_navigator``), stored, forgotten when the data change.

The stored navigator sits where HyperSpy keeps it, ``metadata._HyperSpy.navigator`` (so
``save`` writes it and ``load`` brings it back), but it is not part of what new signals copy:
``_new_like`` leaves out :attr:`NavigatorMixin._metadata_not_copied`, so operations never
deep-copy it. Copies of the same values (``copy``, ``deepcopy``, ``as_lazy``, ``rechunk``)
share it; ``_replace`` forgets it when the data's values or axes change.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..array_ops import is_lazy
from ..axes import DataAxis
from ..errors import AxisError
from ..lazy import compute_arrays
from ..signal_registry import signal_class_for
from . import navigator as _navigator

if TYPE_CHECKING:
    from ..signal_protocol import SignalLike as _Signal
else:
    _Signal = object

__all__ = ["NavigatorMixin"]


class NavigatorMixin(_Signal):
    """The stored navigator image and the method that computes it."""

    #: Metadata paths that new signals do not copy: the navigator belongs to these data.
    _metadata_not_copied: tuple[str, ...] = ("_HyperSpy.navigator",)

    @property
    def navigator(self) -> Any:
        """The navigator image (a signal) that ``plot`` shows, or None.

        Set by :meth:`compute_navigator` or by assignment. Kept where HyperSpy keeps it,
        ``metadata._HyperSpy.navigator``, so it is saved with the file and loaded back; but new
        signals made by operations do not copy it (only ``copy``, ``deepcopy``, ``as_lazy``
        and ``rechunk`` share it: same values), and it is forgotten when the data change.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.ones((3, 4, 10)))
        >>> s.navigator = s.sum(axis="signal")
        >>> s.navigator.data.shape, s.isig[2:5].navigator
        ((3, 4), None)
        >>> s += 1; s.navigator is None
        True
        """
        return self.metadata.get_item("_HyperSpy.navigator", None)

    @navigator.setter
    def navigator(self, navigator: Any) -> None:
        if navigator is None:
            self._forget_navigator()
        else:
            self.metadata.set_item("_HyperSpy.navigator", navigator)

    def _forget_navigator(self) -> None:
        """Drop the stored navigator (the mutation point calls this when the values change)."""
        if self.metadata.has_item("_HyperSpy.navigator"):
            del self.metadata._HyperSpy.navigator

    def compute_navigator(self, index: Any = None, chunks_number: Any = None,
                          show_progressbar: bool | None = None) -> None:
        """Compute the navigator image from ONE signal chunk and store it in ``s.navigator``.

        The navigator is the sum over the signal chunk that contains ``index`` in every signal
        axis (as seed 004 describes): only that chunk column of the data is read, and nothing
        is rechunked. It is stored as :attr:`navigator` (``metadata._HyperSpy.navigator``), so
        ``save`` writes it and ``load`` brings it back; ``navigator.original_metadata.sum_from`` holds the slices summed.

        Parameters
        ----------
        index
            Per signal axis (or one value for all): an int index or a float calibrated value.
            Default: the centre of each signal axis.
        chunks_number
            Per signal axis (or one for all): divide the axis into this many equal parts and sum
            the one containing ``index``; default: the data's own signal chunks.
        show_progressbar
            Progress bar while computing (default: the preference).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.ones((4, 5, 100))).as_lazy(chunks=(2, 5, 25))
        >>> s.compute_navigator(index=60)
        >>> s.navigator, s.navigator.data[0, 0], s.navigator.original_metadata.sum_from
        (<Signal2D, title: , dimensions: (|5, 4)>, np.float64(25.0), '[slice(50, 75, None)]')
        """
        am = self.axes_manager
        sig_axes_numpy = [a for a in am._axes if not a.navigate]
        n_sig = len(sig_axes_numpy)
        if n_sig == 0:
            raise AxisError("compute_navigator needs signal axes; this signal has none.")
        # User order (x first) for index / chunks_number; numpy order internally.
        user_sig = list(am.signal_axes)
        idx_user = _per_sig(index, n_sig, "index")
        num_user = _per_sig(chunks_number, n_sig, "chunks_number")
        indices, numbers = [], []
        for axis in sig_axes_numpy:
            k = user_sig.index(axis)
            value = idx_user[k]
            if value is None:
                value = axis.size // 2
            elif isinstance(value, (float, np.floating)):
                value = axis.value2index(float(value))
            else:
                value = axis._check_index(int(value))
            indices.append(value)
            numbers.append(num_user[k])
        data = self.data
        nav_ndim = self._nav_ndim
        sig_chunks = data.chunks[nav_ndim:] if self.lazy else tuple((n,) for n in data.shape[nav_ndim:])
        slices = _navigator.signal_chunk_slices(sig_chunks, indices, numbers)
        nav = _navigator.navigator_sum(data, nav_ndim, slices)
        if is_lazy(nav):
            (nav,) = compute_arrays(nav, show_progressbar=show_progressbar)
        nav = np.asarray(nav)
        nav_axes = [a.copy() for a in am._axes if a.navigate]
        for a in nav_axes:
            a.navigate = False
        if not nav_axes:
            nav_axes = [DataAxis(size=1, name="Scalar", navigate=False)]
            nav = nav.reshape(1)
        navigator = signal_class_for(len(nav_axes))(nav, nav_axes, {"General": {"title": ""}}, {})
        navigator.original_metadata.set_item("sum_from", str(slices))
        self.navigator = navigator


def _per_sig(value: Any, n: int, what: str) -> list[Any]:
    if value is None:
        return [None] * n
    if isinstance(value, (list, tuple, np.ndarray)):
        if len(value) != n:
            raise AxisError(f"{what} has {len(value)} entries; this signal has {n} signal axes.")
        return list(value)
    return [value] * n
