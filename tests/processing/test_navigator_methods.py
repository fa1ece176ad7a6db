"""The stored navigator's life cycle: not copied by operations, shared by copies of the same
values, forgotten when the values change, saved with the file and loaded back."""

import copy

import numpy as np
import pytest

import lazysignal as ls
from lazysignal.signals import Signal1D

CHUNKINGS = [None, (2, 5, 10), (1, 1, 5)]


def with_navigator(chunks):
    s = Signal1D(np.arange(4 * 5 * 10, dtype=float).reshape(4, 5, 10))
    s = s if chunks is None else s.as_lazy(chunks=chunks)
    s.compute_navigator()
    return s


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("operation", [
    lambda s: s.isig[2:5], lambda s: s.inav[1:3], lambda s: s.sum(axis="signal"), lambda s: s.sum(),
    lambda s: s + 1, lambda s: s.map(np.sqrt, inplace=False), lambda s: s.T, lambda s: s.fft(),
    lambda s: s.rebin(scale=(1, 1, 2)), lambda s: s.derivative(-1),
])
def test_operations_do_not_copy_the_navigator(chunks, operation):
    s = with_navigator(chunks)
    result = operation(s)
    assert result.navigator is None and not result.metadata.has_item("_HyperSpy.navigator")
    assert s.navigator is not None  # the source keeps its own


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("make", [lambda s: s.copy(), lambda s: s.deepcopy(), copy.deepcopy,
                                  lambda s: s.as_lazy()])
def test_copies_of_the_same_values_share_it(chunks, make):
    s = with_navigator(chunks)
    assert make(s).navigator is s.navigator


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("mutate", [
    lambda s: s.__iadd__(1), lambda s: setattr(s, "data", s.data * 2),
    lambda s: s.change_dtype("float32"), lambda s: s.map(np.sqrt, inplace=True),
    lambda s: s._replace(s.data, [a.copy() for a in s.axes_manager._axes[:2]] +
                         [s.axes_manager._axes[2].sliced(slice(None))]),
])
def test_changing_the_values_forgets_it(chunks, mutate):
    s = with_navigator(chunks)
    mutate(s)
    assert s.navigator is None


@pytest.mark.parametrize("chunks", CHUNKINGS[1:])
def test_compute_and_rechunk_keep_it(chunks):
    s = with_navigator(chunks)
    nav = s.navigator
    s.rechunk(nav_chunks=(1, 1), inplace=True)
    assert s.navigator is nav and s.rechunk(inplace=False).navigator is nav
    s.compute()
    assert s.navigator is nav


@pytest.mark.parametrize("extension", ["hspy", "zspy"])
@pytest.mark.parametrize("chunks", CHUNKINGS)
def test_saved_with_the_file_and_loaded_back(tmp_path, extension, chunks):
    s = with_navigator(chunks)
    path = tmp_path / f"s.{extension}"
    s.save(path)
    for lazy in (False, True):
        back = ls.load(path, lazy=lazy)
        assert back.navigator is not None
        np.testing.assert_allclose(back.navigator.data, s.navigator.data)
        assert back.metadata.get_item("_HyperSpy.navigator") is back.navigator  # HyperSpy's place
        assert back.sum(axis="signal").navigator is None


def test_setting_none_removes_it():
    s = with_navigator(None)
    s.navigator = None
    assert s.navigator is None and not s.metadata.has_item("_HyperSpy.navigator")
