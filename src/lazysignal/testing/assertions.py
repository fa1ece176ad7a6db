"""Comparisons of signals for tests: data, axes and metadata."""

from __future__ import annotations

import numpy as np

__all__ = ["assert_signals_equal"]


def assert_signals_equal(actual, expected, *, rtol: float | None = None, atol: float | None = None,
                         check_metadata: bool = True, check_class: bool = True) -> None:
    """Assert two signals hold equal data (computing lazy ones), axes and metadata.

    Lazy and eager signals compare equal when their values, shapes, dtypes kinds, axes and
    metadata agree; the laziness itself is not compared. Floating-point results may differ
    by summation order: the default tolerance follows the precision of the dtype, and the
    absolute tolerance scales with the largest magnitude in the result.
    """
    if check_class:
        assert type(actual).__name__ == type(expected).__name__, (
            f"class {type(actual).__name__} != {type(expected).__name__}")
    assert actual.axes_manager == expected.axes_manager, (
        f"axes differ:\n{actual.axes_manager!r}\n!=\n{expected.axes_manager!r}")
    a = np.asarray(actual.data.compute() if actual.lazy else actual.data)
    b = np.asarray(expected.data.compute() if expected.lazy else expected.data)
    assert a.shape == b.shape, f"data shapes {a.shape} != {b.shape}"
    assert a.dtype.kind == b.dtype.kind, f"dtype kinds {a.dtype} != {b.dtype}"
    if a.dtype.kind in "fc":
        low_precision = np.finfo(a.dtype).bits <= 32 or np.finfo(b.dtype).bits <= 32
        if rtol is None:
            rtol = 1e-5 if low_precision else 1e-9
        if atol is None:
            finite = np.abs(b[np.isfinite(b)])
            atol = rtol * (float(finite.max()) if finite.size else 0.0)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
    else:
        np.testing.assert_array_equal(a, b)
    if check_metadata:
        ma, mb = actual.metadata.as_dictionary(), expected.metadata.as_dictionary()
        for md in (ma, mb):
            md.get("_HyperSpy", {}).pop("navigator", None)
        assert ma == mb, f"metadata differ: {ma} != {mb}"
