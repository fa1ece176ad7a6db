"""HyperSpy's ``.hspy`` format: the shared tree (:mod:`._hierarchical`) in an HDF5 file (h5py).

A lazy read returns dask arrays whose tasks read the file by path (picklable, usable on
dask.distributed workers); the handles they open stay open until :func:`close` is called for
the path (``close_file()`` / ``compute(close_file=True)`` on a signal). Data are written gzip +
shuffle compressed by default, with HyperSpy's default chunks (whole signals, ~1 MB).
"""

from __future__ import annotations

import os
from typing import Any

import h5py
import numpy as np

from ...errors import FileFormatError, FileLockedError, TruncatedFileError
from ..spec import FormatSpec, SignalDict, accepted_options, check_options
from ..backends import h5chunks as _h5chunks
from ..backends.hdf5_open import open_for_reading
from ..backends.hierarchical import (
    VERSION,
    TreeBackend,
    group_name_for_title,
    read_signals,
    resolve_write_chunks,
    write_signal,
)

__all__ = ["FORMAT", "read", "write", "close", "TARGET_CHUNK_BYTES"]

FORMAT = FormatSpec(
    "hspy", ("hspy", "hdf5"), writes=True, lazy=True, chunks=True, distributed=True,
    keeps_file_open=True, stores_chunks=True,
    task_modules=("lazysignal.io.backends.h5chunks", "lazysignal.expressions"),
)

#: HyperSpy's target chunk size for eager data saved to ``.hspy``.
TARGET_CHUNK_BYTES = 1e6


def _key(path: str | os.PathLike) -> str:
    return os.path.abspath(os.fspath(path))


def close(path: str | os.PathLike) -> None:
    """Close every handle this module keeps open for ``path`` (lazy reads reopen on demand).

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.hspy")
    >>> write(path, {"data": np.zeros((2, 3))})
    >>> s = read(path, lazy=True)[0]
    >>> float(s["data"].sum().compute())
    0.0
    >>> close(path)
    """
    _h5chunks.close(_key(path))


class _H5Tree(TreeBackend):
    format_name = "hspy"

    def __init__(self, path: str | os.PathLike, *, compression: Any = "gzip",
                 compression_opts: Any = None, shuffle: bool = True,
                 distributed: bool = True) -> None:
        super().__init__(path)
        self.compression = compression
        self.compression_opts = compression_opts
        self.shuffle = shuffle
        self.distributed = distributed

    def is_group(self, node: Any) -> bool:
        return isinstance(node, h5py.Group)

    def load_array(self, array: Any) -> np.ndarray:
        if h5py.check_string_dtype(array.dtype) is not None:
            return np.asarray(array.asstr()[()], dtype=str)
        value = np.asarray(array[()])
        if value.dtype.kind == "S":
            try:
                return np.char.decode(value, "utf-8")
            except UnicodeDecodeError:  # binary blobs (e.g. pickles) stay bytes
                return value
        return value

    def data_array(self, array: Any, *, lazy: bool, chunks: Any) -> Any:
        if not lazy:
            if array.chunks is None or array.dtype.kind not in "biufc" or not array.size:
                out = np.empty(array.shape, array.dtype)
                if out.size:
                    array.read_direct(out)
                return out
            return _h5chunks.read_dataset(_key(self.path), array.name)
        # Stored chunks by default ("auto" here means "as stored", as in HyperSpy).
        return _h5chunks.lazy_dataset(_key(self.path), array.name,
                                      chunks=None if chunks in ("auto", None) else chunks)

    def create_group(self, parent: Any, name: str, attrs: dict) -> Any:
        group = parent.create_group(name)
        for key, value in attrs.items():
            group.attrs[key] = value
        return group

    def _filters(self, shape: tuple[int, ...]) -> dict:
        if not shape or 0 in shape or self.compression is None:
            return {}
        return {"compression": self.compression, "compression_opts": self.compression_opts,
                "shuffle": self.shuffle}

    def create_array(self, parent: Any, name: str, value: np.ndarray) -> None:
        if value.dtype.kind == "U":
            if name.startswith(("_list_", "_tuple_")):
                # Flat string lists are variable-length strings, as HyperSpy writes them.
                parent.create_dataset(name, data=value.astype(object),
                                      dtype=h5py.string_dtype())
                return
            value = np.char.encode(value, "utf-8")  # HyperSpy stores string arrays as bytes
        parent.create_dataset(name, data=value, **self._filters(value.shape))

    def write_data(self, parent: Any, name: str, data: Any,
                   chunks: tuple[int, ...] | None) -> None:
        if data.ndim and 0 not in data.shape:
            # Chunks encoded in parallel, raw chunk writes under HDF5's lock; dask data streams.
            _h5chunks.write_dataset(
                parent, name, data, chunks=chunks if chunks is not None else True,
                compression=self.compression, compression_opts=self.compression_opts,
                shuffle=self.shuffle)
            return
        dset = parent.create_dataset(name, shape=data.shape, dtype=data.dtype)
        if data.size:
            dset[...] = np.asarray(data)

    def encode_attr(self, value: Any) -> Any:
        return value


def _open(path: str | os.PathLike) -> h5py.File:
    path = os.fspath(path)
    if not os.path.exists(path):
        raise FileNotFoundError(f"No such file: {path!r}")
    try:
        return open_for_reading(path)
    except FileLockedError:
        raise
    except OSError as exc:
        message = str(exc)
        if "truncated" in message:
            raise TruncatedFileError(
                f"{path!r} is a truncated HDF5 file ({message}); the file on disk is shorter than "
                "its header says. Copy it again or recover the missing end."
            ) from None
        raise FileFormatError(
            f"{path!r} is not a readable HDF5 file ({message}); expected HyperSpy's .hspy "
            "layout in an HDF5 container."
        ) from None


def read(
    path: str | os.PathLike, *, lazy: bool = False, chunks: Any = "auto",
    distributed: bool = True, **format_options: Any,
) -> list[SignalDict]:
    """Read every signal of a ``.hspy`` file.

    Parameters
    ----------
    path
        The ``.hspy`` file.
    lazy
        Return dask arrays (chunks = the stored chunks, or ``chunks``) instead of numpy arrays.
    chunks
        ``"auto"`` for the stored chunks, or dask chunks (best a multiple of the stored ones).
    distributed
        Lazy data read by tasks that open the file by path (safe on dask.distributed).

    Returns
    -------
    list of SignalDict
        One per ``/Experiments`` group, axes in numpy order.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.hspy")
    >>> axes = [{"name": "x", "units": "nm", "navigate": True, "scale": 2.0, "offset": 0.0},
    ...         {"name": "E", "units": "eV", "navigate": False, "scale": 0.1, "offset": 1.0}]
    >>> write(path, {"data": np.arange(6.0).reshape(2, 3), "axes": axes,
    ...              "metadata": {"General": {"title": "demo"}}})
    >>> [s] = read(path)
    >>> s["metadata"]["General"]["title"], s["axes"][1]["units"], s["data"].shape
    ('demo', 'eV', (2, 3))
    """
    check_options(format_options, accepted_options(read), where="hspy.read")
    f = _open(path)
    backend = _H5Tree(path, distributed=distributed)
    try:
        return read_signals(f, backend, lazy=lazy, chunks=chunks)
    except (FileFormatError, FileNotFoundError):
        raise
    except (OSError, KeyError, RuntimeError) as exc:
        raise backend.error(f"the HDF5 structure cannot be read ({exc})") from exc
    finally:
        f.close()


def write(
    path: str | os.PathLike, signal: SignalDict, *, chunks: Any = None,
    compression: Any = "gzip", compression_opts: Any = None, shuffle: bool = True,
    mode: str = "w", **format_options: Any,
) -> None:
    """Write one signal dict to ``path`` in HyperSpy's ``.hspy`` layout (version 3.3).

    Parameters
    ----------
    path
        Written exactly there (the caller handles temporary files).
    signal
        ``data`` (numpy or dask), ``axes`` (numpy order), ``metadata``, ``original_metadata``,
        optional ``attributes``, ``learning_results``, ``package``, ``package_version``.
    chunks
        Stored chunk shape. Default: the dask chunks of lazy data, else HyperSpy's heuristic
        (whole signals, about 1 MB per chunk).
    compression, compression_opts, shuffle
        HDF5 filters: ``"gzip"`` (default), ``"lzf"`` or ``None``; shuffle on by default.
    mode
        ``"w"`` (new file) or ``"a"`` (add a signal to an existing file).

    Examples
    --------
    >>> import numpy as np, tempfile, os, h5py
    >>> path = os.path.join(tempfile.mkdtemp(), "a.hspy")
    >>> write(path, {"data": np.zeros((4, 8)), "metadata": {"General": {"title": "a/b"}}})
    >>> with h5py.File(path) as f:
    ...     f.attrs["file_format"], list(f["Experiments"])
    ('HyperSpy', ['a-b'])
    """
    check_options(format_options, accepted_options(write), where="hspy.write")
    if mode not in ("w", "a"):
        raise ValueError(f"mode must be 'w' or 'a', not {mode!r}")
    backend = _H5Tree(path, compression=compression, compression_opts=compression_opts,
                      shuffle=shuffle)
    stored_chunks = resolve_write_chunks(signal, chunks, TARGET_CHUNK_BYTES, backend)
    if mode == "w":
        close(path)  # HDF5 cannot truncate a file that still has open handles
    title = (signal.get("metadata") or {}).get("General", {}).get("title", "")
    with h5py.File(path, mode) as f:
        f.attrs["file_format"] = "HyperSpy"
        f.attrs["file_format_version"] = VERSION
        experiments = f.require_group("Experiments")
        name = group_name_for_title(title)
        if name in experiments:
            raise FileFormatError(
                f"{os.fspath(path)!r} already holds a signal named {name!r}; give the signal "
                "another title or write to a new file."
            )
        write_signal(experiments, name, signal, backend, chunks=stored_chunks)
