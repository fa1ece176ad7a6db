"""Arithmetic, comparisons and numpy ufuncs on signals, broadcasting by navigation and signal axes."""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

import numpy as np

from .array_ops import align_for_broadcast, is_lazy
from .errors import ShapeMismatchError
from .expressions import note_binary

if TYPE_CHECKING:
    from .signal_protocol import SignalLike as _Signal
else:
    _Signal = object

__all__ = ["ArithmeticMixin"]

_BINARY = {
    "add": operator.add, "sub": operator.sub, "mul": operator.mul, "truediv": operator.truediv,
    "floordiv": operator.floordiv, "pow": operator.pow, "mod": operator.mod,
    "and": operator.and_, "or": operator.or_, "xor": operator.xor,
    "lshift": operator.lshift, "rshift": operator.rshift, "matmul": None,
}
_COMPARE = {"lt": operator.lt, "le": operator.le, "gt": operator.gt, "ge": operator.ge,
            "eq": operator.eq, "ne": operator.ne}


class ArithmeticMixin(_Signal):
    """Operators for :class:`~lazysignal.signal.BaseSignal`.

    Two signals broadcast axis by axis, navigation with navigation and signal with signal;
    a missing axis (e.g. a single spectrum against a spectrum image) broadcasts. Lazy if any
    operand is lazy.

    Examples
    --------
    >>> import numpy as np
    >>> from lazysignal.signals import Signal1D
    >>> image = Signal1D(np.ones((3, 4, 10)))
    >>> spectrum = Signal1D(np.arange(10.0))
    >>> float((image * spectrum).data[2, 3, 9])
    9.0
    """

    __array_priority__ = 100

    # -- operand alignment ----------------------------------------------------------
    def _aligned_operands(self, others: list[Any], opname: str):
        """Data of self and each operand, reshaped to broadcast; and the result's axes."""
        signals = [self] + [o for o in others if isinstance(o, ArithmeticMixin)]
        shapes = []
        for s in signals:
            am = s.axes_manager
            n_nav = am.navigation_dimension
            shapes.append((s.data.shape[:n_nav], s.data.shape[n_nav:]))
        new_shapes = align_for_broadcast(shapes)
        nav_dim = max(len(n) for n, _ in shapes)
        result_axes = []
        for dim in range(len(new_shapes[0])):
            sizes = [shape[dim] for shape in new_shapes]
            big = [n for n in sizes if n != 1]
            if big and any(n != big[0] for n in big):
                raise ShapeMismatchError(_mismatch_message(signals, new_shapes, dim, nav_dim, opname))
            axis = None
            for s, shape in zip(signals, new_shapes):
                if shape[dim] == max(sizes):
                    axis = _axis_at(s, shape, dim, nav_dim)
                    if axis is not None:
                        break
            result_axes.append(axis)
        by_id = {id(s): s.data.reshape(shape) if s.data.shape != shape else s.data
                 for s, shape in zip(signals, new_shapes)}
        datas = [by_id[id(self)]] + [by_id[id(o)] if isinstance(o, ArithmeticMixin) else o for o in others]
        return datas, result_axes

    def _binary_op(self, other: Any, op, opname: str, reflected: bool = False):
        if _defers_to_other(other):
            return NotImplemented
        (mine, theirs), axes = self._aligned_operands([other], opname)
        try:
            data = op(theirs, mine) if reflected else op(mine, theirs)
        except ValueError as exc:
            raise ShapeMismatchError(
                f"Cannot apply {opname} between {self!r} (data shape {self.data.shape}) and an "
                f"operand of shape {np.shape(theirs)}: {exc}"
            ) from exc
        return self._new_like(note_binary(opname, mine, theirs, data), axes)

    def _inplace_op(self, other: Any, op, opname: str):
        if _defers_to_other(other):
            return NotImplemented
        (mine, theirs), _ = self._aligned_operands([other], opname)
        result = op(mine, theirs)
        if result.shape != self.data.shape:
            raise ShapeMismatchError(
                f"In-place {opname} would change the shape from {self.data.shape} to {result.shape}; "
                f"use s = s {opname} other instead."
            )
        if self.lazy or is_lazy(result):
            # Dask arrays are immutable: rebind to the new graph (a loaded file is never written).
            self._replace(result)
        else:
            np.copyto(self.data, result, casting="same_kind")
            self._replace(self.data)  # the same array, changed: listeners hear it once
        return self

    # -- unary -------------------------------------------------------------------
    def __neg__(self):
        return self._new_like(-self.data)

    def __pos__(self):
        return self._new_like(+self.data)

    def __abs__(self):
        return self._new_like(abs(self.data))

    def __invert__(self):
        return self._new_like(~self.data)

    # -- numpy interop -------------------------------------------------------------
    def __array__(self, dtype=None, copy=None):
        data = np.asarray(self.data)
        return data if dtype is None else data.astype(dtype)

    def __array_ufunc__(self, ufunc, method: str, *inputs, **kwargs):
        if method != "__call__" or "out" in kwargs:
            return NotImplemented
        template = next(i for i in inputs if isinstance(i, ArithmeticMixin))
        others = [i for i in inputs if i is not template]
        datas, axes = template._aligned_operands(others, ufunc.__name__)
        it = iter(datas[1:])
        args = [datas[0] if i is template else next(it) for i in inputs]
        result = ufunc(*args, **kwargs)
        if isinstance(result, tuple):
            return tuple(template._new_like(r, [a.copy() for a in axes]) for r in result)
        return template._new_like(result, axes)


def _defers_to_other(other: Any) -> bool:
    """numpy's convention: a type with ``__array_ufunc__ = None`` handles operators itself."""
    return getattr(type(other), "__array_ufunc__", False) is None


def _axis_at(signal, shape, dim: int, nav_dim: int):
    """The DataAxis of ``signal`` at broadcast dimension ``dim`` (None for an inserted one)."""
    am = signal.axes_manager
    n_nav = am.navigation_dimension
    if dim < nav_dim:
        own = dim - (nav_dim - n_nav)
        return am._axes[own].copy() if own >= 0 else None
    n_sig = am.signal_dimension
    sig_dim = len(shape) - nav_dim
    own = (dim - nav_dim) - (sig_dim - n_sig)
    return am._axes[n_nav + own].copy() if own >= 0 else None


def _mismatch_message(signals, shapes, dim: int, nav_dim: int, opname: str) -> str:
    kind = "navigation" if dim < nav_dim else "signal"
    parts = []
    for s, shape in zip(signals, shapes):
        axis = _axis_at(s, shape, dim, nav_dim)
        name = axis.name if axis is not None and axis.name else "<unnamed>"
        parts.append(f"{name!r} has {shape[dim]} points in {s.axes_manager.dimensions}")
    return (f"Cannot {opname} signals: {kind} axes disagree ({'; '.join(parts)}). "
            "Slice (inav/isig) or rebin one of them so that the sizes match, or make one of size 1.")


def _install() -> None:
    def binary(name, op):
        def forward(self, other):
            return self._binary_op(other, op, name)

        def reflected(self, other):
            return self._binary_op(other, op, name, reflected=True)

        def inplace(self, other):
            return self._inplace_op(other, op, name)

        return forward, reflected, inplace

    for name, op in _BINARY.items():
        if op is None:
            continue
        fwd, ref, inp = binary(name, op)
        setattr(ArithmeticMixin, f"__{name}__", fwd)
        setattr(ArithmeticMixin, f"__r{name}__", ref)
        setattr(ArithmeticMixin, f"__i{name}__", inp)
    for name, op in _COMPARE.items():
        setattr(ArithmeticMixin, f"__{name}__", binary(name, op)[0])
    setattr(ArithmeticMixin, "__hash__", object.__hash__)


_install()
