"""Preferences: session values under a lock, ``set()`` overrides local to a thread or task."""

import asyncio
import threading

import pytest

from lazysignal.errors import PreferenceError
from lazysignal.preferences import preferences


def test_set_is_local_to_the_thread_that_entered_it():
    inside = threading.Event()
    release = threading.Event()
    seen = {}

    def other():
        inside.wait()
        seen["other"] = preferences.chunk_target_bytes
        release.set()

    t = threading.Thread(target=other)
    t.start()
    with preferences.set(chunk_target_bytes=4096):
        inside.set()
        release.wait()
        seen["here"] = preferences.chunk_target_bytes
    t.join()
    assert seen == {"here": 4096, "other": 100 * 2**20}
    assert preferences.chunk_target_bytes == 100 * 2**20


def test_set_is_local_to_an_asyncio_task():
    async def task(value, gate_in, gate_out):
        with preferences.set(num_workers=value):
            gate_in.set()
            await gate_out.wait()
            return preferences.num_workers

    async def main():
        a_in, b_in, go = asyncio.Event(), asyncio.Event(), asyncio.Event()
        ta = asyncio.create_task(task(1, a_in, go))
        tb = asyncio.create_task(task(2, b_in, go))
        await a_in.wait()
        await b_in.wait()
        go.set()
        return await ta, await tb, preferences.num_workers

    assert asyncio.run(main()) == (1, 2, None)


def test_nested_set_restores_outer_values():
    with preferences.set(show_progressbar=True, num_workers=3):
        with preferences.set(num_workers=1):
            assert (preferences.show_progressbar, preferences.num_workers) == (True, 1)
        assert preferences.num_workers == 3
    assert (preferences.show_progressbar, preferences.num_workers) == (False, None)


def test_assignment_sets_the_session_value_seen_by_other_threads():
    try:
        preferences.num_workers = 2
        seen = []
        t = threading.Thread(target=lambda: seen.append(preferences.num_workers))
        t.start()
        t.join()
        assert seen == [2]
    finally:
        preferences.reset()
    assert preferences.num_workers is None


@pytest.mark.parametrize("change", [{"nope": 1}, {"scheduler": "fast"}, {"chunk_target_bytes": 10}])
def test_bad_names_and_values_are_refused_and_nothing_changes(change):
    before = preferences.as_dict()
    with pytest.raises(PreferenceError, match="known|must be"):
        with preferences.set(**change):
            pass
    name, value = next(iter(change.items()))
    with pytest.raises((AttributeError, ValueError)):
        setattr(preferences, name, value)
    assert preferences.as_dict() == before
