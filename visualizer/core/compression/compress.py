"""Compression of a trained run: prune, then quantize, and report what it costs and saves.

The pieces live beside this module: ``trained`` (loading a run, measuring), ``pruning``, ``quantization``,
``sensitivity`` (sweeps) and ``distill``. Here: the request strings of the command line ("l1:0.5", "bits:4") and
``compress``, which chains pruning and quantization on a copy and builds the report written to compression.json.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from torch import nn

from visualizer.core.compression.measure import float_bytes, latencies, linear_modules, parameter_counts, scores
from visualizer.core.compression.pruning import PRUNE_METHODS, check_amount, hidden_widths, layer_sparsity, prune
from visualizer.core.compression.quantization import QUANT_METHODS, quantize
from visualizer.core.errors import VisualizerError, choices
from visualizer.core.experiment import Experiment
from visualizer.core.runs.loaded import LoadedRun


@dataclass(frozen=True)
class PruneRequest:
    method: str
    amount: float


@dataclass(frozen=True)
class QuantRequest:
    method: str
    parameter: int | None


def parse_prune(text: str) -> PruneRequest:
    """'METHOD:AMOUNT', the amount a fraction (0.5) or a percentage (50%) from 0 to 99%."""
    method, sep, amount = text.partition(":")
    method = method.strip()
    if method not in PRUNE_METHODS or not sep:
        raise VisualizerError(f"--prune {text!r}: expected METHOD:AMOUNT with METHOD {choices(PRUNE_METHODS)} and "
                              "AMOUNT a fraction from 0 to 0.99 or a percentage from 0% to 99% (e.g. l1:0.5)")
    raw = amount.strip()
    try:
        value = float(raw[:-1]) / 100.0 if raw.endswith("%") else float(raw)
    except ValueError:
        raise VisualizerError(f"--prune {text!r}: amount {raw!r} is not a number; give a fraction from 0 to 0.99 "
                              "or a percentage from 0% to 99%") from None
    try:
        return PruneRequest(method, check_amount(value))
    except VisualizerError:
        raise VisualizerError(f"--prune {text!r}: amount {raw} is out of range; allowed: 0 to 0.99 "
                              "(0% to 99%)") from None


def parse_quantize(text: str) -> QuantRequest:
    """'pow2:K' (K an integer, the step is 2^K), 'bits:B' (B from 2 to 8) or 'int8'."""
    method, sep, value = text.partition(":")
    method = method.strip()
    usage = "expected pow2:K (step 2^K, K from -16 to 8), bits:B (B from 2 to 8) or int8"
    if method not in QUANT_METHODS:
        raise VisualizerError(f"--quantize {text!r}: {usage}")
    info = QUANT_METHODS[method]
    if info.parameter is None:
        if sep:
            raise VisualizerError(f"--quantize {text!r}: {method} takes no value; {usage}")
        return QuantRequest(method, None)
    try:
        number = int(value.strip())
    except ValueError:
        raise VisualizerError(f"--quantize {text!r}: {info.parameter} {value.strip()!r} is not an integer; "
                              f"{usage}") from None
    if not info.minimum <= number <= info.maximum:
        raise VisualizerError(f"--quantize {text!r}: {info.parameter} {number} is out of range; allowed: "
                              f"{info.minimum} to {info.maximum}")
    return QuantRequest(method, number)


@dataclass(frozen=True, eq=False)
class CompressionResult:
    """``model``: float weights to save (pruned weights exactly zero, quantized ones exactly on their grid; int8:
    dequantized); ``runtime``: what was measured; ``experiment``: the saved model's experiment (shrunk widths);
    ``report``: the JSON-ready compression.json."""

    model: nn.Module
    runtime: nn.Module
    experiment: Experiment
    report: dict


def compress(run: LoadedRun, prune_request: PruneRequest | None = None,
             quant_request: QuantRequest | None = None, *, per_channel: bool = False, shrink: bool = False,
             seed: int | None = None, latency_repeats: int = 30) -> CompressionResult:
    """Prune (then shrink, if asked) and then quantize a copy of the run's model; the original is not touched."""
    if prune_request is None and quant_request is None:
        raise VisualizerError("nothing to do: give --prune METHOD:AMOUNT and/or --quantize pow2:K|bits:B|int8")
    if shrink and prune_request is None:
        raise VisualizerError("--shrink removes pruned neurons: give --prune as well (structured:AMOUNT removes "
                              "whole neurons)")
    if per_channel and (quant_request is None or not QUANT_METHODS[quant_request.method].per_channel):
        raise VisualizerError("--per-channel applies to --quantize bits:B and int8")
    model, runtime, exp = run.model, run.model, run.experiment
    steps: dict[str, dict] = {}
    if prune_request is not None:
        pruned = prune(run, prune_request.method, prune_request.amount, seed=seed, do_shrink=shrink,
                       latency_repeats=latency_repeats)
        steps["prune"] = pruned.report.to_dict()
        model = runtime = pruned.shrunk if shrink else pruned.permanent
        if shrink and exp.model.layers:
            from visualizer.core.model.layers import with_widths

            exp = replace(exp, model=replace(exp.model, layers=with_widths(exp.model.layers, hidden_widths(model))))
        elif shrink:
            exp = replace(exp, model=replace(exp.model, hidden=hidden_widths(model)))
    quant = None
    if quant_request is not None:
        quant = quantize(run, quant_request.method, quant_request.parameter, per_channel=per_channel, model=model,
                         latency_repeats=latency_repeats)
        steps["quantize"] = quant.report.to_dict()
        model, runtime = quant.model, quant.runtime
    X, _ = run.eval_tensors()
    before_s, after_s = latencies([run.model, runtime], X, latency_repeats)
    metric = run.metric_name
    layers = _layers(model, quant)
    weights = sum(layer["weights"] for layer in layers)
    zeros = sum(layer["zeros"] for layer in layers)
    n_params, n_nonzero = parameter_counts(model)
    size = quant.report.bytes if quant is not None else float_bytes(model)
    report = {
        "run": str(run.path),
        "prune": None if prune_request is None else {"method": prune_request.method, "amount": prune_request.amount,
                                                      "shrink": shrink},
        "quantize": None if quant_request is None else {"method": quant_request.method,
                                                        "parameter": quant_request.parameter,
                                                        "per_channel": per_channel},
        "metric": metric,
        "eval_set": run.eval_set_name,
        "eval_samples": int(len(X)),
        "layers": layers,
        "total": {"weights": weights, "zeros": zeros, "sparsity": zeros / weights if weights else 0.0,
                  "parameters": n_params, "nonzero_parameters": n_nonzero, "bytes": size,
                  "float_bytes": float_bytes(run.model), "compression_ratio": float_bytes(run.model) / size},
        "before": scores(run.model, run).to_dict(metric),
        "after": scores(runtime, run).to_dict(metric),
        "latency_s": {"before": before_s, "after": after_s, "speedup": before_s / after_s if after_s else None,
                      "how": f"median seconds per forward pass of the {run.eval_set_name} batch ({len(X)} samples), "
                             f"{latency_repeats} alternated repeats"},
        "steps": steps,
    }
    return CompressionResult(model, runtime, exp, report)


def _layers(model: nn.Module, quant) -> list[dict]:
    """Per Linear layer of the final model: sparsity of the saved weights, bits, bytes, quantization error."""
    qlayers = quant.report.layers if quant is not None else None
    out = []
    for k, ((_, _, m), sp) in enumerate(zip(linear_modules(model), layer_sparsity(model))):
        n_bias = m.bias.numel() if m.bias is not None else 0
        row = {"name": sp.name, "key": sp.key, "weights": sp.total, "zeros": sp.zeros, "sparsity": sp.sparsity,
               "bits": 32, "bytes": 4 * (sp.total + n_bias), "float_bytes": 4 * (sp.total + n_bias),
               "max_abs_error": 0.0, "rms_error": 0.0}
        if qlayers is not None:
            q = qlayers[k]
            row.update(bits=q.bits, bytes=q.bytes, max_abs_error=q.max_abs_error, rms_error=q.rms_error)
            row["step" if len(q.steps) == 1 else "steps"] = q.steps[0] if len(q.steps) == 1 else list(q.steps)
        out.append(row)
    return out
