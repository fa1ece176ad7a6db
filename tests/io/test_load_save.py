"""The front door: load (paths, globs, stacking, readers) and save (staging, overwrite)."""

import os
from pathlib import Path

import dask.array as da
import numpy as np
import pytest

import lazysignal as ls
from lazysignal.errors import UnknownFormatError
from lazysignal.signals import Signal1D
from lazysignal.testing import assert_signals_equal


def spectrum_image(seed=0, shape=(6, 7, 32)):
    rng = np.random.default_rng(seed)
    return Signal1D(rng.random(shape),
                    axes=[{"name": "y", "size": shape[0], "units": "nm", "scale": 2.0},
                          {"name": "x", "size": shape[1], "units": "nm", "scale": 2.0},
                          {"name": "Energy", "size": shape[2], "units": "keV", "scale": 0.01, "offset": -0.1}],
                    metadata={"General": {"title": f"si{seed}"}})


@pytest.mark.parametrize("ext", ["hspy", "zspy", "npy"])
def test_round_trip_eager_and_lazy(tmp_path, ext):
    s = spectrum_image()
    path = tmp_path / f"s.{ext}"
    s.save(path)
    eager = ls.load(path)
    lazy = ls.load(str(path), lazy=True)
    assert not eager.lazy and lazy.lazy
    check_axes = ext != "npy"  # npy stores no calibration
    if check_axes:
        assert_signals_equal(eager, s, check_metadata=False)
        assert eager.metadata.General.title == "si0"
    np.testing.assert_array_equal(lazy.compute(close_file=True).data, s.data)


def test_glob_list_and_lazy_stack_read_nothing_but_headers(tmp_path):
    paths = []
    for i in range(3):
        p = tmp_path / f"part_{i}.npy"
        np.save(p, np.full((4, 8), i, dtype="float32"))
        paths.append(p)
    listed = ls.load([paths[0], str(paths[1])])
    assert isinstance(listed, list) and len(listed) == 2
    stacked = ls.load(str(tmp_path / "part_*.npy"), lazy=True, stack=True)
    assert stacked.lazy and stacked.data.shape == (3, 4, 8)
    # The files change after the lazy load: the computed values are the new ones, so the
    # load itself read no data.
    for i, p in enumerate(paths):
        np.save(p, np.full((4, 8), 10 + i, dtype="float32"))
    np.testing.assert_array_equal(stacked.data.compute()[:, 0, 0], [10, 11, 12])
    assert stacked.axes_manager.navigation_axes[-1].name == "stack_element"


def test_missing_and_unknown_files_say_what_is_wrong(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.hspy"):
        ls.load(tmp_path / "nothere.hspy")
    with pytest.raises(FileNotFoundError, match=r"No file matches .*\*\.hspy"):
        ls.load(str(tmp_path / "*.hspy"))
    odd = tmp_path / "data.xyz"
    odd.write_bytes(b"123")
    with pytest.raises(UnknownFormatError, match=r"unknown extension 'xyz'.*Known extensions:.*hspy.*mrc"):
        ls.load(odd)
    with pytest.raises(UnknownFormatError, match="no writer for extension 'xyz'"):
        spectrum_image().save(tmp_path / "out.xyz")


def test_overwrite_semantics(tmp_path):
    path = tmp_path / "s.hspy"
    spectrum_image(0).save(path)
    with pytest.raises(FileExistsError, match="overwrite=True"):
        spectrum_image(1).save(path)
    spectrum_image(1).save(path, overwrite=False)
    assert ls.load(path).metadata.General.title == "si0"
    spectrum_image(1).save(path, overwrite=True)
    assert ls.load(path).metadata.General.title == "si1"
    spectrum_image().save(tmp_path / "noext")
    assert (tmp_path / "noext.hspy").exists()


def _fail_on_third_block(block, block_info=None):
    if block_info[0]["chunk-location"][0] == 2:
        raise RuntimeError("disk on fire")
    return block


@pytest.mark.parametrize("ext", ["hspy", "zspy"])
def test_failed_save_keeps_the_previous_file(tmp_path, ext):
    path = tmp_path / f"s.{ext}"
    good = spectrum_image(0)
    good.save(path)
    bad = spectrum_image(1).as_lazy(chunks=(2, 7, 32))
    bad.data = bad.data.map_blocks(_fail_on_third_block, dtype=bad.data.dtype)
    with pytest.raises(RuntimeError, match="disk on fire"):
        bad.save(path, overwrite=True)
    assert_signals_equal(ls.load(path), good, check_metadata=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_saving_over_a_file_a_lazy_signal_reads(tmp_path):
    path = tmp_path / "s.hspy"
    original = spectrum_image(0)
    original.save(path)
    lazy = ls.load(path, lazy=True)
    (lazy * 2).save(path, overwrite=True)
    np.testing.assert_array_equal(lazy.data.compute(), original.data)
    lazy.close_file()
    np.testing.assert_array_equal(ls.load(path).data, original.data * 2)


def test_many_lazy_loads_do_not_leak_file_handles(tmp_path):
    path = tmp_path / "s.hspy"
    spectrum_image().save(path)
    fd_dir = Path(f"/proc/{os.getpid()}/fd")
    before = len(list(fd_dir.iterdir()))
    for _ in range(40):
        s = ls.load(path, lazy=True)
        s.sum().compute(close_file=True)
        s.close_file()
    after = len(list(fd_dir.iterdir()))
    assert after - before <= 2


def test_navigator_round_trips_with_the_file(tmp_path):
    s = spectrum_image()
    s.navigator = s.sum(axis="signal")
    s.save(tmp_path / "n.hspy")
    back = ls.load(tmp_path / "n.hspy")
    assert back.navigator is not None
    np.testing.assert_allclose(back.navigator.data, s.data.sum(-1))


def test_lazy_save_streams_dask_chunks(tmp_path):
    s = spectrum_image().as_lazy(chunks=(3, 7, 32))
    s.save(tmp_path / "l.zspy")
    back = ls.load(tmp_path / "l.zspy", lazy=True)
    assert back.data.chunks == s.data.chunks
    np.testing.assert_array_equal(back.data.compute(), s.data.compute())


def test_signal_type_override_and_reader_option(tmp_path):
    p = tmp_path / "data.bin"
    np.save(tmp_path / "x.npy", np.zeros((3, 4)))
    os.replace(tmp_path / "x.npy", p)
    s = ls.load(p, reader="npy", signal_type="")
    assert s.data.shape == (3, 4)
    assert isinstance(ls.load(p, reader="npy", lazy=True).data, da.Array)
