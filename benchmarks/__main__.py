"""Run the benchmarks: ``python -m benchmarks [--quick] [--list] [NAME ...]``.

Each ``bench_<name>.py`` module beside this file is one topic. ``--quick`` uses small data
so the whole set runs in seconds; without it, the sizes named in the issues (GiB files,
written once under ``$LAZYSIGNAL_BENCH_DATA``, default ``/tmp/lazysignal-bench``).
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
from pathlib import Path

from .harness import Context


def main() -> None:
    here = Path(__file__).parent
    topics = sorted(m.name[len("bench_"):] for m in pkgutil.iter_modules([str(here)])
                    if m.name.startswith("bench_"))
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("names", nargs="*", help=f"topics to run (default all): {', '.join(topics)}")
    parser.add_argument("--quick", action="store_true", help="small data, seconds in all")
    parser.add_argument("--list", action="store_true", help="list topics and exit")
    args = parser.parse_args()
    if args.list:
        print("\n".join(topics))
        return
    ctx = Context(quick=args.quick)
    print(f"{'operation':<52} {'time':>10} {'throughput':>12} {'peak RSS':>12}  ratio to limit")
    for name in args.names or topics:
        if name not in topics:
            parser.error(f"unknown benchmark {name!r}; known: {', '.join(topics)}")
        print(f"# {name}")
        importlib.import_module(f"benchmarks.bench_{name}").run(ctx)


if __name__ == "__main__":
    main()
