"""X-ray emission lines: names, energies and weights, read from the ``xraydb`` package.

Lines are named as HyperSpy/eXSpy name them (``"Fe_Ka"``, ``"Pt_La"``, ``"Pt_Ma"``); each
such name stands for one of xraydb's lines (``Ka`` is xraydb's ``Ka1``, ``La`` its ``La1``,
``Kb`` its ``Kb1``...), whose energy and intensity we use. xraydb's own names
(``"Fe_Ka2"``, ``"Fe_Kb3"``) are accepted too. Nothing here knows about signals.

Energies are in keV. The largest differences to eXSpy's own table, measured over every
line the two share, are in ``docs/eds.md`` (a few eV for K and L lines, up to ~0.09 keV for
some M lines of the lanthanides).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable
from typing import Any

import xraydb

from ..errors import XrayLineError

__all__ = [
    "LINE_NAMES",
    "split_line",
    "check_element",
    "line_energy",
    "line_weight",
    "element_lines",
    "expand_only_lines",
]

#: The line names eXSpy uses and the xraydb line each stands for (the strongest line of
#: the group: xraydb splits Ka into Ka1/Ka2/Ka3, eXSpy does not).
LINE_NAMES: dict[str, str] = {
    "Ka": "Ka1", "Kb": "Kb1",
    "La": "La1", "Lb1": "Lb1", "Lb2": "Lb2,15", "Lb3": "Lb3", "Lb4": "Lb4",
    "Lg1": "Lg1", "Lg3": "Lg3", "Ll": "Ll", "Ln": "Ln",
    "Ma": "Ma", "Mb": "Mb", "Mg": "Mg", "Mz": "Mz",
}
# The reference line of each family, for weights (eXSpy's weights are relative to it).
_FAMILY_REFERENCE = {"K": "Ka1", "L": "La1", "M": "Ma"}


@functools.cache
def _lines_of(element: str) -> dict:
    """xraydb's lines of ``element`` (cached: each xraydb query costs milliseconds)."""
    return xraydb.xray_lines(element)


@functools.cache
def check_element(element: str) -> str:
    """``element`` if it is a chemical symbol xraydb knows, else :class:`XrayLineError`.

    Examples
    --------
    >>> check_element("Fe")
    'Fe'
    """
    if not isinstance(element, str) or not element:
        raise XrayLineError(f"{element!r} is not a chemical element symbol; give e.g. 'Fe'.")
    try:
        xraydb.atomic_number(element)
    except ValueError:
        raise XrayLineError(f"{element!r} is not a chemical element symbol; give e.g. 'Fe' or 'Pt'.") from None
    return element


def split_line(xray_line: str) -> tuple[str, str]:
    """``("Fe", "Ka")`` from ``"Fe_Ka"``, checking the element and that it has that line.

    Examples
    --------
    >>> split_line("Pt_La")
    ('Pt', 'La')
    """
    if not isinstance(xray_line, str) or xray_line.count("_") != 1:
        raise XrayLineError(f"{xray_line!r} is not an X-ray line name; give element_line, e.g. 'Fe_Ka'.")
    element, line = xray_line.split("_")
    check_element(element)
    _xraydb_line(element, line)
    return element, line


def _xraydb_line(element: str, line: str) -> Any:
    lines = _lines_of(element)
    name = LINE_NAMES.get(line, line)
    if name not in lines:
        known = ", ".join(element_lines(element)) or "none"
        raise XrayLineError(f"{element}_{line} is not an X-ray line of {element} in xraydb; "
                            f"its lines are: {known}.")
    return lines[name]


def line_energy(xray_line: str) -> float:
    """Energy of ``xray_line`` in keV (xraydb's energy of the line it stands for).

    Examples
    --------
    >>> round(line_energy("Fe_Ka"), 4)
    6.4052
    """
    element, line = split_line(xray_line)
    return _xraydb_line(element, line).energy / 1000.0


def line_weight(xray_line: str) -> float:
    """Relative intensity of ``xray_line`` within its family (Ka, La, Ma lines weigh 1).

    Examples
    --------
    >>> line_weight("Fe_Ka"), round(line_weight("Fe_Kb"), 3)
    (1.0, 0.142)
    """
    element, line = split_line(xray_line)
    this = _xraydb_line(element, line)
    reference = _lines_of(element).get(_FAMILY_REFERENCE.get(line[0], ""))
    if reference is None or not reference.intensity:
        return 1.0
    return float(this.intensity / reference.intensity)


def element_lines(element: str, only_lines: Iterable[str] | None = None) -> list[str]:
    """The lines of ``element`` under eXSpy's names (sorted), restricted to ``only_lines``.

    Examples
    --------
    >>> element_lines("Fe", only_lines=expand_only_lines(("a",)))
    ['Fe_Ka', 'Fe_La']
    """
    check_element(element)
    available = _lines_of(element)
    wanted = None if only_lines is None else set(only_lines)
    return sorted(f"{element}_{name}" for name, ours in LINE_NAMES.items()
                  if ours in available and (wanted is None or name in wanted))


def expand_only_lines(only_lines: Iterable[str] | str | None) -> list[str] | None:
    """eXSpy's shorthands: ``"a"`` adds Ka, La, Ma; ``"b"`` adds Kb, Lb1, Mb.

    Examples
    --------
    >>> expand_only_lines(("a",))
    ['a', 'Ka', 'La', 'Ma']
    """
    if only_lines is None:
        return None
    items = [only_lines] if isinstance(only_lines, str) else list(only_lines)
    out = list(items)
    for item in items:
        if item == "a":
            out.extend(["Ka", "La", "Ma"])
        elif item == "b":
            out.extend(["Kb", "Lb1", "Mb"])
    return out
