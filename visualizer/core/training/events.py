"""The only things that cross threads: small frozen records of numbers and numpy arrays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np


@dataclass(frozen=True, slots=True)
class RunStarted:
    """Everything a view needs to lay itself out before the first step."""

    device: str
    device_message: str
    n_params: int
    steps_per_epoch: int
    total_steps: int
    task: str                     # "classification" | "regression"
    metric: str                   # "accuracy" | "r2"
    n_classes: int
    n_features: int
    layer_names: tuple[str, ...]
    feature_names: tuple[str, ...]
    class_names: tuple[str, ...]
    threads: int = 0              # torch threads the run computed with (0: not recorded, a run file from before)
    threads_note: str = ""        # why that many (core.threads)


class StepEvent(NamedTuple):
    """One optimizer step. Step 0 is the evaluation before training.

    ``train_loss`` is the loss of the step's batch (with regularisation, the data loss plus ``penalty``: what the
    optimizer minimises; the evaluation losses are data losses). The other fields are None except on evaluation steps
    (every ``eval_every`` steps, or once per epoch): then ``val_loss``/``val_metric`` are measured on the
    validation set in evaluation mode, and ``eval_train_loss``/``train_metric`` are the running means over the
    training batches since the previous evaluation (as Keras reports them). At step 0 all of them are measured
    on the whole sets before any update.

    A named tuple, not a frozen dataclass like the other records: one is made at every step, and a frozen
    dataclass's constructor (one ``object.__setattr__`` per field: 2.0 us) was a good part of what the session
    adds to a small model's step; a named tuple is as immutable and takes 0.4 us. It is also the run file's row
    as it is (``runs.schema.STEP_COLUMNS`` are its fields).
    """

    step: int
    epoch: int
    train_loss: float
    lr: float
    wall_s: float
    val_loss: float | None = None
    train_metric: float | None = None
    val_metric: float | None = None
    eval_train_loss: float | None = None
    penalty: float | None = None  # the regularisation term inside train_loss (None: no regularisation)


@dataclass(frozen=True, slots=True)
class LayerHistogram:
    """Histogram of one Linear layer's weights and of their gradients (edges have one more entry)."""

    name: str
    weight_edges: np.ndarray
    weight_counts: np.ndarray
    grad_edges: np.ndarray
    grad_counts: np.ndarray


@dataclass(frozen=True, slots=True)
class BoundaryGrid:
    """Class probabilities on a regular grid over the two input features: probs[iy, ix, k]."""

    xs: np.ndarray
    ys: np.ndarray
    probs: np.ndarray


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The heavier state, taken at a limited rate: histograms, the flattened parameters, and (when the session
    is asked for them) the predictions as the task is drawn: a decision boundary, a fitted curve (x, ŷ) or a
    confusion matrix (true class by predicted class, on the validation set)."""

    step: int
    epoch: int
    layers: tuple[LayerHistogram, ...]
    params: np.ndarray
    boundary: BoundaryGrid | None = None
    curve: tuple[np.ndarray, np.ndarray] | None = None
    confusion: np.ndarray | None = None
    neurons: object | None = None  # core.model.neurons.NeuronPictures: every neuron over a 2-D set's plane


@dataclass(frozen=True, slots=True)
class Measured:
    """Numbers the lab measured at one step (core.lab: sharpness, per-layer health), as (name, layer, value) rows;
    layer '' for a measure of the whole network."""

    step: int
    rows: tuple[tuple[str, str, float], ...]


@dataclass(frozen=True, slots=True)
class RunEnded:
    """The run is over: reason is 'completed', 'stopped', 'diverged' or 'failed'."""

    step: int
    reason: str
    message: str
    wall_s: float

    @property
    def ok(self) -> bool:
        return self.reason in ("completed", "stopped")


@dataclass(frozen=True, slots=True)
class WeightEdited:
    """A weight (or a bias) set by hand between two steps: ``step`` is the last step before it, so step + 1 is the
    first computed with ``new``. ``layer`` counts the weighted layers from 0 (the drawing's column pairs), ``source``
    is the input's index (None: the bias of neuron ``target``); ``undo``: it puts back the value an edit replaced."""

    step: int
    layer: int
    target: int
    source: int | None
    old: float
    new: float
    undo: bool = False


Event = RunStarted | StepEvent | Snapshot | Measured | RunEnded | WeightEdited
