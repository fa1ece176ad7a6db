"""An HDF5 block's sum over its leading axes, a slab of rows at a time (see ``row_sums``).

Per stored chunk (no filter, shuffle, deflate, or shuffle then deflate):

* unfiltered: the slab's rows are ``preadv``-ed from the file straight into the cached buffer;
* shuffled, not deflated (an "uncompressed" HyperSpy file keeps the shuffle filter): the
  slab's items have their byte k in plane k of the chunk, so ``itemsize`` reads of a few
  hundred KiB fill a Blosc frame and Blosc's vectorised unshuffle writes the rows;
* deflated: the chunk is inflated whole (its stream cannot be cut), then each slab is
  unshuffled (or copied) from it.

Nothing block-sized is written, and the bytes are summed while still in cache.
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager

import numpy as np

from ...block_source import scratch
from ...errors import FileFormatError
from . import blosc_raw
from .h5chunks import _DEFLATE, _SHUFFLE, _dataset, _inflated_chunk, _Plan
from .row_sums import sum_leading

__all__ = ["sum_rows"]


def _pread_exact(fd: int, view: memoryview, offset: int, plan: _Plan, origin) -> None:
    done = 0
    while done < len(view):
        n = os.preadv(fd, [view[done:]], offset + done)
        if n == 0:
            raise FileFormatError(
                f"{plan.path}: dataset {plan.name!r}, chunk at {origin} ends past the end of the "
                "file; the file is truncated.")
        done += n


def sum_rows(plan: _Plan, block_id: tuple[int, ...], nreduce: int,
             sum_dtype: np.dtype) -> np.ndarray | None:
    """``np.sum(block, axis=tuple(range(nreduce)), dtype=sum_dtype, keepdims=True)`` of block
    ``block_id``, bit for bit; None when the dataset's layout or filters do not allow it.

    Examples
    --------
    >>> import tempfile, os, h5py, numpy as np
    >>> from lazysignal.io.backends.h5chunks import lazy_dataset, close
    >>> from lazysignal.block_source import source_of
    >>> path = os.path.join(tempfile.mkdtemp(), "r.h5")
    >>> a = np.random.default_rng(0).random((8, 6, 5))
    >>> with h5py.File(path, "w") as f:
    ...     _ = f.create_dataset("x", data=a, chunks=(4, 6, 5), shuffle=True)
    >>> x = lazy_dataset(path, "x", chunks=(8, 6, 5))
    >>> got = source_of(x).sum_rows((0, 0, 0), 2, np.dtype("f8"))
    >>> bool((got == a.sum(axis=(0, 1), keepdims=True)).all())
    True
    >>> _ = close(path)
    """
    if plan.filters is None or plan.stored is None:
        return None
    dtype = plan.np_dtype
    shuffles = dtype.itemsize > 1 and any(code == _SHUFFLE for code, _ in plan.filters)
    if shuffles and not blosc_raw.available():
        return None
    lo = [plan.starts[ax][i] for ax, i in enumerate(block_id)]
    hi = [plan.starts[ax][i + 1] for ax, i in enumerate(block_id)]
    if any(b <= a for a, b in zip(lo, hi)):
        return None
    stored = plan.chunk_shape
    items = math.prod(stored)  # items of a full stored chunk: the length of a shuffle plane
    columns = math.prod(stored[nreduce:])
    row_bytes = columns * dtype.itemsize
    isz = dtype.itemsize
    with _dataset(plan.path, plan.name, plan.stamp) as (dset, _):
        dsid = dset.id
        fd = dset.file.id.get_vfd_handle() if dset.file.driver == "sec2" else None
        frames: dict[int, blosc_raw.Unshuffler] = {}
        taken: list[np.ndarray] = []

        def unshuffler(m: int) -> blosc_raw.Unshuffler:
            if m not in frames:
                buf = scratch.take((blosc_raw.Unshuffler.frame_bytes(isz, m),), np.uint8)
                taken.append(buf)
                frames[m] = blosc_raw.Unshuffler(isz, m, buf)
            return frames[m]

        @contextmanager
        def rows_of(origin):
            scratches: list[np.ndarray] = []
            try:
                info = dsid.get_chunk_info_by_coord(origin) if fd is not None else None
                if info is not None and info.byte_offset is None:
                    def fill(r0, k, out):
                        out[...] = plan.fill  # never written: HDF5 reads the fill value
                    yield fill
                    return
                applied = None if info is None else {
                    code for i, (code, _) in enumerate(plan.pipeline) if not (info.filter_mask >> i) & 1}
                if fd is not None and info is not None and applied is not None and _DEFLATE not in applied:
                    handle, offset = fd, info.byte_offset
                    if info.size != items * isz:
                        raise FileFormatError(
                            f"{plan.path}: dataset {plan.name!r}, chunk at {origin}: {info.size} "
                            f"bytes stored, expected {items * isz} for an unfiltered chunk of "
                            f"{stored} {dtype}. The file is corrupt.")
                    if _SHUFFLE in applied and isz > 1:
                        def pread_planes(r0, k, out):
                            un = unshuffler(k * columns)
                            for b in range(isz):
                                view = memoryview(un.planes[b])  # type: ignore[arg-type]
                                _pread_exact(handle, view, offset + b * items + r0 * columns, plan, origin)
                            un.into(out)
                        yield pread_planes
                    else:
                        def pread_rows(r0, k, out):
                            view = memoryview(out.reshape(-1).view(np.uint8))  # type: ignore[arg-type]
                            _pread_exact(handle, view, offset + r0 * row_bytes, plan, origin)
                        yield pread_rows
                    return
                got = _inflated_chunk(plan, dsid, origin, fd, scratches)
                if got is None:
                    def fill_value(r0, k, out):
                        out[...] = plan.fill
                    yield fill_value
                    return
                raw, codes = got
                flat = np.frombuffer(raw, np.uint8) if not isinstance(raw, np.ndarray) else raw
                if _SHUFFLE in codes and isz > 1:
                    planes = flat.reshape(isz, items)

                    def unshuffle(r0, k, out):
                        un = unshuffler(k * columns)
                        un.planes[...] = planes[:, r0 * columns:(r0 + k) * columns]
                        un.into(out)
                    yield unshuffle
                else:
                    def copy(r0, k, out):
                        out.reshape(-1).view(np.uint8)[:] = flat[r0 * row_bytes:(r0 + k) * row_bytes]
                    yield copy
            finally:
                for buf in scratches:
                    scratch.give(buf)

        try:
            return sum_leading(lo, hi, stored, plan.shape, nreduce, dtype, sum_dtype, rows_of)
        finally:
            for buf in taken:
                scratch.give(buf)
