"""The ``learning_results`` group of ``.hspy``/``.zspy`` files, as HyperSpy lays it out.

HyperSpy stores the attributes its ``LearningResults`` holds (those set by a decomposition
or a blind source separation) in one group beside ``metadata``: arrays (``factors`` (channels x
k), ``loadings`` (pixels x k), ``explained_variance``, ``explained_variance_ratio``, ``mean``,
masks, ``bss_factors``, ``bss_loadings``, ``unmixing_matrix``) as datasets, ``original_shape``
as dataset ``_tuple_original_shape``, strings/numbers/booleans as attributes and ``None`` as
the attribute value ``"_None_"``. The tree encoder of :mod:`.hierarchical` writes those
encodings; this module turns a signal's results into that plain tree and back.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["to_tree", "from_tree"]


def to_tree(learning: Any) -> dict[str, Any]:
    """A plain dict of the results to store (lazy arrays computed; nothing when empty).

    ``learning`` is a ``LearningResults`` (anything with ``to_dict``), a dict, or None.

    Examples
    --------
    >>> sorted(to_tree({"factors": np.ones((3, 2)), "mean": None, "original_shape": [2, 3]}))
    ['factors', 'mean', 'original_shape']
    >>> to_tree(None)
    {}
    """
    if learning is None:
        return {}
    values = learning.to_dict() if hasattr(learning, "to_dict") else dict(learning)
    tree: dict[str, Any] = {}
    for key, value in values.items():
        if hasattr(value, "compute") and hasattr(value, "dask"):
            value = np.asarray(value.compute())
        if key == "original_shape" and value is not None:
            value = tuple(int(n) for n in value)
        elif isinstance(value, (np.integer, np.floating, np.bool_)):
            value = value.item()
        elif not isinstance(value, (np.ndarray, str, int, float, bool, tuple, list, type(None))):
            value = str(value)  # an estimator object: HyperSpy stores its repr too
        tree[str(key)] = value
    return tree


def from_tree(tree: dict[str, Any] | None) -> dict[str, Any]:
    """The values of a stored group as LearningResults attributes (numpy scalars unwrapped).

    Examples
    --------
    >>> from_tree({"output_dimension": np.int64(3), "poissonian_noise_normalized": np.bool_(False)})
    {'output_dimension': 3, 'poissonian_noise_normalized': False}
    """
    out: dict[str, Any] = {}
    for key, value in (tree or {}).items():
        if isinstance(value, np.generic):
            value = value.item()
        if key == "original_shape" and isinstance(value, list):
            value = tuple(value)
        out[key] = value
    return out
