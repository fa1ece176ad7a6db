"""No silently ignored option: ``out=`` and ``rechunk=`` do what HyperSpy does, ``**kwargs`` are
passed to a documented callee or rejected by name.

``out=`` results are compared with HyperSpy's on the same data (the peer runs in its own
interpreter); each runs eagerly and lazily with several chunkings.
"""

import numpy as np
import pytest
from peer import run_peer

from lazysignal.errors import ChunksError, ShapeMismatchError, UnsupportedOptionError
from lazysignal.signals import Signal1D

DATA = np.random.default_rng(7).random((4, 5, 12))
SCALE, OFFSET = 0.25, -1.0
CHUNKINGS = [None, (1, 5, 12), (2, 2, 5), (4, 5, 3)]
# The same calls run here and under the peer (as source text).
CALL_SOURCES = {
    "indexmax": "s.indexmax(-1, out=out)", "indexmin": "s.indexmin(-1, out=out)",
    "valuemax": "s.valuemax(-1, out=out)", "valuemin": "s.valuemin(-1, out=out)",
    "integrate1D": "s.integrate1D(-1, out=out)", "diff": "s.diff(-1, order=2, out=out)",
    "derivative": "s.derivative(-1, out=out)", "sum": "s.sum(-1, out=out)",
    "rebin": "s.rebin(scale=(1, 1, 3), out=out)",
}
CALLS = {name: eval(f"lambda s, out: {source}") for name, source in CALL_SOURCES.items()}


def signal(chunks):
    s = Signal1D(DATA.copy())
    s.axes_manager[-1].scale, s.axes_manager[-1].offset = SCALE, OFFSET
    return s if chunks is None else s.as_lazy(chunks=chunks)


@pytest.fixture(scope="module")
def peer_results():
    code = f"""
import numpy as np, hyperspy.api as hs
data = np.array({DATA.tolist()!r})
s = hs.signals.Signal1D(data)
s.axes_manager[-1].scale, s.axes_manager[-1].offset = {SCALE}, {OFFSET}
calls = {{name: eval(f"lambda s, out: {{source}}") for name, source in {CALL_SOURCES!r}.items()}}
results = {{}}
for name, call in calls.items():
    out = call(s, None)
    out.data = np.zeros_like(out.data)
    fired = []
    out.events.data_changed.connect(lambda obj: fired.append(1))
    returned = call(s, out)
    results[name] = [np.asarray(out.data).tolist(), str(out.data.dtype), returned is None, len(fired)]
emit(results)
"""
    return run_peer(code)


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("name", list(CALLS))
def test_out_receives_the_result_as_the_peer_does(peer_results, name, chunks):
    s = signal(chunks)
    call = CALLS[name]
    out = call(s, None)
    if out.lazy:
        out.compute()
    out.data = np.zeros_like(out.data)
    kept = out.data
    fired = []
    out.events.data_changed.connect(lambda obj: fired.append(obj))
    returned = call(s, out)
    peer_values, peer_dtype, peer_none, peer_fired = peer_results[name]
    assert returned is None and peer_none
    assert len(fired) == 1 and peer_fired == 1
    values = out.data.compute() if out.lazy else out.data
    np.testing.assert_allclose(values, np.array(peer_values), rtol=1e-10, atol=1e-12)
    if not s.lazy:  # both in memory: written into out's own array, as HyperSpy writes
        assert out.data is kept and str(out.data.dtype) == peer_dtype


def test_out_of_the_wrong_shape_is_refused_and_untouched():
    s = signal(None)
    out = Signal1D(np.zeros((4, 5, 7)))
    for call in (lambda: s.indexmax(-1, out=out), lambda: s.diff(-1, out=out), lambda: s.sum(-1, out=out)):
        with pytest.raises(ShapeMismatchError, match="out= has data of shape"):
            call()
    assert not out.data.any()


@pytest.mark.parametrize("chunks", CHUNKINGS[1:])
@pytest.mark.parametrize("rechunk", [True, "auto", "dask_auto", (4, 5, 12)])
@pytest.mark.parametrize("name", ["indexmax", "valuemin", "integrate1D", "diff", "sum", "nanmean"])
def test_rechunk_on_lazy_data_rechunks_before_the_operation(name, rechunk, chunks):
    lazy, eager = signal(chunks), signal(None)
    call = {"diff": lambda s, **kw: s.diff(-1, **kw)}.get(name, lambda s, **kw: getattr(s, name)(-1, **kw))
    result, plain = call(lazy, rechunk=rechunk), call(lazy)
    np.testing.assert_allclose(result.data.compute(), call(eager).data, rtol=1e-12)
    if isinstance(rechunk, tuple):
        target = lazy.data.rechunk(rechunk)
    else:
        target = lazy.data.rechunk("auto" if rechunk == "dask_auto" else {2: -1})
    # dask names a rechunk by its input and chunks: the asked-for rechunk is in the graph.
    # (An unchanged rechunk is the source array itself.)
    assert target.name in result.data.dask.layers
    if target.name != lazy.data.name and name not in ("integrate1D", "diff"):  # these two rechunk
        assert target.name not in plain.data.dask.layers                      # the axis anyway


@pytest.mark.parametrize("chunks", CHUNKINGS[1:])
def test_rechunk_true_puts_the_operated_axes_in_one_chunk(chunks):
    lazy = signal(chunks)
    assert lazy._operand(True, (2,), "indexmax").chunks[2] == (12,)
    assert lazy._operand("auto", (0, 1), "sum").chunks[:2] == ((4,), (5,))
    assert lazy._operand(False, (2,), "sum") is lazy.data


@pytest.mark.parametrize("call", [
    lambda s: s.indexmax(-1, rechunk=True), lambda s: s.valuemax(-1, rechunk="auto"),
    lambda s: s.integrate1D(-1, rechunk=(4, 5, 12)), lambda s: s.diff(-1, rechunk=True),
    lambda s: s.sum(-1, rechunk=True),
])
def test_rechunk_on_in_memory_data_is_refused_by_name(call):
    with pytest.raises(UnsupportedOptionError, match="rechunk=.*in memory"):
        call(signal(None))


def test_bad_rechunk_values():
    with pytest.raises(ChunksError, match="rechunk must be"):
        signal((2, 5, 4)).indexmax(-1, rechunk="sometimes")
    with pytest.raises(ChunksError, match="does not fit"):
        signal((2, 5, 4)).indexmax(-1, rechunk=(3, 3))


@pytest.mark.parametrize("chunks", CHUNKINGS)
def test_derivative_passes_edge_order_to_numpy_gradient(chunks):
    s = signal(chunks)
    result = s.derivative(-1, edge_order=2)
    expected = np.gradient(DATA, OFFSET + SCALE * np.arange(12), axis=-1, edge_order=2)
    np.testing.assert_allclose(result.compute().data if result.lazy else result.data, expected)


@pytest.mark.parametrize("call, option", [
    (lambda s: s.derivative(-1, rechunk=True), "rechunk"),
    (lambda s: s.derivative(-1, axis_spacing=2), "axis_spacing"),
    (lambda s: s.fft(s=(4,)), "s"),
    (lambda s: s.fft(overwrite_x=True), "overwrite_x"),
    (lambda s: s.ifft(axes=(0,)), "axes"),
    (lambda s: s.get_histogram(density=True), "density"),
    (lambda s: s.get_histogram(rechunk=True), "rechunk"),
])
@pytest.mark.parametrize("chunks", [None, (2, 5, 4)])
def test_unknown_keyword_options_are_refused_by_name(call, option, chunks):
    with pytest.raises(UnsupportedOptionError, match=f"'{option}'.*accepts"):
        call(signal(chunks))


@pytest.mark.parametrize("chunks", CHUNKINGS)
@pytest.mark.parametrize("norm", ["backward", "ortho", "forward"])
def test_fft_norm_is_numpy_s(norm, chunks):
    s = signal(chunks)
    f = s.fft(norm=norm)
    values = f.compute().data if f.lazy else f.data
    np.testing.assert_allclose(values, np.fft.fftn(DATA, axes=(2,), norm=norm))
    back = f.ifft(norm=norm)
    np.testing.assert_allclose(back.compute().data if back.lazy else back.data, DATA, atol=1e-12)
