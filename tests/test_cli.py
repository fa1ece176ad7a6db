import subprocess
import sys

import numpy as np

import lazysignal as ls
from lazysignal.cli import main
from lazysignal.signals import Signal2D


def stack4d(tmp_path):
    s = Signal2D(np.arange(3 * 4 * 8 * 8, dtype="uint16").reshape(3, 4, 8, 8),
                 axes=[{"name": "y", "size": 3}, {"name": "x", "size": 4},
                       {"name": "ky", "size": 8, "units": "1/nm", "scale": 0.1},
                       {"name": "kx", "size": 8, "units": "1/nm", "scale": 0.1}],
                 metadata={"General": {"title": "stem"}})
    path = tmp_path / "stem.hspy"
    s.save(path, chunks=(1, 2, 8, 8))
    return s, path


def test_info_reads_headers_and_prints_shape_chunks_axes(tmp_path, capsys):
    _, path = stack4d(tmp_path)
    assert main(["info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "(4, 3|8, 8)" in out and "uint16" in out
    assert "chunks (nav|sig): (2, 1|8, 8)" in out and "6 chunks" in out
    assert "kx" in out and "1/nm" in out and "title = stem" in out


def test_convert_streams_with_chunks(tmp_path, capsys):
    s, path = stack4d(tmp_path)
    out = tmp_path / "stem.zspy"
    assert main(["convert", str(path), str(out), "--chunks", "3,4,4,4", "--no-progress"]) == 0
    back = ls.load(out, lazy=True)
    assert back.data.chunks == ((3,), (4,), (4, 4), (4, 4))
    np.testing.assert_array_equal(back.data.compute(), s.data)
    assert main(["convert", str(path), str(out)]) == 1
    assert "overwrite" in capsys.readouterr().err


def test_errors_are_reported_without_traceback(tmp_path, capsys):
    assert main(["info", str(tmp_path / "missing.hspy")]) == 1
    assert "missing.hspy" in capsys.readouterr().err


def test_console_script_runs():
    done = subprocess.run([sys.executable, "-m", "lazysignal.cli", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "convert" in done.stdout and "demo" in done.stdout


def test_python_dash_m_lazysignal_is_the_same_command(tmp_path):
    _, path = stack4d(tmp_path)
    done = subprocess.run([sys.executable, "-m", "lazysignal", "info", str(path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "(4, 3|8, 8)" in done.stdout and "uint16" in done.stdout
    failed = subprocess.run([sys.executable, "-m", "lazysignal", "info", str(tmp_path / "missing.hspy")],
                            capture_output=True, text=True)
    assert failed.returncode == 1 and "missing.hspy" in failed.stderr


def test_demo_through_the_command_takes_its_own_options(tmp_path, capsys):
    assert main(["demo", "--shape", "24,20,120", "--out", str(tmp_path)]) == 0
    assert "in all" in capsys.readouterr().out
    assert (tmp_path / "navigator.png").stat().st_size > 0
