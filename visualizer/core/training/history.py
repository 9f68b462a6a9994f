"""The step events of a run as growing numpy arrays: what curves, CSV files and summaries read."""

from __future__ import annotations

import numpy as np

from visualizer.core.training.events import StepEvent

STEP_FIELDS = ("step", "epoch", "train_loss", "lr", "wall_s", "penalty")
EVAL_FIELDS = ("step", "val_loss", "train_metric", "val_metric", "train_loss")
#: where each column comes from in a StepEvent (the eval columns' "train_loss" is its eval_train_loss)
_STEP_SOURCE = [StepEvent._fields.index(name) for name in STEP_FIELDS]
_EVAL_SOURCE = [StepEvent._fields.index(name) for name in
                ("step", "val_loss", "train_metric", "val_metric", "eval_train_loss")]


class _Columns:
    """Named float64 columns that grow by doubling, filled from StepEvents; ``view(name)`` is the filled part.

    ``append`` only keeps the event: the rows reach the arrays in one conversion when a column is next read (a
    live window reads them once a frame, a summary once), as numpy converts hundreds of rows at once for about
    what it took to store two one by one. None becomes NaN."""

    def __init__(self, names: tuple[str, ...], source: list[int], capacity: int = 1024) -> None:
        self.names = names
        self._source = source
        self._filled = 0
        self._pending: list[StepEvent] = []
        self._data = np.full((len(names), capacity), np.nan)

    @property
    def n(self) -> int:
        return self._filled + len(self._pending)

    def append(self, event: StepEvent) -> None:
        self._pending.append(event)

    def _flush(self) -> None:
        rows, self._pending = np.array(self._pending, dtype=float)[:, self._source], []
        need = self._filled + len(rows)
        if need > self._data.shape[1]:
            grown = np.full((len(self.names), max(need, 2 * self._data.shape[1])), np.nan)
            grown[:, : self._filled] = self._data[:, : self._filled]
            self._data = grown
        self._data[:, self._filled:need] = rows.T
        self._filled = need

    def view(self, name: str) -> np.ndarray:
        if self._pending:
            self._flush()
        return self._data[self.names.index(name), : self._filled]


class History:
    """All step events of one run. ``steps``/``train_loss``/… have a value per step; ``eval_*`` per evaluation."""

    def __init__(self) -> None:
        self._steps = _Columns(STEP_FIELDS, _STEP_SOURCE)
        self._evals = _Columns(EVAL_FIELDS, _EVAL_SOURCE, 64)

    def append(self, e: StepEvent) -> None:
        self._steps.append(e)
        if e.val_loss is not None or e.train_metric is not None:
            self._evals.append(e)

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
