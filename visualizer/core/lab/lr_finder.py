"""The learning-rate range test (Smith 2017, "Cyclical learning rates"; fastai's ``lr_find``): from the experiment's
initial weights, train a few hundred mini-batch steps while the learning rate grows exponentially from ``low`` to
``high``, and read a good learning rate off the loss against the rate.

The model, optimizer, loss, data and batches are the training session's own (``TrainingSession.prepare``), so the
test starts from exactly the weights a run of the experiment starts from (same seed) and sees the same batches.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

#: the defaults: fastai's range (1e-7..10 over 100 steps) starting one decade higher, with more steps per decade
LOW, HIGH, STEPS = 1e-6, 10.0, 300
#: the test stops once the running average of the loss exceeds this multiple of its minimum (fastai: 4)
STOP_FACTOR = 4.0
#: weight of the past in the running (exponential moving) average that decides when to stop (fastai: 0.98)
SMOOTHING = 0.98
#: the curve the suggestions are read from averages the losses within this many decades of lr on either side. Not
#: the running average: with 0.98 it lags ~50 steps, 1.7 decades at 300 steps over 7 decades, which pushed both
#: suggestions one to two decades too high on the presets (measured; see the README)
SMOOTH_DECADES = 0.5
#: the first and last points left out when looking for the steepest descent (the loss explodes at the end)
SKIP_START, SKIP_END = 0.1, 5


@dataclass(frozen=True)
class LRPoint:
    """One step of the range test: the learning rate it trained with, the batch's loss, its running average."""

    step: int
    lr: float
    loss: float
    average: float
    total: int


@dataclass(frozen=True)
class LRFinderResult:
    """The whole curve and its two suggestions: ``steepest`` (the most negative slope of the smoothed loss against
    log lr, before its minimum) and ``min_over_10`` (the rate at the smoothed minimum, divided by 10); ``smoothed``
    is ``smooth_in_lr`` of the losses; ``stopped`` says why the test ended ('' when it ran all its steps)."""

    lrs: np.ndarray
    losses: np.ndarray
    smoothed: np.ndarray
    steepest: float | None
    min_over_10: float | None
    stopped: str = ""

    @property
    def suggested(self) -> float | None:
        """The one value the window and the command present as the suggestion: the minimum / 10, which fell within
        the best rates of a 12-rate sweep on the presets tested, where the steepest descent, read off a noisy
        mini-batch curve, scattered over two decades (tests/core/test_lr_sweep.py)."""
        return self.min_over_10 if self.min_over_10 is not None else self.steepest

    def rows(self) -> list[tuple[int, float, float, float]]:
        """(step, lr, loss, smoothed loss) per step: the CSV's rows."""
        return [(i + 1, float(lr), float(loss), float(s))
                for i, (lr, loss, s) in enumerate(zip(self.lrs, self.losses, self.smoothed))]


def lr_schedule(low: float, high: float, steps: int) -> np.ndarray:
    """The ``steps`` learning rates from ``low`` to ``high``, evenly spaced in log."""
    return np.geomspace(low, high, steps)


def running_average(losses, beta: float = SMOOTHING) -> np.ndarray:
    """The bias-corrected exponential moving average of ``losses`` (fastai's smoothing; what decides the stop)."""
    out, avg = np.empty(len(losses)), 0.0
    for i, value in enumerate(losses):
        avg = beta * avg + (1 - beta) * float(value)
        out[i] = avg / (1 - beta ** (i + 1))
    return out


def smooth_in_lr(lrs, losses, decades: float = SMOOTH_DECADES) -> np.ndarray:
    """Each loss replaced by the mean of the losses whose lr lies within ``decades`` of its own (a centred window:
    no lag, unlike the running average)."""
    x, losses = np.log10(np.asarray(lrs, float)), np.asarray(losses, float)
    if not len(x):
        return np.zeros(0)
    lo = np.searchsorted(x, x - decades - 1e-12, side="left")
    hi = np.searchsorted(x, x + decades + 1e-12, side="right")
    sums = np.concatenate([[0.0], np.cumsum(losses)])
    return (sums[hi] - sums[lo]) / (hi - lo)


def suggestions(lrs, smoothed) -> tuple[float | None, float | None]:
    """(steepest, min / 10) of a range test's curve: the lr where the smoothed loss falls fastest per unit of log lr
    (central differences, before the minimum, leaving out the first ``SKIP_START`` of the points and the last
    ``SKIP_END``), and the lr of the smallest smoothed loss divided by 10. None where the curve is too short."""
    lrs, smoothed = np.asarray(lrs, float), np.asarray(smoothed, float)
    finite = np.isfinite(smoothed)
    if finite.sum() < 3:
        return None, None
    best = int(np.nanargmin(np.where(finite, smoothed, np.nan)))
    min_over_10 = float(lrs[best] / 10)
    start = int(len(lrs) * SKIP_START)
    stop = min(best + 1, len(lrs) - SKIP_END)
    if stop - start < 3:
        return None, min_over_10
    x, y = np.log(lrs[start:stop]), smoothed[start:stop]
    slope = np.gradient(y, x)
    return float(lrs[start + int(np.argmin(slope))]), min_over_10


def check_range(low: float, high: float, steps: int) -> None:
    """Refuse a range that cannot be tested, naming the option."""
    from visualizer.core.errors import VisualizerError

    if not (math.isfinite(low) and low > 0):
        raise VisualizerError(f"--low: {low:g} is out of range; allowed: above 0")
    if not (math.isfinite(high) and high > low):
        raise VisualizerError(f"--high: {high:g} is out of range; allowed: above --low ({low:g})")
    if not 10 <= steps <= 10000:
        raise VisualizerError(f"--steps: {steps} is out of range; allowed: 10 to 10000")


def range_test(experiment, dataset=None, base_dir: Path | None = None, *, low: float = LOW, high: float = HIGH,
               steps: int = STEPS, stop_factor: float = STOP_FACTOR, control=None,
               threads: int | None = None) -> Iterator[LRPoint | LRFinderResult]:
    """Run the range test on ``experiment`` (its data ``dataset``, loaded when None), yielding an LRPoint per step
    and the LRFinderResult last. ``control`` (a RunControl): stopping it ends the test with what it has."""
    import torch

    from visualizer.core import experiment as experiment_file
    from visualizer.core.data.sets import load_dataset
    from visualizer.core.model.optimizers import set_learning_rate
    from visualizer.core.threads import apply_threads
    from visualizer.core.training.session import TrainingSession

    check_range(low, high, steps)
    if dataset is None:
        dataset = load_dataset(experiment.data, base_dir)
    experiment = experiment_file.resolve(experiment, dataset)
    session = TrainingSession(experiment, base_dir, dataset=dataset, threads=threads)
    session.prepare()
    apply_threads(session.thread_choice)
    model, opt, loss_fn, task = session.model, session.optimizer, session.loss, dataset.task
    X, y, n, bs = session._X, session._y, len(session._X), session.batch_size
    regularized = experiment.train.regularization != "none"
    gen = torch.Generator().manual_seed(experiment.train.seed)
    lrs = lr_schedule(low, high, steps)
    losses, avg, best, stopped = [], 0.0, math.inf, ""
    model.train()

    def batches():
        while True:  # epochs until the test ends, shuffled as the session shuffles them
            order = torch.randperm(n, generator=gen).to(X.device) if bs < n else None
            for start, end in session._batches:
                yield (X, y) if order is None else (X[order[start:end]], y[order[start:end]])

    for i, (lr, (xb, yb)) in enumerate(zip(lrs, batches())):
        if control is not None and control.stopped:
            stopped = f"stopped at step {i}"
            break
        set_learning_rate(opt, float(lr))
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb, task)
        pen = session._penalty() if regularized else None
        if pen is not None:
            loss = loss + pen
        loss.backward()
        opt.step()
        value = loss.item()
        if not math.isfinite(value):
            stopped = f"the loss became {value} at lr {lr:.3g}"
            break
        avg = SMOOTHING * avg + (1 - SMOOTHING) * value
        s = avg / (1 - SMOOTHING ** (i + 1))
        losses.append(value)
        best = min(best, s)
        yield LRPoint(i + 1, float(lr), value, s, steps)
        if s > stop_factor * best:
            stopped = f"the average loss exceeded {stop_factor:g} x its minimum at lr {lr:.3g}"
            break
    done, losses = np.asarray(lrs[:len(losses)], float), np.asarray(losses, float)
    curve = smooth_in_lr(done, losses)
    steep, tenth = suggestions(done, curve)
    yield LRFinderResult(done, losses, curve, steep, tenth, stopped)


def find_lr(experiment, dataset=None, base_dir: Path | None = None, **options) -> LRFinderResult:
    """The range test's result (``range_test`` run to its end)."""
    result = None
    for event in range_test(experiment, dataset, base_dir, **options):
        result = event
    return result


def csv_text(result: LRFinderResult) -> str:
    """The curve as CSV: step, lr, loss (the batch's), smoothed (the curve the suggestions are read from); the
    suggestions are in ``summary``."""
    lines = ["step,lr,loss,smoothed"]
    lines += [f"{step},{lr!r},{loss!r},{s!r}" for step, lr, loss, s in result.rows()]
    return "\n".join(lines) + "\n"


def summary(result: LRFinderResult) -> dict:
    """The suggestions and how the test ended, for a JSON file and the command's message."""
    return {"suggested": result.suggested, "steepest": result.steepest, "min_over_10": result.min_over_10,
            "steps": int(len(result.lrs)), "lr_low": float(result.lrs[0]) if len(result.lrs) else None,
            "lr_high": float(result.lrs[-1]) if len(result.lrs) else None, "stopped": result.stopped}


def read_csv(path: Path) -> LRFinderResult:
    """A range test saved by ``visualizer lr-find --out`` or the window's Export… (lr_find.csv), as it was: the
    curve read back exactly and its suggestions read off it again (the same numbers); why it stopped from the
    lr_find.json beside it, when there is one. A file of another form is a VisualizerError saying what is wrong."""
    import json

    from visualizer.core.errors import VisualizerError
    from visualizer.core.lab.export_csv import read_curve

    path = Path(path)
    columns = read_curve(path, ("step", "lr", "loss", "smoothed"), "learning-rate range test (lr_find.csv)")
    lrs, losses, smoothed = columns["lr"], columns["loss"], columns["smoothed"]
    if not (np.all(np.isfinite(lrs)) and np.all(lrs > 0) and np.all(np.diff(lrs) > 0)):
        raise VisualizerError(f"{path}: its learning rates must be positive and increasing")
    stopped = ""
    beside = path.with_suffix(".json")
    if beside.is_file():
        try:
            stopped = str(json.loads(beside.read_text(encoding="utf-8")).get("stopped") or "")
        except (OSError, ValueError, AttributeError):
            stopped = ""  # the curve is what counts; a damaged summary beside it only loses this line
    steep, tenth = suggestions(lrs, smoothed)
    return LRFinderResult(lrs, losses, smoothed, steep, tenth, stopped)


def write_csv(result: LRFinderResult, path: Path) -> Path:
    """Write ``csv_text(result)`` to ``path`` (atomically)."""
    from visualizer.core.files import atomic_write_text

    return atomic_write_text(Path(path), csv_text(result))
