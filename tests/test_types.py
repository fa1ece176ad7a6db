"""The package type-checks: ``mypy`` over ``src/lazysignal`` with the configuration in pyproject.toml.

pyproject.toml's ``[tool.mypy]`` names the files and the base flags; its override section is
strict (``disallow_untyped_defs``, ``check_untyped_defs``, ...) on the modules written since the
check joined the test command. mypy runs as a child process from the repository root, the way a
developer runs it, so the configuration read is the one committed. Its incremental cache
(``.mypy_cache``, which mypy keeps out of git with its own .gitignore) makes later runs quick.
"""

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "src" / "lazysignal"


def test_mypy_finds_no_issues_in_the_package():
    result = subprocess.run(
        [sys.executable, "-m", "mypy"], cwd=REPO, capture_output=True, text=True, check=False
    )
    report = result.stdout + result.stderr
    assert result.returncode == 0, f"mypy found type errors (exit {result.returncode}):\n{report}"
    match = re.search(r"Success: no issues found in (\d+) source files", result.stdout)
    assert match, f"unexpected mypy output:\n{report}"
    # Every module of the package was checked (the configuration's files= did not shrink).
    assert int(match.group(1)) == sum(1 for _ in PACKAGE.rglob("*.py")), report
