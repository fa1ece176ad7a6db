"""The format contract at registration: misspelt modules, missing attributes, clashing names."""

from __future__ import annotations

import subprocess
import sys
import types

import pytest

from lazysignal.errors import FormatRegistrationError
from lazysignal.io import registry
from lazysignal.io.formats import hspy, mib, msa, npy
from lazysignal.io.spec import FormatModule, FormatSpec, check_format_module


def _module(name="fake", **attrs):
    module = types.ModuleType(name)
    for key, value in attrs.items():
        setattr(module, key, value)
    return module


def _read(path, *, lazy=False, chunks="auto", distributed=True):
    return []


def _write(path, signal):
    pass


SPEC = FormatSpec("fake", ("fk",), writes=True, lazy=True, chunks=True, distributed=True)


def test_every_registered_module_satisfies_the_contract():
    modules = registry.format_modules()
    assert [m.__name__ for m in modules] == list(registry.FORMAT_MODULES)
    for module in modules:
        assert isinstance(module, FormatModule)
        assert check_format_module(module) is module.FORMAT


def test_a_misspelt_module_is_an_error_at_import_naming_it():
    with pytest.raises(FormatRegistrationError, match="lazysignal.io.formats.hspyy"):
        registry.check_module_names(("lazysignal.io.formats.hspy", "lazysignal.io.formats.hspyy"))
    # The same check runs when the registry module itself is imported.
    code = ("import lazysignal.io.registry as r, importlib;"
            "r.FORMAT_MODULES += ('lazysignal.io.formats.nope',);"
            "r.check_module_names(r.FORMAT_MODULES)")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode != 0 and "FormatRegistrationError" in run.stderr
    assert "lazysignal.io.formats.nope" in run.stderr


@pytest.mark.parametrize("attrs,problem", [
    ({}, "no FORMAT"),
    ({"FORMAT": "npy"}, "no FORMAT"),
    ({"FORMAT": SPEC}, "no read function"),
    ({"FORMAT": SPEC, "read": lambda path: []}, "does not take lazy, chunks, distributed"),
    ({"FORMAT": SPEC, "read": _read}, "FORMAT.writes is true but it has no write function"),
    ({"FORMAT": FormatSpec("fake", ("fk",), writes=True, lazy=True, chunks=True,
                           distributed=True, stores_chunks=True), "read": _read, "write": _write},
     "stores_chunks disagrees"),
    ({"FORMAT": FormatSpec("fake", ("fk",), writes=False, lazy=True, chunks=True,
                           distributed=True, keeps_file_open=True), "read": _read},
     "no close"),
    ({"FORMAT": FormatSpec("fake", (".FK",), writes=False, lazy=True, chunks=True,
                           distributed=False, memmap=True), "read": _read},
     "lower-case.*memmap needs FORMAT.distributed"),
])
def test_a_module_missing_part_of_the_contract_is_refused(attrs, problem):
    with pytest.raises(FormatRegistrationError, match=problem) as err:
        check_format_module(_module(**attrs))
    assert "'fake'" in str(err.value) and "For format authors" in str(err.value)


def test_a_complete_module_passes():
    assert check_format_module(_module(FORMAT=SPEC, read=_read, write=_write)) is SPEC


def test_clashing_names_or_extensions_are_refused():
    twice = registry.load_format_modules(("lazysignal.io.formats.mrc",) * 2)  # the same module
    assert [m.FORMAT.name for m in twice] == ["mrc", "mrc"]
    names = ("lazysignal.io.formats.npy", "tests_fake_npy_clone")
    clone = _module("tests_fake_npy_clone", FORMAT=npy.FORMAT, read=npy.read, write=npy.write)
    sys.modules["tests_fake_npy_clone"] = clone
    try:
        with pytest.raises(FormatRegistrationError, match="'npy'.*already declares"):
            registry.load_format_modules(names)
    finally:
        del sys.modules["tests_fake_npy_clone"]


def test_declared_flags_match_what_the_modules_do():
    assert hspy.FORMAT.stores_chunks and hspy.FORMAT.keeps_file_open and not hspy.FORMAT.memmap
    assert npy.FORMAT.memmap and not npy.FORMAT.stores_chunks
    assert not mib.FORMAT.writes and not hasattr(mib, "write")
    assert msa.FORMAT.chunks and not msa.FORMAT.distributed
