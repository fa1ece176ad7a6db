"""LazyReadData: loading on use, forwarding, arithmetic, nops release, threads, memory, errors."""

from __future__ import annotations

import operator
import os
import pickle
import threading
import tracemalloc

import dask.array as da
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from proxy_helpers import CountingLoader, write_npy

from lazysignal.errors import LazySignalError
from lazysignal.proxy import LazyReadData, PreloadIterator, ProxyLoadError, ProxyOperationError

# (name, binary function, in-place function, symbol)
BINARY = [
    ("add", operator.add, operator.iadd, "+"),
    ("sub", operator.sub, operator.isub, "-"),
    ("mul", operator.mul, operator.imul, "*"),
    ("truediv", operator.truediv, operator.itruediv, "/"),
    ("floordiv", operator.floordiv, operator.ifloordiv, "//"),
    ("mod", operator.mod, operator.imod, "%"),
    ("pow", operator.pow, operator.ipow, "**"),
]
UNARY = [("neg", operator.neg), ("pos", operator.pos), ("abs", abs)]


@pytest.fixture
def two(tmp_path):
    paths, arrays = write_npy(tmp_path, 2)
    return paths, arrays


# -- loading and forwarding ---------------------------------------------------------


def test_loads_on_first_use_only_and_forwards_attributes(two, loader):
    (path, _), (array, _) = two
    p = LazyReadData(path, loader=loader)
    assert loader.total == 0 and not p.preloading()
    assert "not loaded" in repr(p)
    assert p.shape == array.shape  # forwarded attribute loads
    assert loader.calls[path] == 1 and p.preloading()
    np.testing.assert_array_equal(p.data, array)
    assert p.sum() == pytest.approx(array.sum())
    assert p[1, 2] == array[1, 2] and len(p) == len(array)
    np.testing.assert_array_equal(np.asarray(p), array)
    assert loader.calls[path] == 1  # none of that reloaded or counted
    assert "loaded" in repr(p) and "not loaded" not in repr(p)


def test_load_kwargs_reach_the_loader_and_pathlike_is_accepted(two, tmp_path):
    seen = []

    def load(path, **kwargs):
        seen.append((path, kwargs))
        return np.load(path, **kwargs)

    p = LazyReadData(tmp_path / "0.npy", loader=load, mmap_mode="r")
    assert isinstance(p.data, np.memmap)
    assert seen == [(os.path.join(tmp_path, "0.npy"), {"mmap_mode": "r"})]
    assert p.filename == str(tmp_path / "0.npy")


def test_missing_attribute_raises_attribute_error(two, loader):
    p = LazyReadData(two[0][0], loader=loader)
    with pytest.raises(AttributeError, match="no_such_thing"):
        p.no_such_thing
    assert not hasattr(p, "__array_interface__")  # dunders are never forwarded


def test_in_memory_object_is_held_and_never_released():
    array = np.arange(4.0)
    p = LazyReadData(array, nops=1)
    assert p.data is array and p.preloading() and p.filename is None
    r = p + 1
    np.testing.assert_array_equal(r.data, array + 1)
    assert p.data is array  # nothing to reload from, so nops does not drop it
    assert p.release() is False


def test_proxy_from_proxy_shares_file_loader_options_and_data(two, loader):
    path = two[0][0]
    base = LazyReadData(path, loader=loader, nops=2, mmap_mode="r")
    copy = LazyReadData(base)
    assert (copy.filename, copy.loader, copy.nops, copy.load_kwargs) == (path, loader, 2, {"mmap_mode": "r"})
    assert not copy.preloading()
    base.data
    overridden = LazyReadData(base, nops=1, allow_pickle=False)
    assert overridden.nops == 1 and overridden.load_kwargs == {"mmap_mode": "r", "allow_pickle": False}
    assert overridden.data is base.data and loader.calls[path] == 1  # shared, not reloaded


def test_invalid_nops_is_rejected():
    with pytest.raises(ValueError, match="nops"):
        LazyReadData("x.npy", nops=-1)


def test_release_and_reload(two, loader):
    (path, _), (array, _) = two
    p = LazyReadData(path, loader=loader)
    p.data
    assert p.release() is True and not p.preloading()
    assert p.release() is False
    np.testing.assert_array_equal(p.data, array)
    assert loader.calls[path] == 2


def test_pickle_round_trip(two):
    (path, _), (array, _) = two
    p = LazyReadData(path, loader=np.load, nops=3)
    p.data
    q = pickle.loads(pickle.dumps(p))
    assert not q.preloading() and (q.filename, q.nops, q.loader) == (path, 3, np.load)
    np.testing.assert_array_equal(q.data, array)
    r = pickle.loads(pickle.dumps(p + 1))
    np.testing.assert_array_equal(r.data, array + 1)


# -- arithmetic ----------------------------------------------------------------------


def _operand(kind, path, array, loader):
    if kind == "proxy":
        return LazyReadData(path, loader=loader, nops=1), array
    if kind == "array":
        return array, array
    return 3.0, 3.0


@pytest.mark.parametrize("kind", ["proxy", "array", "number"])
@pytest.mark.parametrize("name,op,iop,symbol", BINARY, ids=[b[0] for b in BINARY])
def test_binary_operators_forward_reflected_inplace(two, loader, name, op, iop, symbol, kind):
    (pa, pb), (a, b) = two
    for form in ("forward", "reflected", "inplace"):
        p = LazyReadData(pa, loader=loader, nops=1)
        other, other_value = _operand(kind, pb, b, loader)
        if form == "forward":
            result, expected = op(p, other), op(a, other_value)
        elif form == "reflected":
            result, expected = op(other, p), op(other_value, a)
        else:
            target = p
            target = iop(target, other)
            result, expected = target, op(a, other_value)
            assert target is not p
        assert type(result) is LazyReadData, (form, type(result))
        np.testing.assert_allclose(result.data, expected)
        assert result.filename is None and result.nops == 0
        assert symbol in repr(result)
        # each proxy operand used once with nops=1: released exactly then
        assert not p.preloading()
        if kind == "proxy":
            assert not other.preloading()
    np.testing.assert_array_equal(np.load(pa), a)  # in-place never touched the file's data
    assert loader.calls[pa] == 3


@pytest.mark.parametrize("name,op", UNARY, ids=[u[0] for u in UNARY])
def test_unary_operators(two, loader, name, op):
    (path, _), (array, _) = two
    p = LazyReadData(path, loader=loader, nops=1)
    result = op(p - 5)  # values of both signs
    assert type(result) is LazyReadData
    np.testing.assert_allclose(result.data, op(array - 5))
    q = LazyReadData(path, loader=loader, nops=1)
    np.testing.assert_allclose(op(q).data, op(array))
    assert not q.preloading()


def test_inplace_on_in_memory_data_updates_it_in_place():
    array = np.ones(3)
    p = LazyReadData(array)
    q = p
    q += 2
    assert q is not p and type(q) is LazyReadData
    assert q.data is array  # numpy's in-place add: no copy made
    np.testing.assert_array_equal(array, 3.0)


def test_proxy_of_proxy_results_chain(two, loader):
    (pa, pb), (a, b) = two
    x = LazyReadData(pa, loader=loader, nops=2)
    y = LazyReadData(pb, loader=loader, nops=1)
    expr = (x + y) * x - 2 / (abs(-x) + 1) ** 2
    np.testing.assert_allclose(expr.data, (a + b) * a - 2 / (abs(-a) + 1) ** 2)


def test_counter_is_decremented_exactly_once_per_operation(two, loader):
    (path, _), (array, _) = two
    p = LazyReadData(path, loader=loader, nops=3)
    for _ in range(3):
        p + 1
        assert loader.calls[path] == 1
    assert not p.preloading() and loader.calls[path] == 1  # dropped after the 3rd
    q = p + p  # one operation, even with the proxy on both sides
    np.testing.assert_allclose(q.data, 2 * array)
    assert p.preloading() and loader.calls[path] == 2  # reloaded; 2 operations left
    p * 2
    p - 1
    assert not p.preloading()


def test_nops_zero_keeps_data(two, loader):
    path = two[0][0]
    p = LazyReadData(path, loader=loader)
    for _ in range(10):
        p * 1.5
    assert p.preloading() and loader.calls[path] == 1


def test_released_proxy_reloads_with_same_values(two, loader):
    (path, _), (array, _) = two
    p = LazyReadData(path, loader=loader, nops=1)
    first = (p + 0).data
    assert not p.preloading()
    second = (p + 0).data
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(second, array)
    assert loader.calls[path] == 2


def test_dask_data_lazy_equals_eager(tmp_path):
    paths, arrays = write_npy(tmp_path, 5, shape=(6, 4))
    for chunks in [(6, 4), (2, 2), (1, 3)]:
        def load(path):
            return da.from_array(np.load(path), chunks=chunks)

        total = sum(LazyReadData(p, loader=load, nops=1) for p in paths)
        assert isinstance(total.data, da.Array)
        np.testing.assert_allclose(total.data.compute(), sum(arrays))


_SYMBOLS = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    nops=st.lists(st.integers(0, 3), min_size=3, max_size=3),
    steps=st.lists(st.tuples(st.sampled_from(sorted(_SYMBOLS)), st.integers(0, 2), st.booleans()),
                   min_size=1, max_size=12),
)
def test_any_expression_matches_numpy_and_loads_ceil_uses_over_nops(tmp_path_factory, nops, steps):
    folder = tmp_path_factory.mktemp("expr")
    paths, arrays = write_npy(folder, 3)
    loader = CountingLoader()
    proxies = [LazyReadData(p, loader=loader, nops=n) for p, n in zip(paths, nops)]
    acc_p, acc = LazyReadData(np.ones((2, 3))), np.ones((2, 3))
    uses = [0, 0, 0]
    for symbol, k, reflected in steps:
        op = _SYMBOLS[symbol]
        acc_p = op(proxies[k], acc_p) if reflected else op(acc_p, proxies[k])
        acc = op(arrays[k], acc) if reflected else op(acc, arrays[k])
        uses[k] += 1
    np.testing.assert_allclose(acc_p.data, acc)
    for path, n, u in zip(paths, nops, uses):
        expected_loads = (1 if u else 0) if n == 0 else -(-u // n)
        assert loader.calls[path] == expected_loads
    # the same expression written as one nested expression: its intermediate results are
    # temporaries, which the proxies may compute in place; the values must not change
    text = "start"
    for symbol, k, reflected in steps:
        text = f"(p{k} {symbol} {text})" if reflected else f"({text} {symbol} p{k})"
    start = np.ones((2, 3))
    names = {f"p{k}": LazyReadData(p, loader=np.load) for k, p in enumerate(paths)}
    nested = eval(text, {}, {"start": LazyReadData(start.copy()) * 1, **names})
    np.testing.assert_allclose(nested.data, acc)
    np.testing.assert_array_equal(start, 1.0)


# -- temporary elision: in place only when nothing else can see the array ---------------


def test_sum_reuses_the_running_total_like_numpy(tmp_path):
    # sum() over plain arrays adds in place into its running total (numpy's temporary
    # elision); over proxies it must too, or it allocates one array more per file
    from lazysignal.proxy import _elision

    assert _elision.ELISION is not None  # calibrated on this interpreter
    paths, arrays = write_npy(tmp_path, 6, shape=(1000,))
    total = sum(LazyReadData(p, loader=np.load, nops=1) for p in paths)
    np.testing.assert_allclose(total.data, sum(arrays))
    chained = (LazyReadData(paths[0], loader=np.load) + 1) * 2 - 3
    np.testing.assert_allclose(chained.data, (arrays[0] + 1) * 2 - 3)


def test_named_results_are_never_updated_in_place(two):
    (pa, pb), (a, b) = two
    r = LazyReadData(pa, loader=np.load) + LazyReadData(pb, loader=np.load)
    s = r + 1
    t = 2 * r
    np.testing.assert_allclose(r.data, a + b)
    np.testing.assert_allclose(s.data, a + b + 1)
    np.testing.assert_allclose(t.data, 2 * (a + b))
    held = (r * 1).data  # a temporary proxy whose array is then held by a name
    u = LazyReadData._result(held, "x") + 0
    assert u.data is not held


def test_arrays_seen_elsewhere_are_never_updated_in_place():
    array = np.ones(3)
    LazyReadData(array) + 1  # the proxy is a temporary, the array is not
    np.testing.assert_array_equal(array, 1.0)
    base = np.ones(6)
    LazyReadData(base[:3]) + 1  # a view: other views of base may exist
    np.testing.assert_array_equal(base, 1.0)
    readonly = np.ones(3)
    readonly.flags.writeable = False
    np.testing.assert_array_equal((LazyReadData(readonly) * 1 + 1).data, 2.0)


@pytest.mark.parametrize(
    "make,other,expected_dtype,expected_shape",
    [
        (lambda: np.ones(3, np.float32), np.ones(3), np.float64, (3,)),  # dtype widens
        (lambda: np.ones(3, np.int64), 0.5, np.float64, (3,)),
        (lambda: np.ones(3), np.ones((2, 3)), np.float64, (2, 3)),  # shape grows
        (lambda: np.ones(3, np.float32), 2.0, np.float32, (3,)),
    ],
)
def test_in_place_only_when_result_dtype_and_shape_match(make, other, expected_dtype, expected_shape):
    result = (LazyReadData(make()) * 1) + other
    assert result.data.dtype == expected_dtype and result.data.shape == expected_shape
    np.testing.assert_allclose(result.data, make() * 1 + other)
    reflected = other - (LazyReadData(make()) * 1)
    np.testing.assert_allclose(reflected.data, other - make())


# -- threads ---------------------------------------------------------------------------


def test_sixteen_threads_load_once(two):
    (path, _), (array, _) = two
    loader = CountingLoader(delay=0.05)
    p = LazyReadData(path, loader=loader)
    start = threading.Barrier(16)
    seen = [None] * 16

    def touch(k):
        start.wait()
        seen[k] = p.data if k % 2 else p.shape and p.data

    threads = [threading.Thread(target=touch, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loader.calls[path] == 1
    assert all(s is seen[0] for s in seen)
    np.testing.assert_array_equal(seen[0], array)


def test_sixteen_threads_operating_count_sixteen_operations(two):
    (path, _), (array, _) = two
    loader = CountingLoader(delay=0.02)
    p = LazyReadData(path, loader=loader, nops=16)
    start = threading.Barrier(16)
    results = [None] * 16

    def work(k):
        start.wait()
        results[k] = (p * k).data

    threads = [threading.Thread(target=work, args=(k,)) for k in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert loader.calls[path] == 1  # loaded once, ...
    assert not p.preloading()  # ... and released exactly at the 16th operation
    for k, r in enumerate(results):
        np.testing.assert_allclose(r, array * k)


def test_preloading_is_true_while_a_load_is_in_progress(two):
    path = two[0][0]
    entered, go = threading.Event(), threading.Event()

    def slow(path):
        entered.set()
        go.wait(120)
        return np.load(path)

    p = LazyReadData(path, loader=slow)
    assert not p.preloading()
    t = threading.Thread(target=lambda: p.data)
    t.start()
    assert entered.wait(120)
    assert p.preloading()  # answers at once: the load lock is not needed
    go.set()
    t.join()
    assert p.preloading()


# -- memory ----------------------------------------------------------------------------


def test_sum_of_100_proxies_holds_few_loaded_at_once(tmp_path):
    paths, arrays = write_npy(tmp_path, 100, shape=(8,))
    loader = CountingLoader()
    total = sum(LazyReadData(p, loader=loader, nops=1) for p in paths)
    np.testing.assert_allclose(total.data, sum(arrays))
    assert loader.max_live <= 2 and loader.live() == 0

    proxies = [LazyReadData(p, loader=loader, nops=1) for p in paths]
    loader.max_live = 0
    sum(PreloadIterator(proxies, npreload=4))
    assert loader.max_live <= 6 and loader.live() == 0  # current + 4 ahead, + 1 slack

    # without nops the list keeps every dataset: what the proxies avoid
    kept = [LazyReadData(p, loader=loader) for p in paths]
    sum(kept)
    assert loader.live() == 100


@pytest.mark.parametrize("npreload", [None, 2])
def test_sum_of_64_proxies_of_32_mib_stays_under_8x_traced(tmp_path, npreload):
    size = 32 * 2**20
    source = tmp_path / "block.npy"
    np.save(source, np.ones(size // 8))
    paths = []
    for k in range(64):  # 64 distinct file names, one file's worth of disk
        link = tmp_path / f"{k}.npy"
        link.symlink_to(source)
        paths.append(str(link))
    proxies = [LazyReadData(p, loader=np.load, nops=1) for p in paths]
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        items = proxies if npreload is None else PreloadIterator(proxies, npreload=npreload)
        total = sum(items)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert total.data[0] == 64.0 and total.data.size == size // 8
    assert peak < 8 * size, f"peak {peak / 2**20:.0f} MiB"
    # what it is in fact: the running total and the file being added, plus those loaded ahead
    assert peak < (2.5 if npreload is None else 2.5 + npreload) * size, f"peak {peak / 2**20:.0f} MiB"
    assert not any(p.preloading() for p in proxies)


def test_without_nops_the_sum_holds_every_file(tmp_path):
    # the counterfactual of the test above, on 10 files: nops=0 keeps each one
    size = 32 * 2**20
    np.save(tmp_path / "block.npy", np.ones(size // 8))
    proxies = [LazyReadData(tmp_path / "block.npy", loader=np.load) for _ in range(10)]
    tracemalloc.start()
    try:
        sum(proxies)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak >= 10 * size


# -- errors ----------------------------------------------------------------------------


def test_missing_file_names_file_and_operation(tmp_path):
    missing = str(tmp_path / "absent.npy")
    p = LazyReadData(missing, loader=np.load, nops=1)
    with pytest.raises(ProxyLoadError) as info:
        p + 1
    message = str(info.value)
    assert missing in message and "'+'" in message and "exists" in message
    assert isinstance(info.value, OSError) and isinstance(info.value, LazySignalError)
    assert isinstance(info.value.__cause__, FileNotFoundError)
    assert not p.preloading()
    with pytest.raises(ProxyLoadError, match="attribute 'shape'"):
        p.shape


def test_loader_raising_names_file_and_operation(two):
    path = two[0][0]

    def broken(path, **kwargs):
        raise ValueError("header says 12 bytes, found 3")

    p = LazyReadData(path, loader=broken, nops=1)
    with pytest.raises(ProxyLoadError) as info:
        p * 2
    message = str(info.value)
    assert path in message and "'*'" in message and "header says 12 bytes" in message
    assert "broken" in message  # the loader is named
    assert isinstance(info.value.__cause__, ValueError)
    with pytest.raises(ProxyLoadError, match=r"\.data"):
        p.data


@pytest.mark.parametrize(
    "other,builtin",
    [(np.ones(7), ValueError), ("text", TypeError), (object(), TypeError)],
    ids=["shape", "str", "object"],
)
def test_incompatible_operand_names_file_and_operation(two, loader, other, builtin):
    path = two[0][0]
    p = LazyReadData(path, loader=loader, nops=1)
    with pytest.raises(ProxyOperationError) as info:
        p - other
    message = str(info.value)
    assert path in message and "'-'" in message
    assert isinstance(info.value, builtin) and isinstance(info.value.__cause__, builtin)
    assert p.preloading()  # a failed operation is not counted
    with pytest.raises(builtin, match=path):
        other * p  # reflected form too
    np.testing.assert_array_equal((p + 0).data, np.load(path))
    assert not p.preloading()


def test_unary_on_unsupported_data_names_the_source():
    p = LazyReadData({"a": 1})
    with pytest.raises(ProxyOperationError, match="in-memory dict"):
        -p


def test_error_in_second_operand_names_its_file(two, tmp_path, loader):
    path = two[0][0]
    good = LazyReadData(path, loader=loader, nops=1)
    bad = LazyReadData(str(tmp_path / "gone.npy"), loader=np.load)
    with pytest.raises(ProxyLoadError, match="gone.npy"):
        good / bad
    assert loader.calls[path] == 1 and good.preloading()  # not counted: nothing was computed


def test_slow_load_does_not_block_other_proxies(two):
    # each proxy has its own lock: a slow file does not serialise the others
    (pa, pb), _ = two
    entered, go = threading.Event(), threading.Event()

    def stuck(path):
        entered.set()
        go.wait(120)
        return np.load(path)

    slow = LazyReadData(pa, loader=stuck)
    fast = LazyReadData(pb, loader=np.load)
    t = threading.Thread(target=lambda: slow.data)
    t.start()
    assert entered.wait(120)
    fast.data  # would wait out go.wait(120) if loads shared a lock
    # No clock: the slow load only ends once we set `go`, so it must still be running.
    slow_still_loading = t.is_alive()
    go.set()
    t.join()
    assert slow_still_loading


def test_spurious_ast_race_error_is_retried_other_system_errors_are_not(two):
    # np.load in threads can hit CPython's AST race (python/cpython#106905)
    path = two[0][0]
    attempts = []

    def racy(path):
        attempts.append(path)
        if len(attempts) < 3:
            raise SystemError("AST constructor recursion depth mismatch (before=42, after=39)")
        return np.load(path)

    np.testing.assert_array_equal(LazyReadData(path, loader=racy).data, np.load(path))
    assert len(attempts) == 3

    def broken(path):
        attempts.append(path)
        raise SystemError("something else")

    attempts.clear()
    with pytest.raises(ProxyLoadError, match="something else"):
        LazyReadData(path, loader=broken).data
    assert len(attempts) == 1


def test_without_elision_results_are_the_same(tmp_path, monkeypatch):
    # interpreters where a temporary cannot be told from a named variable run this path
    from lazysignal.proxy import _elision

    monkeypatch.setattr(_elision, "ELISION", None)
    paths, arrays = write_npy(tmp_path, 5, shape=(50,))
    total = sum(LazyReadData(p, loader=np.load, nops=1) for p in paths)
    np.testing.assert_allclose(total.data, sum(arrays))
