"""What a trained network predicts, in the forms the views draw: boundary grids, fitted curves, confusion."""

from __future__ import annotations

import numpy as np
import torch

from visualizer.core.training.events import BoundaryGrid


def r2_score(pred: torch.Tensor, target: torch.Tensor) -> float:
    """Coefficient of determination 1 − SS_res / SS_tot (as sklearn.metrics.r2_score)."""
    ss_res = torch.sum((target - pred) ** 2)
    ss_tot = torch.sum((target - target.mean()) ** 2)
    if float(ss_tot) == 0.0:
        return 1.0 if float(ss_res) == 0.0 else 0.0
    return float(1.0 - ss_res / ss_tot)


def feature_bounds(dataset, margin: float = 0.25) -> tuple[np.ndarray, np.ndarray]:
    """Lower and upper corner of all the data's points (train and validation), widened by ``margin``."""
    X = np.concatenate([dataset.X_train, dataset.X_val])
    lo, hi = X.min(axis=0), X.max(axis=0)
    pad = (hi - lo) * margin + 1e-6
    return lo - pad, hi + pad


def _device_of(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


@torch.no_grad()
def decision_grid(model: torch.nn.Module, loss, dataset, resolution: int = 100) -> BoundaryGrid:
    """Class probabilities of a 2-input model on a resolution x resolution grid around the data."""
    lo, hi = feature_bounds(dataset)
    xs = np.linspace(lo[0], hi[0], resolution)
    ys = np.linspace(lo[1], hi[1], resolution)
    gx, gy = np.meshgrid(xs, ys)
    pts = torch.as_tensor(np.stack([gx.ravel(), gy.ravel()], 1), dtype=torch.float32, device=_device_of(model))
    was_training = model.training
    model.eval()
    probs = loss.probabilities(model(pts)).cpu().numpy()
    model.train(was_training)
    return BoundaryGrid(xs, ys, probs.reshape(resolution, resolution, -1))


@torch.no_grad()
def outputs(model: torch.nn.Module, X: np.ndarray) -> torch.Tensor:
    """Raw outputs of the model in evaluation mode for a numpy batch."""
    was_training = model.training
    model.eval()
    out = model(torch.as_tensor(X, dtype=torch.float32, device=_device_of(model)))
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


def as_targets(y: np.ndarray, task: str, device) -> torch.Tensor:
    """Targets as the losses take them: class indices (int64) or values (float32)."""
    dtype = torch.long if task == "classification" else torch.float32
    return torch.as_tensor(y, dtype=dtype, device=device)
