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

* ``ZSTD_decompressDCtx``: :class:`FrameDecoder` decodes the common zarr frame (zstd, byte
  shuffle, one stream per block) itself: each block's zstd stream with one decompression
  context per thread, kept, then a batch of blocks unshuffled by one call of Blosc's kernel.
  Blosc 1.x decodes the same frame about 1.4x slower (its per-block zstd calls and copies).

All are called through :mod:`ctypes` (which releases the GIL). When the symbols are not
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
import threading
from typing import Any

import numpy as np

__all__ = ["available", "getitem", "unshuffle", "Unshuffler", "FrameDecoder", "header"]

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
    _zstd_new = _lib.ZSTD_createDCtx
    _zstd_new.argtypes, _zstd_new.restype = [], ctypes.c_void_p
    _zstd_free = _lib.ZSTD_freeDCtx
    _zstd_free.argtypes, _zstd_free.restype = [ctypes.c_void_p], ctypes.c_size_t
    _zstd = _lib.ZSTD_decompressDCtx
    _zstd.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.c_void_p, ctypes.c_size_t]
    _zstd.restype = ctypes.c_size_t
except (ImportError, OSError, AttributeError):  # pragma: no cover - a build without them
    _lib = None

#: Blosc header flags: byte shuffle, one stream per block (no split); compressor code 0.
_SHUFFLE, _DONT_SPLIT, _MEMCPYED, _BITSHUFFLE = 0x1, 0x10, 0x2, 0x4
#: The compressor code of zstd in the flags' top three bits (Blosc 1's BLOSC_ZSTD_FORMAT).
_ZSTD_FORMAT = 4
#: A one-block frame's header: 16 bytes, one block start (int32), the block's stream size.
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


class _Staging:
    """A Blosc frame of ``blocks`` stored (uncompressed) shuffled blocks: zstd output goes
    into its slots and one Blosc call unshuffles them all into the destination.

    Slot ``i`` is the block's 4-byte size then its bytes, ``4 + blocksize`` bytes from the
    previous one, so the zstd frames of a batch, each preceded by :data:`_GAP` (a frame of 4
    bytes), decode in one call straight into the slots.
    """

    def __init__(self, typesize: int, blocksize: int, blocks: int, buffer: np.ndarray | None = None):
        self.typesize, self.blocksize, self.blocks = typesize, blocksize, blocks
        self.head = 16 + 4 * blocks
        size = self.frame_bytes(blocksize, blocks)
        # ``buffer``: uint8, at least that size (a reused one saves page faults).
        self.frame = np.empty(size, np.uint8) if buffer is None else buffer.reshape(-1)[:size]
        slots = self.head + np.arange(blocks, dtype=np.int64) * (4 + blocksize)
        self.frame[16:self.head] = np.frombuffer(slots.astype("<i4").tobytes(), np.uint8)
        #: The slots' size fields, one strided view.
        self.sizes = np.ndarray((blocks,), "<i4", buffer=self.frame, offset=self.head, strides=(4 + blocksize,))
        self.address = self.frame.ctypes.data

    @staticmethod
    def frame_bytes(blocksize: int, blocks: int) -> int:
        return 16 + 4 * blocks + blocks * (4 + blocksize)

    def unshuffle(self, nblocks: int, nbytes: int, out_address: int) -> None:
        """Unshuffle the first ``nblocks`` slots (``nbytes`` in all: the last may be short)."""
        last = nbytes - (nblocks - 1) * self.blocksize
        self.sizes[:nblocks] = self.blocksize  # a stored block holds exactly its bytes
        self.sizes[nblocks - 1] = last
        end = self.head + (nblocks - 1) * (4 + self.blocksize) + 4 + last
        # Blosc refuses a frame smaller than its block size: a lone short block is its own size.
        blocksize = self.blocksize if nblocks > 1 else last
        self.frame[:16] = np.frombuffer(struct.pack(
            "<BBBBIII", 2, 1, _SHUFFLE | _DONT_SPLIT, self.typesize, nbytes, blocksize, end), np.uint8)
        got = _decompress(self.address, out_address, nbytes, 1)
        if got != nbytes:  # pragma: no cover - a frame we built ourselves
            raise RuntimeError(f"Blosc unshuffle returned {got}, expected {nbytes}")


class Unshuffler:
    """Undo a byte shuffle of ``nitems`` items of ``itemsize`` bytes with Blosc's kernel.

    Write the shuffled bytes (``itemsize`` planes of ``nitems`` bytes each) into
    :attr:`planes`, then :meth:`into` puts the items into a C-contiguous array. One
    instance per thread (it owns its frame buffer): a staging frame of one block.
    """

    def __init__(self, itemsize: int, nitems: int, buffer: np.ndarray | None = None):
        self.itemsize, self.nitems = itemsize, nitems
        self._staging = _Staging(itemsize, itemsize * nitems, 1, buffer)
        self.frame = self._staging.frame
        #: (itemsize, nitems) bytes: plane k holds byte k of every item.
        self.planes = self.frame[_HEADER:].reshape(itemsize, nitems)

    @staticmethod
    def frame_bytes(itemsize: int, nitems: int) -> int:
        """Bytes of the buffer an instance needs."""
        return _Staging.frame_bytes(itemsize * nitems, 1)

    def into(self, out: np.ndarray) -> None:
        """The unshuffled items into ``out`` (C-contiguous, ``itemsize * nitems`` bytes)."""
        self._staging.unshuffle(1, self.itemsize * self.nitems, out.ctypes.data)


class _ZstdContext:
    """One zstd decompression context, freed with its owner (a thread's local state)."""

    def __init__(self) -> None:
        self._free = _zstd_free  # held: module globals may be gone when a thread ends at exit
        self.handle = _zstd_new()
        if not self.handle:  # pragma: no cover - out of memory
            raise MemoryError("zstd could not allocate a decompression context")

    def __del__(self) -> None:
        if getattr(self, "handle", None):
            self._free(self.handle)


def unshuffle(planes: np.ndarray, out: np.ndarray) -> None:
    """Undo a byte shuffle (HDF5's filter): ``planes`` is ``(itemsize, n)`` uint8, each row
    contiguous (byte k of every item); ``out`` a C-contiguous array of ``n`` items.

    About a MiB at a time through Blosc's vectorised kernel (a per-thread frame, reused),
    5-10x faster than a numpy byte scatter.

    Examples
    --------
    >>> values = np.arange(5000.0)
    >>> planes = values.view(np.uint8).reshape(-1, 8).T.copy()   # HDF5's shuffle
    >>> out = np.empty_like(values)
    >>> if available():
    ...     unshuffle(planes, out)
    ... else:
    ...     out[...] = values
    >>> bool((out == values).all())
    True
    """
    isz, n = planes.shape
    flat = out.reshape(-1).view(np.uint8)
    step = max(1, _BATCH_BYTES // isz)
    cache = _local.unshufflers
    for a in range(0, n, step):
        m = min(step, n - a)
        un = cache.get((isz, m))
        if un is None:
            if len(cache) > 4:  # a few sizes per thread: the full step and some last slabs
                cache.clear()
            un = cache[(isz, m)] = Unshuffler(isz, m)
        un.planes[...] = planes[:, a:a + m]
        un.into(flat[a * isz:(a + m) * isz])


#: A zstd frame of 4 raw bytes (magic, single-segment header with content size 4, one last raw
#: block of 4): decoded in front of each block, it leaves room for the slot's size field.
_GAP = bytes([0x28, 0xB5, 0x2F, 0xFD, 0x20, 4, 0x21, 0, 0, 0, 0, 0, 0])


class _PerThread(threading.local):
    def __init__(self) -> None:
        self.zstd: _ZstdContext | None = None
        self.staging: dict[tuple[int, int], _Staging] = {}
        self.unshufflers: dict[tuple[int, int], Unshuffler] = {}


_local = _PerThread()
#: Blocks unshuffled per Blosc call: about a MiB of them.
_BATCH_BYTES = 1 << 20


class FrameDecoder:
    """Decodes items of one Blosc frame of zstd blocks (one stream per block, byte shuffle or
    none), block-aligned ranges without Blosc's per-call and per-block costs.

    :meth:`for_frame` returns None for any other frame (another compressor, split streams,
    bit shuffle, a frame stored whole): use :func:`getitem` or the codec then. Ranges that
    do not start and end on block edges also go through :func:`getitem`. The frame's block
    table is checked against its length first, so a damaged frame raises ``ValueError``
    instead of reading outside it.

    Examples
    --------
    >>> import numcodecs
    >>> data = np.arange(20000.0)
    >>> frame = np.frombuffer(numcodecs.Blosc("zstd", 1, numcodecs.Blosc.SHUFFLE,
    ...                                       blocksize=8192).encode(data), np.uint8)
    >>> decoder = FrameDecoder.for_frame(frame)
    >>> out = np.empty(20000)
    >>> decoder is None or (decoder.decode(0, 20000, out) or bool((out == data).all()))
    True
    """

    def __init__(self, frame: np.ndarray, typesize: int, nbytes: int, blocksize: int, shuffled: bool):
        self.frame, self.typesize, self.nbytes, self.blocksize = frame, typesize, nbytes, blocksize
        self.shuffled = shuffled
        nblocks = -(-nbytes // blocksize)
        starts = frame[16:16 + 4 * nblocks].view("<i4").astype(np.int64)
        if starts.size != nblocks or (starts < 16 + 4 * nblocks).any() or \
                (starts + 4 > frame.size).any():
            raise ValueError("the frame's block table points outside the frame")
        sizes = frame[(starts[:, None] + np.arange(4)).reshape(-1)].view("<i4").astype(np.int64)
        if (sizes <= 0).any() or (starts + 4 + sizes > frame.size).any():
            raise ValueError("a block's stream runs past the end of the frame")
        wants = np.minimum(blocksize, nbytes - np.arange(nblocks, dtype=np.int64) * blocksize)
        #: Blocks stored as they are (they did not compress) are not zstd frames.
        self.stored = bool((sizes == wants).any())
        view = memoryview(frame)  # type: ignore[arg-type]  # ndarray is a Buffer
        streams = [view[s + 4:s + 4 + c] for s, c in zip(starts.tolist(), sizes.tolist())]
        #: What one zstd call decodes for blocks a..b: parts[2a:2b] joined (a gap before each
        #: block when it goes to the staging slots, nothing when it goes straight out).
        gap = _GAP if shuffled else b""
        self.parts = [x for s in streams for x in (gap, s)]
        self.starts, self.sizes = (starts + 4).tolist(), sizes.tolist()

    @classmethod
    def for_frame(cls, frame: np.ndarray) -> "FrameDecoder | None":
        """A decoder for ``frame`` (a uint8 array, kept alive by the decoder), or None."""
        if _lib is None or frame.size < 16:
            return None
        version, _lz, flags, typesize, nbytes, blocksize, cbytes = struct.unpack(
            "<BBBBIII", frame[:16].tobytes())
        if version != 2 or flags >> 5 != _ZSTD_FORMAT or flags & (_MEMCPYED | _BITSHUFFLE) or \
                not flags & _DONT_SPLIT or typesize < 1 or blocksize < 1 or nbytes < 1 or \
                cbytes != frame.size:
            return None
        return cls(frame, typesize, nbytes, blocksize, bool(flags & _SHUFFLE))

    def decode(self, start: int, nitems: int, out: np.ndarray) -> None:
        """Items ``[start, start + nitems)`` into ``out`` (C-contiguous, room for them)."""
        first, end = start * self.typesize, (start + nitems) * self.typesize
        if first % self.blocksize or (end % self.blocksize and end != self.nbytes) or end > self.nbytes:
            getitem(self.frame, start, nitems, out)
            return
        state = _local
        if state.zstd is None:
            state.zstd = _ZstdContext()
        context, into, size = state.zstd.handle, out.ctypes.data, self.blocksize
        b0, b1 = first // size, -(-end // size)
        if not self.shuffled:
            self._fill(context, b0, b1, into, 0)
            return
        staging = self._staging(state, b1 - b0)
        for a in range(b0, b1, staging.blocks):
            z = min(a + staging.blocks, b1)
            self._fill(context, a, z, staging.address + staging.head + 4, 4)
            staging.unshuffle(z - a, min(z * size, self.nbytes) - a * size, into + (a - b0) * size)

    def _staging(self, state: _PerThread, nblocks: int) -> _Staging:
        key = (self.typesize, self.blocksize)
        staging = state.staging.get(key)
        want = min(max(1, _BATCH_BYTES // self.blocksize), nblocks)
        if staging is None or staging.blocks < want:
            staging = state.staging[key] = _Staging(self.typesize, self.blocksize, want)
        return staging

    def _fill(self, context: int, a: int, z: int, dest: int, gap: int) -> None:
        """Blocks ``a..z`` decoded to ``dest``, each ``gap`` bytes after the previous one's end
        (4: the staging slots' size fields; 0: straight out). One zstd call for them all, the
        gaps decoded from :data:`_GAP` frames; block by block when some are stored as they are."""
        if self.stored:  # rare: blocks that did not compress are not zstd frames
            base = self.frame.ctypes.data
            for i, j in enumerate(range(a, z)):
                self._block(context, j, base, dest + i * (self.blocksize + gap))
            return
        nbytes = min(z * self.blocksize, self.nbytes) - a * self.blocksize + gap * (z - a)
        source = b"".join(self.parts[2 * a:2 * z])
        got = _zstd(context, dest - gap, nbytes, source, len(source))
        if got != nbytes:
            raise ValueError(f"blocks {a}..{z - 1} do not decode with zstd (got {got}, expected {nbytes} bytes)")

    def _block(self, context: int, j: int, base: int, dest: int) -> None:
        want = min(self.blocksize, self.nbytes - j * self.blocksize)
        start, size = self.starts[j], self.sizes[j]
        if size == want:  # stored: the block did not compress
            ctypes.memmove(dest, base + start, want)
            return
        got = _zstd(context, dest, want, base + start, size)
        if got != want:
            raise ValueError(f"block {j} does not decode with zstd (got {got}, expected {want} bytes)")
