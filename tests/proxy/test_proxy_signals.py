"""Proxies of lazysignal files: the default loader is lazysignal.load, lazy=True passes through."""

from __future__ import annotations

import numpy as np
import pytest

import lazysignal
from lazysignal.proxy import LazyReadData, PreloadIterator, PreloadList, ProxyLoadError
from lazysignal.signals import Signal1D


@pytest.fixture
def hspy_files(tmp_path):
    rng = np.random.default_rng(5)
    paths, arrays = [], []
    for k in range(6):
        array = rng.random((3, 4, 8))
        Signal1D(array).save(tmp_path / f"part{k}.hspy")
        paths.append(str(tmp_path / f"part{k}.hspy"))
        arrays.append(array)
    return paths, arrays


def test_proxy_of_hspy_path_loads_the_signal_with_lazysignal_load(hspy_files):
    paths, arrays = hspy_files
    p = LazyReadData(paths[0])
    assert p.loader is None and not p.preloading()
    signal = p.data
    assert isinstance(signal, Signal1D) and not signal.lazy
    np.testing.assert_array_equal(signal.data, arrays[0])
    # forwarded attributes are the signal's
    assert p.axes_manager.signal_shape == signal.axes_manager.signal_shape
    assert p.lazy is False


def test_lazy_true_passes_through_to_lazysignal_load(hspy_files):
    paths, arrays = hspy_files
    p = LazyReadData(paths[0], lazy=True)
    assert p.load_kwargs == {"lazy": True}
    assert p.data.lazy is True
    np.testing.assert_array_equal(np.asarray(p.data.data), arrays[0])


@pytest.mark.parametrize("npreload", [None, 3])
def test_sum_of_preload_list_of_hspy_proxies_is_the_summed_signal(hspy_files, npreload):
    paths, arrays = hspy_files
    proxies = [LazyReadData(p, nops=1) for p in paths]
    total = sum(PreloadList(proxies, npreload=npreload))
    assert isinstance(total, LazyReadData) and isinstance(total.data, Signal1D)
    np.testing.assert_allclose(total.data.data, sum(arrays))
    assert total.data.axes_manager.navigation_shape == (4, 3)
    assert not any(p.preloading() for p in proxies)  # each released after its one use


def test_lazy_sum_equals_eager_sum(hspy_files):
    paths, arrays = hspy_files
    lazy_total = sum(PreloadList((LazyReadData(p, nops=1, lazy=True) for p in paths), npreload=2))
    eager_total = sum(PreloadIterator((LazyReadData(p, nops=1) for p in paths), npreload=2))
    assert lazy_total.data.lazy is True
    lazy_total.data.compute()
    np.testing.assert_allclose(lazy_total.data.data, eager_total.data.data)
    np.testing.assert_allclose(eager_total.data.data, sum(arrays))


def test_arithmetic_between_proxies_and_signals(hspy_files):
    paths, arrays = hspy_files
    spectrum = Signal1D(np.arange(8.0))
    p = LazyReadData(paths[0], nops=2)
    result = p * spectrum
    assert isinstance(result, LazyReadData) and isinstance(result.data, Signal1D)
    np.testing.assert_allclose(result.data.data, arrays[0] * np.arange(8.0))
    result = spectrum - p  # the signal on the left: needs Signal to defer to the proxy
    assert isinstance(result, LazyReadData)
    np.testing.assert_allclose(result.data.data, np.arange(8.0) - arrays[0])
    assert not p.preloading()


def test_missing_hspy_file_names_file_and_operation(tmp_path):
    missing = str(tmp_path / "nowhere.hspy")
    with pytest.raises(ProxyLoadError) as info:
        LazyReadData(missing, nops=1) + 1
    assert missing in str(info.value) and "'+'" in str(info.value)
    assert "lazysignal.load" in str(info.value)


def test_default_loader_is_the_front_door(hspy_files, monkeypatch):
    # the default loader is looked up at load time, so it is the current lazysignal.load
    calls = []
    real = lazysignal.load

    def spy(path, **kwargs):
        calls.append((path, kwargs))
        return real(path, **kwargs)

    monkeypatch.setattr(lazysignal, "load", spy)
    LazyReadData(hspy_files[0][0], lazy=True).data
    assert calls == [(hspy_files[0][0], {"lazy": True})]
