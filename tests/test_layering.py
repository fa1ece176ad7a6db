"""Imports only run down the floors: array layer < signal layer < io/plot/learn/roi < cli.

Module-level imports are read from the source (``if TYPE_CHECKING:`` blocks and imports inside
functions, which run at call time, are not counted). ``signal.py`` may import the mixin
module of a package above it (``*.signal_methods``): that is how a package adds methods to
``BaseSignal`` (see the contract in docs/signals.md).
"""

import ast
import pathlib

import pytest

import lazysignal

ROOT = pathlib.Path(lazysignal.__file__).parent

ARRAY = {"array_ops", "block_source", "expressions", "chunks", "lazy", "plan", "errors", "events",
         "options", "preferences", "xray", "processing.blocks", "processing.fft", "processing.histogram",
         "processing.map", "processing.navigator", "processing.rebin", "processing.virtual_image"}
SIGNAL = {"axes", "metadata", "signal_registry", "signal_protocol", "signal", "arithmetic", "indexing",
          "reductions", "stacking", "signals", "processing"}
UPPER = {"io", "plot", "learn", "roi", "interactive", "proxy", "viewer"}
TOP = {"cli", "demo", "__main__", "testing"}  # testing: helpers that test every floor


def floor(module: str) -> int:
    """0 array, 1 signal, 2 io/plot/learn/..., 3 cli; the most specific name decides."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        name = ".".join(parts[:n])
        for level, names in enumerate((ARRAY, SIGNAL, UPPER, TOP)):
            if name in names:
                return level
    return 3 if not module else 1


def module_imports():
    for path in sorted(ROOT.rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        module = ".".join(rel.parts).removesuffix("__init__").rstrip(".")
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.level:
                base = package.split(".") if package else []
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join([*base, *([node.module] if node.module else [])])
                names = [target] if node.module else [f"{target}.{a.name}".lstrip(".") for a in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("lazysignal"):
                names = [node.module.removeprefix("lazysignal").lstrip(".")]
            elif isinstance(node, ast.Import):
                names = [a.name.removeprefix("lazysignal").lstrip(".") for a in node.names
                         if a.name.startswith("lazysignal")]
            else:
                continue
            for target in names:
                yield module, target


EDGES = [(m, t) for m, t in module_imports() if m and t and m != "__init__"]


def test_the_scan_sees_the_known_edges():
    assert ("array_ops", "expressions") in EDGES
    assert ("signal", "processing.map_methods") in EDGES
    assert ("io.backends.chunked_file", "array_ops") in EDGES


@pytest.mark.parametrize("module, target", EDGES)
def test_imports_run_down(module, target):
    if module == "signal" and target.endswith(".signal_methods"):
        return  # a package's mixin joins BaseSignal's bases
    assert floor(target) <= floor(module), (
        f"{module} (floor {floor(module)}) imports {target} (floor {floor(target)}) at module level")


def test_processing_does_not_import_io():
    assert not [(m, t) for m, t in EDGES if m.startswith("processing") and t.startswith("io")]
