"""Every ```python block of README.md and docs/*.md runs.

The blocks of one file run in order, in one namespace, in a fresh temporary working directory,
so a page reads as one session a user can paste. Blocks meant as illustration only are written
```text (or ```bash for shell commands) and are not run.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

REPO = Path(__file__).resolve().parents[1]
_BLOCK = re.compile(r"^```python[ \t]*\n(.*?)^```[ \t]*$", re.DOTALL | re.MULTILINE)
PAGES = [p for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))] if _BLOCK.search(p.read_text())]


def python_blocks(text: str) -> list[tuple[int, str]]:
    """(first line number, code) of each ```python block of a Markdown text."""
    return [(text.count("\n", 0, m.start(1)) + 1, m.group(1)) for m in _BLOCK.finditer(text)]


def test_block_extraction_finds_python_blocks_only():
    text = "intro\n```python\nx = 1\n```\n```text\nnot run\n```\n```python\ny = x + 1\n```\n"
    assert python_blocks(text) == [(3, "x = 1\n"), (9, "y = x + 1\n")]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_page_code_blocks_run(page, tmp_path, monkeypatch):
    blocks = python_blocks(page.read_text())
    monkeypatch.chdir(tmp_path)
    namespace: dict = {"__name__": f"docs_{page.stem}"}
    try:
        for line, code in blocks:
            exec(compile(code, f"{page.name}:{line}", "exec"), namespace)  # noqa: S102 - our own docs
    finally:
        plt.close("all")
        for value in list(namespace.values()):
            close = getattr(value, "close_file", None)
            if callable(close) and getattr(value, "lazy", False):
                close()
