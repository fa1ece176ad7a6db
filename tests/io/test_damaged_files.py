"""Damaged files of every format we read: our error naming the file, or the right data; never
a crash or a hang (each reader runs in a child process with a time limit).

The corruptions come from :mod:`lazysignal.testing.damage`: truncations at many offsets (also
made after a lazy load, memory-mapped where the format can), flipped header bytes, removed or
cut chunk and companion files, numbers in text headers replaced.
"""

from __future__ import annotations

import os
import shutil
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from realdata import realdata

import lazysignal as ls
from lazysignal.errors import FileFormatError, MissingFileError, TruncatedFileError
from lazysignal.signals import Signal1D, Signal2D
from lazysignal.testing.damage import Damage, check_damaged_inputs, damaged_copy, run_isolated

_RNG = np.random.default_rng(14)
_IMAGES = Signal2D(_RNG.integers(0, 60000, (3, 4, 16, 16)).astype("uint16"),
                   metadata={"General": {"title": "damage"}})
_SPECTRA = Signal1D(_RNG.random((3, 4, 32)).astype("float32"))


def _save(signal, name, **options):
    def make(folder: Path) -> Path:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # blockfile: uncalibrated axes
            signal.save(folder / name, **options)
        return folder / name
    return make


def _mib(folder: Path) -> Path:
    with zipfile.ZipFile(realdata("quantumdetector") / "Merlin_navigation4x2_ROI.zip") as z:
        for name in ("001_4x2_6bit.mib", "001_4x2_6bit.hdr"):
            (folder / name).write_bytes(z.read(name))
    return folder / "001_4x2_6bit.mib"


GOOD_FILES = {
    "hspy": _save(_IMAGES, "a.hspy", chunks=(1, 2, 16, 16)),
    "zspy": _save(_IMAGES, "a.zspy", chunks=(1, 2, 16, 16)),
    "zspy-zip": _save(_IMAGES, "a.zspy", chunks=(1, 2, 16, 16), store_type="zip"),
    "ripple": _save(_SPECTRA, "a.rpl"),
    "mrc": _save(_IMAGES, "a.mrc"),
    "blockfile": _save(Signal2D(_RNG.integers(0, 255, (3, 4, 16, 16)).astype("uint8")), "a.blo"),
    "msa": _save(Signal1D(_RNG.random(32)), "a.msa"),
    "tiff": _save(_IMAGES, "a.tif"),
    "npy": _save(_IMAGES, "a.npy"),
    "mib": _mib,
}


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(GOOD_FILES))
def test_every_reader_survives_damaged_files(tmp_path, fmt):
    good = tmp_path / "good"
    good.mkdir()
    path = GOOD_FILES[fmt](good)
    # MIB reads an interrupted acquisition's complete scan lines with a warning, as the peer.
    report = check_damaged_inputs(path, tmp_path / "cases", truncations=8, flips=6,
                                  partial_reads_warn=fmt == "mib")
    report.assert_ok()
    counts = report.summary()
    # The damage is real (some cases are refused with our error); none crashes or hangs.
    assert counts.get("ours", 0) > 0, counts
    assert not {"crash", "hang", "foreign", "unnamed"} & set(counts), counts


def test_a_cut_zspy_chunk_names_the_chunk_and_sizes(tmp_path):
    path = _save(_IMAGES, "a.zspy", chunks=(1, 2, 16, 16))(tmp_path)
    chunk = "a.zspy/Experiments/damage/data/1/1/0/0"
    size = (tmp_path / chunk).stat().st_size
    cut = damaged_copy(path, Damage("truncate", chunk, size // 2), tmp_path / "cut")
    s = ls.load(cut, lazy=True)
    with pytest.raises(TruncatedFileError) as info:
        s.data.compute()
    message = str(info.value)
    assert "data/1/1/0/0" in message and f"a file of {size // 2} bytes" in message
    assert f"{16 * 16 * 2 * 2} bytes decoded" in message  # what was expected


def test_a_missing_zspy_chunk_raises_unless_fill_is_asked_for(tmp_path):
    path = _save(_IMAGES, "a.zspy", chunks=(1, 2, 16, 16))(tmp_path)
    gone = damaged_copy(path, Damage("remove", "a.zspy/Experiments/damage/data/2/0/0/0"),
                        tmp_path / "gone")
    with pytest.raises(MissingFileError, match="data/2/0/0/0' is missing"):
        ls.load(gone)
    with pytest.raises(FileNotFoundError):  # ours is a FileNotFoundError too
        ls.load(gone, lazy=True).data.compute()
    filled = ls.load(gone, missing_chunks="fill").data
    expected = _IMAGES.data.copy()
    expected[2, 0:2] = 0
    np.testing.assert_array_equal(filled, expected)


def test_a_missing_ripple_raw_is_our_error(tmp_path):
    path = _save(_SPECTRA, "a.rpl")(tmp_path)
    os.remove(tmp_path / "a.raw")
    with pytest.raises(MissingFileError, match=r"a\.raw"):
        ls.load(path)


@pytest.mark.parametrize("distributed", [True, False])
def test_a_file_cut_after_a_lazy_load_raises_instead_of_crashing(tmp_path, distributed):
    # In a child: a memory map of a part that no longer exists would kill it with SIGBUS.
    path = _save(_IMAGES, "a.npy")(tmp_path)
    code = f"""
import os, sys
import lazysignal as ls
from lazysignal.errors import TruncatedFileError
s = ls.load({str(path)!r}, lazy=True, distributed={distributed}, chunks=(1, 1, 16, 16))
os.truncate({str(path)!r}, 1000)
try:
    s.data.sum().compute()
except TruncatedFileError as exc:
    print("raised", exc)
"""
    run = run_isolated(code, timeout=300)
    assert run.returncode == 0 and not run.timed_out, (run.signal_name, run.stderr[-2000:])
    assert "raised" in run.stdout and "a.npy" in run.stdout and "1000" in run.stdout


def test_damaged_zip_zspy_is_our_error_when_computed(tmp_path):
    path = _save(_IMAGES, "a.zspy", chunks=(1, 2, 16, 16), store_type="zip")(tmp_path)
    s = ls.load(path, lazy=True)
    s.close_file()
    data = bytearray(path.read_bytes())
    # The last data chunk's bytes sit just before the zip's central directory: flip them.
    with zipfile.ZipFile(path) as z:
        info = z.getinfo("Experiments/damage/data/2/1/0/0")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data[start + 20] ^= 0xFF
    bad = tmp_path / "bad" / "a.zspy"
    bad.parent.mkdir()
    bad.write_bytes(bytes(data))
    with pytest.raises(FileFormatError, match=r"a\.zspy.*zip"):
        ls.load(bad, lazy=True).data.compute()
    shutil.rmtree(bad.parent)


def test_the_checker_reads_only_lines_its_child_finished_writing(tmp_path):
    # The child appends a JSON line per case while the parent polls the file: a line caught
    # half written (no newline yet) is left for the next poll (it once failed a suite run).
    from lazysignal.testing.damage import _complete_lines

    progress = tmp_path / "progress.jsonl"
    assert _complete_lines(progress) == []
    progress.write_text('{"start": 0}\n{"index": 0, "outcomes": {"eager": "ou')
    assert _complete_lines(progress) == ['{"start": 0}']
    with progress.open("a") as f:
        f.write('rs"}}\n')
    assert _complete_lines(progress)[1] == '{"index": 0, "outcomes": {"eager": "ours"}}'
