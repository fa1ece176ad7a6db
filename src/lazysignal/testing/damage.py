"""Damaged copies of good files, and a crash-proof runner that reads them.

A reader meets files cut short by a full disk or a killed copy, bytes flipped on the way,
chunk files of a directory store lost, and headers that say something the data do not.
:func:`damages` lists such corruptions of one good file (truncations at many offsets,
flipped header bytes, removed or cut companion and chunk files, wrong metadata values),
:func:`damaged_copy` makes one, and :func:`check_damaged_inputs` loads every one of them,
eagerly and lazily, and computes it, in a child process with a time limit: a crash of the
interpreter (SIGBUS from a map of a file that shrank, SIGSEGV in a decoder) or a hang is
then a reported failure of that case, not of the test run.

Every case must end in one of:

* the right data (a damage the format does not depend on, e.g. trailing bytes);
* one of lazysignal's errors (:class:`~lazysignal.errors.LazySignalError`, an ``OSError``
  or ``ValueError``) whose message names the file;
* for a flipped byte or a replaced number only: other values of the same shape, since no
  format without checksums can tell a damaged value from a value (reported as ``changed``).

:func:`run_isolated` is the runner on its own: Python code in a fresh interpreter, with a
time limit, telling a crash (the signal's name) from an exit.

Examples
--------
>>> import tempfile, numpy as np
>>> from pathlib import Path
>>> folder = Path(tempfile.mkdtemp())
>>> np.save(folder / "good.npy", np.arange(64, dtype="<u2").reshape(8, 8))
>>> sorted({d.kind for d in damages(folder / "good.npy", truncations=2, flips=1)})
['flip', 'truncate']
>>> report = check_damaged_inputs(folder / "good.npy", folder / "cases", truncations=4, flips=4)
>>> report.failures
[]
"""

from __future__ import annotations

import json
import os
import shutil
import signal as _signal
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Damage",
    "DamageReport",
    "CaseResult",
    "IsolatedRun",
    "damages",
    "damaged_copy",
    "check_damaged_inputs",
    "run_isolated",
    "kill_process_once",
]

#: Bytes at the start of a file treated as its header when flipping bytes (binary formats
#: keep their header there; text formats are header all through, and are flipped all over).
HEADER_BYTES = 1024
_TEXT_SUFFIXES = {".rpl", ".msa", ".ems", ".mas", ".emsa", ".txt", ".json", ".zarray",
                  ".zattrs", ".zgroup", ".zmetadata", ".csv"}


@dataclass(frozen=True)
class Damage:
    """One corruption of one file of a data set.

    Parameters
    ----------
    kind
        ``"truncate"`` (cut to ``position`` bytes), ``"flip"`` (byte ``position`` XOR 0xFF),
        ``"remove"`` (the file deleted), ``"value"`` (the first number in a text or JSON
        header at or after ``position`` replaced by ``replacement``).
    target
        The damaged file, relative to the data set's folder (``"a.zspy/Experiments/.../0/0"``).
    position
        Byte offset (truncate, flip, value); 0 for remove.
    replacement
        The text written in place of a number (``"value"`` only).

    Examples
    --------
    >>> Damage("truncate", "a.raw", 100).label
    'a.raw truncated to 100 bytes'
    """

    kind: str
    target: str
    position: int = 0
    replacement: str = ""
    size: int | None = None

    @property
    def label(self) -> str:
        of = f" of {self.size} bytes" if self.size is not None else " bytes"
        if self.kind == "truncate":
            return f"{self.target} truncated to {self.position}{of}"
        if self.kind == "flip":
            return f"{self.target} byte {self.position} flipped"
        if self.kind == "remove":
            return f"{self.target} removed"
        return f"{self.target}: number at byte {self.position} replaced by {self.replacement}"

    def apply(self, root: Path) -> None:
        """Damage the copy of the data set under ``root`` (its folder)."""
        target = Path(root) / self.target
        if self.kind == "truncate":
            with open(target, "r+b") as f:
                f.truncate(self.position)
        elif self.kind == "flip":
            with open(target, "r+b") as f:
                f.seek(self.position)
                byte = f.read(1)
                f.seek(self.position)
                f.write(bytes([byte[0] ^ 0xFF]))
        elif self.kind == "remove":
            target.unlink()
        elif self.kind == "value":
            data = target.read_bytes()
            start, end = _number_at(data, self.position)
            target.write_bytes(data[:start] + self.replacement.encode() + data[end:])
        else:
            raise ValueError(f"unknown damage kind {self.kind!r}")


def _number_at(data: bytes, position: int) -> tuple[int, int]:
    """Byte span of the first run of digits at or after ``position``."""
    start = position
    while start < len(data) and not chr(data[start]).isdigit():
        start += 1
    end = start
    while end < len(data) and chr(data[end]).isdigit():
        end += 1
    return start, end


def _dataset_files(path: Path, companions: Sequence[str | os.PathLike]) -> list[Path]:
    """The files and folders that make up the data set: the file, and its companions."""
    items = [path] + [Path(c) if Path(c).is_absolute() else path.parent / c for c in companions]
    return items


def _spread(size: int, count: int) -> list[int]:
    """``count`` offsets spread over ``[0, size)`` (first and last included)."""
    if size <= 0 or count <= 0:
        return []
    if count == 1 or size == 1:
        return [0]
    return sorted({round(i * (size - 1) / (count - 1)) for i in range(count)})


def damages(path: str | os.PathLike, *, companions: Sequence[str | os.PathLike] = (),
            truncations: int = 12, flips: int = 12, chunk_files: int = 2) -> list[Damage]:
    """The corruptions :func:`check_damaged_inputs` tries on a good file.

    Parameters
    ----------
    path
        The good file (or directory store) that ``load`` opens.
    companions
        Other files of the data set (a ripple ``.raw``, a Direct Electron ``_info.txt``),
        relative to ``path``'s folder or absolute. Same-stem siblings are added.
    truncations
        Cut points per file: the header's first bytes, evenly spread points, one byte short.
    flips
        Flipped bytes per file, within its first :data:`HEADER_BYTES` (all over a text file).
    chunk_files
        Chunk files of a directory store damaged (first and last ones first).

    Returns
    -------
    list of Damage
        Deterministic: the same list for the same files.

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.rpl").write_text("width 4\\n")
    >>> _ = (folder / "a.raw").write_bytes(bytes(16))
    >>> sorted({d.target for d in damages(folder / "a.rpl", truncations=1, flips=1)})
    ['a.raw', 'a.rpl']
    """
    path = Path(path)
    items = _dataset_files(path, companions)
    for sibling in sorted(path.parent.glob(path.stem + ".*")):
        if sibling not in items and not sibling.name.startswith("."):
            items.append(sibling)
    out: list[Damage] = []
    for item in items:
        if item.is_dir():
            out += _store_damages(item, path.parent, truncations, flips, chunk_files)
        elif item.exists():
            out += _file_damages(item, item.name if item.parent == path.parent
                                 else os.path.relpath(item, path.parent), truncations, flips,
                                 removable=item != path)
    return out


def _file_damages(item: Path, rel: str, truncations: int, flips: int, *,
                  removable: bool) -> list[Damage]:
    size = item.stat().st_size
    text = item.suffix.lower() in _TEXT_SUFFIXES or item.name.startswith(".z")
    cuts = [0] + [p for p in (1, 8, 64, 512) if p < size] + _spread(size, truncations)
    if size:
        cuts.append(size - 1)
    out = [Damage("truncate", rel, p, size=size) for p in sorted(set(cuts))[: truncations + 6]
           if p < size]
    span = size if text else min(size, HEADER_BYTES)
    # Deterministic flip positions: spread over the header, offset so they do not all hit
    # the same field of a fixed-layout header.
    positions = sorted({(p * 7 + 3) % span for p in _spread(span, flips)}) if span else []
    out += [Damage("flip", rel, p, size=size) for p in positions]
    if text:
        data = item.read_bytes()
        for start in _spread(size, 3):
            s, e = _number_at(data, start)
            if s < e:
                for replacement in ("0", "99999999"):
                    out.append(Damage("value", rel, s, replacement, size=size))
    if removable:
        out.append(Damage("remove", rel))
    return list(dict.fromkeys(out))


def _store_damages(store: Path, root: Path, truncations: int, flips: int,
                   chunk_files: int) -> list[Damage]:
    """Damage to a directory store: metadata files and a few chunk files."""
    files = sorted(p for p in store.rglob("*") if p.is_file())
    meta = [p for p in files if p.name.startswith(".z") or p.suffix == ".json"]
    # Chunk files of the biggest array (the signal's data): the first and last ones.
    chunks = [p for p in files if p not in meta]
    by_folder: dict[Path, list[Path]] = {}
    for p in chunks:
        folder = p.parent
        while folder != store and not (folder / ".zarray").exists() and not (folder / "zarr.json").exists():
            folder = folder.parent
        by_folder.setdefault(folder, []).append(p)
    data_chunks = max(by_folder.values(), key=lambda ps: sum(p.stat().st_size for p in ps)) \
        if by_folder else []
    picked = (data_chunks[:1] + data_chunks[-1:] + data_chunks[1:-1])[:chunk_files]
    out: list[Damage] = []
    for p in picked:
        rel = os.path.relpath(p, root)
        size = p.stat().st_size
        out += [Damage("remove", rel), Damage("truncate", rel, 0, size=size),
                Damage("truncate", rel, size // 2, size=size),
                Damage("truncate", rel, max(size - 1, 0), size=size),
                Damage("flip", rel, min(3, size - 1), size=size)]
        if p.parent.parent != store:  # a nested chunk's folder (0/ holding 0/0...) removed
            pass
    data_meta = [p for p in meta if p.parent in by_folder and by_folder[p.parent] is data_chunks]
    for p in sorted(set(data_meta + [p for p in meta if p.parent == store])):
        out += _file_damages(p, os.path.relpath(p, root), max(2, truncations // 4),
                             max(2, flips // 4), removable=True)
    return list(dict.fromkeys(out))


def damaged_copy(path: str | os.PathLike, damage: Damage, directory: str | os.PathLike, *,
                 companions: Sequence[str | os.PathLike] = ()) -> Path:
    """Copy the data set of ``path`` into ``directory``, damage it, return the copy's path.

    The copy keeps the original's name (so a message naming the file can be checked).

    Examples
    --------
    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> _ = (folder / "a.bin").write_bytes(bytes(10))
    >>> copy = damaged_copy(folder / "a.bin", Damage("truncate", "a.bin", 4), folder / "cut")
    >>> copy.name, copy.stat().st_size
    ('a.bin', 4)
    """
    path, directory = Path(path), Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    items = _dataset_files(path, companions)
    items += [s for s in sorted(path.parent.glob(path.stem + ".*")) if s not in items]
    for item in items:
        if not item.exists():
            continue
        dest = directory / os.path.relpath(item, path.parent)
        dest.parent.mkdir(parents=True, exist_ok=True)
        if item.is_dir():
            shutil.copytree(item, dest)
        else:
            shutil.copyfile(item, dest)
    damage.apply(directory)
    return directory / path.name


# -- the isolated runner -----------------------------------------------------------------


@dataclass
class IsolatedRun:
    """How a child interpreter ended: its exit code, the signal that killed it, its output."""

    returncode: int | None
    stdout: str
    stderr: str
    timed_out: bool = False

    @property
    def signal_name(self) -> str | None:
        """``"SIGBUS"``, ``"SIGSEGV"``... when a signal ended the child, else None."""
        if self.returncode is not None and self.returncode < 0:
            return _signal.Signals(-self.returncode).name
        return None

    @property
    def crashed(self) -> bool:
        return self.signal_name is not None and not self.timed_out


def run_isolated(code: str, *, timeout: float = 120.0, args: Sequence[str] = (),
                 env: dict[str, str] | None = None, cwd: str | os.PathLike | None = None) -> IsolatedRun:
    """Run Python ``code`` in a fresh interpreter (this one's), killed after ``timeout`` s.

    Examples
    --------
    >>> run_isolated("print(6 * 7)").stdout.strip()
    '42'
    >>> run_isolated("import os, signal; os.kill(os.getpid(), signal.SIGSEGV)").signal_name
    'SIGSEGV'
    >>> run_isolated("import time; time.sleep(60)", timeout=0.5).timed_out
    True
    """
    proc = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=cwd)
    try:
        out, err = proc.communicate(timeout=timeout)
        return IsolatedRun(proc.returncode, out, err)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        return IsolatedRun(proc.returncode, out, err, timed_out=True)


def kill_process_once(block: Any, marker: str, at: int = 0, block_id: Any = None) -> Any:
    """A ``map_blocks`` function that SIGKILLs the process running it, once, mid-compute.

    The first task to reach block ``at`` (its ravelled index along the first axis) while
    ``marker`` does not exist creates ``marker`` and kills its own process: on a
    ``dask.distributed`` cluster, a worker dying in the middle of a computation. Every other
    call (the retried task included) returns ``block`` unchanged.

    Examples
    --------
    >>> import tempfile, dask.array as da
    >>> marker = os.path.join(tempfile.mkdtemp(), "killed")
    >>> open(marker, "w").close()   # already killed once: passes blocks through
    >>> x = da.ones(4, chunks=2).map_blocks(kill_process_once, marker, dtype=float)
    >>> float(x.sum().compute())
    4.0
    """
    if block_id is not None and block_id[0] == at and not os.path.exists(marker):
        try:
            fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        except FileExistsError:
            return block
        os.close(fd)
        os.kill(os.getpid(), _signal.SIGKILL)
    return block


# -- checking a reader against every damage ------------------------------------------------


@dataclass
class CaseResult:
    """What loading one damaged copy did, eagerly and lazily.

    ``outcome`` per mode: ``"same"`` (the good data), ``"changed"`` (other values, same
    shape and dtype), ``"reshaped"`` (another shape or dtype),
    ``"ours"`` (one of our errors naming the file), ``"unnamed"`` (ours, not naming it),
    ``"warned"`` (other data, with a warning naming the file: a format that reads what an
    interrupted acquisition left, such as MIB's complete scan lines), ``"foreign"`` (another
    exception), ``"crash"`` or ``"hang"``.
    """

    damage: Damage
    outcomes: dict[str, str] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    partial_reads_warn: bool = False

    @property
    def ok(self) -> bool:
        # A flipped byte or a replaced number in a value (a pixel, a text data point, a
        # calibration) cannot be told from the value itself: other values may come back,
        # but never another shape, silently.
        allowed = {"same", "ours"} | ({"changed"} if self.damage.kind in ("flip", "value")
                                      else set())
        if self.partial_reads_warn:
            allowed.add("warned")
        return bool(self.outcomes) and all(o in allowed for o in self.outcomes.values())

    def describe(self) -> str:
        parts = [f"{mode}: {self.outcomes[mode]}"
                 + (f" ({self.errors[mode]})" if mode in self.errors else "")
                 for mode in sorted(self.outcomes)]
        return f"{self.damage.label} -> " + "; ".join(parts)


@dataclass
class DamageReport:
    """Every case's result; :attr:`failures` are the cases that broke the rules above."""

    path: str
    cases: list[CaseResult]

    @property
    def failures(self) -> list[str]:
        return [c.describe() for c in self.cases if not c.ok]

    def summary(self) -> dict[str, int]:
        """How many (case, mode) pairs ended each way."""
        counts: dict[str, int] = {}
        for case in self.cases:
            for outcome in case.outcomes.values():
                counts[outcome] = counts.get(outcome, 0) + 1
        return counts

    def assert_ok(self) -> None:
        """Raise AssertionError listing every failing case."""
        if self.failures:
            raise AssertionError(f"{len(self.failures)} of {len(self.cases)} damaged copies of "
                                 f"{self.path} were mishandled:\n" + "\n".join(self.failures))


_CHILD = r"""
import json, sys, traceback
import numpy as np
spec = json.load(open(sys.argv[1]))
from lazysignal.testing.damage import _child_case
for case in spec["cases"]:
    with open(spec["progress"], "a") as f:
        f.write(json.dumps({"start": case["index"]}) + "\n")
    result = _child_case(case, spec)
    with open(spec["progress"], "a") as f:
        f.write(json.dumps(result) + "\n")
"""


def _as_array(signal) -> Any:
    import numpy as np

    data = signal.data
    return np.asarray(data.compute() if hasattr(data, "dask") else data)


class _NoDamage(Damage):
    def apply(self, root: Path) -> None:
        pass


_NO_DAMAGE = _NoDamage("none", "")


def _cut_after_load(case: dict, options: dict) -> list:
    """Load lazily (memory-mapped where the format can), then damage the file, then compute."""
    from lazysignal import load
    from lazysignal.io.registry import format_for_path

    main = Path(case["fresh"]) / Path(case["path"]).name
    spec = format_for_path(main).FORMAT
    opts = dict(options)
    if getattr(spec, "memmap", False):
        opts.setdefault("distributed", False)
    signal = load(main, lazy=True, **opts)
    signals = signal if isinstance(signal, list) else [signal]
    try:
        Damage(**case["damage"]).apply(Path(case["fresh"]))
        return [_as_array(s) for s in signals]
    finally:
        for s in signals:
            closer = getattr(s, "close_file", None)
            if closer is not None:
                closer()


def _load_one(path: str, lazy: bool, options: dict) -> Any:
    from lazysignal import load

    signal = load(path, lazy=lazy, **options)
    try:
        if isinstance(signal, list):
            return [_as_array(s) for s in signal]
        return [_as_array(signal)]
    finally:
        for s in signal if isinstance(signal, list) else [signal]:
            closer = getattr(s, "close_file", None)
            if closer is not None:
                closer()


def _child_case(case: dict, spec: dict) -> dict:
    """Load one damaged copy both ways (runs in the child); returns its outcomes."""
    import numpy as np

    from lazysignal.errors import LazySignalError

    expected = [np.load(p) for p in spec["expected"]]
    outcomes, errors = {}, {}
    names = {Path(case["path"]).name, Path(case["target"]).name}
    modes = ["eager", "lazy"] + (["cut-after-load"] if "fresh" in case else [])
    for mode in modes:
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                if mode == "cut-after-load":
                    got = _cut_after_load(case, spec["options"])
                else:
                    got = _load_one(case["path"], mode == "lazy", spec["options"])
        except Exception as exc:  # every exception is a finding; the parent judges it
            text = f"{type(exc).__name__}: {exc}"
            errors[mode] = text[:600]
            if isinstance(exc, LazySignalError) and isinstance(exc, (OSError, ValueError)):
                outcomes[mode] = "ours" if any(n in str(exc) for n in names) else "unnamed"
            else:
                outcomes[mode] = "foreign"
            continue
        alike = len(got) == len(expected) and all(
            g.shape == e.shape and g.dtype == e.dtype for g, e in zip(got, expected))
        same = alike and all(np.array_equal(g, e, equal_nan=True) for g, e in zip(got, expected))
        warned = [str(w.message) for w in caught if any(n in str(w.message) for n in names)]
        if same:
            outcomes[mode] = "same"
        elif warned:
            outcomes[mode] = "warned"
            errors[mode] = warned[0][:600]
        else:
            outcomes[mode] = "changed" if alike else "reshaped"
    return {"index": case["index"], "outcomes": outcomes, "errors": errors}


def check_damaged_inputs(path: str | os.PathLike, directory: str | os.PathLike | None = None, *,
                         load_options: dict[str, Any] | None = None,
                         companions: Sequence[str | os.PathLike] = (), truncations: int = 12,
                         flips: int = 12, chunk_files: int = 2, case_timeout: float = 120.0,
                         extra: Sequence[Damage] = (),
                         partial_reads_warn: bool = False) -> DamageReport:
    """Load every damaged copy of a good file, eagerly and lazily, in a child process.

    The good file is first loaded (eagerly, in the child) for the expected data. Cases run
    in one child one after the other; a case that crashes the child or runs past
    ``case_timeout`` seconds is recorded as ``crash``/``hang`` and the rest go on in a new
    child.

    Parameters
    ----------
    path
        A good file (or directory store) of the format, in a folder holding only its data set.
    directory
        Where the damaged copies go (a temporary folder when None; removed afterwards then).
    load_options
        Extra keywords for every ``load`` (e.g. ``navigation_shape=``).
    companions, truncations, flips, chunk_files
        See :func:`damages`.
    case_timeout
        Seconds one case may take (both modes) before it counts as a hang.
    extra
        More damages to try (format-specific: a wrong field value...).
    partial_reads_warn
        Accept a read of less data than the good file when a warning names the file (formats
        whose peer reads interrupted acquisitions that way: MIB keeps complete scan lines).

    Returns
    -------
    DamageReport
        Call :meth:`DamageReport.assert_ok` in a test.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> folder = Path(tempfile.mkdtemp())
    >>> np.save(folder / "a.npy", np.ones((4, 4)))
    >>> check_damaged_inputs(folder / "a.npy", truncations=3, flips=0).summary()
    {'ours': 18}
    """
    path = Path(path)
    own = directory is None
    directory = Path(tempfile.mkdtemp(prefix="damaged-")) if directory is None else Path(directory)
    try:
        return _check(path, directory, dict(load_options or {}), companions,
                      list(damages(path, companions=companions, truncations=truncations,
                                   flips=flips, chunk_files=chunk_files)) + list(extra),
                      case_timeout, partial_reads_warn)
    finally:
        if own:
            shutil.rmtree(directory, ignore_errors=True)


def _check(path: Path, directory: Path, options: dict, companions, cases: list[Damage],
           case_timeout: float, partial_reads_warn: bool) -> DamageReport:
    directory.mkdir(parents=True, exist_ok=True)
    expected = _expected_arrays(path, directory, options, case_timeout)
    specs = []
    for index, damage in enumerate(cases):
        copy = damaged_copy(path, damage, directory / f"case-{index:03d}", companions=companions)
        spec = {"index": index, "path": str(copy), "target": damage.target}
        if damage.kind == "truncate":
            # The same cut made after a lazy load: what a map of the file meets (SIGBUS).
            fresh = directory / f"case-{index:03d}-cut-after-load"
            damaged_copy(path, _NO_DAMAGE, fresh, companions=companions)
            spec.update(fresh=str(fresh), damage=asdict(damage))
        specs.append(spec)
    results = {i: CaseResult(d, partial_reads_warn=partial_reads_warn) for i, d in enumerate(cases)}
    pending = list(specs)
    while pending:
        progress = directory / f"progress-{pending[0]['index']:03d}.jsonl"
        spec_file = directory / "spec.json"
        spec_file.write_text(json.dumps({"cases": pending, "options": options,
                                         "expected": expected, "progress": str(progress)}))
        proc = subprocess.Popen([sys.executable, "-c", _CHILD, str(spec_file)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        started, current, last_line = time.monotonic(), None, 0
        while True:
            code = proc.poll()  # before reading: what the child wrote before it ended is read
            for line in _complete_lines(progress)[last_line:]:
                record = json.loads(line)
                if "start" in record:
                    current, started = record["start"], time.monotonic()
                else:
                    results[record["index"]].outcomes = record["outcomes"]
                    results[record["index"]].errors = record["errors"]
                    current = None
                last_line += 1
            if code is not None:
                err = proc.stderr.read() if proc.stderr else ""
                break
            if time.monotonic() - started > case_timeout:
                proc.kill()
                proc.wait()
                err, code = "", None
                break
            time.sleep(0.02)
        done = {i for i, r in results.items() if r.outcomes}
        if current is not None and current not in done:
            name = "hang" if code is None else (
                f"crash ({_signal.Signals(-code).name})" if code < 0 else f"exit {code}")
            results[current].outcomes = {"eager": name.split(" ")[0]}
            results[current].errors = {"eager": f"{name}: {err[-400:]}"}
            done.add(current)
        elif code not in (0, None) and not [c for c in pending if c["index"] not in done]:
            pass
        elif code not in (0, None):
            raise RuntimeError(f"the damage checker's child failed outside a case: {err[-2000:]}")
        pending = [c for c in pending if c["index"] not in done]
    return DamageReport(str(path), [results[i] for i in range(len(cases))])


def _complete_lines(progress: Path) -> list[str]:
    """The lines of the child's progress file that it has finished writing (a line being
    written while the parent reads has no newline yet)."""
    text = progress.read_text() if progress.exists() else ""
    return text[: text.rfind("\n") + 1].splitlines()


def _expected_arrays(path: Path, directory: Path, options: dict, timeout: float) -> list[str]:
    """Load the good file in a child; save its arrays as .npy files; return their paths."""
    out = directory / "expected"
    out.mkdir(exist_ok=True)
    code = (
        "import sys, json, numpy as np\n"
        "from lazysignal.testing.damage import _load_one\n"
        "arrays = _load_one(sys.argv[1], False, json.loads(sys.argv[2]))\n"
        "for i, a in enumerate(arrays):\n"
        "    np.save(f'{sys.argv[3]}/{i}.npy', a, allow_pickle=False)\n"
        "print(len(arrays))\n"
    )
    run = run_isolated(code, timeout=timeout, args=[str(path), json.dumps(options), str(out)])
    if run.returncode != 0:
        raise RuntimeError(f"the good file {str(path)!r} does not load: {run.stderr[-2000:]}")
    return [str(out / f"{i}.npy") for i in range(int(run.stdout.split()[-1]))]


def _asdict(damage: Damage) -> dict:  # kept for callers that log cases as JSON
    return asdict(damage)
