"""A data set as tensors on a device, in the types the network and the losses take: inputs float32, targets
class indices (int64) for classification and values (float32) for regression. The one place that says so."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
import torch


def target_dtype(task: str) -> torch.dtype:
    """The dtype of a task's targets: int64 class indices, or float32 values for regression."""
    return torch.long if task == "classification" else torch.float32


def as_inputs(X: np.ndarray, device: torch.device | str | None = None) -> torch.Tensor:
    """Features as the network takes them: float32 on ``device``."""
    return torch.as_tensor(X, dtype=torch.float32, device=device)


def as_targets(y: np.ndarray, task: str, device: torch.device | str | None = None) -> torch.Tensor:
    """Targets as the losses take them: class indices (int64) or values (float32), on ``device``."""
    return torch.as_tensor(y, dtype=target_dtype(task), device=device)


class DatasetTensors(NamedTuple):
    """The training and validation sets of a Dataset as tensors on one device."""

    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor


def dataset_tensors(dataset, device: torch.device | str | None = None) -> DatasetTensors:
    """Both sets of ``dataset`` (a data.sets.Dataset) on ``device``."""
    return DatasetTensors(as_inputs(dataset.X_train, device), as_targets(dataset.y_train, dataset.task, device),
                          as_inputs(dataset.X_val, device), as_targets(dataset.y_val, dataset.task, device))
