"""Run snippets under the peer (HyperSpy 2.5) interpreter, kept in its own virtual environment.

The peer needs zarr < 3 and must stay out of our environment, so interop tests talk to it
through a subprocess. ``shared/bench/peer-env.sh`` prints its interpreter (building the
environment on first use). The peer is part of what the test command installs: when that
script fails, the tests that need it fail with the script's reason (they never skip).
"""

from __future__ import annotations

import functools
import json
import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PEER_ENV_SCRIPT = REPO.parent / "shared" / "bench" / "peer-env.sh"
_MARK = "@@PEER-RESULT@@"


@functools.cache
def _peer_python() -> tuple[str | None, str]:
    """(interpreter, "") or (None, why it is unavailable)."""
    override = os.environ.get("LAZYSIGNAL_PEER_PYTHON")
    if override:
        return override, ""
    if not PEER_ENV_SCRIPT.exists():
        return None, f"{PEER_ENV_SCRIPT} not found, so the HyperSpy peer cannot be built"
    try:
        done = subprocess.run(["bash", str(PEER_ENV_SCRIPT)], capture_output=True, text=True,
                              timeout=1800, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"{PEER_ENV_SCRIPT} failed: {exc}"
    lines = done.stdout.strip().splitlines()
    if done.returncode or not lines or not Path(lines[-1]).exists():
        return None, (f"{PEER_ENV_SCRIPT} failed (exit {done.returncode}): "
                      f"{done.stderr.strip()[-500:]}")
    return lines[-1], ""


def require_peer() -> str:
    """The peer interpreter's path; fails the calling test, saying why, when it cannot be had."""
    python, why = _peer_python()
    if python is None:
        pytest.fail(f"HyperSpy peer environment unavailable: {why}")
    return python


def run_peer(code: str, *, timeout: float = 300) -> object:
    """Run ``code`` under the peer; it calls ``emit(obj)`` once to return a JSON value.

    A failing snippet fails the test with the peer's traceback.
    """
    python = require_peer()
    prelude = (
        "import json, warnings, logging\n"
        "warnings.simplefilter('ignore')\n"
        "logging.disable(logging.WARNING)\n"
        "def _plain(o):\n    return o.item() if hasattr(o, 'item') else repr(o)\n"
        f"def emit(obj):\n    print({_MARK!r} + json.dumps(obj, default=_plain), flush=True)\n"
    )
    done = subprocess.run([python, "-c", prelude + code], capture_output=True, text=True,
                          timeout=timeout, check=False, env={**os.environ, "PYTHONPATH": ""})
    if done.returncode:
        raise AssertionError(f"peer snippet failed (exit {done.returncode}):\n"
                             f"{done.stderr[-4000:]}")
    for line in done.stdout.splitlines():
        if line.startswith(_MARK):
            return json.loads(line[len(_MARK):])
    raise AssertionError(f"peer snippet emitted no result; stdout:\n{done.stdout[-2000:]}")
