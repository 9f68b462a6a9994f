"""What a trained network predicts, in the forms the views draw: boundary grids, fitted curves, confusion.

``PREDICTION_VIEWS`` is the registry of those pictures: which task each fits and how it is computed from a model
and a data set; ``prediction_view(task, n_features)`` picks a data set's picture for the session, the windows and
the exports alike. Importing this module does not import torch (the window asks for its view before its first
paint); the functions that compute import it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from visualizer.core.training.events import BoundaryGrid

if TYPE_CHECKING:
    import torch


def r2_score(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Coefficient of determination 1 − SS_res / SS_tot (as sklearn.metrics.r2_score)."""
    import torch

    ss_res = torch.sum((target - pred) ** 2)
    ss_tot = torch.sum((target - target.mean()) ** 2)
    if float(ss_tot) == 0.0:
        return 1.0 if float(ss_res) == 0.0 else 0.0
    return float(1.0 - ss_res / ss_tot)


def feature_bounds(dataset, margin: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corner of all the data's points (train and validation) in the data's own space (its
    plane_points), widened by ``margin``."""
    X = np.concatenate(dataset.plane_points())
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = (hi - lo) * margin + 1e-6
    return lo - pad, hi + pad


def _device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def decision_grid(model: torch.nn.Module, loss, dataset, resolution: int = 100) -> BoundaryGrid:
    """Class probabilities of a model of a 2-D set on a resolution x resolution grid around the data (grid points
    go through the data set's input features, as its samples did)."""
    xs, ys, points = plane_grid(dataset, resolution)
    probs = loss.probabilities(outputs(model, dataset.plane_inputs(points))).cpu().numpy()
    return BoundaryGrid(xs, ys, probs.reshape(resolution, resolution, -1))


def plane_grid(dataset, resolution: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """xs, ys and the (resolution², 2) points, row by row, of a grid over a 2-D set's plane around the data."""
    lo, hi = feature_bounds(dataset)
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    return xs, ys, np.stack([gx.ravel(), gy.ravel()], 1)


def outputs(model: torch.nn.Module, X: np.ndarray) -> torch.Tensor:
    """Raw outputs of the model in evaluation mode for a numpy batch (no gradients)."""
    import torch

    from visualizer.core.data.tensors import as_inputs

    was_training = model.training
    model.eval()
    with torch.no_grad():
        out = model(as_inputs(X, _device_of(model)))
    model.train(was_training)
    return out


def fitted_curve(model: torch.nn.Module, dataset, points: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """x and ŷ of a 1-input regression model along the data's range."""
    lo, hi = feature_bounds(dataset, margin=0.05)
    x = np.linspace(lo[0], hi[0], points)
    y = outputs(model, x[:, None])[:, 0].cpu().numpy()
    return x, y


def confusion_matrix(true: np.ndarray, predicted: np.ndarray, n_classes: int) -> np.ndarray:
    """counts[i, j] = samples of true class i predicted as j (as sklearn.metrics.confusion_matrix)."""
    counts = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(counts, (true.astype(np.int64), predicted.astype(np.int64)), 1)
    return counts


def evaluation_set(dataset) -> tuple[np.ndarray, np.ndarray, str]:
    """The set a confusion matrix counts: the validation set, or the training set when none is held out."""
    if len(dataset.X_val):
        return dataset.X_val, dataset.y_val, "validation"
    return dataset.X_train, dataset.y_train, "training"


def predicted_confusion(model: torch.nn.Module, loss, dataset) -> np.ndarray:
    """The confusion matrix of the model's predicted classes on the evaluation set (see ``evaluation_set``)."""
    X, y, _name = evaluation_set(dataset)
    pred = loss.predict_classes(outputs(model, X)).cpu().numpy()
    return confusion_matrix(y, pred, dataset.n_classes)


# --- the registry of prediction views --------------------------------------------------------------------------


@dataclass(frozen=True)
class PredictionView:
    """A picture of what the network predicts. ``name`` is also the Snapshot field that carries it; ``fits`` says
    for which (task, number of features) it is drawn, ``fits_text`` the same in words; ``compute(model, loss,
    dataset, resolution)`` makes it."""

    name: str
    label: str
    description: str
    fits_text: str
    fits: Callable[[str, int], bool]
    compute: Callable[[torch.nn.Module, Any, Any, int], Any]


PREDICTION_VIEWS: dict[str, PredictionView] = {view.name: view for view in (
    PredictionView("boundary", "Decision boundary",
                   "Class probabilities over the plane of the two features, with the data points.",
                   "2-D classification sets",
                   lambda task, n_features: task == "classification" and n_features == 2,
                   lambda model, loss, dataset, resolution: decision_grid(model, loss, dataset, resolution)),
    PredictionView("curve", "Fitted curve", "The network's ŷ along the one feature, over the data points.",
                   "1-D regression sets",
                   lambda task, n_features: task == "regression" and n_features == 1,
                   lambda model, loss, dataset, resolution: fitted_curve(model, dataset)),
    PredictionView("confusion", "Confusion matrix",
                   "True class by predicted class on the validation set (the training set if none is held out).",
                   "other classification sets",
                   lambda task, n_features: task == "classification",
                   lambda model, loss, dataset, resolution: predicted_confusion(model, loss, dataset)),
)}


def prediction_views_text() -> str:
    """One sentence saying which picture each kind of data set gets (for a view that has none to show)."""
    parts = [f"the {view.label.lower()} of {view.fits_text}" for view in PREDICTION_VIEWS.values()]
    return "The prediction view shows " + ", ".join(parts[:-1]) + f" and {parts[-1]}."


def prediction_view(task: str, n_features: int) -> PredictionView | None:
    """The picture a data set's predictions get: the first registered view that fits, or None (regression on
    more than one feature has none)."""
    return next((view for view in PREDICTION_VIEWS.values() if view.fits(task, n_features)), None)
