"""The front door consults each format's spec, and every reader/writer option is honoured or
rejected by the one shared check (which lists the accepted options)."""

from __future__ import annotations

import numpy as np
import pytest

import lazysignal as ls
from lazysignal.errors import FormatCapabilityError, UnsupportedOptionError
from lazysignal.io.formats import hspy, msa, mrc, npy, ripple, tiff, zspy
from lazysignal.io.spec import accepted_options, check_options
from lazysignal.signals import Signal1D, Signal2D


def _spectrum(n=64):
    axis = {"name": "Energy", "units": "eV", "scale": 0.1, "offset": 0.0, "size": n}
    return Signal1D(np.arange(float(n)), axes=[axis])


def test_msa_chunks_are_honoured_not_ignored(tmp_path):
    path = tmp_path / "s.msa"
    _spectrum().save(path)
    lazy = ls.load(path, lazy=True, chunks=16)
    assert lazy.data.chunks == ((16, 16, 16, 16),)
    np.testing.assert_array_equal(lazy.data.compute(), np.arange(64.0))
    assert ls.load(path, lazy=True).data.chunks == ((64,),)  # "auto": the whole spectrum


@pytest.mark.parametrize("distributed", [None, False])
def test_msa_reads_into_memory_and_refuses_distributed_true(tmp_path, distributed):
    path = tmp_path / "s.msa"
    _spectrum().save(path)
    np.testing.assert_array_equal(ls.load(path, lazy=True, distributed=distributed).data.compute(),
                                  np.arange(64.0))
    with pytest.raises(FormatCapabilityError, match="distributed=True.*s.msa.*into memory"):
        ls.load(path, lazy=True, distributed=True)
    with pytest.raises(FormatCapabilityError, match="distributed=True"):
        msa.read(path, lazy=True, distributed=True)


@pytest.mark.parametrize("ext", ["hspy", "zspy", "tif"])
def test_formats_without_a_memory_map_refuse_distributed_false(tmp_path, ext):
    path = tmp_path / f"s.{ext}"
    Signal2D(np.ones((2, 4, 4), "f4")).save(path)
    with pytest.raises(FormatCapabilityError, match="distributed=False.*no memory-mapped read"):
        ls.load(path, lazy=True, distributed=False)
    assert ls.load(path, lazy=True, distributed=True).data.sum().compute() == 32


def test_binary_formats_take_both_distributed_values(tmp_path):
    path = tmp_path / "s.npy"
    np.save(path, np.arange(24.0).reshape(2, 3, 4))
    for distributed in (None, True, False):
        assert float(ls.load(path, lazy=True, distributed=distributed).data.sum().compute()) == 276


def test_writing_a_read_only_format_is_refused(tmp_path):
    with pytest.raises(FormatCapabilityError, match="mib format is read-only"):
        Signal2D(np.zeros((2, 4, 4))).save(tmp_path / "x.mib", writer="mib")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ext", ["npy", "tif", "rpl", "msa", "mrc"])
def test_chunks_on_save_are_refused_where_the_format_stores_none(tmp_path, ext):
    s = Signal2D(np.zeros((2, 4, 4), "f4")) if ext != "msa" else _spectrum()
    with pytest.raises(FormatCapabilityError, match="does not store chunks"):
        s.save(tmp_path / f"x.{ext}", chunks=(1, 4, 4)[-s.data.ndim:])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ext,reader_options", [
    ("msa", ["encoding"]),
    ("tif", ["series"]),
    ("npy", ["pad", "signal_dimension"]),
    ("hspy", []),
    ("mrc", ["navigation_shape", "pad"]),
])
def test_unknown_load_options_are_rejected_listing_the_accepted_ones(tmp_path, ext, reader_options):
    s = Signal2D(np.zeros((2, 4, 4), "f4")) if ext != "msa" else _spectrum()
    path = tmp_path / f"x.{ext}"
    s.save(path)
    with pytest.raises(UnsupportedOptionError, match="navigation_shap\\b|'navigation_shap'") as err:
        ls.load(path, lazy=True, navigation_shap=(2,))
    message = str(err.value)
    assert isinstance(err.value, TypeError) and "It accepts" in message
    for name in reader_options:
        assert name in message


@pytest.mark.parametrize("ext,writer_options", [
    ("msa", ["comment", "encoding", "format", "separator"]),
    ("hspy", ["compression", "shuffle"]),
    ("zspy", ["compressor", "store_type"]),
    ("rpl", ["encoding"]),
    ("tif", ["compression", "imagej", "bigtiff"]),
])
def test_unknown_save_options_are_rejected_listing_the_accepted_ones(tmp_path, ext, writer_options):
    s = Signal2D(np.zeros((2, 4, 4), "f4")) if ext != "msa" else _spectrum()
    with pytest.raises(UnsupportedOptionError, match="'compresion'") as err:
        s.save(tmp_path / f"x.{ext}", compresion="gzip")
    for name in writer_options:
        assert name in str(err.value)
    assert list(tmp_path.iterdir()) == []  # nothing written, no staging folder left


def test_every_format_function_checks_its_own_options_when_called_directly(tmp_path):
    # Functions with **options check them with the shared check (not silently dropped).
    for function in (hspy.read, zspy.read, mrc.read, npy.read, ripple.read):
        with pytest.raises(UnsupportedOptionError, match="unknown options: 'bogus'"):
            function(tmp_path / "never-read", bogus=1)
    with pytest.raises(UnsupportedOptionError, match="tiff.write.*'bogus'.*compression"):
        tiff.write(tmp_path / "x.tif", {"data": np.zeros((2, 2)), "axes": []}, bogus=1)


def test_the_shared_check_lists_accepted_options_sorted():
    def write(path, signal, *, level=1, codec="zstd"):
        pass

    assert accepted_options(write) == ["codec", "level"]
    with pytest.raises(UnsupportedOptionError) as err:
        check_options({"levl": 2, "zz": 1}, accepted_options(write), where="demo.write")
    assert str(err.value) == ("demo.write got unknown options: 'levl', 'zz'. "
                              "It accepts: codec, level.")
    check_options({"level": 2}, accepted_options(write), where="demo.write")
