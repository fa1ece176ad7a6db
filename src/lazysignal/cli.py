"""The ``lazysignal`` command: ``demo``, ``info FILE``, ``convert IN OUT``."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

import numpy as np

from .axes import Shape
from .io.load import load

__all__ = ["main", "info_text"]


def _parse_chunks(text: str | None):
    if text is None:
        return None
    if text == "auto":
        return "auto"
    try:
        return tuple(-1 if part.strip() in ("-1", "full") else int(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--chunks must be 'auto' or comma-separated ints in numpy order (e.g. 64,512,248); got {text!r}"
        ) from None


def info_text(path: str, **load_options) -> str:
    """A summary of a file read from its headers only: shapes, dtype, chunks, axes, metadata.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> p = os.path.join(tempfile.mkdtemp(), "x.npy"); np.save(p, np.zeros((4, 8)))
    >>> print(info_text(p).splitlines()[1])
    shape (nav|sig): (|8, 4)   dtype: float64   size: 256 B
    """
    signals = load(path, lazy=True, **load_options)
    signals = signals if isinstance(signals, list) else [signals]
    lines = []
    for s in signals:
        data = s.data
        chunk = Shape.from_numpy(data.chunksize, s.axes_manager.signal_dimension)
        lines.append(repr(s))
        lines.append(f"shape (nav|sig): {s.axes_manager.dimensions}   dtype: {data.dtype}   "
                     f"size: {_size(data.nbytes)}")
        lines.append(f"chunks (nav|sig): {chunk}   {data.npartitions} chunks of "
                     f"{_size(np.prod(data.chunksize) * data.dtype.itemsize)}")
        lines.append(repr(s.axes_manager))
        lines.append("metadata:")
        lines.append(repr(s.metadata))
        s.close_file()
    return "\n".join(lines)


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1024
    return str(n)


def _convert(args) -> None:
    signals = load(args.input, lazy=True)
    signals = signals if isinstance(signals, list) else [signals]
    if len(signals) > 1:
        raise SystemExit(f"{args.input} holds {len(signals)} signals; convert writes one per file.")
    signal = signals[0]
    signal.save(args.output, overwrite=args.overwrite or None, chunks=args.chunks,
                show_progressbar=not args.no_progress)
    signal.close_file()
    print(f"wrote {args.output}: {signal}")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``lazysignal`` command."""
    parser = argparse.ArgumentParser(prog="lazysignal", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run the lazy workflow on a synthetic EDS spectrum image",
                          add_help=False)
    demo.add_argument("rest", nargs=argparse.REMAINDER)
    info = sub.add_parser("info", help="shape, dtype, chunks, axes and metadata of a file (headers only)")
    info.add_argument("file")
    convert = sub.add_parser("convert", help="convert a file to another format, streaming chunk by chunk")
    convert.add_argument("input")
    convert.add_argument("output")
    convert.add_argument("--chunks", type=_parse_chunks, default=None,
                         help="storage chunks in numpy order, e.g. 64,512,248, or 'auto'")
    convert.add_argument("--overwrite", action="store_true", help="replace an existing output")
    convert.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["demo"]:
        # The demo parses its own options (--shape, --out, ...).
        return importlib.import_module("lazysignal.demo").main(argv[1:]) or 0
    args = parser.parse_args(argv)
    try:
        if args.command == "info":
            print(info_text(args.file))
        elif args.command == "convert":
            _convert(args)
    except (OSError, ValueError) as exc:
        print(f"lazysignal {args.command}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
