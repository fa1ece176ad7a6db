"""An attribute-access tree for ``metadata`` and ``original_metadata``.

``s.metadata.General.title`` reads like HyperSpy's ``DictionaryTreeBrowser``; dotted paths
work with :meth:`Metadata.get_item`, :meth:`Metadata.set_item` and :meth:`Metadata.has_item`.
"""

from __future__ import annotations

import copy
from collections.abc import Collection, Iterator, Mapping
from typing import Any

import numpy as np

from .errors import MetadataKeyError

__all__ = ["Metadata"]

_MISSING = object()


class Metadata:
    """A nested mapping whose keys are also attributes.

    Parameters
    ----------
    dictionary
        Initial content; nested dicts become nested :class:`Metadata` nodes.

    Examples
    --------
    >>> md = Metadata({"General": {"title": "map"}})
    >>> md.General.title
    'map'
    >>> md.set_item("Signal.signal_type", "EDS_TEM")
    >>> md.get_item("Signal.signal_type"), md.has_item("Signal.quantity")
    ('EDS_TEM', False)
    >>> md.as_dictionary()
    {'General': {'title': 'map'}, 'Signal': {'signal_type': 'EDS_TEM'}}
    """

    def __init__(self, dictionary: Mapping[str, Any] | None = None):
        object.__setattr__(self, "_items", {})
        if dictionary:
            self.add_dictionary(dictionary)

    # -- mapping-like access ---------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        items = object.__getattribute__(self, "_items")
        if name in items:
            return items[name]
        raise AttributeError(
            f"Metadata has no item {name!r}; it has: {', '.join(items) or 'nothing'}."
        )

    def __setattr__(self, name: str, value: Any) -> None:
        self._items[name] = Metadata(value) if isinstance(value, Mapping) else value

    def __delattr__(self, name: str) -> None:
        try:
            del self._items[name]
        except KeyError:
            raise AttributeError(f"Metadata has no item {name!r}.") from None

    __getitem__ = __getattr__
    __setitem__ = __setattr__
    __delitem__ = __delattr__

    def __contains__(self, name: str) -> bool:
        return self.has_item(name)

    def __iter__(self) -> Iterator[tuple[str, Any]]:
        return iter(self._items.items())

    def __len__(self) -> int:
        return len(self._items)

    def keys(self):
        return self._items.keys()

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Metadata):
            other = other.as_dictionary()
        if not isinstance(other, Mapping):
            return NotImplemented
        return _tree_equal(self.as_dictionary(), dict(other))

    # -- dotted paths ----------------------------------------------------------
    def get_item(self, path: str, default: Any = _MISSING) -> Any:
        """The value at a dotted ``path``; ``default`` (or KeyError) when absent."""
        node: Any = self
        for part in path.split("."):
            if not isinstance(node, Metadata) or part not in node._items:
                if default is _MISSING:
                    raise MetadataKeyError(f"Metadata has no item {path!r} (missing {part!r}).")
                return default
            node = node._items[part]
        return node

    def set_item(self, path: str, value: Any) -> None:
        """Set the value at a dotted ``path``, creating the nodes on the way."""
        *parents, leaf = path.split(".")
        node = self
        for part in parents:
            child = node._items.get(part)
            if not isinstance(child, Metadata):
                child = Metadata()
                node._items[part] = child
            node = child
        setattr(node, leaf, value)

    def has_item(self, path: str) -> bool:
        """Whether a dotted ``path`` exists."""
        return self.get_item(path, _MISSING_SENTINEL) is not _MISSING_SENTINEL

    def add_dictionary(self, dictionary: Mapping[str, Any]) -> None:
        """Merge a nested dict into the tree (existing nodes are updated, not replaced)."""
        for key, value in dictionary.items():
            current = self._items.get(key)
            if isinstance(value, Mapping) and isinstance(current, Metadata):
                current.add_dictionary(value)
            else:
                setattr(self, key, value)

    def as_dictionary(self, skip: Collection[str] = ()) -> dict[str, Any]:
        """A plain nested-dict copy of the tree, without the dotted paths in ``skip``.

        Examples
        --------
        >>> m = Metadata({"General": {"title": "a"}, "_HyperSpy": {"navigator": "big"}})
        >>> m.as_dictionary(skip=["_HyperSpy.navigator"])
        {'General': {'title': 'a'}}
        """
        if not skip:
            return {
                key: value.as_dictionary() if isinstance(value, Metadata) else copy.deepcopy(value)
                for key, value in self._items.items()
            }
        out: dict[str, Any] = {}
        for key, value in self._items.items():
            if key in skip:
                continue
            if isinstance(value, Metadata):
                prefix = key + "."
                child = value.as_dictionary([p[len(prefix):] for p in skip if p.startswith(prefix)])
                if child or not value._items:  # a node emptied by skipping is left out too
                    out[key] = child
            else:
                out[key] = copy.deepcopy(value)
        return out

    def copy(self) -> "Metadata":
        """A deep copy."""
        return Metadata(self.as_dictionary())

    def __deepcopy__(self, memo) -> "Metadata":
        return self.copy()

    # -- display ---------------------------------------------------------------
    def _lines(self, indent: str = "") -> list[str]:
        lines = []
        entries = list(self._items.items())
        for i, (key, value) in enumerate(entries):
            last = i == len(entries) - 1
            branch = "└── " if last else "├── "
            if isinstance(value, Metadata):
                lines.append(f"{indent}{branch}{key}")
                lines.extend(value._lines(indent + ("    " if last else "│   ")))
            else:
                text = repr(value) if not isinstance(value, str) else value
                if len(text) > 60:
                    text = text[:57] + "..."
                lines.append(f"{indent}{branch}{key} = {text}")
        return lines

    def __repr__(self) -> str:
        return "\n".join(self._lines()) or "<empty Metadata>"


_MISSING_SENTINEL = object()


def _tree_equal(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_tree_equal(a[k], b[k]) for k in a)
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.array_equal(a, b))
    return bool(a == b)
