"""Hypothesis strategies for signals: shapes split into navigation and signal, dtypes, chunks.

Use them to prove that an operation gives the same result eagerly and lazily::

    @given(data=st.data())
    def test_my_op(data):
        s = data.draw(signals())
        lazy = s.as_lazy(chunks=data.draw(chunks_for(s.data.shape)))
        assert_signals_equal(my_op(lazy), my_op(s))
"""

from __future__ import annotations

from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ..axes import DataAxis
from ..signal_registry import signal_class_for

__all__ = ["signal_shapes", "axes_for", "signals", "chunks_for", "lazy_copy", "DTYPES"]

DTYPES = ("float64", "float32", "int32", "uint16", "uint8", "complex128")


@st.composite
def signal_shapes(draw, *, nav_dims=(0, 2), sig_dims=(1, 2), max_side: int = 6, min_side: int = 1):
    """``(numpy_shape, signal_dimension)`` with 1-4 dimensions in all."""
    n_nav = draw(st.integers(*nav_dims))
    n_sig = draw(st.integers(*sig_dims))
    shape = tuple(draw(st.integers(min_side, max_side)) for _ in range(n_nav + n_sig))
    return shape, n_sig


@st.composite
def axes_for(draw, shape: tuple[int, ...], signal_dimension: int, *, uniform_only: bool = False):
    """Calibrated axes (numpy order) for ``shape``, uniform or non-uniform, named and unique."""
    axes = []
    n_nav = len(shape) - signal_dimension
    for i, n in enumerate(shape):
        name = f"{'nav' if i < n_nav else 'sig'}{i}"
        navigate = i < n_nav
        if not uniform_only and draw(st.booleans()) and draw(st.booleans()):
            steps = draw(st.lists(st.floats(0.1, 3.0), min_size=n, max_size=n))
            axes.append(DataAxis(axis=np.cumsum(steps), name=name, units="nm", navigate=navigate))
        else:
            scale = draw(st.sampled_from([1.0, 0.5, 0.01, 2.5, -1.0]))
            offset = draw(st.sampled_from([0.0, -0.1, 3.0, 100.0]))
            axes.append(DataAxis(size=n, name=name, units="eV", scale=scale, offset=offset, navigate=navigate))
    return axes


@st.composite
def signals(draw, *, dtypes=DTYPES, nav_dims=(0, 2), sig_dims=(1, 2), max_side: int = 6,
            uniform_only: bool = False, finite: bool = True):
    """Eager signals of the class fitting their signal dimension, with random data and axes."""
    shape, n_sig = draw(signal_shapes(nav_dims=nav_dims, sig_dims=sig_dims, max_side=max_side))
    dtype = np.dtype(draw(st.sampled_from(dtypes)))
    elements: st.SearchStrategy[Any]
    if dtype.kind == "f":
        elements = st.floats(-1e3, 1e3, width=dtype.itemsize * 8)
        if not finite:
            elements = st.one_of(elements, st.just(float("nan")))
    elif dtype.kind == "c":
        elements = st.complex_numbers(max_magnitude=1e3, allow_nan=False, allow_infinity=False)
    else:
        info = np.iinfo(dtype)
        elements = st.integers(max(info.min, -1000), min(info.max, 1000))
    data = draw(hnp.arrays(dtype, shape, elements=elements))
    axes = draw(axes_for(shape, n_sig, uniform_only=uniform_only))
    cls = signal_class_for(n_sig)
    return cls(data, axes, metadata={"General": {"title": "hypothesis"}})


@st.composite
def chunks_for(draw, shape: tuple[int, ...]):
    """A valid explicit dask chunking of ``shape`` (regular per axis)."""
    return tuple(draw(st.integers(1, max(n, 1))) for n in shape)


def lazy_copy(data, signal):
    """``signal`` made lazy with a chunking drawn from hypothesis' ``data`` (``st.data()``)."""
    return signal.as_lazy(chunks=data.draw(chunks_for(signal.data.shape)))
