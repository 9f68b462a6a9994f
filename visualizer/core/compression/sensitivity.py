"""Sensitivity sweeps: accuracy (or R²) against sparsity, per layer and global, and against bits.

Each sweep is a generator of ``SweepProgress`` (i of n, and the point just measured), so a worker can show
progress, send partial curves and cancel by no longer iterating. Every point prunes or quantizes a fresh copy.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn.utils import prune as torch_prune

from visualizer.core.compression.measure import linear_modules, scores
from visualizer.core.compression.pruning import MAX_AMOUNT, check_amount, check_method, clone, prune_model
from visualizer.core.compression.quantization import QUANT_METHODS, pow2_quantize, uniform_quantize
from visualizer.core.runs.loaded import LoadedRun

DEFAULT_AMOUNTS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95, MAX_AMOUNT)
DEFAULT_BITS = (2, 3, 4, 5, 6, 7, 8)
DEFAULT_KS = (-8, -7, -6, -5, -4, -3, -2, -1, 0)
GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class SweepPoint:
    """One measurement: ``curve`` is 'global', a layer's name, or the quantizer ('bits', 'bits per channel');
    ``x`` the sparsity (0-1) or the bits."""

    curve: str
    x: float
    loss: float
    metric: float


@dataclass(frozen=True, slots=True)
class SweepProgress:
    """Point ``i`` (1-based) of ``n``."""

    i: int
    n: int
    point: SweepPoint


def sparsity_sweep(run: LoadedRun, amounts: Sequence[float] = DEFAULT_AMOUNTS, *, per_layer: bool = True,
                   include_global: bool = True, method: str = "l1") -> Iterator[SweepProgress]:
    """Prune one Linear layer at a time (``method``: l1, random or structured, on that layer only, the others
    intact), then all layers together ('global': torch's global L1 magnitude pruning), at each amount."""
    amounts = [check_amount(a) for a in amounts]
    info = check_method(method)
    if method == "global":
        info = check_method("l1")  # one layer alone: global magnitude pruning is per-layer magnitude pruning
    layers = linear_modules(run.model)
    if info.structured:
        layers = layers[:-1]  # the output layer's neurons are never removed
    jobs: list[tuple[str, int | None]] = [(name, k) for k, (_, name, _) in enumerate(layers)] if per_layer else []
    if include_global:
        jobs.append((GLOBAL, None))
    n, i, seed = len(jobs) * len(amounts), 0, run.experiment.train.seed
    for curve, k in jobs:
        for amount in amounts:
            if k is None:
                model = prune_model(run.model, "global", amount, seed)
            else:
                model = clone(run.model)
                target = linear_modules(model)[k][2]
                if info.structured:
                    torch_prune.ln_structured(target, "weight", amount=amount, n=2, dim=0)
                else:
                    info.apply([target], amount, seed)
            s = scores(model, run)
            i += 1
            yield SweepProgress(i, n, SweepPoint(curve, amount, s.loss, s.metric))


def _quantized_copy(run: LoadedRun, quantize) -> torch.nn.Module:
    model = copy.deepcopy(run.model)
    with torch.no_grad():
        for _, _, m in linear_modules(model):
            m.weight.copy_(quantize(m.weight))
    return model


def bits_sweep(run: LoadedRun, bits: Sequence[int] = DEFAULT_BITS, *,
               per_channel: bool = False) -> Iterator[SweepProgress]:
    """Symmetric b-bit quantization of every Linear layer at each bit width; yields each measured point."""
    bits = [QUANT_METHODS["bits"].check(b) for b in bits]
    curve = "bits per channel" if per_channel else "bits"
    for i, b in enumerate(bits, start=1):
        s = scores(_quantized_copy(run, lambda w, b=b: uniform_quantize(w, b, per_channel)[0]), run)
        yield SweepProgress(i, len(bits), SweepPoint(curve, float(b), s.loss, s.metric))


def pow2_sweep(run: LoadedRun, ks: Sequence[int] = DEFAULT_KS) -> Iterator[SweepProgress]:
    """The article's power-of-two rule at each step 2^k; x is k."""
    ks = [QUANT_METHODS["pow2"].check(k) for k in ks]
    for i, k in enumerate(ks, start=1):
        s = scores(_quantized_copy(run, lambda w, k=k: pow2_quantize(w, k)), run)
        yield SweepProgress(i, len(ks), SweepPoint("pow2", float(k), s.loss, s.metric))


def curves(points: Sequence[SweepPoint]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The measured points grouped by curve, as (x, metric) arrays in the order they came (for plots and CSV)."""
    out: dict[str, tuple[list[float], list[float]]] = {}
    for p in points:
        xs, ys = out.setdefault(p.curve, ([], []))
        xs.append(p.x)
        ys.append(p.metric)
    return {k: (np.asarray(x), np.asarray(y)) for k, (x, y) in out.items()}
