"""Fixtures of the proxy tests."""

from __future__ import annotations

import time

import pytest
from proxy_helpers import CountingLoader, preload_threads


@pytest.fixture
def loader() -> CountingLoader:
    return CountingLoader()


@pytest.fixture(autouse=True)
def no_leaked_preload_threads():
    """Every proxy test must leave no preload thread behind."""
    yield
    deadline = time.monotonic() + 120  # a hang guard; exits as soon as threads end
    while preload_threads() and time.monotonic() < deadline:
        time.sleep(0.01)
    assert preload_threads() == []
