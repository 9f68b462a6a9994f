"""What the data panel's small scatter shows: two features as they are, or for more than two the data's first two
principal components (a pixel against a pixel says nothing about digits), and for regression one feature against
the target. numpy only."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class Preview:
    """Points to draw: x and y of the training and validation samples, their labels (classes or targets), and the
    axis titles."""

    train: tuple[np.ndarray, np.ndarray, np.ndarray]
    val: tuple[np.ndarray, np.ndarray, np.ndarray]
    x_title: str
    y_title: str


def _varying(X: np.ndarray) -> list[int]:
    """The columns that are not constant (digits' first pixel is always 0)."""
    return [j for j in range(X.shape[1]) if X.shape[0] and np.ptp(X[:, j]) > 0] or list(range(X.shape[1]))


def preview(ds, n: int) -> Preview:
    """The first ``n`` training and validation samples of a data set (data.sets.Dataset) in two dimensions."""
    Xt, Xv, yt, yv = ds.X_train[:n], ds.X_val[:n], ds.y_train[:n], ds.y_val[:n]
    if ds.plane_train is not None:  # input features: the samples' two coordinates, as the boundary view draws them
        pt, pv = ds.plane_train[:n], ds.plane_val[:n]
        return Preview((pt[:, 0], pt[:, 1], yt), (pv[:, 0], pv[:, 1], yv), "x1 (standardised)", "x2 (standardised)")
    cols = _varying(ds.X_train)
    if ds.task == "regression" or len(cols) < 2:
        j = cols[0]
        title = "target" if ds.task == "regression" else "class"
        return Preview((Xt[:, j], yt.astype(float), yt), (Xv[:, j], yv.astype(float), yv),
                       f"{ds.feature_names[j]} (standardised)", title)
    if ds.n_features == 2:
        return Preview((Xt[:, 0], Xt[:, 1], yt), (Xv[:, 0], Xv[:, 1], yv),
                       f"{ds.feature_names[0]} (standardised)", f"{ds.feature_names[1]} (standardised)")
    mean = ds.X_train.mean(axis=0)
    _, s, vt = np.linalg.svd(ds.X_train - mean, full_matrices=False)
    share = s ** 2 / max(float(np.sum(s ** 2)), 1e-300)
    axes = vt[:2].T
    return Preview(tuple((*((Xt - mean) @ axes).T, yt)), tuple((*((Xv - mean) @ axes).T, yv)),
                   f"PC 1 of {ds.n_features} features ({100 * share[0]:.0f}%)",
                   f"PC 2 ({100 * share[1]:.0f}% of variance)")
