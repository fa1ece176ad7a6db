"""NumPy ``.npy`` files: lazily through the per-chunk reader, eagerly with ``np.load``.

The header is parsed with :mod:`numpy.lib.format`; the data, which follow it contiguously,
go through :func:`lazysignal.io.backends.chunked_file.file_array`. A Fortran-ordered file is read
as the C-ordered transpose of its data and transposed back, which is exact and lazy.
"""

from __future__ import annotations

import os
from typing import Any

import dask.array as da
import numpy as np
from numpy.lib import format as npformat

from ...errors import FileFormatError
from ..backends.chunked_file import file_array
from ..chunking import plan_chunks
from ..spec import AxisDict, FormatSpec, SignalDict, accepted_options, check_options

__all__ = ["FORMAT", "read", "write", "read_header"]

FORMAT = FormatSpec("npy", ("npy",), writes=True, lazy=True, chunks=True, distributed=True,
                    memmap=True)


def read_header(path: str | os.PathLike) -> tuple[tuple[int, ...], bool, np.dtype, int]:
    """``(shape, fortran_order, dtype, data_offset)`` of a ``.npy`` file.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "a.npy")
    >>> np.save(p, np.zeros((3, 4), "<u2"))
    >>> read_header(p)
    ((3, 4), False, dtype('uint16'), 128)
    """
    path = os.fspath(path)
    with open(path, "rb") as f:
        try:
            version = npformat.read_magic(f)
            if version == (1, 0):
                shape, fortran, dtype = npformat.read_array_header_1_0(f)
            elif version in ((2, 0), (3, 0)):
                shape, fortran, dtype = npformat.read_array_header_2_0(f)
            else:  # pragma: no cover - numpy raises first for unknown versions
                raise ValueError(f"unsupported version {version}")
        except ValueError as exc:
            raise FileFormatError(
                f"{path!r} is not a readable .npy file: {exc}. Expected a NumPy array file "
                "written by numpy.save."
            ) from None
        offset = f.tell()
    if dtype.hasobject:
        raise FileFormatError(
            f"{path!r} holds Python objects (dtype {dtype}); only plain numeric arrays can be "
            "loaded without unpickling. Load it with numpy.load(allow_pickle=True) if you trust it."
        )
    return tuple(int(n) for n in shape), bool(fortran), dtype, offset


def read(
    path: str | os.PathLike,
    *,
    lazy: bool = False,
    chunks: Any = "auto",
    distributed: bool = True,
    pad: bool = False,
    signal_dimension: int | None = None,
    **format_options: Any,
) -> list[SignalDict]:
    """Read a ``.npy`` file.

    Parameters
    ----------
    path
        The file.
    lazy, chunks, distributed, pad
        See :func:`lazysignal.io.backends.chunked_file.file_array`.
    signal_dimension
        Number of trailing axes that are signal axes: default 1 for 1-D data and 2
        otherwise (an image or a stack of images).

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "a.npy")
    >>> np.save(p, np.arange(24.0).reshape(2, 3, 4))
    >>> sig = read(p, lazy=True, chunks=(1, 3, 4))[0]
    >>> sig["data"].chunks, [a["navigate"] for a in sig["axes"]]
    (((1, 1), (3,), (4,)), [True, False, False])
    >>> float(sig["data"].sum().compute())
    276.0
    """
    check_options(format_options, accepted_options(read), where="npy.read")
    path = os.fspath(path)
    shape, fortran, dtype, offset = read_header(path)
    ndim = len(shape)
    if signal_dimension is None:
        signal_dimension = min(ndim, 1 if ndim == 1 else 2)
    if not 0 <= signal_dimension <= ndim:
        raise ValueError(f"signal_dimension={signal_dimension} for {ndim}-D data in {path!r}.")
    if lazy:
        if fortran:
            # The bytes are the C-ordered transpose: read that with the mirrored chunks
            # (planned on the true shape, so signal axes stay whole) and transpose back.
            planned = plan_chunks(chunks, shape, dtype, frame_ndim=signal_dimension, where=path)
            data = file_array(
                path, shape=shape[::-1], dtype=dtype, offset=offset, frame_ndim=0,
                chunks=planned[::-1], distributed=distributed, pad=pad,
            ).T
        else:
            data = file_array(
                path, shape=shape, dtype=dtype, offset=offset, frame_ndim=signal_dimension,
                chunks=chunks, distributed=distributed, pad=pad,
            )
    else:
        if os.path.getsize(path) < offset + int(np.prod(shape)) * dtype.itemsize and not pad:
            # Let the shared reader raise its uniform truncation error.
            file_array(path, shape=shape[::-1] if fortran else shape, dtype=dtype, offset=offset)
        if pad:
            data = read(path, lazy=True, chunks=-1, pad=True, signal_dimension=signal_dimension)[0]["data"].compute()
        else:
            data = np.load(path, allow_pickle=False)
    axes = [
        AxisDict(name="", units=None, navigate=i < ndim - signal_dimension, size=n, scale=1.0, offset=0.0)
        for i, n in enumerate(shape)
    ]
    metadata = {"General": {"original_filename": os.path.basename(path), "title": ""}, "Signal": {}}
    return [SignalDict(data=data, axes=axes, metadata=metadata, original_metadata={
        "npy_header": {"shape": list(shape), "fortran_order": fortran, "descr": npformat.dtype_to_descr(dtype)}
    })]


def write(path: str | os.PathLike, signal: SignalDict, **format_options: Any) -> None:
    """Write the data (only: ``.npy`` holds no axes or metadata) with ``np.save``.

    Lazy data are streamed block by block after the header, never computed whole.

    Examples
    --------
    >>> import tempfile, os
    >>> import numpy as np
    >>> p = os.path.join(tempfile.mkdtemp(), "b.npy")
    >>> write(p, {"data": da.ones((4, 5), chunks=2), "axes": [], "metadata": {}})
    >>> np.load(p).sum()
    np.float64(20.0)
    """
    check_options(format_options, accepted_options(write), where="npy.write")
    path = os.fspath(path)
    data = signal["data"]
    tmp = path + ".tmp-lazysignal"
    try:
        if isinstance(data, da.Array):
            from ..backends.chunked_file import write_file_array

            header = {"descr": npformat.dtype_to_descr(data.dtype), "fortran_order": False,
                      "shape": tuple(int(n) for n in data.shape)}
            with open(tmp, "wb") as f:
                npformat.write_array_header_2_0(f, header) if _needs_v2(header) else \
                    npformat.write_array_header_1_0(f, header)
                offset = f.tell()
            write_file_array(tmp, data, offset=offset, frame_ndim=1)
        else:
            with open(tmp, "wb") as f:
                np.save(f, np.asarray(data), allow_pickle=False)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def _needs_v2(header: dict) -> bool:
    # Version 1.0 headers are limited to 65535 bytes; very high-dimensional shapes exceed it.
    return len(repr(header)) > 65000
