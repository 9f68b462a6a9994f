"""Pruning with torch.nn.utils.prune, always on a copy: magnitude per layer or global, random, whole neurons.

``prune_model`` returns a pruned copy that keeps torch's masks (so fine-tuning holds them); ``make_permanent`` removes
the re-parametrisation; ``shrink`` physically removes dead neurons; ``prune`` does all that on a loaded run and
measures it in a ``PruneReport``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field

import torch
from torch import nn
from torch.nn.utils import prune as torch_prune
from torch.nn.utils import skip_init

from visualizer.core.compression.measure import (
    Scores,
    float_bytes,
    latencies,
    linear_modules,
    parameter_counts,
    scores,
)
from visualizer.core.errors import VisualizerError, choices
from visualizer.core.runs.loaded import LoadedRun

MAX_AMOUNT = 0.99


@dataclass(frozen=True)
class PruneMethod:
    """A registered pruning method: what the panel shows, and how it masks the Linear layers of a copy."""

    name: str
    label: str
    description: str
    structured: bool
    #: masks the given Linear layers in place: (all Linear layers in order, amount, seed)
    apply: Callable[[list[nn.Linear], float, int], None] = field(repr=False)


def _l1(layers: list[nn.Linear], amount: float, seed: int) -> None:
    for m in layers:
        torch_prune.l1_unstructured(m, "weight", amount=amount)


def _global(layers: list[nn.Linear], amount: float, seed: int) -> None:
    torch_prune.global_unstructured([(m, "weight") for m in layers], pruning_method=torch_prune.L1Unstructured,
                                    amount=amount)


def _random(layers: list[nn.Linear], amount: float, seed: int) -> None:
    with torch.random.fork_rng(devices=[]):  # seeded without disturbing the caller's random state
        torch.manual_seed(seed)
        for m in layers:
            torch_prune.random_unstructured(m, "weight", amount=amount)


def _structured(layers: list[nn.Linear], amount: float, seed: int) -> None:
    hidden = layers[:-1]  # the output layer's neurons are the predictions: never removed
    if not hidden:
        raise VisualizerError("structured pruning removes hidden neurons, and this network has no hidden layer; "
                              "use l1, global or random")
    for m in hidden:
        torch_prune.ln_structured(m, "weight", amount=amount, n=2, dim=0)


PRUNE_METHODS: dict[str, PruneMethod] = {
    m.name: m
    for m in (
        PruneMethod("l1", "Magnitude per layer (L1)",
                    "In every weighted layer (dense or conv), zero the given share of weights with the smallest "
                    "absolute value.",
                    False, _l1),
        PruneMethod("global", "Magnitude, global (L1)",
                    "Zero the given share of all weights together, smallest absolute value first: layers "
                    "with small weights lose more.", False, _global),
        PruneMethod("random", "Random", "In every weighted layer, zero the given share of weights chosen at random "
                    "(seeded): the baseline magnitude pruning should beat.", False, _random),
        PruneMethod("structured", "Whole neurons (L2)",
                    "In every hidden layer, remove the given share of neurons (conv layers: output channels, whole "
                    "filters) with the smallest L2 norm of incoming weights; 'shrink' then makes the network really "
                    "smaller.", True, _structured),
    )
}


def check_amount(amount: float) -> float:
    """The amount as a float in [0, 0.99]; anything else raises VisualizerError naming the value and range."""
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not 0.0 <= float(amount) <= MAX_AMOUNT:
        raise VisualizerError(f"pruning amount {amount!r} is out of range; allowed: 0 to {MAX_AMOUNT} "
                              f"(0% to {MAX_AMOUNT:.0%} of the weights)")
    return float(amount)


def check_method(method: str) -> PruneMethod:
    if method not in PRUNE_METHODS:
        raise VisualizerError(f"pruning method {method!r} is not known; allowed: {choices(PRUNE_METHODS)}")
    return PRUNE_METHODS[method]


def clone(model: nn.Module) -> nn.Module:
    """A deep copy that also works on a pruned model.

    A pruned module's ``weight`` is ``weight_orig * weight_mask`` recomputed by a forward pre-hook before every
    forward; deepcopy refuses that non-leaf tensor, so it is replaced by the same values detached first.
    """
    for module in model.modules():
        for name, _ in list(module.named_buffers(recurse=False)):
            if name.endswith("_mask"):
                base = name.removesuffix("_mask")
                setattr(module, base, getattr(module, base).detach())
    return copy.deepcopy(model)


def prune_model(model: nn.Module, method: str, amount: float, seed: int = 0) -> nn.Module:
    """A pruned copy of ``model`` carrying torch's masks (``weight_mask``); the original is not touched."""
    info, amount = check_method(method), check_amount(amount)
    pruned = clone(model)
    info.apply([m for _, _, m in linear_modules(pruned)], amount, seed)
    pruned.eval()
    return pruned


def make_permanent(model: nn.Module) -> nn.Module:
    """Remove torch's pruning re-parametrisation in place (``prune.remove``): the zeros stay, the masks go."""
    for module in model.modules():
        for name, _ in list(module.named_buffers(recurse=False)):
            if name.endswith("_mask"):
                torch_prune.remove(module, name.removesuffix("_mask"))
    return model


def masks(model: nn.Module) -> dict[str, torch.Tensor]:
    """torch's masks of a pruned model by state_dict key of the weight ('0.weight'); empty when not pruned."""
    return {f"{prefix}.weight": m.weight_mask for prefix, _, m in linear_modules(model) if hasattr(m, "weight_mask")}


@dataclass(frozen=True)
class LayerSparsity:
    """Zeros in one Linear layer's weight matrix."""

    name: str
    key: str
    total: int
    zeros: int

    @property
    def sparsity(self) -> float:
        return self.zeros / self.total if self.total else 0.0

    def to_dict(self) -> dict:
        return {"name": self.name, "key": self.key, "total": self.total, "zeros": self.zeros,
                "sparsity": self.sparsity}


def layer_sparsity(model: nn.Module) -> tuple[LayerSparsity, ...]:
    """Per Linear layer: weights and how many are exactly zero (a masked weight counts as its masked value)."""
    out = []
    for prefix, name, m in linear_modules(model):
        w = m.weight.detach()
        out.append(LayerSparsity(name, f"{prefix}.weight", w.numel(), w.numel() - int(torch.count_nonzero(w))))
    return tuple(out)


@torch.no_grad()
def shrink(model: nn.Module) -> nn.Module:
    """A smaller copy without the hidden neurons (or conv output channels) whose incoming weights are all zero;
    same outputs in eval mode.

    A dead neuron still outputs a constant, activation(bias) (through batch norm's running statistics when
    present); a dead channel outputs that constant over its whole feature map (pooling keeps a constant map
    constant). That constant times the next layer's matching weights is added to the next layer's bias: its columns
    (one per position of the channel once flattened) for a dense layer, the sum of its kernel for a convolution
    (no padding: every output position sees the whole kernel). Then the rows of layer k, its batch-norm entries
    and the next layer's matching inputs can go. A layer keeps at least one neuron or channel.
    """
    m = make_permanent(clone(model)).eval()
    idx = [i for i, mod in enumerate(m) if isinstance(mod, (nn.Linear, nn.Conv2d))]
    for k, i in enumerate(idx[:-1]):
        j = idx[k + 1]
        lay, nxt = m[i], m[j]
        dead = (lay.weight.flatten(1) == 0).all(dim=1)
        if not dead.any() or (isinstance(nxt, nn.Conv2d) and nxt.padding not in ((0, 0), "valid")):
            continue
        if dead.all():
            dead[0] = False
        keep = ~dead
        h = (lay.bias if lay.bias is not None else torch.zeros(len(dead))).reshape(1, -1)
        for b in range(i + 1, j):  # the constant through what lies between; pooling and flatten keep it
            if not isinstance(m[b], (nn.MaxPool2d, nn.AvgPool2d, nn.Flatten, nn.Dropout)):
                h = m[b](h)
        bias = nxt.bias if nxt.bias is not None else torch.zeros(nxt.weight.shape[0])
        if isinstance(nxt, nn.Linear):
            per = nxt.in_features // len(dead)  # inputs per neuron or channel: its positions once flattened
            cols = dead.repeat_interleave(per)
            m[j] = _linear(nxt.weight[:, ~cols], bias + nxt.weight[:, cols] @ h[0].repeat_interleave(per)[cols])
        else:
            m[j] = _conv(nxt, nxt.weight[:, keep], bias + nxt.weight[:, dead].sum(dim=(2, 3)) @ h[0, dead])
        if isinstance(lay, nn.Linear):
            m[i] = _linear(lay.weight[keep], lay.bias[keep] if lay.bias is not None else None)
        else:
            m[i] = _conv(lay, lay.weight[keep], lay.bias[keep] if lay.bias is not None else None)
        for b in range(i + 1, j):
            if isinstance(m[b], nn.BatchNorm1d):
                m[b] = _batch_norm(m[b], keep)
    return m.eval()


def _linear(weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Linear:
    out = skip_init(nn.Linear, weight.shape[1], weight.shape[0], bias=bias is not None)
    out.weight.copy_(weight)
    if bias is not None:
        out.bias.copy_(bias)
    return out


def _conv(like: nn.Conv2d, weight: torch.Tensor, bias: torch.Tensor | None) -> nn.Conv2d:
    """A Conv2d like ``like`` (kernel, stride, padding) with the given weight (out, in, kh, kw) and bias."""
    out = skip_init(nn.Conv2d, weight.shape[1], weight.shape[0], like.kernel_size, stride=like.stride,
                    padding=like.padding, dilation=like.dilation, bias=bias is not None)
    out.weight.copy_(weight)
    if bias is not None:
        out.bias.copy_(bias)
    return out


def _batch_norm(bn: nn.BatchNorm1d, keep: torch.Tensor) -> nn.BatchNorm1d:
    out = nn.BatchNorm1d(int(keep.sum()), eps=bn.eps, momentum=bn.momentum, affine=bn.affine,
                         track_running_stats=bn.track_running_stats)
    state = {k: (v[keep] if v.ndim == 1 else v) for k, v in bn.state_dict().items()}
    out.load_state_dict(state)
    return out.eval()


def hidden_widths(model: nn.Module) -> tuple[int, ...]:
    """Widths of the hidden weighted layers, neurons or conv channels (after a shrink, the real ones)."""
    return tuple(m.weight.shape[0] for _, _, m in linear_modules(model)[:-1])


@dataclass(frozen=True)
class ShrinkFigures:
    """The physically smaller network: its widths, parameters, bytes and measured latency."""

    hidden: tuple[int, ...]
    parameters: int
    bytes: int
    latency_s: float
    after: Scores


@dataclass(frozen=True)
class PruneReport:
    """What a pruning did: per-layer and total sparsity, scores before and after, sizes and latencies.

    Scores and latencies are measured on the evaluation set (``eval_set``: the validation set, or the training set
    when the run holds none out); latencies are medians of alternated repeats on that whole batch. The pruned model
    is measured with the masks made permanent, as it would be deployed: dense, so about as fast as the original.
    """

    method: str
    amount: float
    seed: int
    layers: tuple[LayerSparsity, ...]
    metric: str
    eval_set: str
    before: Scores
    after: Scores
    parameters: int
    nonzero_parameters: int
    bytes_dense: int
    latency_dense_s: float
    latency_pruned_s: float
    shrunk: ShrinkFigures | None = None

    @property
    def total(self) -> int:
        return sum(layer.total for layer in self.layers)

    @property
    def zeros(self) -> int:
        return sum(layer.zeros for layer in self.layers)

    @property
    def sparsity(self) -> float:
        return self.zeros / self.total if self.total else 0.0

    def to_dict(self) -> dict:
        out = {
            "method": self.method, "amount": self.amount, "seed": self.seed,
            "layers": [layer.to_dict() for layer in self.layers],
            "total": {"total": self.total, "zeros": self.zeros, "sparsity": self.sparsity},
            "metric": self.metric, "eval_set": self.eval_set,
            "before": self.before.to_dict(self.metric), "after": self.after.to_dict(self.metric),
            "parameters": self.parameters, "nonzero_parameters": self.nonzero_parameters,
            "bytes_dense": self.bytes_dense,
            "latency_s": {"dense": self.latency_dense_s, "pruned": self.latency_pruned_s},
        }
        if self.shrunk is not None:
            s = self.shrunk
            out["shrunk"] = {"hidden": list(s.hidden), "parameters": s.parameters, "bytes": s.bytes,
                             "latency_s": s.latency_s, "after": s.after.to_dict(self.metric)}
        return out


@dataclass(frozen=True, eq=False)
class PruneResult:
    """The pruned copy (masks held), the same with the masks made permanent, the shrunk network if asked, and the
    report. Models stay on the thread that made them; only the report crosses to the GUI."""

    masked: nn.Module
    permanent: nn.Module
    shrunk: nn.Module | None
    report: PruneReport


def prune(run: LoadedRun, method: str, amount: float, *, seed: int | None = None, model: nn.Module | None = None,
          do_shrink: bool = False, latency_repeats: int = 30) -> PruneResult:
    """Prune a copy of the run's model (or of ``model``) and measure it; ``seed`` defaults to the run's seed."""
    seed = run.experiment.train.seed if seed is None else seed
    base = run.model if model is None else model
    masked = prune_model(base, method, amount, seed)
    permanent = make_permanent(clone(masked))
    small = shrink(permanent) if do_shrink else None
    X, _ = run.eval_tensors()
    timed = [base, permanent] + ([small] if small is not None else [])
    lat = latencies(timed, X, repeats=latency_repeats)
    total, nonzero = parameter_counts(permanent)
    figures = None
    if small is not None:
        figures = ShrinkFigures(hidden_widths(small), parameter_counts(small)[0], float_bytes(small), lat[2],
                                scores(small, run))
    report = PruneReport(
        method=method, amount=float(amount), seed=seed, layers=layer_sparsity(masked), metric=run.metric_name,
        eval_set=run.eval_set_name, before=scores(base, run), after=scores(permanent, run), parameters=total,
        nonzero_parameters=nonzero, bytes_dense=float_bytes(permanent), latency_dense_s=lat[0],
        latency_pruned_s=lat[1], shrunk=figures)
    return PruneResult(masked, permanent, small, report)
