"""Chunk-level signal methods: ``rechunk``, ``iterate_blocks`` and ``explain`` (the plan).

No method changes the chunks of the signal it is called on, except ``rechunk(inplace=True)``
(its documented default, as in HyperSpy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..chunks import plan_chunks
from ..errors import NotLazyError
from ..plan import Plan, explain_array
from . import blocks as _blocks

if TYPE_CHECKING:
    from ..signal_protocol import SignalLike as _Signal
else:
    _Signal = object

__all__ = ["ChunkingMixin"]


class ChunkingMixin(_Signal):
    """How a lazy signal is split into chunks: change it, iterate it, explain it."""

    def rechunk(self, nav_chunks: Any = "auto", sig_chunks: Any = -1, inplace: bool = True,
                **kwargs: Any) -> Any:
        """Change the chunks of lazy data (HyperSpy's signature and default: in place).

        Parameters
        ----------
        nav_chunks
            ``"auto"`` (the chunk planner: chunks of about ``preferences.chunk_target_bytes``,
            multiples of the current ones where possible), ``-1``/None (whole), an int, or a
            tuple with one entry per navigation axis in numpy order.
        sig_chunks
            The same for the signal axes; the default ``-1`` keeps each signal whole.
        inplace
            True (default, as HyperSpy): change this signal's data and return None.
            False: return a new signal; this one is untouched.
        **kwargs
            Passed to ``dask.array.Array.rechunk`` (e.g. ``method="p2p"``).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.zeros((8, 6, 10))).as_lazy(chunks=(2, 3, 5))
        >>> s.rechunk(inplace=False).data.chunks
        ((8,), (6,), (10,))
        >>> s.data.chunks
        ((2, 2, 2, 2), (3, 3), (5, 5))
        """
        if not self.lazy:
            raise NotLazyError("rechunk works on lazy signals; this one holds a numpy array in memory. "
                            "Use s.as_lazy(chunks=...) to make a lazy copy with given chunks.")
        data = self.data
        chunks = plan_chunks(data.shape, self.axes_manager.signal_dimension, data.dtype.itemsize,
                             nav_chunks=nav_chunks, sig_chunks=sig_chunks, previous=data.chunks)
        new_data = data if chunks == data.chunks else data.rechunk(chunks, **kwargs)
        if inplace:
            self._replace(new_data, values_changed=False)
            return None
        new = self._new_like(new_data, cls=type(self))
        new._file_closers = list(self._file_closers)
        new.navigator = self.navigator
        return new

    def iterate_blocks(self, flat_signal: bool = True, navigation_mask: Any = None, signal_mask: Any = None):
        """Yield the data as numpy blocks of whole rows, covering every signal chunk.

        Parameters
        ----------
        flat_signal
            True: each block is ``(pixels, signal_size)`` with masked pixels and signal values
            removed; concatenated they give ``data.reshape(navigation_size, signal_size)``.
            False: blocks keep the data's dimensions (rows of the slowest navigation axis);
            masked values are NaN (floats) or 0 (integers).
        navigation_mask, signal_mask
            Boolean arrays or signals of the navigation / signal shape (numpy order);
            True marks what to leave out.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.arange(60.0).reshape(3, 4, 5)).as_lazy(chunks=(1, 2, 5))
        >>> blocks = list(s.iterate_blocks())
        >>> np.array_equal(np.concatenate(blocks), s.data.compute().reshape(12, 5))
        True
        """
        return _blocks.iterate_blocks(self.data, self._nav_ndim, flat_signal=flat_signal,
                                      navigation_mask=navigation_mask, signal_mask=signal_mask)

    _block_iterator = iterate_blocks  # HyperSpy's private name, for ported code

    def explain(self, print_plan: bool = True) -> Plan:
        """Print (and return) the plan of computing this signal, without computing it.

        The plan lists the tasks, the chunks and bytes to be read from storage, the rechunks
        and an estimate of the peak memory (see :mod:`lazysignal.plan`).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.ones((8, 100))).as_lazy(chunks=(2, 50))
        >>> plan = s.isig[:10].sum(axis="signal").explain(print_plan=False)
        >>> plan.source_chunks, plan.source_bytes
        (4, 3200)
        """
        if not self.lazy:
            raise NotLazyError("explain() describes a lazy computation; this signal is already in memory.")
        names = [a.name or f"axis {i}" for i, a in enumerate(self.axes_manager._axes)]
        plan = explain_array(self.data, axis_names=names, title=repr(self))
        if print_plan:
            print(plan)
        return plan
