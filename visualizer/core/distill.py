"""Knowledge distillation (Hinton, Vinyals and Dean 2015): a small student learns from a trained teacher's
softened outputs, compared with the same student trained from scratch.

Classification: L = α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1−α)·L_task(z_s, y), where L_task is the run's loss
(cross-entropy by default) and T² keeps the soft term's gradients on the scale of the hard one. A one-logit (log loss)
model is read as the two logits (0, z). Regression: L = α·MSE(ŷ_s, ŷ_t) + (1−α)·L_task(ŷ_s, y).
With α = 0 the loss is the run's own loss: that is how the student from scratch is trained, by the same loop.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace

import torch
import torch.nn.functional as F
from torch import nn

from .errors import VisualizerError, choices
from .events import RunEnded, RunStarted, StepEvent
from .experiment import Experiment
from .nets import ACTIVATIONS, MAX_LAYERS, MAX_WIDTH, build_model, parameter_count
from .optim import OPTIMIZERS, make_optimizer, set_learning_rate
from .schedules import SCHEDULES, default_step_size
from .train import RunControl, hyper_values
from .trained import LoadedRun, scores

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
    ``epochs``/``seed`` if given: trained with `visualizer run`, it reproduces the student from scratch."""
    exp = run.experiment
    act = activation or (exp.model.activation[0] if exp.model.activation else "tanh")
    if act not in ACTIVATIONS:
        raise VisualizerError(f"student: activation {act!r} is not known; allowed: {choices(ACTIVATIONS)}")
    hidden = tuple(hidden)
    title = f"{exp.title or exp.data.name} student {list(hidden)}"
    return replace(exp, title=title, model=replace(exp.model, hidden=hidden, activation=(act,) * len(hidden)),
                   train=replace(exp.train, epochs=epochs or exp.train.epochs,
                                 seed=exp.train.seed if seed is None else seed))


class StudentSession:
    """Trains a network on a loaded run's data with an experiment's optimizer settings, from a teacher's softened
    outputs (α > 0) or from the labels alone (α = 0); ``run()`` yields RunStarted, a StepEvent per step and RunEnded,
    as TrainingSession does, and honours the same RunControl (pause, single step, stop, learning rate).

    The network is built as TrainingSession builds it (torch.manual_seed(seed), then the model), batches come in
    the same seeded order, so α = 0 trains exactly what `visualizer run` trains. ``model`` replaces the built one
    (e.g. a pruned copy whose masks then stay applied: fine-tuning). Runs on the CPU.
    """

    def __init__(self, run: LoadedRun, experiment: Experiment, *, teacher: nn.Module | None = None,
                 temperature: float = 4.0, alpha: float = 0.0, model: nn.Module | None = None,
                 control: RunControl | None = None) -> None:
        if alpha > 0 and teacher is None:
            raise VisualizerError("distillation with alpha > 0 needs a teacher")
        self.run_data, self.experiment, self.teacher = run, experiment, teacher
        self.temperature, self.alpha = float(temperature), float(alpha)
        self.control = control or RunControl()
        self.model = model
        self.started: RunStarted | None = None
        self.step = 0

    def prepare(self) -> RunStarted:
        run, tr = self.run_data, self.experiment.train
        ds = run.dataset
        torch.manual_seed(tr.seed)
        if self.model is None:
            self.model = build_model(self.experiment.model, ds.n_features, run.n_outputs())
        self.optimizer = make_optimizer(tr.optimizer, self.model.parameters(), hyper_values(tr))
        self._X, self._y = run.tensors("training")
        self._soft = None
        if self.alpha > 0:
            self.teacher.eval()
            with torch.no_grad():
                self._soft = self.teacher(self._X)
        n = len(self._X)
        full = OPTIMIZERS[tr.optimizer].full_batch or tr.batch_size == 0 or tr.batch_size >= n
        self.batch_size = n if full else tr.batch_size
        self.steps_per_epoch = math.ceil(n / self.batch_size)
        self.total_steps = self.steps_per_epoch * tr.epochs
        self.eval_every = tr.eval_every or self.steps_per_epoch
        self.base_lr = tr.lr
        self._schedule = SCHEDULES[tr.schedule].factor
        self._step_size = tr.step_size or default_step_size(tr.epochs)
        layers = [m for m in self.model.modules() if isinstance(m, nn.Linear)]
        self.started = RunStarted(
            device="cpu", device_message="Distillation runs on the CPU.", n_params=parameter_count(self.model),
            steps_per_epoch=self.steps_per_epoch, total_steps=self.total_steps, task=ds.task,
            metric=run.metric_name, n_classes=ds.n_classes,
            n_features=ds.n_features, layer_names=tuple(f"{m.in_features}→{m.out_features}" for m in layers),
            feature_names=ds.feature_names, class_names=ds.class_names)
        return self.started

    def _lr_at(self, step: int) -> float:
        tr = self.experiment.train
        return self.base_lr * self._schedule(step, self.steps_per_epoch, self.total_steps, self._step_size, tr.gamma)

    def _evaluate(self, outs: list, targets: list, losses: list) -> tuple[float | None, float | None, float, float]:
        """Validation loss and metric (the run's own loss, so every curve is comparable), and the running training
        objective and metric over the batches since the previous evaluation."""
        run = self.run_data
        val = scores(self.model, run, "validation") if len(run.dataset.X_val) else None
        sizes = [len(t) for t in targets]
        running = sum(v * k for v, k in zip(losses, sizes)) / sum(sizes)
        out, y = torch.cat(outs), torch.cat(targets)
        if run.task == "classification":
            metric = float((run.loss_info.predict_classes(out) == y).float().mean())
        else:
            from .predict import r2_score

            metric = r2_score(out[:, 0], y)
        return (val.loss if val else None), (val.metric if val else None), running, metric

    def run(self) -> Iterator[RunStarted | StepEvent | RunEnded]:
        """Train, yielding events; a failure ends with RunEnded(reason='failed')."""
        t0 = time.perf_counter()
        try:
            yield self.started if self.started is not None else self.prepare()
            yield from self._loop(t0)
        except Exception as exc:  # the worker never dies silently: the failure becomes an event
            text = str(exc) if isinstance(exc, VisualizerError) else f"{type(exc).__name__}: {exc}"
            yield RunEnded(self.step, "failed", text, time.perf_counter() - t0)

    def _loop(self, t0: float) -> Iterator[StepEvent | RunEnded]:
        ctl, model, opt, run = self.control, self.model, self.optimizer, self.run_data
        X, y, soft, n, bs = self._X, self._y, self._soft, len(self._X), self.batch_size
        gen = torch.Generator().manual_seed(self.experiment.train.seed)
        clock = time.perf_counter
        model.train()
        lr = self._lr_at(0)
        first = scores(model, run, "training")
        val = scores(model, run, "validation") if len(run.dataset.X_val) else None
        yield StepEvent(0, 0, first.loss, lr, clock() - t0, val and val.loss, first.metric, val and val.metric,
                        first.loss)
        set_learning_rate(opt, lr)
        step, constant = 0, self.experiment.train.schedule == "constant"
        outs, targets, losses = [], [], []
        for epoch in range(1, self.experiment.train.epochs + 1):
            order = torch.randperm(n, generator=gen) if bs < n else None
            for start in range(0, n, bs):
                if not ctl.wait_turn():
                    yield RunEnded(step, "stopped", f"Stopped at step {step}.", clock() - t0)
                    return
                if ctl._attention and (new_lr := ctl.take_lr()) is not None:
                    self.base_lr = new_lr
                    lr = self._lr_at(step + 1)
                    set_learning_rate(opt, lr)
                step += 1
                self.step = step
                if not constant:
                    lr = self._lr_at(step)
                    set_learning_rate(opt, lr)
                idx = order[start:start + bs] if order is not None else slice(None)
                xb, yb = X[idx], y[idx]
                opt.zero_grad(set_to_none=True)
                out = model(xb)
                loss = distillation_loss(out, soft[idx] if soft is not None else None, yb, run,
                                         self.temperature, self.alpha)
                loss.backward()
                opt.step()
                value = loss.item()
                outs.append(out.detach())
                targets.append(yb)
                losses.append(value)
                if not math.isfinite(value):
                    yield StepEvent(step, epoch, value, lr, clock() - t0)
                    yield RunEnded(step, "diverged", f"The training loss became {value} at step {step}; try a "
                                   "smaller learning rate.", clock() - t0)
                    return
                if step % self.eval_every == 0 or step == self.total_steps:
                    vl, vm, tl, tm = self._evaluate(outs, targets, losses)
                    outs, targets, losses = [], [], []
                    yield StepEvent(step, epoch, value, lr, clock() - t0, vl, tm, vm, tl)
                else:
                    yield StepEvent(step, epoch, value, lr, clock() - t0)
        model.eval()
        yield RunEnded(step, "completed", f"Finished {step} steps.", clock() - t0)


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
