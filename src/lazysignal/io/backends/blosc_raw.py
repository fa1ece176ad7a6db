"""Two entry points of the Blosc library that numcodecs bundles but does not wrap.

numcodecs' ``Blosc`` codec decodes a whole chunk at a time: for a 62 MiB chunk that is 62 MiB
written to memory and read back by whatever consumes it. The C library inside numcodecs'
extension module also exports

* ``blosc_getitem``, which decodes a range of items of a Blosc frame: a reduction can decode a
  chunk a MiB at a time into one reused buffer that stays in the CPU cache, and consume it
  there;
* ``blosc_decompress_ctx``, whose byte unshuffle is vectorised (AVX2/SSE2): handed a frame
  whose single block is stored uncompressed, it only copies and unshuffles. HDF5's shuffle
  filter is exactly Blosc's shuffle of one block, so an HDF5 shuffled range becomes such a
  frame by writing a 24-byte header in front of it (5-10x faster than a numpy byte scatter).

Both are called through :mod:`ctypes` (which releases the GIL). When the symbols are not
there (another numcodecs build), :func:`available` is False and callers keep their own path.

Examples
--------
>>> import numpy as np, numcodecs
>>> data = np.arange(1000.0)
>>> frame = numcodecs.Blosc("zstd", 1, numcodecs.Blosc.SHUFFLE).encode(data)
>>> out = np.empty(10)
>>> if available():
...     getitem(frame, 500, 10, out)
...     print(out[:3])
... else:
...     print(data[500:503])
[500. 501. 502.]
"""

from __future__ import annotations

import ctypes
import struct
from typing import Any

import numpy as np

__all__ = ["available", "getitem", "Unshuffler", "header"]

_lib: Any = None
try:
    import numcodecs.blosc as _nb

    _lib = ctypes.CDLL(_nb.__file__)
    _getitem = _lib.blosc_getitem
    _getitem.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_int, ctypes.c_void_p]
    _getitem.restype = ctypes.c_int
    _decompress = _lib.blosc_decompress_ctx
    _decompress.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    _decompress.restype = ctypes.c_int
except (ImportError, OSError, AttributeError):  # pragma: no cover - a build without them
    _lib = None

#: Blosc header flags: byte shuffle, one stream per block (no split); compressor code 0.
_SHUFFLE, _DONT_SPLIT, _MEMCPYED = 0x1, 0x10, 0x2
#: The frame header: 16 bytes, then one block start (int32), then the block's stream size.
_HEADER = 24


def available() -> bool:
    """Whether the Blosc entry points were found in numcodecs' extension."""
    return _lib is not None


def header(frame: Any) -> tuple[int, int, int, int]:
    """(flags, typesize, decoded bytes, block size) of a Blosc frame."""
    head = bytes(memoryview(frame)[:16])
    _version, _lz, flags, typesize, nbytes, blocksize, _cbytes = struct.unpack("<BBBBIII", head)
    return flags, typesize, nbytes, blocksize


def getitem(frame: Any, start: int, nitems: int, out: np.ndarray) -> None:
    """Decode items ``[start, start + nitems)`` of a Blosc ``frame`` into ``out``.

    ``frame`` is ``bytes`` or a uint8 array; items are of the frame's type size; ``out`` is
    C-contiguous with room for them. The frame must be whole (its header's sizes checked by
    the caller, as for a full decode: Blosc trusts them).
    """
    source = frame.ctypes.data if isinstance(frame, np.ndarray) else frame
    got = _getitem(source, start, nitems, out.ctypes.data)
    if got < 0:
        raise ValueError(f"Blosc could not decode items {start}..{start + nitems} (error {got})")


class Unshuffler:
    """Undo a byte shuffle of ``nitems`` items of ``itemsize`` bytes with Blosc's kernel.

    Write the shuffled bytes (``itemsize`` planes of ``nitems`` bytes each) into
    :attr:`planes`, then :meth:`into` puts the items into a C-contiguous array. One
    instance per thread (it owns its frame buffer).
    """

    def __init__(self, itemsize: int, nitems: int, buffer: np.ndarray | None = None):
        self.itemsize, self.nitems = itemsize, nitems
        nbytes = itemsize * nitems
        # ``buffer``: uint8, at least frame_bytes(itemsize, nitems) (a reused one saves faults).
        self.frame = np.empty(_HEADER + nbytes, np.uint8) if buffer is None else \
            buffer.reshape(-1)[:_HEADER + nbytes]
        self.frame[:_HEADER] = np.frombuffer(struct.pack(
            "<BBBBIIIii", 2, 1, _SHUFFLE | _DONT_SPLIT, itemsize, nbytes, nbytes,
            _HEADER + nbytes, 20, nbytes), np.uint8)
        #: (itemsize, nitems) bytes: plane k holds byte k of every item.
        self.planes = self.frame[_HEADER:].reshape(itemsize, nitems)

    @staticmethod
    def frame_bytes(itemsize: int, nitems: int) -> int:
        """Bytes of the buffer an instance needs."""
        return _HEADER + itemsize * nitems

    def into(self, out: np.ndarray) -> None:
        """The unshuffled items into ``out`` (C-contiguous, ``itemsize * nitems`` bytes)."""
        nbytes = self.itemsize * self.nitems
        got = _decompress(self.frame.ctypes.data, out.ctypes.data, nbytes, 1)
        if got != nbytes:  # pragma: no cover - a frame we built ourselves
            raise RuntimeError(f"Blosc unshuffle returned {got}, expected {nbytes}")
