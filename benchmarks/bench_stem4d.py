"""4D-STEM (128, 128|256, 256) uint16, 2 GiB: lazy sum over navigation and virtual bright field.

Files: the peer's ``stem4d.raw`` (flat C order) and ``stem4d.mrc`` (1024-byte header, then
the same bytes, read with ``navigation_shape=(128, 128)``) from ``$PEER_DATA`` (default
``/tmp/lazysignal-peer/data``, written by ``/work/shared/bench/make_data.py stem``); when they
are absent, equivalent files are written here. A blockfile copy (uint8, 1 GiB) is measured
when ``lazysignal.io.formats.blockfile`` exists and writes.

Every read is ``distributed=True`` (each task ``preadv``'s its own chunk), page cache warm,
dask's threaded scheduler on all cores. Chunks are (2, 32, 256, 256): 4 MiB per task,
frames whole. Small chunks are faster here: glibc reuses a freed 4 MiB buffer (already
faulted in, often still in cache), while 32 MiB buffers are fresh mmaps that page-fault
on every read. The operations are the library's: ``s.sum(axis="navigation")`` (which
sums 16-bit chunks into 32-bit partials when they cannot overflow) and
``s.virtual_image(disk)`` (the mask's bounding box only, 32-bit integer partial sums).

Limit: one core of numpy on the same bytes already in memory: ``a.sum(dtype=uint64)``
(summing the same bytes), and for context numpy doing the same operation the plain way.
The peer's figures (HyperSpy 2.5 on the same kind of machine, ``/work/shared/bench/RESULTS.md``)
are quoted in the notes. ``--quick``: a (16, 16|128, 128) file pair written here.
"""

from __future__ import annotations

import gc
import importlib
import json
import os
from pathlib import Path

import dask
import dask.array as da
import numpy as np

import lazysignal as ls
from lazysignal.signals import Signal2D
from lazysignal.io.backends.chunked_file import file_array, write_file_array
from lazysignal.io.formats import mrc

from .harness import Context, Result, measure, warm_page_cache

# HyperSpy 2.5, same kind of 2-core machine (RESULTS.md, median seconds, default chunks).
PEER_VBF_MRC = 1.585
PEER_VBF_RAW_DISTRIBUTED = 1.009
FULL_SHAPE = (128, 128, 256, 256)
QUICK_SHAPE = (16, 16, 128, 128)
DISK_RADIUS = 32


def disk_mask(shape: tuple[int, int], radius: float) -> np.ndarray:
    """The peer's bright-field disk: centred on the frame, ``radius`` pixels."""
    ky, kx = np.mgrid[0 : shape[0], 0 : shape[1]]
    return ((ky - shape[0] / 2 + 0.5) ** 2 + (kx - shape[1] / 2 + 0.5) ** 2) <= radius**2


# ------------------------------------------------------------------------------- data files
def _peer_files() -> tuple[Path, Path] | None:
    folder = Path(os.environ.get("PEER_DATA", "/tmp/lazysignal-peer/data"))
    raw, mrc_path = folder / "stem4d.raw", folder / "stem4d.mrc"
    if raw.exists() and mrc_path.exists() and raw.stat().st_size == 2 * np.prod(FULL_SHAPE):
        return raw, mrc_path
    return None


def _frames(shape: tuple[int, ...], seed: int = 0) -> da.Array:
    """Synthetic 4D-STEM: a bright disk plus Poisson background, made chunk by chunk."""
    mask = disk_mask(shape[2:], DISK_RADIUS * shape[2] / 256)

    def make(block_info=None):
        loc = block_info[None]["array-location"]
        n, m = loc[0][1] - loc[0][0], loc[1][1] - loc[1][0]
        rng = np.random.default_rng([seed, loc[0][0], loc[1][0]])
        out = rng.poisson(3, size=(n, m) + shape[2:]).astype(np.uint16)
        out[:, :, mask] += np.uint16(1000)
        return out

    return da.map_blocks(make, chunks=da.core.normalize_chunks((8, shape[1]) + shape[2:], shape),
                         dtype=np.uint16)


def _own_files(ctx: Context, shape: tuple[int, ...]) -> tuple[Path, Path]:
    folder = ctx.data_dir / ("stem4d-quick" if ctx.quick else "stem4d")
    folder.mkdir(parents=True, exist_ok=True)
    raw, mrc_path = folder / "stem4d.raw", folder / "stem4d.mrc"
    if not raw.exists() or raw.stat().st_size != 2 * np.prod(shape):
        raw.write_bytes(b"")
        write_file_array(raw, _frames(shape))
    if not mrc_path.exists():
        data = file_array(raw, shape=shape, dtype="<u2")
        axes = [{"name": n, "units": u, "navigate": i < 2, "size": s, "scale": 1.0, "offset": 0.0}
                for i, (n, u, s) in enumerate(zip("yxab", ("nm", "nm", "1/nm", "1/nm"), shape))]
        mrc.write(mrc_path, {"data": data, "axes": axes, "metadata": {}})
    return raw, mrc_path


def _blockfile(ctx: Context, raw: Path, shape: tuple[int, ...]):
    """A uint8 blockfile copy and its reader, when another module provides the format."""
    try:
        blockfile = importlib.import_module("lazysignal.io.formats.blockfile")
    except ModuleNotFoundError:
        return None
    if not getattr(blockfile, "FORMAT", None) or not blockfile.FORMAT.writes:
        return None
    path = ctx.data_dir / ("stem4d-quick.blo" if ctx.quick else "stem4d.blo")
    if not path.exists():
        data = (file_array(raw, shape=shape, dtype="<u2") // 8).clip(0, 255).astype(np.uint8)
        axes = [{"name": n, "units": u, "navigate": i < 2, "size": s, "scale": 1.0, "offset": 0.0}
                for i, (n, u, s) in enumerate(zip("yxab", ("nm", "nm", "cm", "cm"), shape))]
        blockfile.write(path, {"data": data, "axes": axes, "metadata": {}}, navigator=None) \
            if "navigator" in blockfile.write.__code__.co_varnames else \
            blockfile.write(path, {"data": data, "axes": axes, "metadata": {}})
    return blockfile, path


# ------------------------------------------------------------------------------- the run
def run(ctx: Context) -> None:
    shape = QUICK_SHAPE if ctx.quick else FULL_SHAPE
    files = None if ctx.quick else _peer_files()
    source = "peer files" if files else "written here"
    raw, mrc_path = files or _own_files(ctx, shape)
    nbytes = int(np.prod(shape)) * 2
    chunks = (2, 32) + shape[2:] if not ctx.quick else (4, 16) + shape[2:]
    mask = disk_mask(shape[2:], DISK_RADIUS * shape[2] / 256)
    cores = os.cpu_count() or 1

    def raw_signal():
        return Signal2D(file_array(raw, shape=shape, dtype="<u2", chunks=chunks, distributed=True))

    readers = {
        "raw": raw_signal,
        # MRC through the front door, as users load it.
        "mrc": lambda: ls.load(mrc_path, lazy=True, chunks=chunks, distributed=True,
                               navigation_shape=shape[1::-1]),
    }
    bf = _blockfile(ctx, raw, shape)
    if bf is not None:
        readers["blockfile"] = lambda: ls.load(bf[1], lazy=True, chunks=chunks, distributed=True)

    # Limits: one core, the same bytes already in memory (measured first, then freed, so
    # its 2 GiB do not count in our peak RSS).
    data = np.fromfile(raw, dtype="<u2").reshape(shape)
    t_flat, peak = measure(lambda: data.sum(dtype=np.uint64))
    ctx.record(Result("numpy 1 core: a.sum(dtype=uint64), in memory", t_flat, nbytes, peak))
    t_nav, peak = measure(lambda: data.sum(axis=(0, 1), dtype=np.uint64), repeat=1)
    ctx.record(Result("numpy 1 core: a.sum(axis=(0, 1)), in memory", t_nav, nbytes, peak))
    sub = data[: max(1, shape[0] // 8)]
    t_vbf, peak = measure(lambda: (sub * mask).sum(axis=(2, 3)), repeat=1)
    t_vbf *= shape[0] / sub.shape[0]
    ctx.record(Result("numpy 1 core: (a * mask).sum(axis=(2, 3)), in memory", t_vbf, nbytes, peak,
                      note="timed on 1/8 of the frames, scaled"))
    del data, sub
    gc.collect()

    results: dict[str, float] = {}
    scale: dict[str, float] = {}  # each file's numpy limit relative to the uint16 stack's
    for name, make in readers.items():
        path = {"raw": raw, "mrc": mrc_path}.get(name) or bf[1]
        warm_page_cache(path)
        size = make().data.nbytes
        limit = t_flat
        if make().data.dtype != np.uint16:
            # Not the same bytes as the uint16 stack (the blockfile holds uint8 frames): the
            # limit is numpy summing this file's own frames, already in memory.
            frames = make().compute().data
            limit, _ = measure(lambda: frames.sum(dtype=np.uint64))
            ctx.record(Result(f"numpy 1 core: {name} frames a.sum(dtype=uint64), in memory",
                              limit, size, 0))
            del frames
            gc.collect()
        scale[f"sum {name}"] = scale[f"vbf {name}"] = limit / t_flat
        with dask.config.set(scheduler="threads", num_workers=cores):
            t, peak = measure(lambda: make().sum(axis="navigation").compute())
            ctx.record(Result(f"stem4d {name} lazy sum over navigation", t, size, peak,
                              limit_seconds=limit, limit_name="numpy sum", note=f"chunks {chunks[:2]}, {source}"))
            results[f"sum {name}"] = t
            t, peak = measure(lambda: make().virtual_image(mask).compute())
            note = f"chunks {chunks[:2]}"
            if not ctx.quick and name == "mrc":
                note += f"; peer {PEER_VBF_MRC} s -> {PEER_VBF_MRC / t:.2f}x (target 2x)"
            if not ctx.quick and name == "raw":
                note += f"; peer {PEER_VBF_RAW_DISTRIBUTED} s -> {PEER_VBF_RAW_DISTRIBUTED / t:.2f}x"
            ctx.record(Result(f"stem4d {name} lazy virtual bright field", t, size, peak,
                              limit_seconds=limit, limit_name="numpy sum", note=note))
            results[f"vbf {name}"] = t

    for key, t in results.items():
        same = t_nav if key.startswith("sum") else t_vbf
        print(f"  {key:<16} {t_flat * scale[key] / t:5.2f}x numpy flat sum   "
              f"{same * scale[key] / t:5.2f}x numpy same op", flush=True)
    if os.environ.get("LAZYSIGNAL_BENCH_JSON"):
        Path(os.environ["LAZYSIGNAL_BENCH_JSON"]).write_text(json.dumps(
            {"results": results, "numpy_flat_sum": t_flat, "numpy_sum_nav": t_nav, "numpy_vbf": t_vbf}))
