"""Decomposition methods of signals (mixed into BaseSignal): HyperSpy's names and semantics.

Each method translates the signal into an :class:`~lazysignal.learn.passes.Unfolded` matrix
(navigation pixels x signal channels), calls the array code of :mod:`lazysignal.learn`, and
stores or rebuilds signals. The signal's data are never modified.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import dask.array as da
import numpy as np

from ..errors import DecompositionError
from ..lazy import resolve_progress
from ..options import check_method_options
from ..signal_registry import signal_class_for
from . import bss as _bss
from . import nmf as _nmf
from . import ornmf as _ornmf
from . import orpca as _orpca
from . import svd as _svd
from .passes import Unfolded
from .results import LearningResults
from .treatments import Treatments, check_masks

if TYPE_CHECKING:
    from ..signal import BaseSignal
    from ..signal_protocol import SignalLike as _Signal
else:
    _Signal = object

__all__ = ["DecompositionMixin"]

#: algorithm name -> (function, whether it takes centre, whether output_dimension is required)
_ALGORITHMS: dict[str, tuple[Callable[..., Any], bool, bool]] = {
    "SVD": (_svd.svd_decomposition, True, False),
    "PCA": (_svd.svd_decomposition, True, False),
    "NMF": (_nmf.nmf_decomposition, False, True),
    "ORPCA": (_orpca.orpca_decomposition, False, True),
    "ORNMF": (_ornmf.ornmf_decomposition, False, True),
}
_COMMON = {"output_dimension", "show_progressbar", "reproject_navigation", "reproject_signal", "num_chunks"}
_REPROJECT = {True: (True, False), None: (False, False), False: (False, False),
              "navigation": (True, False), "signal": (False, True), "both": (True, True)}


def _options_of(func: Callable[..., Any]) -> set[str]:
    return {p.name for p in inspect.signature(func).parameters.values()
            if p.kind is p.KEYWORD_ONLY} - _COMMON - {"pca"}


class DecompositionMixin(_Signal):
    """``decomposition``, its results and the models built from them."""

    #: Whether ``decomposition()`` scales for Poisson noise by default (EDS classes set True).
    _default_poisson_normalization: bool = False

    # -- results -------------------------------------------------------------------------
    @property
    def learning_results(self) -> LearningResults:
        """The last decomposition's results (:class:`~lazysignal.learn.results.LearningResults`)."""
        results = self.__dict__.get("_learning_results")
        if results is None:
            results = self.__dict__["_learning_results"] = LearningResults()
        return results

    @learning_results.setter
    def learning_results(self, value: LearningResults | dict[str, Any] | None) -> None:
        if isinstance(value, LearningResults):
            self.__dict__["_learning_results"] = value
        else:
            self.__dict__["_learning_results"] = LearningResults(dict(value or {}))

    def _decomposition_unfolded(self) -> Unfolded:
        nav_ndim = sum(1 for a in self.axes_manager._axes if a.navigate)
        return Unfolded(self.data, nav_ndim)

    # -- decomposition -------------------------------------------------------------------
    def decomposition(self, normalize_poissonian_noise: bool | None = None, algorithm: str = "SVD",
                      output_dimension: int | None = None, centre: str | None = None,
                      navigation_mask: Any = None, signal_mask: Any = None,
                      reproject: bool | str | None = True,
                      num_chunks: int | None = None, show_progressbar: bool | None = None,
                      print_info: bool = True, **algorithm_options: Any) -> None:
        """Decompose the data (pixels x channels) into factors and loadings.

        Results go to ``s.learning_results``; the data are not modified. Lazy data are read
        at most twice for "SVD"/"PCA" (once for the Gram matrix and sums, once for the
        loadings), and once to learn plus once to project for the online algorithms.

        Parameters
        ----------
        normalize_poissonian_noise
            Scale for Poisson noise (Keenan & Kotula 2004) before factorising; factors and
            loadings are scaled back. None: the class default (False; True for EDS signals).
        algorithm
            "SVD" (exact), "PCA" (exact, centred per channel, variances over ``n - 1``),
            "NMF" (scikit-learn MiniBatchNMF streamed over navigation blocks), "ORPCA"
            (online robust PCA) or "ORNMF" (online robust NMF).
        output_dimension
            Components to keep; None keeps all for SVD/PCA, required for the others.
        centre
            None, "navigation" (subtract each channel's mean) or "signal" (each pixel's
            mean); SVD only ("PCA" always centres per channel).
        navigation_mask, signal_mask
            Boolean arrays (numpy or dask) in ``axes_manager.navigation_shape`` /
            ``signal_shape`` (x first, as HyperSpy), or signals whose data are the mask:
            True marks pixels/channels left out of the fit.
        reproject
            True/"navigation": masked pixels get loadings by projection (else NaN);
            "signal": masked channels get factors by least squares; "both"; False/None: none.
        num_chunks
            Online algorithms: navigation blocks per learning step (default 1).
        show_progressbar
            A bar for each pass over lazy data (default: the preference).
        print_info
            Print the algorithm, the reads of the data and the components.
        **algorithm_options
            Options of the algorithm (e.g. ``batch_size`` for ORPCA); an unknown option is an
            error naming it.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> rng = np.random.default_rng(0)
        >>> s = Signal1D(rng.random((8, 8, 3)) @ rng.random((3, 32))).as_lazy()
        >>> s.decomposition(output_dimension=3, print_info=False)
        >>> s.learning_results.factors.shape, s.learning_results.loadings.shape
        ((32, 3), (64, 3))
        """
        if algorithm not in _ALGORITHMS:
            raise DecompositionError(f"algorithm={algorithm!r} is not known; use one of {', '.join(_ALGORITHMS)}.")
        func, takes_centre, needs_dim = _ALGORITHMS[algorithm]
        check_method_options(algorithm_options, _options_of(func), where=f"decomposition(algorithm={algorithm!r})")
        poisson = (self._default_poisson_normalization if normalize_poissonian_noise is None
                   else bool(normalize_poissonian_noise))
        self._check_decomposition_args(algorithm, output_dimension, centre, poisson, takes_centre,
                                       needs_dim, num_chunks, reproject)
        u = self._decomposition_unfolded()
        if u.nav_shape == () or u.n_rows < 2:
            raise DecompositionError(f"decomposition needs at least 2 navigation positions; this signal has "
                                     f"dimensions {self.axes_manager.dimensions}.")
        nav_keep, sig_keep = check_masks(self._mask_in_numpy_order(navigation_mask, "navigation"),
                                         self._mask_in_numpy_order(signal_mask, "signal"),
                                         u.nav_shape, u.sig_shape)
        tr = Treatments(nav_keep=nav_keep, sig_keep=sig_keep, centre=centre, poisson=poisson)
        nav_re, sig_re = _REPROJECT[reproject]
        kwargs = dict(output_dimension=output_dimension, reproject_navigation=nav_re,
                      reproject_signal=sig_re, show_progressbar=resolve_progress(show_progressbar)
                      and u.lazy, **algorithm_options)
        if algorithm == "PCA":
            kwargs["pca"] = True
        if not takes_centre:
            kwargs["num_chunks"] = num_chunks
        result = func(u, tr, **kwargs)
        lr = LearningResults()
        lr.update({
            "factors": result.factors, "loadings": result.loadings,
            "explained_variance": result.explained_variance,
            "explained_variance_ratio": result.explained_variance_ratio,
            "number_significant_components": _elbow(result.explained_variance_ratio),
            "decomposition_algorithm": algorithm, "poissonian_noise_normalized": poisson,
            "output_dimension": output_dimension,
            "centre": "navigation" if algorithm == "PCA" else centre,
            "mean": result.mean, "unfolded": u.nav_ndim > 1 or len(u.sig_shape) > 1,
            "original_shape": tuple(self.data.shape),
            "unmixing_matrix": None, "bss_algorithm": None,
        })
        if result.mean_row_scale is not None:  # not HyperSpy's: let the model add the scaled data's mean
            lr.mean_row_scale, lr.mean_col_scale = result.mean_row_scale, result.mean_col_scale
        if nav_keep is not None:
            lr.navigation_mask = ~nav_keep
        if sig_keep is not None:
            lr.signal_mask = ~sig_keep.reshape(u.sig_shape)
        self.learning_results = lr
        if print_info:
            reads = (f"{result.reads} read{'s' if result.reads != 1 else ''} of the data" if u.lazy
                     else "data in memory")
            print("Decomposition info:\n"
                  f"  normalize_poissonian_noise={poisson}\n  algorithm={algorithm}\n"
                  f"  output_dimension={output_dimension}\n  centre={lr.centre}\n"
                  f"  components={result.factors.shape[1]} ({reads})")

    def _check_decomposition_args(self, algorithm: str, output_dimension: Any, centre: Any,
                                  poisson: Any, takes_centre: bool, needs_dim: bool,
                                  num_chunks: Any, reproject: Any) -> None:
        if output_dimension is not None and (isinstance(output_dimension, bool) or not isinstance(
                output_dimension, (int, np.integer)) or output_dimension < 1):
            raise DecompositionError(f"output_dimension must be a positive int or None; got {output_dimension!r}.")
        if needs_dim and output_dimension is None:
            raise DecompositionError(f"algorithm={algorithm!r} needs output_dimension (the number of components).")
        if centre not in (None, "navigation", "signal"):
            raise DecompositionError(f"centre must be None, 'navigation' or 'signal'; got {centre!r}.")
        if centre is not None and not takes_centre:
            raise DecompositionError(f"centre={centre!r} applies to 'SVD' only; algorithm={algorithm!r} "
                                     "does not centre. Leave centre=None.")
        if algorithm == "PCA" and centre == "signal":
            raise DecompositionError("'PCA' centres each channel; use algorithm='SVD' with centre='signal'.")
        if poisson and centre is not None:
            raise DecompositionError(f"normalize_poissonian_noise=True cannot be combined with centre={centre!r}; "
                                     "use one or the other.")
        if num_chunks is not None and takes_centre:
            raise DecompositionError(f"num_chunks applies to the online algorithms (NMF, ORPCA, ORNMF); "
                                     f"{algorithm!r} reads every block once per pass. Leave num_chunks=None.")
        if num_chunks is not None and (isinstance(num_chunks, bool) or not isinstance(num_chunks, (int, np.integer))
                                       or num_chunks < 1):
            raise DecompositionError(f"num_chunks must be a positive int; got {num_chunks!r}.")
        if not isinstance(reproject, (bool, str, type(None))) or reproject not in _REPROJECT:
            raise DecompositionError(f"reproject must be True, False, None, 'navigation', 'signal' or 'both'; "
                                     f"got {reproject!r}.")

    def _mask_in_numpy_order(self, mask: Any, which: str) -> Any:
        """Masks given as arrays are in the user's axis order (x first): transpose them."""
        if mask is None or hasattr(mask, "axes_manager"):
            return mask
        shape = (self.axes_manager.navigation_shape if which == "navigation"
                 else self.axes_manager.signal_shape)
        if tuple(np.shape(mask)) != tuple(shape):
            raise DecompositionError(
                f"{which}_mask has shape {tuple(np.shape(mask))}; it must have the {which} shape "
                f"{tuple(shape)} (axes_manager.{which}_shape, x first), or be a signal.")
        return mask.T

    # -- results as signals ---------------------------------------------------------------
    def _require_decomposition(self) -> LearningResults:
        lr = self.learning_results
        if lr.factors is None or lr.loadings is None:
            raise DecompositionError("No decomposition results: call s.decomposition() first.")
        return lr

    def _components(self, components: int | Sequence[int] | None) -> list[int]:
        k = self._require_decomposition().factors.shape[1]
        if components is None:
            return list(range(k))
        if isinstance(components, (int, np.integer)):
            if not 1 <= components <= k:
                raise DecompositionError(f"components={components} must be between 1 and {k}.")
            return list(range(int(components)))
        picked = [int(c) for c in components]
        if any(not 0 <= c < k for c in picked):
            raise DecompositionError(f"components {picked} must be indices below {k}.")
        return picked

    def get_decomposition_model(self, components: int | Sequence[int] | None = None) -> BaseSignal:
        """The data rebuilt from the components (and the mean); lazy when the signal is.

        Parameters
        ----------
        components
            None (all), an int ``n`` (the first ``n``) or a list of component indices.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> rng = np.random.default_rng(1)
        >>> s = Signal1D(rng.random((6, 2)) @ rng.random((2, 10)))
        >>> s.decomposition(algorithm="PCA", print_info=False)
        >>> bool(np.allclose(s.get_decomposition_model(2).data, s.data))
        True
        """
        lr = self._require_decomposition()
        picked = self._components(components)
        factors = np.asarray(lr.factors)[:, picked]
        loadings = np.asarray(lr.loadings)[:, picked]
        mean = None if lr.mean is None else np.asarray(lr.mean, dtype=float)
        u = self._decomposition_unfolded()
        if mean is not None:
            # The mean as one more component: per channel (times each pixel's scale) or per
            # pixel (times each channel's); the scales are those of Poisson scaling, if any.
            rows = np.ones(loadings.shape[0]) if lr.mean_row_scale is None else np.asarray(lr.mean_row_scale, float)
            cols = np.ones(factors.shape[0]) if lr.mean_col_scale is None else np.asarray(lr.mean_col_scale, float)
            if mean.size == u.n_cols:
                rows, cols = rows, cols * mean.reshape(-1)
            else:
                rows, cols = rows * mean.reshape(-1), cols
            loadings = np.hstack([loadings, rows.reshape(-1, 1)])
            factors = np.hstack([factors, cols.reshape(-1, 1)])
        loadings = loadings.reshape(u.nav_shape + (loadings.shape[1],))
        if self.lazy:
            nav_chunks = self.data.chunks[: u.nav_ndim]
            lo = da.from_array(loadings, chunks=nav_chunks + (-1,))
            data = da.map_blocks(_model_block, lo, factors.T, u.sig_shape, dtype=float,
                                 chunks=nav_chunks + tuple((n,) for n in u.sig_shape),
                                 drop_axis=u.nav_ndim,
                                 new_axis=list(range(u.nav_ndim, u.nav_ndim + len(u.sig_shape))))
        else:
            data = _model_block(loadings, factors.T, u.sig_shape)
        model = self._new_like(data)
        title = self.metadata.get_item("General.title", "")
        model.metadata.set_item("General.title", f"{title} model from decomposition with {len(picked)} components".strip())
        return model

    def get_decomposition_factors(self) -> BaseSignal:
        """The factors as a signal: navigation = component index, signal = this signal's axes.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.random.default_rng(2).random((5, 4, 12)))
        >>> s.decomposition(output_dimension=2, print_info=False)
        >>> s.get_decomposition_factors()
        <Signal1D, title: Decomposition factors, dimensions: (2|12)>
        """
        lr = self._require_decomposition()
        sig_axes = [a for a in self.axes_manager._axes if not a.navigate]
        data = np.asarray(lr.factors).T.reshape((-1,) + tuple(a.size for a in sig_axes))
        return self._component_signal(data, sig_axes, "Decomposition factors", keep_type=True)

    def get_decomposition_loadings(self) -> BaseSignal:
        """The loadings as a signal: navigation = component index, signal = navigation axes.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.random.default_rng(2).random((5, 4, 12)))
        >>> s.decomposition(output_dimension=2, print_info=False)
        >>> s.get_decomposition_loadings()
        <Signal2D, title: Decomposition loadings, dimensions: (2|4, 5)>
        """
        lr = self._require_decomposition()
        nav_axes = [a for a in self.axes_manager._axes if a.navigate]
        data = np.asarray(lr.loadings).T.reshape((-1,) + tuple(a.size for a in nav_axes))
        return self._component_signal(data, nav_axes, "Decomposition loadings", keep_type=False)

    def _component_signal(self, data: np.ndarray, axes: Sequence[Any], title: str, *,
                          keep_type: bool) -> BaseSignal:
        new_axes = [{"size": data.shape[0], "name": "Decomposition component index", "navigate": True}]
        for a in axes:
            d = a.to_dict()
            d["navigate"] = False
            new_axes.append(d)
        cls = None if keep_type else signal_class_for(len(axes))
        new = self._new_like(data, axes=new_axes, cls=cls)
        new.metadata.set_item("General.title", title)
        if not keep_type:
            new.metadata.set_item("Signal.signal_type", "")
        return new

    def get_explained_variance_ratio(self) -> BaseSignal:
        """The explained variance ratio as a 1-D signal over the component index.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.random.default_rng(3).random((6, 5)))
        >>> s.decomposition(print_info=False)
        >>> round(float(s.get_explained_variance_ratio().data.sum()), 6)
        1.0
        """
        lr = self._require_decomposition()
        if lr.explained_variance_ratio is None:
            raise DecompositionError(f"algorithm {lr.decomposition_algorithm!r} gives no explained variance.")
        ratio = np.asarray(lr.explained_variance_ratio, dtype=float)
        cls = signal_class_for(1)
        new = cls(ratio, axes=[{"size": ratio.size, "name": "Principal component index", "navigate": False}])
        title = self.metadata.get_item("General.title", "")
        new.metadata.set_item("General.title", f"{title}\nPCA Scree Plot".strip())
        return new

    def undo_treatments(self) -> None:
        """Kept for HyperSpy scripts: lazysignal never changes the data during a
        decomposition (scaling and centring are applied as blocks are read), so there is
        nothing to undo; the data are as they were before ``decomposition()``.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.arange(1.0, 13.0).reshape(3, 4))
        >>> s.decomposition(normalize_poissonian_noise=True, print_info=False)
        >>> s.undo_treatments(); s.data[0].tolist()
        [1.0, 2.0, 3.0, 4.0]
        """
        return None

    def normalize_decomposition_components(self, target: str = "factors",
                                           function: Callable[..., Any] = np.sum) -> None:
        """Divide each component of ``target`` by ``function`` of it; the other side is
        multiplied by the same number, so the model is unchanged.

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> s = Signal1D(np.random.default_rng(4).random((6, 5)))
        >>> s.decomposition(output_dimension=2, print_info=False)
        >>> s.normalize_decomposition_components()
        >>> np.allclose(s.learning_results.factors.sum(axis=0), 1)
        True
        """
        lr = self._require_decomposition()
        if target not in ("factors", "loadings"):
            raise DecompositionError(f"target must be 'factors' or 'loadings'; got {target!r}.")
        main, other = ("factors", "loadings") if target == "factors" else ("loadings", "factors")
        coeff = function(np.asarray(getattr(lr, main)), axis=0)
        setattr(lr, main, np.asarray(getattr(lr, main)) / coeff)
        setattr(lr, other, np.asarray(getattr(lr, other)) * coeff)

    def blind_source_separation(self, number_of_components: int | None = None,
                                algorithm: str = "sklearn_fastica", on_loadings: bool = False,
                                diff_order: int = 1, print_info: bool = True,
                                **algorithm_options: Any) -> None:
        """Unmix the first components of the decomposition (FastICA) into independent ones.

        Results: ``learning_results.bss_factors``, ``bss_loadings``, ``unmixing_matrix``.
        The model built from them equals the one built from the same decomposition components.

        Parameters
        ----------
        number_of_components
            Components to unmix (default: ``output_dimension`` of the decomposition).
        algorithm
            "sklearn_fastica".
        on_loadings
            Unmix the loadings instead of the factors.
        diff_order
            Differentiate the factors this many times along the signal before unmixing
            (reduces the weight of a smooth background); 0 to use them as they are.
        print_info
            Print the algorithm and the number of components.
        **algorithm_options
            Passed to scikit-learn's ``FastICA`` (e.g. ``random_state``, ``max_iter``).

        Examples
        --------
        >>> import numpy as np
        >>> from lazysignal.signals import Signal1D
        >>> rng = np.random.default_rng(5)
        >>> s = Signal1D(rng.random((40, 2)) @ rng.laplace(size=(2, 60)))
        >>> s.decomposition(output_dimension=2, print_info=False)
        >>> s.blind_source_separation(2, print_info=False, random_state=0)
        >>> s.learning_results.bss_factors.shape
        (60, 2)
        """
        lr = self._require_decomposition()
        n = number_of_components or lr.output_dimension
        if n is None:
            raise DecompositionError("Give number_of_components (the decomposition kept all components).")
        n = int(n)
        bss_factors, bss_loadings, unmixing = _bss.unmix(
            np.asarray(lr.factors), np.asarray(lr.loadings), n, algorithm=algorithm,
            on_loadings=on_loadings, diff_order=diff_order, **algorithm_options)
        lr.update({"bss_factors": bss_factors, "bss_loadings": bss_loadings,
                   "unmixing_matrix": unmixing, "bss_algorithm": algorithm, "on_loadings": bool(on_loadings)})
        if print_info:
            print(f"Blind source separation info:\n  number_of_components={n}\n  algorithm={algorithm}\n"
                  f"  on_loadings={on_loadings}\n  diff_order={diff_order}")


def _model_block(loadings: np.ndarray, factors_t: np.ndarray, sig_shape: tuple[int, ...]) -> np.ndarray:
    return (loadings @ factors_t).reshape(loadings.shape[:-1] + tuple(sig_shape))


def _elbow(ratio: np.ndarray) -> int | None:
    """HyperSpy's estimate of the number of significant components (scree-plot elbow + 1)."""
    if ratio is None or len(ratio) < 2:
        return None
    values = np.log(np.clip(np.asarray(ratio, dtype=float), 1e-30, None))
    last = min(20, len(values) - 1)
    xs = np.arange(last)
    y1, y2 = values[0], values[last]
    distance = np.abs(last * (y1 - values[:last]) + xs * (y2 - y1)) / np.hypot(last, y2 - y1)
    return int(np.argmax(np.nan_to_num(distance)) + 1)
