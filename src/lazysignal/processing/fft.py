"""Discrete Fourier transforms over the signal axes, eagerly or lazily.

dask's FFT needs every transformed axis in one chunk; :func:`fftn` rechunks only the
axes that are split (signal axes usually are whole already, see :mod:`lazysignal.chunks`)
and keeps the navigation chunks, so each task transforms whole signals of one block.
"""

from __future__ import annotations

from collections.abc import Sequence

import dask.array as da
import numpy as np

from ..array_ops import is_lazy

__all__ = ["fftn", "ifftn", "frequency_axis"]


def _whole(data, axes: Sequence[int]):
    if not is_lazy(data) or all(len(data.chunks[a]) == 1 for a in axes):
        return data
    return data.rechunk({a: -1 for a in axes})


def fftn(data, axes: Sequence[int], *, shift: bool = False, norm: str | None = None):
    """N-dimensional FFT over ``axes`` (numpy or dask in, the same out); ``norm`` as numpy's.

    Examples
    --------
    >>> x = np.arange(8.0).reshape(2, 4)
    >>> np.allclose(fftn(da.from_array(x, chunks=(1, 2)), (1,)).compute(), np.fft.fft(x))
    True
    """
    axes = tuple(axes)
    data = _whole(data, axes)
    mod = da if is_lazy(data) else np
    out = mod.fft.fftn(data, axes=axes, norm=norm)
    return mod.fft.fftshift(out, axes=axes) if shift else out


def ifftn(data, axes: Sequence[int], *, shift: bool = False, real: bool = False,
          norm: str | None = None):
    """Inverse of :func:`fftn` (``shift``: the input was shifted); ``real`` keeps the real part.

    Examples
    --------
    >>> x = np.arange(8.0)
    >>> np.allclose(ifftn(fftn(x, (0,), shift=True), (0,), shift=True, real=True), x)
    True
    """
    axes = tuple(axes)
    data = _whole(data, axes)
    mod = da if is_lazy(data) else np
    if shift:
        data = mod.fft.ifftshift(data, axes=axes)
    out = mod.fft.ifftn(data, axes=axes, norm=norm)
    return out.real if real else out


def frequency_axis(size: int, scale: float, *, shift: bool) -> tuple[float, float]:
    """Scale and offset of the frequency axis of an FFT of ``size`` samples spaced ``scale``.

    Examples
    --------
    >>> frequency_axis(4, 0.5, shift=True)
    (0.5, -1.0)
    """
    new_scale = 1.0 / (size * scale) if size and scale else 1.0
    offset = -(size // 2) * new_scale if shift else 0.0
    return new_scale, offset
