"""The navigator image of a lazy signal: a sum over ONE signal chunk, not the whole data.

Summing every signal value to draw a navigator reads the whole dataset; summing the
signal chunk that holds one channel (the centre by default) reads only that chunk column
of the storage, which for a chunked spectrum image is a fraction of the file
(seed 004: channels 496-744 of 992 for chunks (64, 512, 248)). No rechunk is made: the
slice of the dask array maps onto exactly the stored chunks it overlaps.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..array_ops import is_lazy

__all__ = ["signal_chunk_slices", "navigator_sum"]


def signal_chunk_slices(sig_chunks: Sequence[Sequence[int]], indices: Sequence[int],
                        chunks_number: Sequence[int | None] | None = None) -> list[slice]:
    """Per signal axis (numpy order), the slice of the chunk that contains ``indices``.

    Parameters
    ----------
    sig_chunks
        The dask chunks of the signal axes.
    indices
        One index per signal axis.
    chunks_number
        Per axis, divide the axis into this many equal parts instead of its chunks (None:
        use the chunks as they are).

    Examples
    --------
    >>> signal_chunk_slices([(248, 248, 248, 248)], [496])
    [slice(496, 744, None)]
    >>> signal_chunk_slices([(992,)], [496], [4])
    [slice(496, 744, None)]
    """
    out = []
    numbers = list(chunks_number) if chunks_number is not None else [None] * len(sig_chunks)
    for chunks, index, number in zip(sig_chunks, indices, numbers):
        size = int(sum(chunks))
        if number:
            number = max(1, min(int(number), size))
            base, extra = divmod(size, number)
            chunks = [base + 1 if i < extra else base for i in range(number)]
        edges = np.cumsum([0, *chunks])
        k = int(np.searchsorted(edges, index, side="right")) - 1
        k = min(max(k, 0), len(chunks) - 1)
        out.append(slice(int(edges[k]), int(edges[k + 1]), None))
    return out


def navigator_sum(data, nav_ndim: int, slices: Sequence[slice]):
    """Sum of ``data[..., slices]`` over the signal axes (numpy or dask, the same out).

    Examples
    --------
    >>> navigator_sum(np.ones((2, 3, 10)), 2, [slice(0, 5)]).tolist()
    [[5.0, 5.0, 5.0], [5.0, 5.0, 5.0]]
    """
    key = (slice(None),) * nav_ndim + tuple(slices)
    sig_axes = tuple(range(nav_ndim, data.ndim))
    part = data[key]
    mod_sum = part.sum(axis=sig_axes)
    return mod_sum if is_lazy(data) else np.asarray(mod_sum)
