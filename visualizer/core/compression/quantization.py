"""Quantization of the Linear weights: the article's power-of-two rule, symmetric b-bit, and torch's dynamic int8.

``pow2`` and ``bits`` are simulated: the weights stay float32 but lie exactly on their grid (so the saved file shows
what a b-bit model would compute, and the size is the theoretical one). ``int8`` uses PyTorch's dynamic quantization
(real int8 kernels on the CPU) and measures its serialized size and latency against float32.
"""

from __future__ import annotations

import contextlib
import copy
import io
import math
import warnings
from dataclasses import dataclass

import torch
from torch import nn

from visualizer.core.compression.measure import Scores, float_bytes, latencies, linear_modules, scores
from visualizer.core.compression.pruning import clone, make_permanent
from visualizer.core.errors import VisualizerError, choices
from visualizer.core.runs.loaded import LoadedRun

SCALE_BITS = 16  # significant bits kept in a b-bit scale: q·scale is then exact in float32 (q has at most 8 bits)


@dataclass(frozen=True)
class QuantMethod:
    """A registered quantization method with its one parameter (name, default and inclusive range) for forms."""

    name: str
    label: str
    formula: str
    description: str
    parameter: str | None
    default: int
    minimum: int
    maximum: int
    per_channel: bool  # whether a per-output-channel variant exists

    def check(self, value: int | None) -> int | None:
        """The parameter as an int in range; raises VisualizerError naming the value and the range."""
        if self.parameter is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or not self.minimum <= value <= self.maximum:
            raise VisualizerError(f"{self.name}: {self.parameter} = {value!r} is out of range; allowed: integers from "
                                  f"{self.minimum} to {self.maximum}")
        return value


QUANT_METHODS: dict[str, QuantMethod] = {
    m.name: m
    for m in (
        QuantMethod("pow2", "Power-of-two step (article)", "θq = round(θ / 2^k),  θ ≈ θq · 2^k",
                    "The survey article's rule: every weight becomes a whole multiple of 2^k (k = -4: steps of "
                    "1/16). Bits per layer are what the largest multiple needs, with a sign bit.", "k", -4, -16, 8,
                    False),
        QuantMethod("bits", "Symmetric b-bit", "s = max|θ| / (2^(b−1) − 1),  q = clamp(round(θ / s)),  θ ≈ q · s",
                    "Uniform levels symmetric around zero, one scale per layer or per output neuron (per channel).",
                    "bits", 8, 2, 8, True),
        QuantMethod("int8", "Dynamic int8 (PyTorch)", "torch.ao.quantization.quantize_dynamic",
                    "PyTorch's dynamic quantization of the Linear layers: int8 weights, activations quantized on the "
                    "fly, real int8 kernels on the CPU (conv layers, which it does not cover, get their weights on "
                    "the symmetric 8-bit grid). Size and latency are measured.", None, 8, 8, 8, True),
    )
}


def check_method(method: str) -> QuantMethod:
    if method not in QUANT_METHODS:
        raise VisualizerError(f"quantization method {method!r} is not known; allowed: {choices(QUANT_METHODS)}")
    return QUANT_METHODS[method]


# ------------------------------------------------------------------------------------------- the quantizers


def pow2_quantize(w: torch.Tensor, k: int) -> torch.Tensor:
    """The article's rule: round(w / 2^k) · 2^k (ties to even, as torch.round); exact in float32."""
    step = 2.0 ** k
    return torch.round(w / step) * step


def grid_scale(max_abs: torch.Tensor, qmax: int) -> torch.Tensor:
    """max|w| / qmax rounded up to SCALE_BITS significant bits (a relative change below 2^-15).

    With that scale every q·scale (|q| ≤ 127) is exactly a float32, so saved weights lie exactly on their grid;
    rounding up keeps max|w| / scale ≤ qmax. An all-zero tensor gets scale 1.
    """
    scale = max_abs.double() / qmax
    mantissa, exponent = torch.frexp(scale)  # scale = mantissa · 2^exponent, mantissa in [0.5, 1)
    mantissa = torch.ceil(mantissa * 2.0 ** SCALE_BITS) / 2.0 ** SCALE_BITS
    scale = torch.ldexp(mantissa, exponent).float()
    return torch.where(max_abs > 0, scale, torch.ones_like(scale))


def uniform_quantize(w: torch.Tensor, bits: int, per_channel: bool = False) -> tuple[torch.Tensor, torch.Tensor]:
    """Symmetric uniform b-bit quantization: (q · scale, scale), q = clamp(round(w / scale), −qmax, qmax).

    qmax = 2^(b−1) − 1; scale = max|w| / qmax per tensor, or per output channel (row; a conv layer's filter) with
    ``per_channel``.
    """
    qmax = 2 ** (bits - 1) - 1
    rows = w.reshape(w.shape[0], -1)  # a conv weight (out, in, kh, kw): one row per output channel (filter)
    max_abs = rows.abs().amax(dim=1, keepdim=True) if per_channel else w.abs().amax().reshape(1, 1)
    scale = grid_scale(max_abs, qmax)
    q = torch.clamp(torch.round(rows / scale), -qmax, qmax)
    return (q * scale).reshape(w.shape), scale.reshape(-1)


def _quantize_dynamic(model: nn.Module, per_channel: bool) -> nn.Module:
    try:
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
    except ImportError:  # pragma: no cover - a future torch without eager-mode quantization
        raise VisualizerError("int8: this PyTorch has no torch.ao.quantization.quantize_dynamic") from None
    spec = {nn.Linear: per_channel_dynamic_qconfig} if per_channel else {nn.Linear}
    with quiet_quantization():
        return quantize_dynamic(model, spec, dtype=torch.qint8)


@contextlib.contextmanager
def quiet_quantization():
    """torch 2.10+ warns that torch.ao.quantization and quantized tensors are deprecated (in favour of torchao);
    they are still the int8 path torch itself ships, so those two warnings are silenced around its use."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization is deprecated",
                                category=DeprecationWarning)
        warnings.filterwarnings("ignore", message=r".*quantized tensor creation functions", category=UserWarning)
        yield


def serialized_bytes(model: nn.Module) -> int:
    """Bytes of torch.save(model.state_dict()) in memory: the real file size of our own model (nothing is loaded)."""
    buf = io.BytesIO()
    torch.save(model.state_dict(), buf)
    return len(buf.getvalue())


# ------------------------------------------------------------------------------------------- the report


@dataclass(frozen=True)
class LayerQuant:
    """One Linear layer quantized: bits per weight, the step(s), the error against the float weights, its bytes."""

    name: str
    key: str
    bits: int
    steps: tuple[float, ...]  # one step per tensor, or one per output channel
    max_abs_error: float
    rms_error: float
    bytes: int
    float_bytes: int

    def to_dict(self) -> dict:
        out = {"name": self.name, "key": self.key, "bits": self.bits}
        out["step" if len(self.steps) == 1 else "steps"] = self.steps[0] if len(self.steps) == 1 else list(
            self.steps)
        out.update(max_abs_error=self.max_abs_error, rms_error=self.rms_error, bytes=self.bytes,
                   float_bytes=self.float_bytes)
        return out


@dataclass(frozen=True)
class QuantReport:
    """What a quantization did, per layer and in total; scores on the evaluation set before and after.

    ``bytes`` is the theoretical size: ⌈weights · bits / 8⌉ plus 4 bytes per scale (1 byte for pow2's k) per layer,
    and every other tensor (biases, batch norm) as float32. For int8, ``serialized_bytes`` are the measured sizes
    of torch.save(state_dict) for the float and the int8 model, and the latencies are medians of alternated repeats.
    """

    method: str
    parameter: int | None
    per_channel: bool
    layers: tuple[LayerQuant, ...]
    metric: str
    eval_set: str
    before: Scores
    after: Scores
    bytes_float: int
    bytes: int
    serialized_bytes_float: int | None = None
    serialized_bytes: int | None = None
    latency_float_s: float | None = None
    latency_quantized_s: float | None = None

    def to_dict(self) -> dict:
        out = {"method": self.method, "parameter": self.parameter, "per_channel": self.per_channel,
               "layers": [layer.to_dict() for layer in self.layers], "metric": self.metric,
               "eval_set": self.eval_set, "before": self.before.to_dict(self.metric),
               "after": self.after.to_dict(self.metric), "bytes_float": self.bytes_float, "bytes": self.bytes}
        if self.serialized_bytes is not None:
            out["serialized_bytes"] = {"float32": self.serialized_bytes_float, "int8": self.serialized_bytes}
            out["latency_s"] = {"float32": self.latency_float_s, "int8": self.latency_quantized_s}
        return out


@dataclass(frozen=True, eq=False)
class QuantResult:
    """``model``: float weights exactly on the grid (int8: the dequantized weights), what is saved;
    ``runtime``: what computes (the int8 model for int8, else ``model``); ``report``."""

    model: nn.Module
    runtime: nn.Module
    report: QuantReport


def _errors(w: torch.Tensor, wq: torch.Tensor) -> tuple[float, float]:
    d = (wq.double() - w.double()).reshape(-1)
    if d.numel() == 0:
        return 0.0, 0.0
    return float(d.abs().max()), float(torch.sqrt(torch.mean(d * d)))


def _layer_bytes(numel: int, bits: int, scale_bytes: int, bias: int) -> int:
    return math.ceil(numel * bits / 8) + scale_bytes + 4 * bias


def quantize(run: LoadedRun, method: str, parameter: int | None = None, *, per_channel: bool = False,
             model: nn.Module | None = None, latency_repeats: int = 30) -> QuantResult:
    """Quantize a copy of the run's model (or of ``model``, e.g. a pruned one) and measure it."""
    info = check_method(method)
    parameter = info.check(info.default if parameter is None and info.parameter else parameter)
    if per_channel and not info.per_channel:
        allowed = choices(n for n, m in QUANT_METHODS.items() if m.per_channel)
        raise VisualizerError(f"{method}: per-channel quantization applies only to {allowed}")
    base = make_permanent(clone(run.model if model is None else model)).eval()
    qmodel = copy.deepcopy(base)
    runtime, dynamic = qmodel, None
    if method == "int8":  # conv weights on the 8-bit grid first: dynamic quantization covers only Linear layers
        on_grid = copy.deepcopy(base)
        with torch.no_grad():
            for _, _, m in linear_modules(on_grid):
                if isinstance(m, nn.Conv2d):
                    m.weight.copy_(uniform_quantize(m.weight, 8, per_channel)[0])
        dynamic = _quantize_dynamic(on_grid, per_channel)
        runtime = dynamic
    layers, other = [], float_bytes(base)
    qmods = dict((p, m) for p, _, m in linear_modules(qmodel))
    for prefix, name, m in linear_modules(base):
        w, target = m.weight.detach(), qmods[prefix]
        if method == "pow2":
            step = 2.0 ** parameter
            wq = pow2_quantize(w, parameter)
            biggest = int(torch.round(w / step).abs().max()) if w.numel() else 0
            bits, steps, scale_bytes = 1 + biggest.bit_length(), (step,), 1
        elif method == "bits":
            wq, scale = uniform_quantize(w, parameter, per_channel)
            bits, steps, scale_bytes = parameter, tuple(float(s) for s in scale), 4 * scale.numel()
        elif isinstance(m, nn.Conv2d):
            wq, scale = uniform_quantize(w, 8, per_channel)
            bits, steps, scale_bytes = 8, tuple(float(s) for s in scale), 4 * scale.numel()
        else:
            qw = dynamic.get_submodule(prefix).weight()
            wq = qw.dequantize()
            scale = qw.q_per_channel_scales() if per_channel else torch.tensor([qw.q_scale()])
            bits, steps, scale_bytes = 8, tuple(float(s) for s in scale), 4 * scale.numel()
        with torch.no_grad():
            target.weight.copy_(wq)
        n_bias = m.bias.numel() if m.bias is not None else 0
        max_err, rms = _errors(w, wq)
        layer_float = 4 * (w.numel() + n_bias)
        other -= layer_float
        layers.append(LayerQuant(name, f"{prefix}.weight", bits, steps, max_err, rms,
                                 _layer_bytes(w.numel(), bits, scale_bytes, n_bias), layer_float))
    serialized = (serialized_bytes(base), serialized_bytes(dynamic)) if dynamic is not None else (None, None)
    lat = latencies([base, dynamic], run.eval_tensors()[0], latency_repeats) if dynamic is not None else (None, None)
    report = QuantReport(
        method=method, parameter=parameter, per_channel=per_channel, layers=tuple(layers), metric=run.metric_name,
        eval_set=run.eval_set_name, before=scores(base, run), after=scores(runtime, run), bytes_float=float_bytes(base),
        bytes=other + sum(layer.bytes for layer in layers), serialized_bytes_float=serialized[0],
        serialized_bytes=serialized[1], latency_float_s=lat[0], latency_quantized_s=lat[1])
    return QuantResult(qmodel.eval(), runtime.eval(), report)


def levels(report_layer: LayerQuant, lo: float, hi: float, limit: int = 512) -> list[float]:
    """The grid values of a per-tensor layer within [lo, hi] (for marking levels on a histogram); at most ``limit``."""
    step = report_layer.steps[0]
    first, last = math.ceil(lo / step), math.floor(hi / step)
    if last - first + 1 > limit:
        return []
    return [q * step for q in range(first, last + 1)]
