"""``LearningResults``: what a decomposition (and a blind source separation) leaves behind.

The attribute names and array orientations are HyperSpy's, so files move between the two
libraries: ``factors`` (channels x k), ``loadings`` (pixels x k), ``explained_variance``,
``explained_variance_ratio``, ``mean``, ``centre``, ``decomposition_algorithm``,
``output_dimension``, ``poissonian_noise_normalized``, the masks, and the BSS results
(``bss_factors``, ``bss_loadings``, ``unmixing_matrix``, ``bss_algorithm``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["LearningResults", "FIELDS"]

#: Every attribute a LearningResults may hold (HyperSpy's names).
FIELDS = (
    "factors", "loadings", "explained_variance", "explained_variance_ratio",
    "number_significant_components", "decomposition_algorithm", "poissonian_noise_normalized",
    "output_dimension", "mean", "centre", "unfolded", "original_shape",
    "navigation_mask", "signal_mask",
    "bss_algorithm", "unmixing_matrix", "bss_factors", "bss_loadings", "on_loadings", "bss_node",
    "mean_row_scale", "mean_col_scale",
)


class LearningResults:
    """The parameters and results of a decomposition; attributes are None until set.

    Only attributes that were set are stored in files (as HyperSpy does), so ``to_dict``
    returns exactly those.

    Examples
    --------
    >>> lr = LearningResults()
    >>> bool(lr), lr.factors
    (False, None)
    >>> lr.update({"factors": np.ones((4, 2)), "decomposition_algorithm": "SVD"})
    >>> bool(lr), sorted(lr.to_dict())
    (True, ['decomposition_algorithm', 'factors'])
    """

    def __init__(self, values: dict[str, Any] | None = None):
        self._values: dict[str, Any] = {}
        if values:
            self.update(values)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        if name in FIELDS or name in self._values:
            return self._values.get(name)
        raise AttributeError(f"LearningResults has no attribute {name!r}; known: {', '.join(FIELDS)}")

    def __setattr__(self, name: str, value: Any) -> None:
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self._values[name] = value

    def __bool__(self) -> bool:
        return bool(self._values)

    def update(self, values: dict[str, Any]) -> None:
        """Set several attributes (a file's ``learning_results`` dict, HyperSpy's names)."""
        for key, value in values.items():
            if key == "original_shape" and isinstance(value, list):
                value = tuple(value)
            setattr(self, key, value)

    def to_dict(self) -> dict[str, Any]:
        """The attributes that were set (arrays as they are)."""
        return dict(self._values)

    def clear_decomposition(self) -> None:
        """Forget every result (a new decomposition replaces them all)."""
        self._values.clear()

    def crop_decomposition_dimension(self, n: int) -> None:
        """Keep the first ``n`` components of factors, loadings and explained variance."""
        for name in ("factors", "loadings"):
            if self._values.get(name) is not None:
                self._values[name] = self._values[name][:, :n]
        for name in ("explained_variance", "explained_variance_ratio"):
            if self._values.get(name) is not None:
                self._values[name] = self._values[name][:n]

    def summary(self) -> str:
        """The decomposition (and demixing) parameters as text."""
        lines = ["Decomposition parameters", "------------------------",
                 f"normalize_poissonian_noise={self.poissonian_noise_normalized}",
                 f"algorithm={self.decomposition_algorithm}",
                 f"output_dimension={self.output_dimension}", f"centre={self.centre}"]
        if self.bss_algorithm is not None:
            n = None if self.unmixing_matrix is None else len(self.unmixing_matrix)
            lines += ["", "Demixing parameters", "-------------------",
                      f"algorithm={self.bss_algorithm}", f"n_components={n}"]
        return "\n".join(lines)

    __repr__ = summary

    def __deepcopy__(self, memo: dict[int, Any]) -> "LearningResults":
        return LearningResults({k: (v.copy() if isinstance(v, np.ndarray) else v)
                                for k, v in self._values.items()})
