"""The exceptions lazysignal raises, in one place.

Each refines the built-in exception a caller would already catch (``ValueError``,
``IndexError``, ``OSError``...), so ``except ValueError`` keeps working, and each
message says what was expected, what was found, and what to do.
"""

from __future__ import annotations

__all__ = [
    "LazySignalError",
    "AxisError",
    "AxisIndexError",
    "ShapeMismatchError",
    "LazyAssignmentError",
    "DtypeError",
    "FileFormatError",
    "UnknownFormatError",
    "TruncatedFileError",
    "ChunksError",
    "FileChangedError",
    "FileLockedError",
    "EventError",
    "PreferenceError",
    "UnsupportedOptionError",
    "FormatCapabilityError",
    "FormatRegistrationError",
    "ROIError",
    "MissingDependencyError",
    "PlotError",
    "XrayLineError",
    "SignalTypeError",
    "InvalidArgumentError",
    "NotLazyError",
    "MetadataKeyError",
    "ProxyLoadError",
    "ProxyOperationError",
    "DecompositionError",
    "MissingFileError",
]


class LazySignalError(Exception):
    """Base class of every error raised by lazysignal."""


class AxisError(LazySignalError, ValueError):
    """An axis was named or given in a way that matches no axis of the signal."""


class AxisIndexError(LazySignalError, IndexError):
    """An index or calibrated value lies outside an axis' range."""


class ShapeMismatchError(LazySignalError, ValueError):
    """Two operands' shapes cannot be broadcast together."""


class LazyAssignmentError(LazySignalError, TypeError):
    """Item assignment into a lazy (dask) array, which is immutable."""


class DtypeError(LazySignalError, TypeError):
    """A dtype conversion that cannot be done safely."""


class FileFormatError(LazySignalError, OSError):
    """A file's content does not match what its format requires."""


class UnknownFormatError(LazySignalError, ValueError):
    """No reader or writer is registered for a file's extension."""


class TruncatedFileError(FileFormatError):
    """A file is shorter than its header says."""


class ChunksError(LazySignalError, ValueError):
    """A ``chunks=`` argument that does not fit the data's shape."""


class FileChangedError(FileFormatError):
    """A file that lazy data read from was replaced or rewritten since it was loaded."""


class FileLockedError(FileFormatError):
    """A file another process holds locked for writing (an HDF5 file lock) past a short wait."""


class EventError(LazySignalError, ValueError):
    """An event connected, disconnected or triggered in a way it does not accept."""


class PreferenceError(LazySignalError, AttributeError, ValueError):
    """An unknown preference name, or a value a preference does not accept."""


class UnsupportedOptionError(LazySignalError, TypeError):
    """A keyword option a reader, writer or method does not accept (the message lists those it does)."""


class FormatCapabilityError(LazySignalError, ValueError):
    """An option a file format cannot honour (``distributed=True`` on a format read into memory,
    writing a read-only format, ``chunks=`` for a format that stores none)."""


class FormatRegistrationError(LazySignalError, ImportError):
    """A format module listed in the registry is missing or does not satisfy the format contract."""


class ROIError(LazySignalError, ValueError):
    """A region of interest with missing or inconsistent parameters (left beyond right, ...)."""


class MissingDependencyError(LazySignalError, ImportError):
    """An optional dependency that a feature needs is not installed (the message says what to pip install)."""


class PlotError(LazySignalError, ValueError):
    """A signal or navigator that cannot be plotted as asked (ragged data, shapes that do not fit)."""


class XrayLineError(LazySignalError, ValueError):
    """An unknown element or X-ray line, a line or window outside the energy axis, or an energy
    axis whose units are not eV/keV."""


class SignalTypeError(LazySignalError, ValueError):
    """A ``signal_type`` that is not registered, or registered for another signal dimension."""


class ProxyLoadError(LazySignalError, OSError):
    """A :class:`~lazysignal.proxy.LazyReadData` could not load its file; the loader's error is the cause."""


class ProxyOperationError(LazySignalError, TypeError, ValueError):
    """An arithmetic operation on a :class:`~lazysignal.proxy.LazyReadData` failed (incompatible operand).

    Subclasses both ``TypeError`` and ``ValueError`` because the underlying
    operation raises either (wrong type, or shapes that do not broadcast); the
    original error is chained as ``__cause__``.
    """


class DecompositionError(LazySignalError, ValueError):
    """A decomposition cannot run as asked (bad mask, negative data with Poisson scaling, too many
    components), or a method needs a decomposition that has not been done."""


class MissingFileError(FileFormatError, FileNotFoundError):
    """A file that a data set needs (a ripple ``.raw``, a zarr chunk file) is not there."""


class InvalidArgumentError(LazySignalError, ValueError):
    """An argument's value that an operation cannot use (a rebin factor, a histogram rule...)."""


class NotLazyError(LazySignalError, TypeError):
    """An operation on chunks or task graphs (rechunk, explain) asked of a signal held in memory."""


class MetadataKeyError(LazySignalError, KeyError):
    """A metadata path that does not exist (``get_item`` without a default)."""
