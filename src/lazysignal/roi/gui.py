"""``roi.gui()``: one editable number field per ROI parameter (ipywidgets), bound both ways.

Editing a field sets the ROI's parameter (a refused value puts the field back to the ROI's
value); changing the ROI (in code, from a plot widget) updates the fields. ipywidgets is an
optional dependency: without it, :func:`parameter_box` raises
:class:`~lazysignal.errors.MissingDependencyError` saying what to install.
"""

from __future__ import annotations

import importlib
from typing import Any

from ..errors import MissingDependencyError, ROIError

__all__ = ["parameter_box"]


def _ipywidgets() -> Any:
    try:
        return importlib.import_module("ipywidgets")
    except ModuleNotFoundError:
        raise MissingDependencyError(
            "roi.gui() needs ipywidgets, an optional dependency: pip install ipywidgets "
            "(then restart the kernel). Without it, set the ROI's values in code "
            "(roi.left = 3.0).") from None


def parameter_box(roi: Any, display: bool = True) -> Any:
    """A ``VBox`` of ``FloatText`` fields, one per parameter of ``roi``, two-way bound.

    Examples
    --------
    >>> import lazysignal as ls
    >>> roi = ls.roi.SpanROI(1.0, 4.0)
    >>> box = roi.gui(display=False)
    >>> [(f.description, f.value) for f in box.children]
    [('left', 1.0), ('right', 4.0)]
    >>> box.children[1].value = 6.0
    >>> roi.right
    6.0
    >>> roi.left = 2.0
    >>> box.children[0].value
    2.0
    """
    names = roi._parameter_names
    if names == ("vertices",):
        raise ROIError("PolygonROI has no field editor; set roi.vertices = [(x, y), ...] instead.")
    widgets = _ipywidgets()
    fields = {name: widgets.FloatText(value=_shown(roi._values[name]), description=name)
              for name in names}
    syncing = False

    def from_field(change: dict[str, Any]) -> None:
        nonlocal syncing
        if syncing:
            return
        field = change["owner"]
        try:
            roi.set(**{field.description: change["new"]})
        except ROIError:
            # Refused (e.g. left beyond right): show the value the ROI kept.
            to_fields()

    def to_fields(roi: Any = roi) -> None:
        nonlocal syncing
        syncing = True
        try:
            for name, field in fields.items():
                field.value = _shown(roi._values[name])
        finally:
            syncing = False

    for field in fields.values():
        field.observe(from_field, names="value")
    roi.events.changed.connect(to_fields, kwargs="auto")
    box = widgets.VBox(list(fields.values()))
    if display:
        _display(box)
    return box


def _shown(value: float | None) -> float:
    return float("nan") if value is None else float(value)


def _display(box: Any) -> None:
    """Show ``box`` in a running IPython kernel; outside one, the returned box is enough."""
    try:
        ipython = importlib.import_module("IPython")
    except ModuleNotFoundError:
        return
    if ipython.get_ipython() is not None:
        ipython.display.display(box)
