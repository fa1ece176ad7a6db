"""Building the nested metadata dictionaries that readers return."""

from __future__ import annotations

from typing import Any

__all__ = ["set_item"]


def set_item(tree: dict, path: str | tuple[str, ...], value: Any) -> None:
    """Set ``value`` at ``path`` (dotted string or tuple of keys), creating the levels.

    Examples
    --------
    >>> tree = {}
    >>> set_item(tree, "General.title", "a"); set_item(tree, ("Signal", "quantity"), "Counts")
    >>> tree
    {'General': {'title': 'a'}, 'Signal': {'quantity': 'Counts'}}
    """
    keys = path.split(".") if isinstance(path, str) else path
    for key in keys[:-1]:
        tree = tree.setdefault(key, {})
    tree[keys[-1]] = value
