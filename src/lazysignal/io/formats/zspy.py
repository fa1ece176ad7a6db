"""HyperSpy's ``.zspy`` format: the shared tree (:mod:`._hierarchical`) in a zarr store.

HyperSpy writes zarr **v2** stores (with zarr-python 2): a nested directory store (chunk keys
``0/0/0``) by default, or a zip file. We use zarr-python 3, which reads and writes the v2 format
(``zarr_format=2``), so files move both ways. We read nested (``/``) and flat (``.``) directory
stores and zip stores; we write nested directory stores by default (a zip when the path ends in
``.zip`` or ``store_type="zip"``), Blosc zstd level 1 + shuffle compressed.

Lazy data are written from the dask graph in parallel with no lock: every dask block covers
whole zarr chunks, so no two tasks touch the same chunk (safe on dask.distributed workers
that see the path).
"""

from __future__ import annotations

import itertools
import os
import shutil
import tempfile
import zipfile
from typing import Any

import dask.array as da
import numcodecs
import numpy as np
import zarr
import zarr.errors

from ...errors import ChunksError, FileFormatError, FormatCapabilityError
from ...lazy import from_numpy_nocopy
from ..chunking import plan_chunks
from ..spec import FormatSpec, SignalDict, accepted_options, check_options
from ..backends import zarr_chunks as _zarr_chunks
from ..backends.handles import HandleCache
from ..backends.hierarchical import (
    VERSION,
    TreeBackend,
    group_name_for_title,
    read_signals,
    resolve_write_chunks,
    write_signal,
)

__all__ = ["FORMAT", "read", "write", "close", "default_compressor", "resumable", "TARGET_CHUNK_BYTES"]

# A lazy read of a zip store keeps the zip open (directory stores hold no handle).
FORMAT = FormatSpec(
    "zspy", ("zspy",), writes=True, lazy=True, chunks=True, distributed=True, stores_chunks=True,
    keeps_file_open=True, task_modules=("lazysignal.io.backends.zarr_chunks", "lazysignal.expressions"),
)

#: HyperSpy's target chunk size for eager data saved to ``.zspy``.
TARGET_CHUNK_BYTES = 1e8

def _close_zip(store: zarr.storage.ZipStore) -> None:
    # zarr reads a ZipStore under its lock and reopens a closed one on the next read: closing
    # under the same lock makes an eviction wait for a read in progress, never break it.
    lock = getattr(store, "_lock", None)
    if lock is None:
        store.close()
        return
    with lock:
        store.close()


# Zip stores opened by lazy reads (their dask arrays read through them), closed by close(path)
# or when more than the bound sit idle (handles.HandleCache; a closed store reopens on demand).
_zip_stores: HandleCache[tuple[str, int], zarr.storage.ZipStore] = HandleCache(
    "zip stores read by zspy", close=_close_zip)
_zip_serial = itertools.count()


def default_compressor() -> numcodecs.abc.Codec:
    """HyperSpy's zspy compressor: Blosc zstd, level 1, byte shuffle.

    Examples
    --------
    >>> default_compressor().get_config()["cname"]
    'zstd'
    """
    return numcodecs.Blosc(cname="zstd", clevel=1, shuffle=numcodecs.Blosc.SHUFFLE)


def close(path: str | os.PathLike) -> None:
    """Close the zip stores lazy reads of ``path`` keep open (directory stores hold nothing).

    Examples
    --------
    >>> close("never-opened.zspy")
    """
    key = os.path.abspath(os.fspath(path))
    _zip_stores.close_matching(lambda k: k[0] == key)


class _ZarrTree(TreeBackend):
    format_name = "zspy"

    def __init__(self, path: str | os.PathLike, *, compressor: Any = None,
                 separator: str = "/", parallel: bool = True, missing: str = "raise",
                 journal: bool = False, chunk_pool: str | None = None) -> None:
        super().__init__(path)
        self.missing = missing
        self.journal, self.chunk_pool = journal, chunk_pool
        self.compressor = compressor
        self.separator = separator
        self.parallel = parallel

    def is_group(self, node: Any) -> bool:
        return isinstance(node, zarr.Group)

    def load_array(self, array: Any) -> np.ndarray:
        value = np.asarray(array[...])
        if value.dtype.kind == "T" or value.dtype == object:
            return np.array(value.tolist(), dtype=str).reshape(value.shape)
        if value.dtype.kind == "S":
            try:
                return np.char.decode(value, "utf-8")
            except UnicodeDecodeError:
                return value
        return value

    def _direct_layout(self, array: Any) -> _zarr_chunks.ChunkLayout | None:
        """The chunk-file layout when the store is a directory (the fast path), else None."""
        if not os.path.isdir(self.path):
            return None
        return _zarr_chunks.layout_of(array, self.path)

    def data_array(self, array: Any, *, lazy: bool, chunks: Any) -> Any:
        layout = self._direct_layout(array)
        if layout is not None:
            data = _zarr_chunks.lazy_array(layout, chunks=None if not lazy else chunks,
                                           missing=self.missing)
            return data if lazy else data.compute()
        if not lazy:
            return np.asarray(array[...])
        # A zip store: the same blocks as a directory store (stored chunks or multiples).
        blocks = plan_chunks(chunks, array.shape, array.dtype, stored=array.chunks,
                             where=f"{array.path!r} in {self.path!r}")
        return da.from_array(_GuardedZip(array, self.path), chunks=blocks, asarray=False,
                             name="zspy-zip-" + da.core.tokenize(
                                 self.path, os.stat(self.path).st_mtime_ns, array.path, blocks))

    def _array_options(self) -> dict:
        return {
            "compressors": self.compressor,
            "chunk_key_encoding": {"name": "v2", "separator": self.separator},
        }

    def create_group(self, parent: Any, name: str, attrs: dict) -> Any:
        return parent.create_group(name, attributes=attrs)

    def create_array(self, parent: Any, name: str, value: np.ndarray) -> None:
        if value.dtype.kind == "U":
            if name.startswith(("_list_", "_tuple_")):
                value = value.astype(np.dtypes.StringDType())  # vlen-utf8, as HyperSpy writes
            else:
                value = np.char.encode(value, "utf-8")  # HyperSpy stores string arrays as bytes
        parent.create_array(name, data=value, **self._array_options())

    def write_data(self, parent: Any, name: str, data: Any,
                   chunks: tuple[int, ...] | None) -> None:
        array = parent.create_array(
            name, shape=data.shape, dtype=data.dtype,
            chunks=chunks if chunks is not None else "auto", **self._array_options(),
            # Every chunk on disk, as HyperSpy's zarr 2 writes them (zarr 3 skips chunks equal
            # to the fill value, so a lost chunk file could not be told from a zero chunk).
            config={"write_empty_chunks": True},
        )
        if 0 in data.shape:
            return
        scheduler = None if self.parallel else "threads"
        layout = self._direct_layout(array)
        if layout is not None:
            if not hasattr(data, "dask"):
                data = from_numpy_nocopy(np.asarray(data), chunks=array.chunks)
                scheduler = "threads"
            # No lock: blocks never share a chunk file. Runs on the active scheduler
            # (dask.distributed included) unless the store only lives in this process.
            pool = os.path.join(self.chunk_pool, array.path) if self.chunk_pool else None
            _zarr_chunks.store_array(layout, data, scheduler=scheduler, journal=self.journal,
                                     pool_dir=pool)
        elif hasattr(data, "dask"):
            if data.chunks != da.core.normalize_chunks(array.chunks, data.shape):
                data = data.rechunk(array.chunks)  # each block = whole zarr chunks
            da.store(data, array, lock=False, compute=True, scheduler=scheduler)
        else:
            array[...] = data

    def encode_attr(self, value: Any) -> Any:
        # zarr attributes are JSON: numpy scalars become Python ones; no bytes or complex.
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, (bytes, complex)):
            return None
        return value


class _GuardedZip:
    """A zarr array in a zip store whose reads raise our error for a damaged zip.

    A lazy read meets the zip's damage when it computes (a bad CRC, a cut entry): the
    file's name and what went wrong, as :class:`FileFormatError`, instead of zipfile's or
    Blosc's own exception.
    """

    def __init__(self, array: Any, path: str) -> None:
        self.array, self.path = array, path
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim

    def __getitem__(self, key: Any) -> np.ndarray:
        try:
            return np.asarray(self.array[key])
        except Exception as exc:  # zipfile's (BadZipFile, EOFError), Blosc's, zarr's
            raise FileFormatError(
                f"{self.path!r}: reading {self.array.path!r} from the zip failed "
                f"({type(exc).__name__}: {exc}); expected a readable zip of a zarr store. "
                "The zip is damaged."
            ) from exc


def _open_root(path: str) -> tuple[zarr.Group, Any]:
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file or directory: {path!r}")
    if os.path.isfile(path):
        if not zipfile.is_zipfile(path):
            raise FileFormatError(
                f"{path!r} is a plain file but not a zip archive; a .zspy is a zarr directory "
                "store or a zip of one."
            )
        store: Any = zarr.storage.ZipStore(path, mode="r")
    else:
        store = zarr.storage.LocalStore(path, read_only=True)
    try:
        return zarr.open_group(store, mode="r"), store
    except (FileNotFoundError, zarr.errors.GroupNotFoundError, zarr.errors.NodeTypeValidationError,
            ValueError, KeyError, zipfile.BadZipFile, RuntimeError) as exc:
        raise FileFormatError(
            f"{path!r} is not a readable zarr store ({type(exc).__name__}: {exc}); expected "
            "HyperSpy's .zspy layout (a zarr group with .zgroup/.zattrs at its root)."
        ) from None


def read(
    path: str | os.PathLike, *, lazy: bool = False, chunks: Any = "auto",
    distributed: bool = True, missing_chunks: str = "raise", **format_options: Any,
) -> list[SignalDict]:
    """Read every signal of a ``.zspy`` store (nested or flat directory, or zip).

    Parameters
    ----------
    path
        The ``.zspy`` directory or zip file.
    lazy
        Return dask arrays (chunks = the stored chunks, or ``chunks``).
    chunks
        ``"auto"`` for the stored chunks, or dask chunks (best a multiple of the stored ones).
    distributed
        Accepted for the common reader signature; zarr arrays are always read per task.
    missing_chunks
        A directory store's missing chunk file: ``"raise"`` (default:
        :class:`~lazysignal.errors.MissingFileError`, since HyperSpy and lazysignal write every
        chunk, a gap is a lost file) or ``"fill"`` (read it as the fill value, for stores
        written by zarr 3 with its default of skipping fill-value chunks).

    Returns
    -------
    list of SignalDict
        One per ``/Experiments`` group, axes in numpy order.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.zspy")
    >>> write(path, {"data": np.arange(12.0).reshape(3, 4),
    ...              "metadata": {"General": {"title": "demo"}}}, chunks=(1, 4))
    >>> [s] = read(path, lazy=True)
    >>> s["metadata"]["General"]["title"], s["data"].chunks
    ('demo', ((1, 1, 1), (4,)))
    """
    check_options(format_options, accepted_options(read), where="zspy.read")
    path = os.fspath(path)
    root, store = _open_root(path)
    if missing_chunks not in ("raise", "fill"):
        raise ValueError(f"missing_chunks must be 'raise' or 'fill', not {missing_chunks!r}")
    backend = _ZarrTree(path, missing=missing_chunks)
    keep = False
    try:
        signals = read_signals(root, backend, lazy=lazy, chunks=chunks)
        keep = lazy
    except (FileFormatError, ChunksError, FileNotFoundError):
        raise
    except (KeyError, ValueError, OSError, zarr.errors.BaseZarrError, zipfile.BadZipFile,
            RuntimeError) as exc:  # RuntimeError: Blosc's for a damaged chunk
        raise backend.error(f"the zarr store cannot be read ({type(exc).__name__}: {exc})") \
            from exc
    finally:
        if isinstance(store, zarr.storage.ZipStore):
            if keep:  # the dask arrays read through it until close(path)
                key = (os.path.abspath(path), next(_zip_serial))
                _zip_stores.release(key, _zip_stores.adopt(key, store))
            else:
                store.close()
    return signals


def write(
    path: str | os.PathLike, signal: SignalDict, *, chunks: Any = None, compressor: Any = None,
    store_type: str | None = None, dimension_separator: str = "/", consolidate: bool = True,
    mode: str = "w", journal: bool = False, chunk_pool: str | None = None, **format_options: Any,
) -> None:
    """Write one signal dict to ``path`` in HyperSpy's ``.zspy`` layout (zarr v2, version 3.3).

    Parameters
    ----------
    path
        Written exactly there (the caller handles temporary files).
    signal
        ``data`` (numpy or dask), ``axes`` (numpy order), ``metadata``, ``original_metadata``,
        optional ``attributes``, ``learning_results``, ``package``, ``package_version``.
    chunks
        Stored chunk shape. Default: the dask chunks of lazy data, else HyperSpy's heuristic
        (whole signals, about 100 MB per chunk).
    compressor
        A numcodecs codec; default Blosc zstd level 1 with shuffle (HyperSpy's).
    store_type
        ``"local"`` (a directory) or ``"zip"``; default zip when ``path`` ends with ``.zip``.
    dimension_separator
        ``"/"`` (nested chunk keys, HyperSpy's default) or ``"."`` (flat).
    consolidate
        Also write ``.zmetadata`` (all metadata in one object), as HyperSpy does.
    mode
        ``"w"`` (new store) or ``"a"`` (add a signal to an existing directory store).
    journal
        Journal every chunk file once complete (``save`` sets it, so that a killed save can
        be resumed); the journals are removed when the store is complete.
    chunk_pool
        A folder of verified chunks of an interrupted save (``save(..., resume=True)`` sets
        it): chunks of an unchanged array are taken from it instead of being computed.

    Examples
    --------
    >>> import numpy as np, tempfile, os, dask.array as da
    >>> path = os.path.join(tempfile.mkdtemp(), "a.zspy")
    >>> write(path, {"data": da.zeros((4, 6), chunks=(2, 6))})
    >>> sorted(os.listdir(os.path.join(path, "Experiments", "__unnamed__", "data")))
    ['.zarray', '.zattrs', '0', '1']
    """
    check_options(format_options, accepted_options(write), where="zspy.write")
    path = os.fspath(path)
    if store_type is None:
        store_type = "zip" if path.lower().endswith(".zip") else "local"
    if store_type not in ("local", "zip"):
        raise ValueError(f"store_type must be 'local' or 'zip', not {store_type!r}")
    if dimension_separator not in ("/", "."):
        raise ValueError(f"dimension_separator must be '/' or '.', not {dimension_separator!r}")
    if mode not in ("w", "a") or (mode == "a" and store_type == "zip"):
        raise ValueError(f"mode must be 'w' (or 'a' for a directory store), not {mode!r}")
    if chunk_pool is not None and store_type == "zip":
        raise FormatCapabilityError(
            f"resume=True for {path!r}: a zip store is packed at the end of the save, so an "
            "interrupted one has nothing to resume; save a directory store to resume.")
    backend = _ZarrTree(path, compressor=compressor or default_compressor(),
                        separator=dimension_separator, journal=journal and store_type == "local",
                        chunk_pool=chunk_pool)
    stored_chunks = resolve_write_chunks(signal, chunks, TARGET_CHUNK_BYTES, backend)
    if store_type == "zip":
        # A zip cannot take chunks from parallel writers (nor rewrite an entry): write a
        # directory store beside it in parallel, then pack it.
        staging = tempfile.mkdtemp(prefix=".zspy-", dir=os.path.dirname(os.path.abspath(path)))
        try:
            _write_store(os.path.join(staging, "store"), signal, backend, stored_chunks,
                         "w", consolidate)
            _zip_directory(os.path.join(staging, "store"), path)
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    else:
        _write_store(path, signal, backend, stored_chunks, mode, consolidate)
        if backend.journal:  # complete: a finished store carries no journal
            for folder, _dirs, files in os.walk(path):
                if _zarr_chunks.JOURNAL in files:
                    os.remove(os.path.join(folder, _zarr_chunks.JOURNAL))


def resumable(path: str | os.PathLike, options: dict) -> bool:
    """Whether a save of ``path`` with these writer options can resume (a directory store).

    Examples
    --------
    >>> resumable("a.zspy", {}), resumable("a.zspy", {"store_type": "zip"})
    (True, False)
    """
    store_type = options.get("store_type")
    if store_type is None:
        store_type = "zip" if os.fspath(path).lower().endswith(".zip") else "local"
    return store_type == "local" and options.get("mode", "w") == "w"


def _write_store(path: str, signal: SignalDict, backend: _ZarrTree,
                 chunks: tuple[int, ...] | None, mode: str, consolidate: bool) -> None:
    store = zarr.storage.LocalStore(path)
    root_attrs: dict[str, Any] = {"file_format": "ZSpy", "file_format_version": VERSION}
    if mode == "a":
        root = zarr.open_group(store, mode="r+", use_consolidated=False)
        root.attrs.update(root_attrs)
    else:
        root = zarr.open_group(store, mode="w", zarr_format=2, attributes=root_attrs)
    experiments = root["Experiments"] if "Experiments" in root else root.create_group(
        "Experiments")
    if not isinstance(experiments, zarr.Group):
        raise FileFormatError(
            f"{path!r}: 'Experiments' is an array, expected the group of signals a .zspy holds; "
            "write to a new file.")
    title = (signal.get("metadata") or {}).get("General", {}).get("title", "")
    name = group_name_for_title(title)
    if name in experiments:
        raise FileFormatError(
            f"{path!r} already holds a signal named {name!r}; give the signal another title or "
            "write to a new file."
        )
    write_signal(experiments, name, signal, backend, chunks=chunks)
    if consolidate:
        zarr.consolidate_metadata(store)


def _zip_directory(directory: str, path: str) -> None:
    """Pack a directory store into a zip (entries uncompressed: the chunks already are)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED, allowZip64=True) as zf:
        for folder, _dirs, files in sorted(os.walk(directory)):
            for file in sorted(files):
                full = os.path.join(folder, file)
                zf.write(full, os.path.relpath(full, directory).replace(os.sep, "/"))
