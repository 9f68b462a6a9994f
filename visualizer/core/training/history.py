"""The step events of a run as growing numpy arrays: what curves, CSV files and summaries read."""

from __future__ import annotations

import numpy as np

from visualizer.core.training.events import StepEvent

STEP_FIELDS = ("step", "epoch", "train_loss", "lr", "wall_s", "penalty")
EVAL_FIELDS = ("step", "val_loss", "train_metric", "val_metric", "train_loss")


class _Columns:
    """Named float64 columns that grow by doubling; ``view(name)`` is the filled part."""

    def __init__(self, names: tuple[str, ...], capacity: int = 1024) -> None:
        self.names = names
        self.n = 0
        self._data = np.full((len(names), capacity), np.nan)

    def append(self, values) -> None:
        if self.n == self._data.shape[1]:
            grown = np.full((len(self.names), 2 * self.n), np.nan)
            grown[:, : self.n] = self._data
            self._data = grown
        self._data[:, self.n] = values
        self.n += 1

    def view(self, name: str) -> np.ndarray:
        return self._data[self.names.index(name), : self.n]


def _nan(value: float | None) -> float:
    return np.nan if value is None else value


class History:
    """All step events of one run. ``steps``/``train_loss``/… have a value per step; ``eval_*`` per evaluation."""

    def __init__(self) -> None:
        self._steps = _Columns(STEP_FIELDS)
        self._evals = _Columns(EVAL_FIELDS, 64)

    def append(self, e: StepEvent) -> None:
        self._steps.append((e.step, e.epoch, e.train_loss, e.lr, e.wall_s, _nan(e.penalty)))
        if e.val_loss is not None or e.train_metric is not None:
            self._evals.append((e.step, _nan(e.val_loss), _nan(e.train_metric), _nan(e.val_metric),
                                _nan(e.eval_train_loss)))

    def extend(self, events) -> None:
        for e in events:
            self.append(e)

    def __len__(self) -> int:
        return self._steps.n

    @property
    def steps(self) -> np.ndarray:
        return self._steps.view("step")

    @property
    def epochs(self) -> np.ndarray:
        return self._steps.view("epoch")

    @property
    def train_loss(self) -> np.ndarray:
        return self._steps.view("train_loss")

    @property
    def penalty(self) -> np.ndarray:
        """The regularisation term inside each step's train_loss (NaN: none)."""
        return self._steps.view("penalty")

    @property
    def lr(self) -> np.ndarray:
        return self._steps.view("lr")

    @property
    def wall_s(self) -> np.ndarray:
        return self._steps.view("wall_s")

    @property
    def eval_steps(self) -> np.ndarray:
        return self._evals.view("step")

    @property
    def val_loss(self) -> np.ndarray:
        return self._evals.view("val_loss")

    @property
    def train_metric(self) -> np.ndarray:
        return self._evals.view("train_metric")

    @property
    def val_metric(self) -> np.ndarray:
        return self._evals.view("val_metric")

    @property
    def eval_train_loss(self) -> np.ndarray:
        return self._evals.view("train_loss")

    def eval_at(self, step: int) -> int | None:
        """Index into the eval arrays of the evaluation made at ``step``, if there was one."""
        idx = np.searchsorted(self.eval_steps, step)
        return int(idx) if idx < len(self.eval_steps) and self.eval_steps[idx] == step else None
