"""The format conformance suite: the tests every file format of lazysignal passes.

Each format's test module subclasses one of two base classes and says how to make its data;
pytest then runs every ``test_*`` method below for that format:

* :class:`ReadConformance` — read-only formats: lazy == eager, ``chunks=`` honoured, the
  distributed graph small and picklable (and computed on a real ``distributed.Client``), the
  ``distributed=`` flags the format's spec declares, unknown options rejected with the
  accepted ones listed, damaged copies (:mod:`lazysignal.testing.damage`: truncations, flipped
  header bytes, cut or missing companion and chunk files, each read in a child process with a
  time limit) rejected with our error naming the file or read correctly, and writing refused.
* :class:`FormatConformance` — formats that write: all of the above plus round trips (eager
  and lazily streamed data, the axes and metadata the format keeps), unknown write options
  rejected, and ``chunks=`` on save stored or refused as the spec declares.

A class for a format that writes must use :class:`FormatConformance` (one that does not,
:class:`ReadConformance`), so no format leaves the write half out.

Examples
--------
A test module for a format (``tests/io/formats/test_npy.py``)::

    from lazysignal.testing.conformance import FormatConformance

    class TestNpyConformance(FormatConformance):
        format_name = "npy"
        kept_axis_attributes = ("size", "navigate")   # .npy holds no calibration
        kept_metadata = ()

        def make_signal(self):
            return Signal2D(np.arange(8 * 64 * 64, dtype="f4").reshape(8, 64, 64))

>>> issubclass(FormatConformance, ReadConformance)
True
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any, ClassVar

import dask.array as da
import distributed
import numpy as np
import pytest

from ..errors import ChunksError, FormatCapabilityError, UnsupportedOptionError
from ..io.load import load
from ..io.registry import format_by_name
from ..io.spec import FormatSpec
from ..signals import Signal1D, Signal2D
from .assertions import assert_signals_equal
from .damage import Damage, check_damaged_inputs

__all__ = ["ReadConformance", "FormatConformance", "spectrum_image", "image_stack"]


def spectrum_image(dtype: Any = "f8") -> Signal1D:
    """A calibrated (8, 16|512) :class:`~lazysignal.signals.Signal1D` (512 KiB in float64)
    titled "conformance": data for the tests of spectrum formats.

    Examples
    --------
    >>> spectrum_image().axes_manager.signal_shape
    (512,)
    """
    data = np.arange(8 * 16 * 512, dtype=dtype).reshape(8, 16, 512) % 251
    axes = [{"name": "y", "units": "nm", "scale": 2.0, "offset": 1.0, "size": 8},
            {"name": "x", "units": "nm", "scale": 2.0, "offset": -3.0, "size": 16},
            {"name": "Energy", "units": "eV", "scale": 0.5, "offset": 100.0, "size": 512}]
    return Signal1D(data, axes=axes, metadata={"General": {"title": "conformance"}})


def image_stack(shape: tuple[int, ...] = (20, 64, 64), dtype: Any = "f4") -> Signal2D:
    """A calibrated stack of images, :class:`~lazysignal.signals.Signal2D` (320 KiB by
    default) titled "conformance": data for the tests of image formats.

    Examples
    --------
    >>> image_stack().data.shape
    (20, 64, 64)
    """
    data = (np.arange(int(np.prod(shape))) % 251).astype(dtype).reshape(shape)
    names = ["v", "u", "z", "y", "x"][-len(shape):]
    axes = [{"name": n, "units": "nm", "scale": 0.5, "offset": 0.0, "size": s}
            for n, s in zip(names, shape)]
    return Signal2D(data, axes=axes, metadata={"General": {"title": "conformance"}})


def _loaded(path: Path, **options: Any) -> Any:
    signal = load(path, **options)
    assert not isinstance(signal, list), f"{path} holds {len(signal)} signals; make one"
    return signal


def _computed(signal: Any) -> np.ndarray:
    return np.asarray(signal.data.compute() if signal.lazy else signal.data)


class ReadConformance:
    """Tests every reader passes. Subclass as ``Test<Format>Conformance`` and set
    :attr:`format_name`; implement :meth:`make_file` (formats that write get it from
    :class:`FormatConformance`).

    The data :meth:`make_file` writes need at least two navigation positions and at least
    ``4 * graph_bytes_limit`` bytes, so that a small graph shows that it holds no data.
    """

    #: The format's name in the registry (``FormatSpec.name``).
    format_name: ClassVar[str]
    #: Extension of the files made (default: the format's first).
    extension: ClassVar[str | None] = None
    #: Extra options for every ``load`` (format options such as ``navigation_shape``).
    load_options: ClassVar[dict[str, Any]] = {}
    #: Upper bound, in bytes, of a pickled lazy graph (formats that read per task).
    graph_bytes_limit: ClassVar[int] = 64 * 1024
    #: For formats whose files hold no frame count (the size says how many frames there
    #: are): a cut file may be read as a shorter acquisition, with a warning naming the file.
    frames_counted_by_size: ClassVar[bool] = False
    #: Cut points and flipped header bytes per file of the dataset
    #: (:func:`lazysignal.testing.damage.check_damaged_inputs`).
    damage_truncations: ClassVar[int] = 6
    damage_flips: ClassVar[int] = 4

    # ------------------------------------------------------------------ to implement
    def make_file(self, directory: Path) -> tuple[Path, Any]:
        """Write a file of the format under ``directory``; return its path and the signal
        whose data the file holds."""
        raise NotImplementedError

    def companion_files(self, path: Path) -> tuple[Path, ...]:
        """Other files of the dataset at ``path`` that do not share its stem (damaged with it;
        same-stem siblings such as ripple's ``.raw`` are found by themselves)."""
        return ()

    def extra_damages(self, path: Path) -> tuple[Damage, ...]:
        """Format-specific damage to try besides the generic truncations and flipped bytes
        (a header field replaced, a chunk file removed)."""
        return ()

    # ------------------------------------------------------------------ helpers
    @property
    def spec(self) -> FormatSpec:
        spec: FormatSpec = format_by_name(self.format_name).FORMAT
        return spec

    @property
    def ext(self) -> str:
        return self.extension or self.spec.extensions[0]

    def chunks_request(self, shape: tuple[int, ...], nav_dim: int) -> tuple[Any, ...]:
        """A ``chunks=`` unlike the default: two positions along the first navigation axis
        (or half the first axis), one along the other navigation axes, signal axes whole."""
        if nav_dim:
            return (2,) + (1,) * (nav_dim - 1) + (-1,) * (len(shape) - nav_dim)
        return (max(1, shape[0] // 2),) + (-1,) * (len(shape) - 1)

    def _file(self, tmp_path: Path) -> tuple[Path, Any]:
        directory = tmp_path / "made"
        directory.mkdir(exist_ok=True)
        return self.make_file(directory)

    def _load(self, path: Path, **options: Any) -> Any:
        return _loaded(path, **{**self.load_options, **options})

    # ------------------------------------------------------------------ the tests
    def test_declared_in_the_registry(self) -> None:
        spec = self.spec
        assert self.ext in spec.extensions
        assert spec.writes == isinstance(self, FormatConformance), (
            f"{spec.name} {'writes' if spec.writes else 'is read-only'}: its conformance "
            f"class must subclass {'FormatConformance' if spec.writes else 'ReadConformance'}")

    def test_lazy_equals_eager(self, tmp_path: Path) -> None:
        path, expected = self._file(tmp_path)
        eager = self._load(path)
        assert not eager.lazy
        np.testing.assert_array_equal(_computed(eager), _computed(expected))
        request = self.chunks_request(eager.data.shape, eager.axes_manager.navigation_dimension)
        for chunks in ("auto", request):
            lazy = self._load(path, lazy=True, chunks=chunks)
            assert lazy.lazy and isinstance(lazy.data, da.Array)
            assert_signals_equal(lazy, eager)

    def test_chunks_honoured(self, tmp_path: Path) -> None:
        path, _ = self._file(tmp_path)
        eager = self._load(path)
        shape = eager.data.shape
        request = self.chunks_request(shape, eager.axes_manager.navigation_dimension)
        lazy = self._load(path, lazy=True, chunks=request)
        assert lazy.data.chunks == da.core.normalize_chunks(request, shape)
        np.testing.assert_array_equal(_computed(lazy), _computed(eager))
        with pytest.raises(ChunksError):
            self._load(path, lazy=True, chunks=(1,) * (len(shape) + 1))

    def test_distributed_graph_small_and_picklable(self, tmp_path: Path) -> None:
        path, _ = self._file(tmp_path)
        if not self.spec.distributed:
            with pytest.raises(FormatCapabilityError, match="distributed=True"):
                self._load(path, lazy=True, distributed=True)
            return
        lazy = self._load(path, lazy=True, distributed=True)
        data = lazy.data
        assert data.nbytes >= 4 * self.graph_bytes_limit, (
            "make_file's data are too small to show that the graph does not hold them")
        blob = pickle.dumps(dict(data.__dask_graph__()))
        assert len(blob) < self.graph_bytes_limit, f"graph pickles to {len(blob)} bytes"
        expected = _computed(self._load(path))
        # The unpickled graph reads the file by itself...
        copy = da.Array(pickle.loads(blob), data.name, data.chunks, dtype=data.dtype)
        np.testing.assert_array_equal(copy.compute(scheduler="synchronous"), expected)
        # ...and computes on a dask.distributed client.
        with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                                dashboard_address=None) as client:
            total = client.compute(data.sum(dtype="f8")).result()
        np.testing.assert_allclose(total, expected.sum(dtype="f8"))

    def test_distributed_false_follows_the_spec(self, tmp_path: Path) -> None:
        path, _ = self._file(tmp_path)
        spec = self.spec
        if spec.memmap:
            lazy = self._load(path, lazy=True, distributed=False)
            np.testing.assert_array_equal(_computed(lazy), _computed(self._load(path)))
        elif spec.distributed:
            with pytest.raises(FormatCapabilityError, match="distributed=False"):
                self._load(path, lazy=True, distributed=False)
        else:  # read into memory: distributed=False is what the format does anyway
            lazy = self._load(path, lazy=True, distributed=False)
            np.testing.assert_array_equal(_computed(lazy), _computed(self._load(path)))

    def test_unknown_read_option_rejected(self, tmp_path: Path) -> None:
        path, _ = self._file(tmp_path)
        with pytest.raises(UnsupportedOptionError, match="no_such_option") as err:
            self._load(path, lazy=True, no_such_option=1)
        assert "It accepts" in str(err.value)

    def test_damaged_input_rejected_or_read_correctly(self, tmp_path: Path) -> None:
        # Each damaged copy is loaded (eagerly, lazily) and computed in a child process with
        # a time limit: our error naming the file, or the right data; never a crash or hang.
        path, _ = self._file(tmp_path)
        report = check_damaged_inputs(
            path, tmp_path / "damaged", load_options=self.load_options,
            companions=self.companion_files(path), truncations=self.damage_truncations,
            flips=self.damage_flips, extra=self.extra_damages(path),
            partial_reads_warn=self.frames_counted_by_size)
        report.assert_ok()
        assert report.summary().get("ours", 0) > 0, report.summary()  # the damage is real

    def test_writing_follows_the_spec(self, tmp_path: Path) -> None:
        _, expected = self._file(tmp_path)
        with pytest.raises(FormatCapabilityError, match="read-only"):
            expected.save(tmp_path / f"out.{self.ext}", writer=self.format_name)
        assert not (tmp_path / f"out.{self.ext}").exists()


class FormatConformance(ReadConformance):
    """Tests every format that writes passes (the read tests included). Implement
    :meth:`make_signal`; set what the format keeps."""

    #: Axis attributes a save and load keep.
    kept_axis_attributes: ClassVar[tuple[str, ...]] = (
        "name", "units", "scale", "offset", "size", "navigate")
    #: Metadata paths a save and load keep.
    kept_metadata: ClassVar[tuple[str, ...]] = ("General.title",)
    #: Extra options for every save.
    save_options: ClassVar[dict[str, Any]] = {}

    def make_signal(self) -> Any:
        """The signal the tests write (see :class:`ReadConformance` for its size)."""
        raise NotImplementedError

    def make_file(self, directory: Path) -> tuple[Path, Any]:
        signal = self.make_signal()
        path = directory / f"conformance.{self.ext}"
        options = dict(self.save_options)
        if self.spec.stores_chunks:  # one navigation row per stored chunk: chunks= may ask more
            nav = signal.axes_manager.navigation_dimension
            options["chunks"] = (1,) * nav + signal.data.shape[nav:]
        signal.save(path, **options)
        return path, signal

    def _check_kept(self, back: Any, signal: Any) -> None:
        np.testing.assert_array_equal(_computed(back), _computed(signal))
        for got, want in zip(back.axes_manager._axes, signal.axes_manager._axes):
            for attr in self.kept_axis_attributes:
                assert getattr(got, attr) == getattr(want, attr), (
                    f"axis {want.name!r}: {attr} {getattr(got, attr)!r} != {getattr(want, attr)!r}")
        for item in self.kept_metadata:
            assert back.metadata.get_item(item) == signal.metadata.get_item(item), item

    def test_round_trip(self, tmp_path: Path) -> None:
        signal = self.make_signal()
        path = tmp_path / f"eager.{self.ext}"
        signal.save(path, **self.save_options)
        self._check_kept(self._load(path), signal)

    def test_lazy_round_trip_streams(self, tmp_path: Path) -> None:
        signal = self.make_signal()
        nav = signal.axes_manager.navigation_dimension
        lazy = signal.as_lazy(chunks=self.chunks_request(signal.data.shape, nav))
        path = tmp_path / f"lazy.{self.ext}"
        lazy.save(path, **self.save_options)
        self._check_kept(self._load(path, lazy=True), signal)

    def test_unknown_write_option_rejected(self, tmp_path: Path) -> None:
        path = tmp_path / f"bad.{self.ext}"
        with pytest.raises(UnsupportedOptionError, match="no_such_option") as err:
            self.make_signal().save(path, no_such_option=1, **self.save_options)
        assert "It accepts" in str(err.value)
        assert not path.exists() and not list(tmp_path.iterdir())  # nothing left behind

    def test_save_chunks_follow_the_spec(self, tmp_path: Path) -> None:
        signal = self.make_signal()
        nav = signal.axes_manager.navigation_dimension
        chunks = (1,) * nav + signal.data.shape[nav:]
        path = tmp_path / f"chunked.{self.ext}"
        if self.spec.stores_chunks:
            signal.save(path, chunks=chunks, **self.save_options)
            stored = self._load(path, lazy=True).data.chunks
            assert stored == da.core.normalize_chunks(chunks, signal.data.shape)
        else:
            with pytest.raises(FormatCapabilityError, match="does not store chunks"):
                signal.save(path, chunks=chunks, **self.save_options)

    def test_writing_follows_the_spec(self, tmp_path: Path) -> None:
        signal = self.make_signal()
        path = tmp_path / f"twice.{self.ext}"
        signal.save(path, **self.save_options)
        with pytest.raises(FileExistsError):
            signal.save(path, **self.save_options)
        signal.save(path, overwrite=True, **self.save_options)
        self._check_kept(self._load(path), signal)
