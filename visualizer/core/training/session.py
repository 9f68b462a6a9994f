"""The training session: a generator of events, with pause, resume, single step and stop at its yields."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from visualizer.core.data.images import dataset_image_shape
from visualizer.core.data.tensors import dataset_tensors
from visualizer.core.experiment import Experiment, hyper_values, resolve
from visualizer.core.model import predict, regularization
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import (
    Network,
    build_model_for,
    flat_parameters,
    output_size,
    parameter_count,
    spec_work,
)
from visualizer.core.model.optimizers import OPTIMIZERS, make_optimizer, set_learning_rate
from visualizer.core.model.schedules import SCHEDULES, default_step_size
from visualizer.core.threads import apply_threads, choose_threads
from visualizer.core.training.control import RunControl
from visualizer.core.training.device import resolve_device
from visualizer.core.training.edits import apply_edit
from visualizer.core.training.events import LayerHistogram, Measured, RunEnded, RunStarted, Snapshot, StepEvent
from visualizer.core.training.snapshot_plan import SnapshotPlan, plan_snapshots

if TYPE_CHECKING:
    from visualizer.core.data.sets import Dataset

HISTOGRAM_BINS = 40
#: the default seconds between two timed snapshots
SNAPSHOT_INTERVAL_S = 0.2


def _histogram(t: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    t = t.detach().float().reshape(-1)
    lo, hi = torch.aminmax(t)
    lo, hi = float(lo), float(hi)
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return np.linspace(-1, 1, HISTOGRAM_BINS + 1), np.zeros(HISTOGRAM_BINS)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    counts = torch.histc(t, bins=HISTOGRAM_BINS, min=lo, max=hi)
    return np.linspace(lo, hi, HISTOGRAM_BINS + 1), counts.cpu().numpy()


def _has_batch_norm(model: torch.nn.Module) -> bool:
    return any(isinstance(m, torch.nn.modules.batchnorm._BatchNorm) for m in model.modules())


def batch_bounds(n: int, batch_size: int, batch_norm: bool) -> tuple[list[tuple[int, int]], str]:
    """(start, end) of each mini-batch of an epoch over ``n`` samples, and a note for the user (or ''). Batch
    normalisation cannot train on a batch of one sample (its variance is undefined): with it, a last batch of one
    joins the batch before, and the note says so."""
    if batch_norm and n < 2:
        from visualizer.core.errors import VisualizerError

        raise VisualizerError(f"batch normalisation needs at least 2 training samples; the training set has {n}")
    bounds = [(start, min(start + batch_size, n)) for start in range(0, n, batch_size)]
    if not (batch_norm and len(bounds) > 1 and bounds[-1][1] - bounds[-1][0] == 1):
        return bounds, ""
    bounds[-2:] = [(bounds[-2][0], n)]
    return bounds, (f"The last mini-batch of each epoch would hold 1 sample ({n} = {n // batch_size} x "
                    f"{batch_size} + 1), which batch normalisation cannot train on: it joins the batch before "
                    f"({batch_size + 1} samples).")


class TrainingSession:
    """Trains the network an Experiment describes; ``run()`` yields RunStarted, StepEvents, Snapshots, RunEnded,
    and a WeightEdited for each weight set by hand (``control.edit_weight``), between the steps it falls between.

    Snapshots come at step 0, then when both ``snapshot_every_steps`` steps and ``snapshot_interval_s`` seconds
    have passed since the last one, and at the end. ``boundary_resolution`` > 0 adds to each snapshot what the
    model predicts, in the picture ``predict.prediction_view`` gives the task (a decision boundary on a grid of that
    resolution, a fitted curve or a confusion matrix).
    ``model`` trains a network given instead of building one (a pruned copy keeps its masks: fine-tuning);
    ``batch_loss(out, y_batch, index)`` replaces the experiment's loss on the training batches (distillation).
    ``snapshot_target`` replaces both rates: about that many snapshots, evenly spaced in steps (a run file's).
    ``snapshot_progress`` adds snapshots by progress: one at least every 1/``snapshot_progress`` of the run, however
    fast it goes (the window: a smooth path and histogram-over-time even when a run takes a second); they carry the
    weights and histograms but not the prediction's picture, which only the timed snapshots (and the first, a
    paused and the last) compute: the pictures are redrawn at most a few times a second anyway.
    """

    def __init__(self, experiment: Experiment, base_dir: Path | None = None, *,
                 control: RunControl | None = None, dataset: Dataset | None = None,
                 snapshot_every_steps: int = 10, snapshot_interval_s: float = SNAPSHOT_INTERVAL_S,
                 boundary_resolution: int = 0, model: torch.nn.Module | None = None,
                 batch_loss=None, snapshot_target: int | None = None, snapshot_progress: int = 0,
                 threads: int | None = None, neuron_resolution: int = 0) -> None:
        self.experiment = experiment
        self.base_dir = base_dir
        self.control = control or RunControl()
        self.snapshot_every_steps = snapshot_every_steps
        self.snapshot_interval_s = snapshot_interval_s
        self.boundary_resolution = boundary_resolution
        self.dataset = dataset
        self.model: Network | None = model
        self.batch_loss = batch_loss
        #: about this many snapshots over the run however fast it trains (step-based: for run files to replay)
        self.snapshot_target = snapshot_target
        self.snapshot_progress = snapshot_progress
        #: torch threads asked for (a command's --threads); None: $VISUALIZER_THREADS, else the policy (core.threads)
        self.threads = threads
        #: > 0: each snapshot carries every neuron's picture over a 2-D set's plane, this many points a side
        self.neuron_resolution = neuron_resolution
        self.thread_choice = None
        self.device: torch.device | None = None
        self.started: RunStarted | None = None
        self._lab = None  # (prepare builds it when the experiment's [lab] asks; a failed set-up leaves None)

    # -- set-up -------------------------------------------------------------------------------------
    def prepare(self) -> RunStarted:
        """Load the data, build the model and optimizer; may raise VisualizerError on bad input."""
        exp, tr = self.experiment, self.experiment.train
        if self.dataset is None:  # (imported here: the training process is given its data set, without sklearn)
            from visualizer.core.data.sets import load_dataset

            self.dataset = load_dataset(exp.data, self.base_dir)
        ds = self.dataset
        # the 'auto' loss chosen for the data, a loss that does not fit them named (as the window and the commands
        # do before they build a session; an unresolved experiment ended in "KeyError: 'auto'")
        exp = self.experiment = resolve(exp, ds)
        tr = exp.train
        self.device, device_message = resolve_device(tr.device)
        self.loss = LOSSES[tr.loss]
        torch.manual_seed(tr.seed)
        if self.model is None:
            self.model = build_model_for(exp.model, ds, self.loss)
        self.model = self.model.to(self.device)
        hypers = hyper_values(tr)
        self.optimizer = make_optimizer(tr.optimizer, self.model.parameters(), hypers)
        self._X, self._y, self._Xv, self._yv = dataset_tensors(ds, self.device)
        n = len(ds.X_train)
        full = OPTIMIZERS[tr.optimizer].full_batch or tr.batch_size == 0 or tr.batch_size >= n
        self.batch_size = n if full else tr.batch_size
        self._batches, note = batch_bounds(n, self.batch_size, _has_batch_norm(self.model))
        if note:
            device_message = f"{device_message} {note}"
        self.steps_per_epoch = len(self._batches)
        self.total_steps = self.steps_per_epoch * tr.epochs
        self.eval_every = tr.eval_every or self.steps_per_epoch
        self.base_lr = hypers["lr"]
        self._schedule = SCHEDULES[tr.schedule].factor
        self._step_size = tr.step_size or default_step_size(tr.epochs)
        self._layers = self.model.linear_layers()
        self._penalized = regularization.penalized(self.model)
        self.snapshot_plan = self._plan_snapshots()
        self._lab = None  # the optimization lab's measurements (core.lab.tracking), when the experiment asks
        if exp.lab.sharpness_every or exp.lab.health_every:
            from visualizer.core.lab.tracking import LabTracker

            self._lab = LabTracker(self)
        work = spec_work(exp.model, ds.n_features, output_size(self.loss, ds), dataset_image_shape(ds))
        self.thread_choice = choose_threads(work * self.batch_size, self.threads)
        if self.snapshot_plan.note:  # said once, with the device: before the run, where a user looks
            device_message = f"{device_message} {self.snapshot_plan.note}"
        self.started = RunStarted(
            device=str(self.device), device_message=device_message,
            n_params=parameter_count(self.model), steps_per_epoch=self.steps_per_epoch,
            total_steps=self.total_steps, task=ds.task,
            metric="accuracy" if ds.task == "classification" else "r2",
            n_classes=ds.n_classes, n_features=ds.n_features,
            layer_names=tuple(layer.name for layer in self._layers),
            feature_names=ds.feature_names, class_names=ds.class_names,
            threads=self.thread_choice.threads, threads_note=self.thread_choice.reason)
        return self.started

    def _plan_snapshots(self) -> SnapshotPlan:
        """The spacing of the snapshots, so that the run file stays under its size limit (snapshot_plan)."""
        ds, total, res = self.dataset, self.total_steps, self.boundary_resolution
        every = max(1, total // self.snapshot_target) if self.snapshot_target else max(1, self.snapshot_every_steps)
        view = predict.prediction_view(ds.task, ds.n_plane) if res else None
        picture = {None: 0, "boundary": res * res * max(ds.n_classes, 2) + 2 * res, "curve": 2 * res,
                   "confusion": ds.n_classes ** 2}[view and view.name]
        return plan_snapshots(parameter_count(self.model), len(self._layers), total, total // every + 2, picture)

    # -- measurements -------------------------------------------------------------------------------
    def _lr_at(self, step: int) -> float:
        return self.base_lr * self._schedule(step, self.steps_per_epoch, self.total_steps,
                                             self._step_size, self.experiment.train.gamma)

    def _metric(self, out: torch.Tensor, y: torch.Tensor) -> float:
        if self.dataset.task == "classification":
            return float((self.loss.predict_classes(out) == y).float().mean())
        return predict.r2_score(out[:, 0], y)

    @torch.no_grad()
    def _measure(self, X: torch.Tensor, y: torch.Tensor) -> tuple[float | None, float | None]:
        """Loss and accuracy (or R²) of the model in evaluation mode on a whole set."""
        if len(X) == 0:
            return None, None
        was_training = self.model.training
        self.model.eval()
        out = self.model(X)
        self.model.train(was_training)
        return float(self.loss(out, y, self.dataset.task)), self._metric(out, y)

    @torch.no_grad()
    def _running(self, outs: list, targets: list, losses: list) -> tuple[float, float]:
        """Mean loss and accuracy (or R²) over the batches trained since the last evaluation."""
        sizes = [len(t) for t in targets]
        loss = sum(v * n for v, n in zip(losses, sizes)) / sum(sizes)
        return loss, self._metric(torch.cat(outs), torch.cat(targets))

    def _penalty(self) -> torch.Tensor | None:
        """The regularisation term of the loss at the current weights (None: the experiment has none)."""
        tr = self.experiment.train
        return regularization.penalty(tr.regularization, tr.regularization_rate, self._penalized)

    def _snapshot(self, step: int, epoch: int, picture: bool = True) -> Snapshot:
        layers = []
        for layer in self._layers:
            w = self.model[layer.index].weight
            we, wc = _histogram(w)
            if w.grad is not None:
                ge, gc = _histogram(w.grad)
            else:
                ge, gc = np.linspace(-1, 1, HISTOGRAM_BINS + 1), np.zeros(HISTOGRAM_BINS)
            layers.append(LayerHistogram(layer.name, we, wc, ge, gc))
        params = flat_parameters(self.model).cpu().numpy().copy()
        ds, extra = self.dataset, {}
        view = predict.prediction_view(ds.task, ds.n_plane) if self.boundary_resolution else None
        if view is not None and picture:
            extra[view.name] = view.compute(self.model, self.loss, ds, self.boundary_resolution)
        if picture and self.neuron_resolution and ds.n_plane == 2:
            from visualizer.core.model.neurons import neuron_pictures

            extra["neurons"] = neuron_pictures(self.model, self.loss, ds, self.neuron_resolution)
        return Snapshot(step, epoch, tuple(layers), params, **extra)

    # -- the loop -----------------------------------------------------------------------------------
    def run(self) -> Iterator[RunStarted | StepEvent | Snapshot | Measured | RunEnded]:
        """Train, yielding events (``Measured``: the lab's, when the experiment's [lab] asks); a problem in set-up or
        training ends with RunEnded(reason='failed')."""
        t0 = time.perf_counter()
        self.step = 0
        try:
            yield self.started if self.started is not None else self.prepare()
            apply_threads(self.thread_choice)  # here: the thread that computes (OpenMP counts threads per thread)
            yield from self._loop(t0)
        except Exception as exc:  # the worker never dies silently: the failure becomes an event
            from visualizer.core.errors import VisualizerError

            text = str(exc) if isinstance(exc, VisualizerError) else f"{type(exc).__name__}: {exc}"
            yield RunEnded(self.step, "failed", text, time.perf_counter() - t0)
        finally:  # the lab's measuring process ends with the run
            if self._lab is not None:
                self._lab.close()

    def _loop(self, t0: float) -> Iterator[StepEvent | Snapshot | Measured | RunEnded]:
        ctl, model, opt, loss_fn, task = self.control, self.model, self.optimizer, self.loss, self.dataset.task
        batch_loss = self.batch_loss
        regularized = self.experiment.train.regularization != "none"
        X, y, n, bs = self._X, self._y, len(self._X), self.batch_size
        gen = torch.Generator().manual_seed(self.experiment.train.seed)
        model.train()
        lr = self._lr_at(0)
        vl, vm = self._measure(self._Xv, self._yv)
        tl, tm = self._measure(X, y)
        with torch.no_grad():
            pen = self._penalty()
        pen = None if pen is None else float(pen)
        yield StepEvent(0, 0, tl + (pen or 0.0), lr, time.perf_counter() - t0, vl, tm, vm, tl, pen)
        yield self._snapshot(0, 0)
        lab, next_lab = self._lab, self.total_steps + 1  # the step the lab measures next (never, when off)
        if lab is not None:
            yield from lab.measure(0, lr)
            next_lab = lab.next_step(0)
        last_snap_step, last_snap_t = 0, time.perf_counter()
        step, constant = 0, self.experiment.train.schedule == "constant"
        outs, targets, losses = [], [], []  # the batches since the last evaluation
        eval_every, total, snap_steps, snap_s = (self.eval_every, self.total_steps, self.snapshot_every_steps,
                                                 self.snapshot_interval_s)
        if self.snapshot_target:
            snap_steps, snap_s = max(1, total // self.snapshot_target), 0.0
        snap_steps = max(snap_steps, self.snapshot_plan.every_steps)  # a run file within its size limit
        by_progress = (max(self.snapshot_plan.every_steps, total // self.snapshot_progress, 1)
                       if self.snapshot_progress else total + 1)
        last_pic_step = 0  # the last snapshot with the prediction's picture (the timed ones)
        clock = time.perf_counter
        set_learning_rate(opt, lr)
        for epoch in range(1, self.experiment.train.epochs + 1):
            order = torch.randperm(n, generator=gen).to(X.device) if bs < n else None
            for start, end in self._batches:
                if ctl._attention:  # paused, stopping, a new learning rate or an edit: rare, so checked in two steps
                    if ctl.will_wait() and last_snap_step != step:  # show the weights it pauses on
                        yield self._snapshot(step, epoch)
                        last_snap_step, last_pic_step, last_snap_t = step, step, clock()
                    if lab is not None and ctl.will_wait():  # what was measured, before it waits
                        yield from lab.finish()
                        next_lab = lab.next_step(step)
                    if not ctl.wait_turn():
                        if lab is not None:
                            yield from lab.finish()
                        yield self._snapshot(step, epoch)
                        yield RunEnded(step, "stopped", f"Stopped at step {step}.", clock() - t0)
                        return
                    if (new_lr := ctl.take_lr()) is not None:
                        self.base_lr = new_lr
                        lr = self._lr_at(step + 1)
                        set_learning_rate(opt, lr)
                    for edit in ctl.take_edits():  # weights set by hand: the next step computes with them
                        yield apply_edit(model, self._layers, edit, step)
                step += 1
                self.step = step
                if not constant:
                    lr = self._lr_at(step)
                    set_learning_rate(opt, lr)
                if order is None:
                    idx, xb, yb = slice(None), X, y
                else:
                    idx = order[start:end]
                    xb, yb = X[idx], y[idx]
                opt.zero_grad(set_to_none=True)
                out = model(xb)
                loss = loss_fn(out, yb, task) if batch_loss is None else batch_loss(out, yb, idx)
                pen = self._penalty() if regularized else None
                if pen is not None:
                    loss = loss + pen
                    pen = pen.detach()
                loss.backward()
                if step >= next_lab:
                    lab.before_step(step)
                opt.step()
                value = loss.item()
                if pen is not None:
                    pen = pen.item()
                outs.append(out.detach())  # holding the graph would cost ~5% of a small step
                targets.append(yb)
                losses.append(value if pen is None else value - pen)  # evaluations report data losses
                if not math.isfinite(value):
                    yield StepEvent(step, epoch, value, lr, time.perf_counter() - t0, penalty=pen)
                    if lab is not None:
                        yield from lab.finish()
                    kind = "NaN" if math.isnan(value) else "infinite"
                    yield RunEnded(step, "diverged",
                                   f"The training loss became {kind} at step {step} (epoch {epoch}) with "
                                   f"learning rate {lr:g}; try a smaller learning rate.",
                                   time.perf_counter() - t0)
                    return
                now = clock()
                if step % eval_every == 0 or step == total:
                    vl, vm = self._measure(self._Xv, self._yv)
                    tl, tm = self._running(outs, targets, losses)
                    outs, targets, losses = [], [], []
                    yield StepEvent(step, epoch, value, lr, now - t0, vl, tm, vm, tl, pen)
                else:
                    yield StepEvent(step, epoch, value, lr, now - t0, penalty=pen)
                if step >= next_lab:
                    yield from lab.measure(step, lr)
                    next_lab = lab.next_step(step)
                timed = step - last_pic_step >= snap_steps and now - last_snap_t >= snap_s
                if timed or step - last_snap_step >= by_progress:  # by progress alone: no prediction picture
                    yield self._snapshot(step, epoch, picture=timed or step == total)
                    last_snap_step = step
                    if timed:
                        last_pic_step, last_snap_t = step, clock()
        if last_snap_step != step:  # (while the lab's last reading is taken)
            yield self._snapshot(step, self.experiment.train.epochs)
        if lab is not None:
            yield from lab.finish()
        yield RunEnded(step, "completed", f"Finished {step} steps.", time.perf_counter() - t0)
