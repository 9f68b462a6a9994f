"""The compression window's jobs: core calls run on the worker thread, and the frozen records they hand over.

Each ``*_job(...)`` returns a function ``job(put, control)`` for the job runner (visualizer.qt.jobs). Records
hold the core's frozen reports, numbers and numpy arrays. A pruned model stays with the jobs: ``PruneOutcome.model``
is only handed back to the next job of the same tab (one job at a time), never read on the GUI thread.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from visualizer.qt.jobs import Cancelled
from visualizer.qt.plots import HistogramPair, histogram_pair
from visualizer.qt.plots.compare_histogram_plot import MAX_LEVEL_LINES

LATENCY_REPEATS = 30
#: the name of the thread every tab's jobs run on
THREAD_NAME = "compression-worker"


@dataclass(frozen=True, eq=False)
class PruneOutcome:
    """A pruned model measured: the core's PruneReport (its latencies are not shown: the preview times 1 repeat),
    before/after histograms, what produced it ('preview', 'fine-tuned', 'permanent'), the seconds it took and the
    state_dict's number of entries (torch's masks add two per pruned layer)."""

    report: object
    histograms: tuple[HistogramPair, ...]
    stage: str
    seconds: float
    state_entries: int
    model: object  # opaque to the GUI thread: handed to the next job only
    #: the pruned weights flattened in the unpruned model's parameters() order (for the landscape plane)
    flat: np.ndarray | None = None


@dataclass(frozen=True)
class LatencyFigures:
    """Medians of alternated repeats on the evaluation batch: dense, pruned (masks made permanent: still dense)
    and, after a shrink, the physically smaller network (the core's ShrinkFigures)."""

    dense_s: float
    pruned_s: float
    shrunk: object | None
    repeats: int
    samples: int
    dense_parameters: int
    dense_bytes: int


@dataclass(frozen=True)
class QuantOutcome:
    """The core's QuantReport, before/after histograms with levels, the seconds it took."""

    report: object
    histograms: tuple[HistogramPair, ...]
    seconds: float


@dataclass(frozen=True)
class StudentEvent:
    """A RunStarted or StepEvent of the 'distilled' or 'scratch' student."""

    which: str
    event: object


@dataclass(frozen=True)
class Baseline:
    """The loaded model measured once: scores on the evaluation set, parameters (all, non-zero), float32 bytes,
    and each Linear layer's weights as flat numpy copies (for the 'before' histograms)."""

    scores: object
    parameters: int
    nonzero: int
    bytes: int
    weights: dict[str, np.ndarray]


def measure_baseline(run) -> Baseline:
    from visualizer.core.compression.measure import float_bytes, parameter_counts, scores, weight_arrays

    total, nonzero = parameter_counts(run.model)
    return Baseline(scores(run.model, run), total, nonzero, float_bytes(run.model), weight_arrays(run.model))


# --------------------------------------------------------------------------------------------------- pruning


def _prune_pairs(before: dict[str, np.ndarray], model) -> tuple[HistogramPair, ...]:
    from visualizer.core.compression.measure import weight_arrays

    pairs = []
    for name, after in weight_arrays(model).items():
        zeros = float(np.mean(after == 0)) if after.size else 0.0
        pairs.append(histogram_pair(name, before[name], after, drop_zeros=True, note=f"{zeros:.1%} zeros"))
    return tuple(pairs)


def _entries(model) -> int:
    return len(model.state_dict())


def dense_flat(run, model) -> np.ndarray:
    """A pruned model's effective weights (masks applied) flattened in the order of the run's unpruned model's
    parameters() — pruning re-registers weights, so its own parameters() order differs."""
    import torch

    from visualizer.core.compression.pruning import clone, make_permanent

    state = make_permanent(clone(model)).state_dict()
    names = [name for name, _ in run.model.named_parameters()]
    return torch.cat([state[n].detach().reshape(-1).float().cpu() for n in names]).numpy()


def preview_job(run, method: str, amount: float, before: dict[str, np.ndarray]):
    """Prune a copy with the core's prune() (the loaded model is not touched) and histogram it."""

    def job(put, control) -> None:
        from visualizer.core.compression.pruning import prune

        t0 = time.perf_counter()
        result = prune(run, method, amount, latency_repeats=1)
        pairs = _prune_pairs(before, result.masked)
        put(PruneOutcome(result.report, pairs, "preview", time.perf_counter() - t0, _entries(result.masked),
                         result.masked, dense_flat(run, result.masked)))

    return job


def fine_tune_job(run, model, epochs: int, report, before: dict[str, np.ndarray]):
    """Retrain a copy of the pruned model with its masks held (pruned weights stay zero); yields the session's
    events live, then the retrained model's outcome (also when stopped early: what was trained so far)."""

    def job(put, control) -> None:
        from visualizer.core.compression.distill import fine_tune_session
        from visualizer.core.compression.measure import parameter_counts, scores
        from visualizer.core.compression.pruning import clone, layer_sparsity
        from visualizer.core.training.events import RunEnded

        t0 = time.perf_counter()
        tuned = clone(model)
        session = fine_tune_session(run, tuned, epochs=epochs, control=control)
        ended = None
        for event in session.run():
            put(event)
            ended = event if isinstance(event, RunEnded) else ended
        if ended is None or not ended.ok:
            return
        tuned.eval()
        after = replace(report, after=scores(tuned, run), layers=layer_sparsity(tuned),
                        nonzero_parameters=parameter_counts(tuned)[1])
        put(PruneOutcome(after, _prune_pairs(before, tuned), "fine-tuned", time.perf_counter() - t0,
                         _entries(tuned), tuned, dense_flat(run, tuned)))

    return job


def permanent_job(run, model, report, before: dict[str, np.ndarray]):
    """torch.nn.utils.prune.remove on a copy: the zeros stay, the masks (and weight_orig) go."""

    def job(put, control) -> None:
        from visualizer.core.compression.pruning import clone, make_permanent

        t0 = time.perf_counter()
        permanent = make_permanent(clone(model))
        put(PruneOutcome(report, _prune_pairs(before, permanent), "permanent", time.perf_counter() - t0,
                         _entries(permanent), permanent, dense_flat(run, permanent)))

    return job


def measure_job(run, model, do_shrink: bool, repeats: int = LATENCY_REPEATS):
    """Time the dense model against the pruned one (masks made permanent) and, with ``do_shrink``, against the
    network without its dead neurons; parameters and bytes of each."""

    def job(put, control) -> None:
        from visualizer.core.compression.measure import float_bytes, latencies, parameter_counts, scores
        from visualizer.core.compression.pruning import ShrinkFigures, clone, hidden_widths, make_permanent, shrink

        permanent = make_permanent(clone(model)).eval()
        small = shrink(permanent) if do_shrink else None
        X, _ = run.eval_tensors()
        timed = [run.model, permanent] + ([small] if small is not None else [])
        lat = latencies(timed, X, repeats=repeats)
        figures = None
        if small is not None:
            figures = ShrinkFigures(hidden_widths(small), parameter_counts(small)[0], float_bytes(small), lat[2],
                                    scores(small, run))
        put(LatencyFigures(lat[0], lat[1], figures, repeats, int(len(X)), parameter_counts(run.model)[0],
                           float_bytes(run.model)))

    return job


# --------------------------------------------------------------------------------------------------- sweeps


def sparsity_sweep_job(run, method: str, per_layer: bool, include_global: bool,
                       amounts: Sequence[float] | None = None):
    """Accuracy against sparsity (core.sensitivity.sparsity_sweep), a SweepProgress per point."""

    def job(put, control) -> None:
        from visualizer.core.compression.sensitivity import DEFAULT_AMOUNTS, sparsity_sweep

        for progress in sparsity_sweep(run, amounts or DEFAULT_AMOUNTS, per_layer=per_layer,
                                       include_global=include_global, method=method):
            put(progress)
            if control.stopped:
                raise Cancelled

    return job


def quant_sweep_job(run, method: str):
    """pow2: accuracy against k; otherwise accuracy against bits, per tensor then per channel."""

    def job(put, control) -> None:
        from visualizer.core.compression.sensitivity import DEFAULT_BITS, SweepProgress, bits_sweep, pow2_sweep

        sweeps = [pow2_sweep(run)] if method == "pow2" else [bits_sweep(run), bits_sweep(run, per_channel=True)]
        total = len(DEFAULT_BITS) * len(sweeps) if method != "pow2" else None
        done = 0
        for sweep in sweeps:
            for p in sweep:
                done += 1
                put(SweepProgress(done, total or p.n, p.point))
                if control.stopped:
                    raise Cancelled

    return job


# --------------------------------------------------------------------------------------------------- quantization


def _quant_note(layer, lo: float, hi: float) -> tuple[np.ndarray | None, str]:
    from visualizer.core.compression.quantization import levels

    if len(layer.steps) > 1:
        return None, f"{layer.bits} bits, a step per neuron"
    step = layer.steps[0]
    count = math.floor(hi / step) - math.ceil(lo / step) + 1
    shown = levels(layer, lo, hi, limit=MAX_LEVEL_LINES)
    if not shown:
        return None, f"{layer.bits} bits, step {step:.3g}, {count} levels"  # too many lines to draw
    return np.asarray(shown), f"{layer.bits} bits, step {step:.3g}, {count} levels"


def quantize_job(run, method: str, parameter: int | None, per_channel: bool, before: dict[str, np.ndarray],
                 repeats: int = LATENCY_REPEATS):
    """The core's quantize() on a copy, with histograms of the float and the quantized weights and the grid."""

    def job(put, control) -> None:
        from visualizer.core.compression.measure import weight_arrays
        from visualizer.core.compression.quantization import quantize

        t0 = time.perf_counter()
        result = quantize(run, method, parameter, per_channel=per_channel, latency_repeats=repeats)
        pairs = []
        for layer, (name, after) in zip(result.report.layers, weight_arrays(result.model).items()):
            w = before[name]
            lo, hi = min(float(w.min()), float(after.min())), max(float(w.max()), float(after.max()))
            marks, text = _quant_note(layer, lo, hi)
            step = layer.steps[0] if len(layer.steps) == 1 else None
            pairs.append(histogram_pair(name, w, after, levels=marks, step=step, note=text))
        put(QuantOutcome(result.report, tuple(pairs), time.perf_counter() - t0))

    return job


# --------------------------------------------------------------------------------------------------- distillation


def distill_job(run, hidden: tuple[int, ...], temperature: float, alpha: float, epochs: int):
    """Distil the teacher into a student and train the same student from scratch (core.distill.compare), their
    events live; the Comparison last."""

    def job(put, control) -> None:
        from visualizer.core.compression.distill import compare

        def progress(which: str, event) -> None:
            if control.stopped:
                raise Cancelled
            put(StudentEvent(which, event))

        comparison, _session = compare(run, hidden, temperature=temperature, alpha=alpha, epochs=epochs,
                                       progress=progress)
        put(comparison)

    return job
