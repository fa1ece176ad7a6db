"""A file written by this process while another process inherited the writer's descriptor (a
fork during the write: a LocalCluster nanny restarting a killed worker) stays locked by HDF5
until that process lets go; readers wait for it, and a lock that is never released is a clear
error."""

from __future__ import annotations

import subprocess
import sys
import threading

import h5py
import numpy as np
import pytest

import lazysignal as ls
from lazysignal.errors import FileFormatError, FileLockedError
from lazysignal.io.backends import hdf5_open
from lazysignal.signals import Signal1D

# Holds whatever descriptors it was given until its stdin closes.
HOLDER = "import sys; sys.stdin.read()"


def _write_while_a_child_inherits_the_lock(path):
    """Write ``path`` as a signal file; a child process inherits the writer's locked descriptor
    and keeps it after this process has closed the file. Returns the child."""
    Signal1D(np.arange(24.0).reshape(4, 6)).save(path)
    with h5py.File(path, "a") as f:  # the exclusive lock HDF5 takes for a writer
        fd = f.id.get_vfd_handle()
        child = subprocess.Popen([sys.executable, "-c", HOLDER], stdin=subprocess.PIPE,
                                 pass_fds=(fd,))
    return child


def _released(child):
    child.stdin.close()
    child.wait()


@pytest.mark.parametrize("lazy", [False, True])
def test_a_load_waits_for_a_lock_that_an_inherited_descriptor_holds(tmp_path, lazy, monkeypatch):
    path = tmp_path / "s.hspy"
    monkeypatch.setattr(hdf5_open, "LOCK_WAIT_S", 600.0)  # the release below decides, not a clock
    child = _write_while_a_child_inherits_the_lock(path)
    try:
        with pytest.raises(OSError, match="unable to lock file"):
            h5py.File(path, "r")  # what a plain read meets
        # The inherited descriptor goes away while the load waits (a forked child exec'ing).
        threading.Timer(0.2, _released, [child]).start()
        s = ls.load(path, lazy=lazy)
        np.testing.assert_array_equal(np.asarray(s.data), np.arange(24.0).reshape(4, 6))
    finally:
        _released(child)
    s.close_file()


def test_a_lock_held_past_the_wait_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "s.hspy"
    monkeypatch.setattr(hdf5_open, "LOCK_WAIT_S", 0.05)
    child = _write_while_a_child_inherits_the_lock(path)
    try:
        with pytest.raises(FileLockedError, match="locked by another process") as info:
            ls.load(path)
    finally:
        _released(child)
    assert isinstance(info.value, FileFormatError) and isinstance(info.value, OSError)
    assert str(path) in str(info.value) and "HDF5_USE_FILE_LOCKING" in str(info.value)
    assert ls.load(path).data.shape == (4, 6)  # once the holder is gone, it reads


def test_other_open_errors_are_not_waited_for(tmp_path):
    path = tmp_path / "not.h5"
    path.write_bytes(b"not an HDF5 file at all")
    with pytest.raises(OSError) as info:
        hdf5_open.open_for_reading(path, wait_s=3600)
    assert not isinstance(info.value, FileLockedError)
