"""One function chooses the signal class; re-typing and loading with a type raise our error."""

import numpy as np
import pytest

import lazysignal as ls
from lazysignal.errors import SignalTypeError
from lazysignal.signal_registry import registered_signal_types, signal_class_for
from lazysignal.signals import BaseSignal, EDSSpectrum, EDSTEMSpectrum, Signal1D, Signal2D


@pytest.mark.parametrize("dim, stype, expected", [
    (1, "", Signal1D), (2, "", Signal2D), (0, "", BaseSignal), (3, "", BaseSignal),
    (1, "EDS", EDSSpectrum), (1, "EDS_TEM", EDSTEMSpectrum), (1, None, Signal1D),
    (2, "EDS", Signal2D), (0, "EDS_TEM", BaseSignal), (1, "unknown", Signal1D),
])
def test_lenient_choice_falls_back_by_dimension(dim, stype, expected):
    assert signal_class_for(dim, stype) is expected


def test_strict_choice_names_the_known_types():
    with pytest.raises(SignalTypeError, match="Unknown signal_type 'nope'; known: EDS .*EDS_SEM.*EDS_TEM"):
        signal_class_for(1, "nope", strict=True)
    with pytest.raises(SignalTypeError, match="needs 1 signal dimension"):
        signal_class_for(2, "EDS", strict=True)
    assert signal_class_for(2, "", strict=True) is Signal2D
    assert set(registered_signal_types()) >= {"EDS", "EDS_TEM", "EDS_SEM"}


@pytest.mark.parametrize("lazy", [False, True])
def test_set_signal_type_switches_class_or_raises_leaving_the_signal_alone(lazy):
    s = Signal1D(np.ones((3, 10)))
    s = s.as_lazy() if lazy else s
    s.set_signal_type("EDS_TEM")
    assert type(s) is EDSTEMSpectrum and s.metadata.Signal.signal_type == "EDS_TEM" and s.lazy == lazy
    with pytest.raises(SignalTypeError, match="known: EDS"):
        s.set_signal_type("nope")
    assert type(s) is EDSTEMSpectrum and s.metadata.Signal.signal_type == "EDS_TEM"
    image = Signal2D(np.ones((4, 4)))
    with pytest.raises(SignalTypeError, match="as_signal1D"):
        image.set_signal_type("EDS")
    assert type(image) is Signal2D and image.metadata.Signal.signal_type == ""
    # Reductions and in-place maps choose through the same function.
    assert type(s.sum(axis="signal")) is BaseSignal
    assert type(s.sum(axis="navigation")) is EDSTEMSpectrum


@pytest.mark.parametrize("lazy", [False, True])
def test_load_with_signal_type_uses_the_registry(tmp_path, lazy):
    path = tmp_path / "s.hspy"
    stored = Signal1D(np.arange(20.0).reshape(2, 10))
    stored.metadata.set_item("Signal.signal_type", "EELS")  # a type this library does not know
    stored.save(path)
    loaded = ls.load(path, lazy=lazy)
    assert type(loaded) is Signal1D and loaded.metadata.Signal.signal_type == "EELS"
    assert type(ls.load(path, lazy=lazy, signal_type="EDS_SEM")).__name__ == "EDSSEMSpectrum"
    with pytest.raises(SignalTypeError, match="Unknown signal_type 'EELS'"):
        ls.load(path, lazy=lazy, signal_type="EELS")


@pytest.mark.parametrize("call, error, builtin", [
    (lambda: Signal1D(np.ones((2, 4))).rechunk(), "NotLazyError", TypeError),
    (lambda: Signal1D(np.ones((2, 4))).explain(), "NotLazyError", TypeError),
    (lambda: Signal1D(np.ones((2, 4))).rebin(scale=(1, 1.5)), "InvalidArgumentError", ValueError),
    (lambda: Signal1D(np.ones((2, 4))).rebin(), "InvalidArgumentError", ValueError),
    (lambda: Signal1D(np.ones((2, 4))).get_histogram(bins="nonsense"), "InvalidArgumentError", ValueError),
    (lambda: ls.stack([]), "InvalidArgumentError", ValueError),
    (lambda: Signal1D(np.ones(3)).metadata.get_item("General.nothing"), "MetadataKeyError", KeyError),
])
def test_bad_input_gets_our_errors_refining_the_builtin(call, error, builtin):
    import lazysignal.errors as errors

    with pytest.raises(getattr(errors, error)) as caught:
        call()
    assert isinstance(caught.value, builtin) and isinstance(caught.value, errors.LazySignalError)
