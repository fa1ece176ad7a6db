"""Integration and background windows around X-ray lines, in energy and in channels.

The arithmetic is eXSpy's (so line maps agree with the peer's): a line's FWHM follows
Fiori & Newbury from the detector's Mn Ka resolution; an integration window is
``width x FWHM`` centred on the line; background windows sit ``line_width x FWHM`` either
side, ``windows_width x FWHM`` wide, merged when two lines' windows overlap. Energies
become channels as HyperSpy's ``value2index`` does (nearest channel, halves towards zero),
and a window ``[lo, hi]`` sums the channels ``index(lo) <= c < index(hi)`` (HyperSpy's
``isig[lo:hi]``). Numbers and arrays only: nothing here sees a signal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..errors import XrayLineError
from .lines import line_energy

__all__ = [
    "fwhm_at_energy",
    "integration_windows",
    "background_windows",
    "energy_to_index",
    "WindowPlan",
    "plan_windows",
]


def fwhm_at_energy(energy_resolution_mnka: float, energy: float) -> float:
    """FWHM (keV) of a peak at ``energy`` (keV), from the Mn Ka FWHM in eV (Fiori & Newbury).

    ``FWHM(E)^2 = 2.5 (E - E_MnKa) [eV] + FWHM_MnKa^2``, as eXSpy computes it.

    Examples
    --------
    >>> round(fwhm_at_energy(130.0, line_energy("Mn_Ka")), 6)
    0.13
    """
    e_ref = line_energy("Mn_Ka")
    return math.sqrt(2.5 * (energy - e_ref) * 1000.0 + energy_resolution_mnka ** 2) / 1000.0


def _energy_scale(units: str) -> float:
    """How many axis units one keV is."""
    if units == "keV":
        return 1.0
    if units == "eV":
        return 1000.0
    raise XrayLineError(f"The energy axis is in {units!r}; X-ray lines need 'eV' or 'keV' units "
                        "(set s.axes_manager.signal_axes[0].units = 'keV').")


def _centres_and_fwhms(xray_lines: Sequence[str], energy_resolution_mnka: float,
                       units: str) -> tuple[np.ndarray, np.ndarray]:
    scale = _energy_scale(units)
    energies = np.array([line_energy(x) for x in xray_lines], dtype=float)
    fwhms = np.array([fwhm_at_energy(energy_resolution_mnka, e) for e in energies], dtype=float)
    return energies * scale, fwhms * scale


def integration_windows(xray_lines: Sequence[str], width: float = 2.0, *,
                        energy_resolution_mnka: float = 130.0, units: str = "keV") -> np.ndarray:
    """``(n_lines, 2)`` window limits, ``width`` FWHM wide around each line, in ``units``.

    Examples
    --------
    >>> integration_windows(["Fe_Ka"], 2.0).round(4).tolist()
    [[6.2704, 6.54]]
    """
    centres, fwhms = _centres_and_fwhms(xray_lines, energy_resolution_mnka, units)
    half = width * fwhms / 2.0
    return np.stack([centres - half, centres + half], axis=-1).reshape(len(centres), 2)


def background_windows(xray_lines: Sequence[str], line_width: Sequence[float] = (2, 2),
                       windows_width: float = 1, *, energy_resolution_mnka: float = 130.0,
                       units: str = "keV") -> np.ndarray:
    """``(n_lines, 4)``: left window ``[0:2]`` and right window ``[2:4]`` of each line.

    Windows of neighbouring lines that overlap are merged as eXSpy merges them (both lines
    then share the outer windows).

    Examples
    --------
    >>> background_windows(["Fe_Ka"]).round(3).tolist()
    [[6.001, 6.136, 6.675, 6.81]]
    """
    if len(line_width) != 2:
        raise XrayLineError(f"line_width needs two numbers (left, right) in FWHM; got {line_width!r}.")
    centres, fwhms = _centres_and_fwhms(xray_lines, energy_resolution_mnka, units)
    left, right = float(line_width[0]), float(line_width[1])
    windows = np.stack([centres - fwhms * (left + windows_width), centres - fwhms * left,
                        centres + fwhms * right, centres + fwhms * (right + windows_width)],
                       axis=-1).reshape(len(centres), 4)
    order = windows.argsort(axis=0)[:, 0]
    for a, b in zip(order[:-1], order[1:]):
        if windows[a, 2] > windows[b, 0]:
            merged = np.concatenate([windows[a, :2], windows[b, 2:]])
            windows[a] = merged
            windows[b] = merged
    return windows


def energy_to_index(value: float, offset: float, scale: float, size: int) -> int | None:
    """The channel nearest ``value`` on a uniform axis, HyperSpy's way; None when outside.

    Positions are truncated at 1e-12 of a channel, then halves go towards zero for
    non-negative values and away from zero for negative ones.

    Examples
    --------
    >>> energy_to_index(0.005, 0.0, 0.01, 10), energy_to_index(0.0051, 0.0, 0.01, 10)
    (0, 1)
    """
    if not math.isfinite(value):
        return None
    position = math.trunc((value - offset) / scale * 1e12) / 1e12
    towards_zero = value >= 0 if scale > 0 else value < 0
    index = math.ceil(position - 0.5) if towards_zero else (
        math.floor(position + 0.5) if position >= 0 else math.ceil(position - 0.5))
    # HyperSpy checks the rounded index, so a value half a channel past either end still counts.
    return int(index) if 0 <= index < size else None


@dataclass(frozen=True)
class WindowPlan:
    """Channel ranges to sum and how to combine them into line intensities.

    ``ranges[k]`` is a ``(start, stop)`` channel range; line ``i`` is
    ``sum(ranges[signal[i]]) - factor[i] * (sum(ranges[left[i]]) + sum(ranges[right[i]]))``
    (``left``/``right`` are -1 and ``factor`` 0 without background).
    """

    ranges: tuple[tuple[int, int], ...]
    signal: tuple[int, ...]
    left: tuple[int, ...]
    right: tuple[int, ...]
    factor: tuple[float, ...]

    @property
    def n_lines(self) -> int:
        return len(self.signal)

    def channels(self) -> tuple[int, int]:
        """The lowest and highest-plus-one channel any range touches."""
        used = [r for r in self.ranges if r[1] > r[0]]
        if not used:
            return 0, 0
        return min(r[0] for r in used), max(r[1] for r in used)


def plan_windows(integration: np.ndarray, background: np.ndarray | None, *, offset: float,
                 scale: float, size: int, names: Sequence[str] = ()) -> WindowPlan:
    """Turn energy windows into a :class:`WindowPlan` on a uniform axis, eXSpy's way.

    An integration window starting below the axis starts at channel 0, one ending above it
    runs to the end (HyperSpy's slicing); background windows must lie inside the axis. A
    background window whose ends fall on one channel is that single channel, and the
    background is scaled by (integration channels) / (background channels), counted as
    differences of the window ends' indices, as eXSpy counts them.

    Examples
    --------
    >>> p = plan_windows(np.array([[0.5, 0.9]]), None, offset=0.0, scale=0.1, size=20)
    >>> p.ranges, p.factor
    (((5, 9),), (0.0,))
    """
    names = list(names) or [f"line {i}" for i in range(len(integration))]
    integration = np.asarray(integration, dtype=float).reshape(-1, 2)
    ranges: list[tuple[int, int]] = []
    signal, left, right, factor = [], [], [], []
    axis_text = f"[{offset:g}, {offset + scale * (size - 1):g}]"
    for i, (lo, hi) in enumerate(integration):
        start = energy_to_index(lo, offset, scale, size)
        stop = energy_to_index(hi, offset, scale, size)
        if start is None:
            if lo > max(offset, offset + scale * (size - 1)):
                raise XrayLineError(f"The integration window of {names[i]} ({lo:g}, {hi:g}) starts "
                                    f"above the energy axis {axis_text}.")
            start = 0
        if stop is None:
            if hi < min(offset, offset + scale * (size - 1)):
                raise XrayLineError(f"The integration window of {names[i]} ({lo:g}, {hi:g}) ends "
                                    f"below the energy axis {axis_text}.")
            stop = size
        signal.append(len(ranges))
        ranges.append((start, max(stop, start)))
        if background is None:
            left.append(-1)
            right.append(-1)
            factor.append(0.0)
            continue
        bw = [float(v) for v in np.asarray(background[i], dtype=float).ravel()]
        if len(bw) != 4:
            raise XrayLineError(f"Background windows need 4 energies per line (left window, right "
                                f"window); {names[i]} has {len(bw)}.")
        found = [energy_to_index(v, offset, scale, size) for v in bw + [float(lo), float(hi)]]
        idx = [v for v in found if v is not None]
        if len(idx) < len(found):
            raise XrayLineError(f"The background or integration windows of {names[i]} "
                                f"({', '.join(f'{v:g}' for v in bw + [lo, hi])}) reach outside the "
                                f"energy axis {axis_text}; narrow them or choose other windows.")
        width = (idx[1] - idx[0]) + (idx[3] - idx[2])
        if width == 0:
            raise XrayLineError(f"Both background windows of {names[i]} ({', '.join(f'{v:g}' for v in bw)}) "
                                "fall on single channels; widen them (windows_width).")
        for a, b, where in ((idx[0], idx[1], left), (idx[2], idx[3], right)):
            where.append(len(ranges))
            ranges.append((a, a + 1) if a == b else (a, max(a, b)))
        factor.append((idx[5] - idx[4]) / width)
    return WindowPlan(tuple(ranges), tuple(signal), tuple(left), tuple(right), tuple(factor))
