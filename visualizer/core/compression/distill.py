"""Knowledge distillation (Hinton, Vinyals and Dean 2015): a small student learns from a trained teacher's
softened outputs, compared with the same student trained from scratch.

Classification: L = α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1−α)·L_task(z_s, y), where L_task is the run's loss
(cross-entropy by default) and T² keeps the soft term's gradients on the scale of the hard one. A one-logit (log loss)
model is read as the two logits (0, z). Regression: L = α·MSE(ŷ_s, ŷ_t) + (1−α)·L_task(ŷ_s, y).
With α = 0 the loss is the run's own loss: that is how the student from scratch is trained, by the same loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from visualizer.core.compression.measure import scores
from visualizer.core.errors import VisualizerError, choices
from visualizer.core.experiment import Experiment
from visualizer.core.model.nets import ACTIVATIONS, MAX_LAYERS, MAX_WIDTH, parameter_count
from visualizer.core.runs.loaded import LoadedRun
from visualizer.core.training.events import RunEnded, RunStarted, Snapshot, StepEvent
from visualizer.core.training.session import RunControl, TrainingSession

MAX_TEMPERATURE = 100.0


def _two_logits(z: torch.Tensor) -> torch.Tensor:
    return torch.cat([torch.zeros_like(z), z], dim=1) if z.shape[1] == 1 else z


def distillation_loss(student: torch.Tensor, teacher: torch.Tensor | None, y: torch.Tensor, run: LoadedRun,
                      temperature: float, alpha: float) -> torch.Tensor:
    """The distillation objective of a batch (see the module's docstring); ``teacher`` may be None when α = 0."""
    hard = run.loss_info(student, y, run.task)
    if alpha == 0.0:
        return hard
    if run.task == "regression":
        soft = F.mse_loss(student, teacher)
    else:
        t = temperature
        log_s = F.log_softmax(_two_logits(student) / t, dim=1)
        log_t = F.log_softmax(_two_logits(teacher) / t, dim=1)
        soft = F.kl_div(log_s, log_t, reduction="batchmean", log_target=True) * (t * t)
    return alpha * soft + (1.0 - alpha) * hard


def check_settings(hidden, temperature: float, alpha: float, epochs: int | None) -> tuple[int, ...]:
    """The student's widths as a tuple; raises VisualizerError naming a bad width, T, α or epoch count."""
    hidden = tuple(hidden)
    if len(hidden) > MAX_LAYERS:
        raise VisualizerError(f"student: {len(hidden)} hidden layers; allowed: at most {MAX_LAYERS}")
    for w in hidden:
        if isinstance(w, bool) or not isinstance(w, int) or not 1 <= w <= MAX_WIDTH:
            raise VisualizerError(f"student: hidden width {w!r} is out of range; allowed: 1 to {MAX_WIDTH}")
    if not isinstance(temperature, (int, float)) or not 0.0 < temperature <= MAX_TEMPERATURE:
        raise VisualizerError(f"temperature {temperature!r} is out of range; allowed: above 0 up to "
                              f"{MAX_TEMPERATURE:g}")
    if not isinstance(alpha, (int, float)) or not 0.0 <= alpha <= 1.0:
        raise VisualizerError(f"alpha {alpha!r} is out of range; allowed: 0 to 1")
    if epochs is not None and (isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1):
        raise VisualizerError(f"epochs {epochs!r} is out of range; allowed: 1 or more")
    return hidden


def student_experiment(run: LoadedRun, hidden, *, epochs: int | None = None, seed: int | None = None,
                       activation: str | None = None) -> Experiment:
    """The teacher's experiment with the student's widths (the teacher's first activation, unless given), and
    ``epochs``/``seed`` if given: trained with `visualizer run`, it reproduces the student from scratch. The student
    is always an MLP (a convolutional teacher's layer list is not carried over)."""
    exp = run.experiment
    listed = [t for t in exp.model.layers if t in ACTIVATIONS]  # a layer list's activations (a CNN teacher)
    act = activation or (exp.model.activation[0] if exp.model.activation else listed[0] if listed else "tanh")
    if act not in ACTIVATIONS:
        raise VisualizerError(f"student: activation {act!r} is not known; allowed: {choices(ACTIVATIONS)}")
    hidden = tuple(hidden)
    title = f"{exp.title or exp.data.name} student {list(hidden)}"
    return replace(exp, title=title, model=replace(exp.model, hidden=hidden, activation=(act,) * len(hidden),
                                                         layers=()),
                   train=replace(exp.train, epochs=epochs or exp.train.epochs,
                                 seed=exp.train.seed if seed is None else seed))


class StudentSession(TrainingSession):
    """Trains a network on a loaded run's data with an experiment's optimizer settings, from a teacher's softened
    outputs (α > 0) or from the labels alone (α = 0): a TrainingSession whose batch loss is the distillation
    objective. ``run()`` yields RunStarted, a StepEvent per step and RunEnded (no snapshots) and honours RunControl.

    The network is built as `visualizer run` builds it (torch.manual_seed(seed), then the model), batches come in
    the same seeded order, so α = 0 trains exactly what `visualizer run` trains. ``model`` replaces the built one
    (e.g. a pruned copy whose masks then stay applied: fine-tuning). Runs on the CPU, where the teacher is.
    """

    def __init__(self, run: LoadedRun, experiment: Experiment, *, teacher: nn.Module | None = None,
                 temperature: float = 4.0, alpha: float = 0.0, model: nn.Module | None = None,
                 control: RunControl | None = None) -> None:
        if alpha > 0 and teacher is None:
            raise VisualizerError("distillation with alpha > 0 needs a teacher")
        on_cpu = replace(experiment, train=replace(experiment.train, device="cpu"))
        super().__init__(on_cpu, control=control, dataset=run.dataset, model=model,
                         snapshot_interval_s=float("inf"))
        self.run_data, self.teacher = run, teacher
        self.temperature, self.alpha = float(temperature), float(alpha)

    def prepare(self) -> RunStarted:
        started = super().prepare()
        soft = None
        if self.alpha > 0:
            self.teacher.eval()
            with torch.no_grad():
                soft = self.teacher(self._X)
        run, t, a = self.run_data, self.temperature, self.alpha
        self.batch_loss = lambda out, yb, idx: distillation_loss(out, None if soft is None else soft[idx], yb, run,
                                                                 t, a)
        self.started = replace(started, device_message="Distillation runs on the CPU.")
        return self.started

    def run(self) -> Iterator[RunStarted | StepEvent | RunEnded]:
        for event in super().run():
            if isinstance(event, RunEnded):
                self.model.eval()
            if not isinstance(event, Snapshot):
                yield event


@dataclass(frozen=True)
class ComparisonRow:
    """One network of the comparison: its widths, parameters, and loss and metric on the evaluation set."""

    name: str
    hidden: tuple[int, ...]
    parameters: int
    loss: float
    metric: float


@dataclass(frozen=True)
class Comparison:
    """Teacher, distilled student and the same student from scratch (same seed, epochs and optimizer)."""

    rows: tuple[ComparisonRow, ComparisonRow, ComparisonRow]
    metric: str
    eval_set: str
    temperature: float
    alpha: float
    epochs: int
    seed: int

    @property
    def margin(self) -> float:
        """Distilled student's metric minus the student from scratch's (positive: distillation helped)."""
        return self.rows[1].metric - self.rows[2].metric

    def to_dict(self) -> dict:
        return {"metric": self.metric, "eval_set": self.eval_set, "temperature": self.temperature,
                "alpha": self.alpha, "epochs": self.epochs, "seed": self.seed, "margin": self.margin,
                "rows": [{"name": r.name, "hidden": list(r.hidden), "parameters": r.parameters, "loss": r.loss,
                          self.metric: r.metric} for r in self.rows]}


def comparison(run: LoadedRun, distilled: StudentSession, scratch: StudentSession) -> Comparison:
    """The table of three rows from a finished distillation and a finished student-from-scratch session."""
    rows = []
    for name, model, exp in (("teacher", run.model, run.experiment),
                             ("distilled student", distilled.model, distilled.experiment),
                             ("student from scratch", scratch.model, scratch.experiment)):
        s = scores(model, run)
        rows.append(ComparisonRow(name, tuple(exp.model.hidden), parameter_count(model), s.loss, s.metric))
    tr = distilled.experiment.train
    return Comparison(tuple(rows), run.metric_name, run.eval_set_name, distilled.temperature, distilled.alpha,
                      tr.epochs, tr.seed)


def compare(run: LoadedRun, hidden, *, temperature: float = 4.0, alpha: float = 0.7, epochs: int | None = None,
            seed: int | None = None, activation: str | None = None,
            progress: Callable[[str, RunStarted | StepEvent], None] | None = None) -> tuple[Comparison, StudentSession]:
    """Distil the run's model into a student of widths ``hidden``, train the same student from scratch, and
    compare all three; returns the table and the finished distillation session (its ``model`` and ``experiment``).
    ``progress(which, event)`` is called with 'distilled' or 'scratch' and each RunStarted and StepEvent."""
    hidden = check_settings(hidden, temperature, alpha, epochs)
    exp = student_experiment(run, hidden, epochs=epochs, seed=seed, activation=activation)
    sessions = {"distilled": StudentSession(run, exp, teacher=run.model, temperature=temperature, alpha=alpha),
                "scratch": StudentSession(run, exp, alpha=0.0)}
    for which, session in sessions.items():
        for event in session.run():
            if isinstance(event, (RunStarted, StepEvent)) and progress is not None:
                progress(which, event)
            elif isinstance(event, RunEnded) and not event.ok:
                raise VisualizerError(f"training the {which} student failed: {event.message}")
    return comparison(run, sessions["distilled"], sessions["scratch"]), sessions["distilled"]


def fine_tune_session(run: LoadedRun, model: nn.Module, *, epochs: int | None = None,
                      control: RunControl | None = None) -> StudentSession:
    """A session that retrains ``model`` (a pruned copy keeps its masks, so pruned weights stay zero) with the run's
    own loss and optimizer settings; iterate ``run()`` for live curves."""
    exp = run.experiment if epochs is None else replace(run.experiment,
                                                        train=replace(run.experiment.train, epochs=epochs))
    return StudentSession(run, exp, model=model, control=control)
