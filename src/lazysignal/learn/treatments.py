"""What is done to the data matrix before it is factorised: masks, centring, Poisson scaling.

Nothing here changes the data: each block is transformed as it is read, and the factors and
loadings are scaled back afterwards, so a decomposition never modifies the signal.

Keenan-Kotula scaling (Keenan & Kotula 2004) divides each element by
``sqrt(aG[pixel]) * sqrt(bH[channel])`` where ``aG`` are the pixels' sums over the fitted
channels and ``bH`` the channels' sums over the fitted pixels (zero sums count as one).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..errors import DecompositionError
from .passes import Block, Unfolded, as_rows, reduce_pass

__all__ = ["Treatments", "check_masks", "sums_pass", "poisson_scales"]


@dataclass(frozen=True)
class Treatments:
    """Masks (True = used in the fit), centring and Poisson scaling of one decomposition.

    ``row_scale`` (navigation shape) and ``col_scale`` (all channels) are ``sqrt(aG)`` and
    ``sqrt(bH)`` once known; data rows are divided by them.

    Examples
    --------
    >>> tr = Treatments(centre="signal")
    >>> tr.rows(np.array([[1.0, 3.0], [2.0, 2.0]]), 2).tolist()
    [[-1.0, 1.0], [0.0, 0.0]]
    """

    nav_keep: np.ndarray | None = None
    sig_keep: np.ndarray | None = None
    centre: str | None = None
    poisson: bool = False
    row_scale: np.ndarray | None = None
    col_scale: np.ndarray | None = None
    mean: np.ndarray | None = None  # per channel (all channels), for centre="navigation"

    def scales(self) -> tuple[np.ndarray, np.ndarray]:
        """``(row_scale, col_scale)``: with ``poisson``, :func:`poisson_scales` sets both first."""
        assert self.row_scale is not None and self.col_scale is not None, "Poisson scales not computed"
        return self.row_scale, self.col_scale

    def with_(self, **changes: Any) -> "Treatments":
        return replace(self, **changes)

    def local(self, where: Block) -> "Treatments":
        """The treatments of one block: navigation arrays cut to its pixels, flattened."""
        return replace(self, nav_keep=where.take(self.nav_keep), row_scale=where.take(self.row_scale))

    def slab(self, start: int, stop: int) -> "Treatments":
        """The treatments of rows ``start:stop`` of a (local) block."""
        def cut(a: np.ndarray | None) -> np.ndarray | None:
            return None if a is None else a[start:stop]
        return replace(self, nav_keep=cut(self.nav_keep), row_scale=cut(self.row_scale))

    def fit_rows(self, rows: np.ndarray) -> np.ndarray:
        """The rows of a (local) block that take part in the fit."""
        return rows if self.nav_keep is None else rows[self.nav_keep]

    def n_fit_rows(self, u: Unfolded) -> int:
        return u.n_rows if self.nav_keep is None else int(self.nav_keep.sum())

    def n_fit_cols(self, u: Unfolded) -> int:
        return u.n_cols if self.sig_keep is None else int(self.sig_keep.sum())

    def rows(self, block: np.ndarray, n_cols: int, *, all_channels: bool = False) -> np.ndarray:
        """A (local) block's rows transformed as the fit sees them (all pixels of the block).

        Columns are the fitted channels, or every channel with ``all_channels`` (used to
        reproject masked channels). Poisson scaling comes first, then centring, of the scaled
        values (HyperSpy's ``normalize_poissonian_noise()`` followed by a centred decomposition):
        by pixel, the mean of the pixel's scaled fitted channels; by channel, ``mean`` (which
        the caller computed from the scaled data).

        >>> tr = Treatments(centre="signal", poisson=True, row_scale=np.array([1.0]), col_scale=np.array([1.0, 2.0]))
        >>> tr.rows(np.array([[2.0, 2.0]]), 2).tolist()  # scaled [2, 1], then centred
        [[0.5, -0.5]]
        """
        x = as_rows(block, n_cols)
        fit = x if self.sig_keep is None else x[:, self.sig_keep]
        y = x if all_channels else fit
        if self.poisson:
            row_scale, col_scale = self.scales()
            cols = col_scale if all_channels or self.sig_keep is None else col_scale[self.sig_keep]
            y = y / row_scale[:, None] / cols[None, :]
        if self.centre == "signal":
            fitted = y if not all_channels or self.sig_keep is None else y[:, self.sig_keep]
            return y - fitted.mean(axis=1, keepdims=True)
        if self.centre == "navigation" and self.mean is not None:
            mean = self.mean if all_channels or self.sig_keep is None else self.mean[self.sig_keep]
            return y - mean[None, :]
        return y


    def project(self, block: np.ndarray, n_cols: int, basis: np.ndarray) -> np.ndarray:
        """``self.rows(block, n_cols) @ basis``, without forming the transformed rows when
        they are only scaled: the scales go on the (channels x k) basis and the (rows x k)
        result instead of on every element of the block.

        Examples
        --------
        >>> tr = Treatments(poisson=True, row_scale=np.array([1.0, 2.0]), col_scale=np.array([1.0, 4.0]))
        >>> x, basis = np.array([[1.0, 4.0], [2.0, 8.0]]), np.eye(2)
        >>> np.allclose(tr.project(x, 2, basis), tr.rows(x, 2) @ basis)
        True
        """
        if self.centre is not None:  # centred rows: formed, so the mean cancels before the product
            return self.rows(block, n_cols) @ basis
        x = as_rows(block, n_cols)
        fit = x if self.sig_keep is None else x[:, self.sig_keep]
        if not self.poisson:
            return fit @ basis
        row_scale, col_scale = self.scales()
        cols = col_scale if self.sig_keep is None else col_scale[self.sig_keep]
        out = fit @ (basis / cols[:, None])
        out /= row_scale[:, None]
        return out


def check_masks(navigation_mask: Any, signal_mask: Any, nav_shape: tuple[int, ...],
                sig_shape: tuple[int, ...]) -> tuple[np.ndarray | None, np.ndarray | None]:
    """Validate masks (True = excluded, numpy order) and return the "keep" arrays.

    Returns the navigation keep-array in navigation shape and the signal keep-array flat.

    Examples
    --------
    >>> nav, sig = check_masks(np.array([True, False]), None, (2,), (3,))
    >>> nav.tolist(), sig
    ([False, True], None)
    """
    out: list[np.ndarray | None] = []
    for name, mask, shape in (("navigation_mask", navigation_mask, nav_shape),
                              ("signal_mask", signal_mask, sig_shape)):
        if mask is None:
            out.append(None)
            continue
        if hasattr(mask, "axes_manager"):  # a signal given as a mask: its data
            mask = mask.data
        if hasattr(mask, "compute"):
            mask = mask.compute()
        mask = np.asarray(mask)
        if mask.dtype != bool:
            raise DecompositionError(
                f"{name} must be a boolean array (True = leave out); got dtype {mask.dtype}. "
                f"Build it with a comparison, e.g. data.sum(axis=-1) < threshold.")
        if mask.shape != shape:
            raise DecompositionError(
                f"{name} has shape {mask.shape}; it must have the {name.split('_')[0]} shape "
                f"{shape} (numpy order, as s.data's {'first' if name[0] == 'n' else 'last'} "
                f"{len(shape)} axes).")
        keep = ~mask
        if not keep.any():
            raise DecompositionError(f"{name} leaves nothing to fit (every element is True); "
                                     "mark only the parts to leave out.")
        out.append(keep if name[0] == "n" else keep.reshape(-1))
    return out[0], out[1]


def sums_kernel(block: np.ndarray, tr: Treatments, n_cols: int) -> dict[str, Any]:
    x = as_rows(block, n_cols)
    fit_cols = x if tr.sig_keep is None else x[:, tr.sig_keep]
    fit = tr.fit_rows(x)
    negative = int(np.count_nonzero(tr.fit_rows(fit_cols) < 0))
    return {"rows": [fit_cols.sum(axis=1)], "cols": fit.sum(axis=0), "negative": negative}


def combine_sums(*parts: dict) -> dict:
    """Merge per-block sums (row sums placed later, column sums added)."""
    return {"rows": [r for p in parts for r in p["rows"]],
            "cols": np.sum([p["cols"] for p in parts], axis=0),
            "negative": sum(p["negative"] for p in parts)}


def poisson_scales(u: Unfolded, tr: Treatments, sums: dict) -> Treatments:
    """``tr`` with ``row_scale``/``col_scale`` from pass sums; negative data are an error."""
    if sums["negative"]:
        raise DecompositionError(
            f"normalize_poissonian_noise=True needs non-negative data (counts), but "
            f"{sums['negative']} fitted values are negative. Use normalize_poissonian_noise=False, "
            "or remove the offset first (e.g. s - s.min()), or mask the negative region.")
    row = place_rows(u, sums["rows"])
    col = np.asarray(sums["cols"], dtype=float)
    row = np.sqrt(np.where(row <= 0, 1.0, row))
    col = np.sqrt(np.where(col <= 0, 1.0, col))
    return tr.with_(row_scale=row, col_scale=col)


def sums_pass(u: Unfolded, tr: Treatments, *, show_progressbar: bool | None = None) -> dict:
    """One read: every pixel's sum over the fitted channels, every channel's sum over the
    fitted pixels, and the count of negative fitted values.

    Examples
    --------
    >>> sums = sums_pass(Unfolded(np.arange(6.0).reshape(3, 2), 1), Treatments())
    >>> sums["cols"].tolist(), sums["negative"]
    ([6.0, 9.0], 0)
    """
    n_cols = u.n_cols
    return reduce_pass(u, lambda b, loc: sums_kernel(b, loc, n_cols), combine_sums, local=tr.local,
                       show_progressbar=show_progressbar, label="Pass: sums for Poisson scaling")


def place_rows(u: Unfolded, per_block: list[np.ndarray]) -> np.ndarray:
    """Per-block row values (in block order) placed in a navigation-shaped array."""
    out = np.empty(u.nav_shape)
    for (where, _), values in zip(u.blocks(), per_block):
        out[where.nav_slices] = values.reshape(out[where.nav_slices].shape)
    return out
