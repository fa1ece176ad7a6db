"""``python -m lazysignal ...``: the same command as ``lazysignal ...`` (see :mod:`lazysignal.cli`)."""

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
