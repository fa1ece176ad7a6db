"""Saves killed with SIGKILL (real child processes) at several moments: the previous file stays
loadable and unchanged, the next save works, and an interrupted zspy save resumes, writing
only the chunks it lacks. Two processes saving one path at once leave one complete file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import lazysignal as ls
from lazysignal.errors import FileChangedError, FormatCapabilityError
from lazysignal.io.backends.zarr_chunks import JOURNAL
from lazysignal.io.staging import leftovers
from lazysignal.signals import Signal2D
from lazysignal.testing.damage import run_isolated

SHAPE, CHUNKS = (8, 8, 16, 16), (1, 2, 16, 16)  # 32 blocks, one stored chunk each
N_BLOCKS = 32

# A child that saves version `version` of the data, SIGKILLing itself at `moment`:
# "block:N" while computing block N+1 (blocks 1..N have been handed to the writer),
# "move" on entering the move into place, "moved" right after it (before clean-up).
_CHILD = r"""
import json, os, signal, sys
import dask.array as da
import numpy as np
import lazysignal.io.staging as staging
from lazysignal.signals import Signal2D

path, version, moment, log, options = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], json.loads(sys.argv[5])
shape, chunks = (8, 8, 16, 16), (1, 2, 16, 16)
kind, _, n = moment.partition(":")
computed = []

def produce(block, block_info=None):
    if block_info is None:  # dask's meta inference, not a block
        return block
    if kind == "block" and len(computed) >= int(n):
        os.kill(os.getpid(), signal.SIGKILL)
    computed.append(block_info[None]["chunk-location"])
    with open(log, "a") as f:
        f.write(json.dumps(block_info[None]["chunk-location"]) + "\n")
    return block

if kind in ("move", "moved"):
    real = staging.move_into_place
    def move(*args):
        if kind == "move":
            os.kill(os.getpid(), signal.SIGKILL)
        real(*args)
        os.kill(os.getpid(), signal.SIGKILL)
    staging.move_into_place = move

base = (da.arange(np.prod(shape), dtype="f4", chunks=4096).reshape(shape) + 1000 * version)
s = Signal2D(base.rechunk(chunks).map_blocks(produce, dtype="f4"))
if path.endswith((".zspy", ".hspy")):
    options["chunks"] = chunks  # formats that store chunks: one stored chunk per block
s.save(path, overwrite=True, show_progressbar=False, **options)
print("saved")
"""


def expected(version: int) -> np.ndarray:
    return np.arange(np.prod(SHAPE), dtype="f4").reshape(SHAPE) + 1000 * version


def save_in_child(path: Path, version: int, moment: str = "none", log: Path | None = None,
                  **options):
    log = log or path.parent / "blocks.log"
    return run_isolated(_CHILD, timeout=300,
                        args=[str(path), str(version), moment, str(log), json.dumps(options)])


def computed_blocks(log: Path) -> list[tuple[int, ...]]:
    return [tuple(json.loads(line)) for line in log.read_text().splitlines()] if log.exists() else []


@pytest.mark.parametrize("ext", ["zspy", "hspy", "npy", "mrc"])
@pytest.mark.parametrize("moment", ["block:1", "block:16", "move", "moved"])
def test_killed_save_leaves_the_previous_file_and_the_next_save_works(tmp_path, ext, moment):
    path = tmp_path / f"data.{ext}"
    first = save_in_child(path, 1)
    assert first.returncode == 0, first.stderr[-2000:]
    killed = save_in_child(path, 2, moment)
    assert killed.signal_name == "SIGKILL", (killed.returncode, killed.stderr[-2000:])
    # Killed before its file was in place: the old one, whole; after: the new one, whole.
    version = 2 if moment == "moved" else 1
    np.testing.assert_array_equal(ls.load(path).data, expected(version))
    lazy = ls.load(path, lazy=True)
    np.testing.assert_array_equal(lazy.data.compute(), expected(version))
    lazy.close_file()
    assert leftovers(path)  # the killed save's staging folder is still there ...
    again = save_in_child(path, 3)
    assert again.returncode == 0, again.stderr[-2000:]
    np.testing.assert_array_equal(ls.load(path).data, expected(3))
    assert leftovers(path) == []  # ... until the next save removes it
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_resume_writes_only_missing_or_damaged_chunks(tmp_path):
    path = tmp_path / "big.zspy"
    log = tmp_path / "first.log"
    killed = save_in_child(path, 1, "block:12", log)
    assert killed.signal_name == "SIGKILL"
    assert not path.exists()
    [staging] = leftovers(path)
    array = staging / "big.zspy" / "Experiments" / "__unnamed__" / "data"
    journaled = [line.split()[0] for line in (array / JOURNAL).read_text().splitlines()]
    assert 1 < len(journaled) <= 12  # blocks handed to the writer; some were mid-write
    # A chunk written when the process died must not be trusted blindly: cut one that the
    # journal lists, and leave a chunk file that it does not list (as a torn write would).
    cut = array / journaled[0]
    cut.write_bytes(cut.read_bytes()[:10])
    unlisted = next(f"{i}/{j}/0/0" for i in range(8) for j in range(4)
                    if f"{i}/{j}/0/0" not in journaled)
    (array / unlisted).parent.mkdir(parents=True, exist_ok=True)
    (array / unlisted).write_bytes(b"garbage")
    kept = {key: os.stat(array / key).st_ino for key in journaled[1:]}

    resumed_log = tmp_path / "resumed.log"
    done = save_in_child(path, 1, "none", resumed_log, resume=True)
    assert done.returncode == 0, done.stderr[-2000:]
    np.testing.assert_array_equal(ls.load(path).data, expected(1))
    # Chunks counted: the verified ones were moved, not rewritten (same inode) ...
    final = path / "Experiments" / "__unnamed__" / "data"
    assert {key: os.stat(final / key).st_ino for key in kept} == kept
    # ... and only blocks holding a chunk that was missing or failed its check were computed.
    blocks_kept = {tuple(map(int, key.split("/"))) for key in kept}
    recomputed = computed_blocks(resumed_log)
    assert len(recomputed) == N_BLOCKS - len(blocks_kept)
    assert not set(recomputed) & blocks_kept
    assert tuple(map(int, journaled[0].split("/"))) in recomputed  # the cut chunk
    assert tuple(map(int, unlisted.split("/"))) in recomputed  # the unlisted one
    assert not list(path.rglob(JOURNAL)) and not list(path.rglob("*.partial"))
    assert leftovers(path) == []


def test_resume_after_a_resume_that_was_killed_too(tmp_path):
    path = tmp_path / "big.zspy"
    assert save_in_child(path, 4, "block:8").signal_name == "SIGKILL"
    assert save_in_child(path, 4, "block:8", resume=True).signal_name == "SIGKILL"
    log = tmp_path / "last.log"
    assert save_in_child(path, 4, "none", log, resume=True).returncode == 0
    np.testing.assert_array_equal(ls.load(path).data, expected(4))
    assert len(computed_blocks(log)) < N_BLOCKS  # the two killed saves' chunks were kept


def test_without_resume_leftovers_do_not_leak_into_a_new_save(tmp_path):
    path = tmp_path / "big.zspy"
    assert save_in_child(path, 1, "block:20").signal_name == "SIGKILL"
    log = tmp_path / "fresh.log"
    assert save_in_child(path, 2, "none", log).returncode == 0  # other data, no resume
    np.testing.assert_array_equal(ls.load(path).data, expected(2))
    assert len(computed_blocks(log)) == N_BLOCKS
    assert leftovers(path) == []


def test_resume_with_changed_data_layout_starts_over(tmp_path):
    path = tmp_path / "big.zspy"
    assert save_in_child(path, 1, "block:20").signal_name == "SIGKILL"
    s = Signal2D(expected(5)[:, :, :8])  # another shape: no chunk of the old save fits
    s.save(path, resume=True, chunks=(1, 2, 8, 16))
    np.testing.assert_array_equal(ls.load(path).data, expected(5)[:, :, :8])


def test_resume_is_refused_where_it_cannot_work(tmp_path):
    s = Signal2D(expected(1))
    with pytest.raises(FormatCapabilityError, match="only zspy directory stores"):
        s.save(tmp_path / "a.hspy", resume=True)
    with pytest.raises(FormatCapabilityError, match="only zspy directory stores"):
        s.save(tmp_path / "a.zspy", resume=True, store_type="zip")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("ext", ["zspy", "hspy"])
def test_two_processes_saving_one_path_at_once_leave_one_complete_file(tmp_path, ext):
    path = tmp_path / f"both.{ext}"
    procs = [subprocess.Popen([sys.executable, "-c", _CHILD, str(path), str(v), "none",
                               str(tmp_path / f"{v}.log"), "{}"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for v in (6, 7)]
    outputs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-1500:] for _, err in outputs]
    got = ls.load(path).data
    assert any(np.array_equal(got, expected(v)) for v in (6, 7))
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("ext", ["hspy", "zspy", "npy", "mrc"])
def test_a_lazy_signal_never_reads_the_file_that_replaced_its_own(tmp_path, ext):
    path = tmp_path / f"data.{ext}"
    Signal2D(expected(1)).save(path)
    s = ls.load(path, lazy=True)
    if ext == "hspy":
        s.data[:1].compute()  # this process holds the file open: it keeps reading that version
    Signal2D(expected(2)).save(path, overwrite=True)
    if ext == "hspy":
        np.testing.assert_array_equal(s.data.compute(), expected(1))
        s.close_file()
    else:  # read per chunk by path: the replaced file is refused, never read as the old one
        with pytest.raises(FileChangedError, match="was replaced after it was loaded lazily"):
            s.data.compute()
    np.testing.assert_array_equal(ls.load(path).data, expected(2))
