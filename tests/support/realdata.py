"""The real instrument files of ``../shared/realdata`` (beside the checkout, as in CI).

They are part of the project's test inputs, not optional: a missing folder fails the
collection loudly instead of skipping the tests that read it.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2].parent / "shared" / "realdata"


def realdata(kind: str) -> Path:
    """The folder of one kind of sample file (``"mrc"``, ``"ripple"``, ...)."""
    folder = ROOT / kind
    if not folder.is_dir():
        raise FileNotFoundError(
            f"The real sample files are missing: {folder}. The tests read them from "
            "../shared/realdata beside the checkout (CI has it); put that folder there."
        )
    return folder
