"""``chunks=`` on a lazy read: the one function readers interpret it with.

The decision (docs/io.md, "For format authors"): a reader plans its dask blocks with
:func:`plan_chunks` and builds its graph on exactly those blocks; the front door never
rechunks what a reader returns. Planning lives beside the reader because the blocks decide
what each task reads (byte ranges of a binary file, whole stored chunks of HDF5 or zarr), so a
rechunk after the fact would read data twice or hold whole stored chunks per block.

Two layouts, two rules, one entry point:

* data stored in chunks (``stored=`` given: HDF5, zarr): blocks are the stored chunks or
  multiples of them (:func:`lazysignal.io.backends.chunk_grid.block_sizes`); ``"auto"`` and
  ``None`` mean the stored chunks;
* data stored as frames (``stored=None``: binary files, TIFF pages, in-memory spectra): any
  dask ``chunks=`` is honoured exactly; ``"auto"`` keeps the last ``frame_ndim`` axes whole
  (:func:`lazysignal.io.backends.chunked_file.normalize_file_chunks`).

The graph builders of the back ends (``file_array``, ``lazy_dataset``, ``lazy_array``) apply
the same two rules, so a request passed to them is read the same way.
"""

from __future__ import annotations

from typing import Any

from .backends.chunk_grid import block_sizes
from .backends.chunked_file import normalize_file_chunks

__all__ = ["plan_chunks"]


def plan_chunks(
    chunks: Any,
    shape: tuple[int, ...],
    dtype: Any,
    *,
    stored: tuple[int, ...] | None = None,
    frame_ndim: int = 0,
    where: str = "",
) -> tuple[tuple[int, ...], ...]:
    """The dask blocks a lazy read uses for a ``chunks=`` request.

    Parameters
    ----------
    chunks
        The request: ``"auto"``, ``None``, an int, a tuple (one entry per axis: int, ``-1``,
        ``"auto"`` or block sizes) or a dict ``{axis: size}``.
    shape, dtype
        The array's.
    stored
        The stored chunk shape of a chunked dataset, or None for data stored as frames.
    frame_ndim
        Trailing axes ``"auto"`` keeps whole (frames, pages, spectra).
    where
        The file (and dataset), for error messages.

    Returns
    -------
    tuple of tuple of int
        Block sizes per axis.

    Raises
    ------
    lazysignal.errors.ChunksError
        When the request does not fit the shape (or, for stored chunks, their grid).

    Examples
    --------
    >>> plan_chunks((2, -1), (5, 8), "f8")
    ((2, 2, 1), (8,))
    >>> plan_chunks("auto", (6, 8), "f8", stored=(2, 8))[1]
    (8,)
    >>> plan_chunks((4, -1), (6, 8), "f8", stored=(2, 8))
    ((4, 2), (8,))
    >>> plan_chunks((3, -1), (6, 8), "f8", stored=(2, 8), where="a.zspy")
    Traceback (most recent call last):
    ...
    lazysignal.errors.ChunksError: chunks along axis 0 of a.zspy: 3 is not a positive multiple of 2. The blocks of a lazy read must be the stored chunks (2 along this axis) or multiples of them; use chunks=None for the stored chunks, or sizes like 2, 4, 8 (or -1 for the whole axis).
    """
    shape = tuple(int(n) for n in shape)
    if stored is not None:
        request = None if (chunks is None or (isinstance(chunks, str) and chunks == "auto")) \
            else chunks
        return block_sizes(request, shape, tuple(int(c) for c in stored), dtype, where)
    return normalize_file_chunks(chunks, shape, dtype, frame_ndim=frame_ndim, path=where)
