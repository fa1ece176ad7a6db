"""Temporary elision for proxies: compute into a result that nothing else can see."""

from __future__ import annotations

import operator
import sys
from collections.abc import Callable
from typing import Any

import numpy as np

# ``sum(arrays)`` on plain numpy arrays adds in place into the running total, because
# numpy reuses an operand that only the interpreter holds ("temporary elision"): one
# allocation and its page faults fewer per file. A proxy always holds its data, so numpy
# never sees a temporary; we do the same check one level up. An in-memory result proxy
# referenced only by the expression being evaluated (the running total inside ``sum``,
# ``(a + b)`` in ``(a + b) * c``), whose array nothing else references, is about to be
# thrown away: its array can take the result. What "referenced only by the expression"
# means in reference counts depends on the interpreter, so it is measured at import
# (below) and the elision is off wherever a named variable cannot be told from a
# temporary (or reference counts are unavailable).

PROBE: list[tuple[int, int]] | None = None
ELISION: tuple[int, int] | None = None
UFUNCS: dict[Callable, Any] = {}


def refcount(obj: Any) -> int:
    return sys.getrefcount(obj) if ELISION is not None or PROBE is not None else 0


def elide_temporary(mine: Any, theirs: Any, op: Callable, reflected: bool) -> Any:
    """``op`` computed into ``mine`` when that gives exactly ``op``'s result; else NotImplemented."""
    ufunc = UFUNCS.get(op)
    if (ufunc is None or type(mine) is not np.ndarray or mine.base is not None
            or not mine.flags.writeable):
        return NotImplemented
    if not isinstance(theirs, (np.ndarray, np.generic, int, float, complex)) or isinstance(theirs, bool):
        return NotImplemented
    left, right = (theirs, mine) if reflected else (mine, theirs)
    try:
        same = (np.result_type(left, right) == mine.dtype
                and np.broadcast_shapes(mine.shape, np.shape(theirs)) == mine.shape)
    except (TypeError, ValueError):
        return NotImplemented
    return ufunc(left, right, out=mine) if same else NotImplemented


def calibrate(make_result: Callable[[Any], Any]) -> None:
    """Measure the reference counts ``_binary`` sees for a temporary proxy.

    ``make_result(array)`` makes an in-memory result proxy. Sets ``ELISION``, or leaves it
    None where a named variable cannot be told from a temporary.
    """
    global PROBE, ELISION
    if not hasattr(sys, "getrefcount") or not getattr(sys, "_is_gil_enabled", lambda: True)():
        return
    UFUNCS.update({operator.add: np.add, operator.sub: np.subtract, operator.mul: np.multiply,
                    operator.truediv: np.true_divide, operator.floordiv: np.floor_divide,
                    operator.mod: np.remainder, operator.pow: np.power})
    PROBE = []
    try:
        make_result(np.zeros(2)) + 1  # a temporary on the stack
        named = make_result(np.zeros(2))
        named + 1  # a named variable
        sum([1, 1], make_result(np.zeros(2)))  # 2nd add: sum()'s running total
        held = named.data
        named + 1  # the array held elsewhere
    finally:
        probe, PROBE = PROBE, None
    del held
    temporary, named_var, _, in_sum, shared = probe
    if temporary[0] < named_var[0] and in_sum[0] <= temporary[0] and temporary[1] < shared[1]:
        ELISION = temporary[0], temporary[1]
