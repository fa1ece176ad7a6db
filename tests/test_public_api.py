"""The public namespace is DESIGN.md's list, and every name in it resolves."""

import importlib
import subprocess
import sys


def test_every_public_name_resolves_in_a_fresh_interpreter():
    # Fresh: ``import lazysignal`` loads the API on first use, so an earlier test's imports
    # must not hide a name that would fail for a user.
    code = ("import lazysignal as ls\n"
            "missing = [n for n in ls.__all__ if getattr(ls, n, None) is None]\n"
            "print(sorted(ls.__all__), missing)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    names, missing = done.stdout.strip().rsplit(" ", 1)
    assert missing == "[]", done.stdout
    assert eval(names) == sorted(["signals", "load", "stack", "compute", "preferences", "proxy", "roi",
                                  "interactive", "plot", "events", "__version__"])


def test_events_is_the_event_module():
    ls = importlib.import_module("lazysignal")
    assert ls.events.Event is importlib.import_module("lazysignal.events").Event
