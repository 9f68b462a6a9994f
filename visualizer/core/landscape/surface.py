"""Loss (and accuracy) on a grid of a plane θ* + α·d1 + β·d2, batched across grid points.

The first Linear layer is linear in (α, β): W₁(α, β)X = W₁*X + α·D₁X + β·E₁X, so its three products are computed
once; the other layers run for a chunk of grid points at a time with batched matrix products. Networks the batched
path does not know fall back to ``loss_surface_reference``, the per-point loop of the loss-landscape scripts.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from visualizer.core.errors import VisualizerError

#: activations (grid points × samples × widest layer) per batched call when ``chunk`` is not given: small chunks
#: keep them in cache. Measured on one core: moons (1,000 × 16) fastest at 8 points per call, 16-64 up to 2x
#: slower; digits (1,797 × 128) fastest at 1-2 points per call.
CHUNK_ELEMENTS = 131_072
MAX_CHUNK = 64
#: when fewer than MIN_CHUNK grid points fit, MIN_CHUNK of them go through blocks of the samples instead (about
#: BLOCK_ELEMENTS activations per call, at least MIN_BLOCK samples): the chunk's weights are made once and every
#: block stays in cache. Measured on digits (1,797 × 128) at 2 threads: 1.2x faster than one point at a time.
MIN_CHUNK = 8
BLOCK_ELEMENTS = 262_144
MIN_BLOCK = 64
_ELEMENTWISE = (nn.ReLU, nn.Tanh, nn.Sigmoid, nn.LeakyReLU, nn.GELU, nn.Identity, nn.Dropout)


@dataclass(frozen=True, eq=False)
class LossSurface:
    """loss[i, j] (and accuracy[i, j] for classification, when asked) at θ* + alphas[j]·d1 + betas[i]·d2."""

    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray | None = None


def _task_of(y: torch.Tensor) -> str:
    return "regression" if y.is_floating_point() else "classification"


def _owned(v, dtype: torch.dtype | None = torch.float32, device: torch.device | str | None = None) -> torch.Tensor:
    """A contiguous copy of ``v`` in torch's own (64-byte aligned) memory. Math libraries may take another code
    path for another alignment of their inputs (Intel MKL documents it), and an array shared with numpy lies
    wherever the process's heap put it, which can differ from run to run: a copy makes the numbers depend on the
    values only, so that the same run and seed give the same surface."""
    t = v if isinstance(v, torch.Tensor) else torch.as_tensor(np.asarray(v))
    t = t.to(device=device if device is not None else t.device, dtype=dtype if dtype is not None else t.dtype)
    return t.clone(memory_format=torch.contiguous_format)


def _as_tensor(v) -> torch.Tensor:
    return _owned(v).reshape(-1)


def _grid(alphas, betas) -> tuple[np.ndarray, np.ndarray, torch.Tensor, torch.Tensor]:
    alphas = np.asarray(alphas, dtype=np.float64).reshape(-1)
    betas = np.asarray(betas, dtype=np.float64).reshape(-1)
    if len(alphas) == 0 or len(betas) == 0:
        raise VisualizerError("a loss surface needs at least one α and one β")
    bb, aa = np.meshgrid(betas, alphas, indexing="ij")  # row i = betas[i]
    return alphas, betas, torch.as_tensor(aa.reshape(-1), dtype=torch.float32), \
        torch.as_tensor(bb.reshape(-1), dtype=torch.float32)


def _check(model: nn.Module, center, d1, d2) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    n = sum(p.numel() for p in model.parameters())
    device = next(model.parameters()).device
    vecs = tuple(_as_tensor(v).to(device) for v in (center, d1, d2))
    for name, v in zip(("center", "d1", "d2"), vecs):
        if v.numel() != n:
            raise VisualizerError(f"{name} has {v.numel()} values; the network has {n} parameters")
    return vecs


def _batched_scores(out: torch.Tensor, y: torch.Tensor, loss_info, task: str, metric: bool):
    """Loss (G,) and accuracy (G,) or None of a batch of outputs (G, N, K), in the loss's own grid form."""
    loss = loss_info.grid_loss(out, y, task)
    acc = None
    if metric and task == "classification":
        acc = (loss_info.predict_classes(out) == y).float().mean(dim=1)
    return loss, acc


_SIGMOID = nn.Sigmoid()


def _fold_tanh(ops: list) -> list:
    """Rewrite tanh between two affine layers as a sigmoid (several times faster on CPUs):
    tanh(z) = 2σ(2z) − 1, the 2z folded into the layer before, the 2s − 1 into the Linear after."""
    ops = list(ops)
    for k in range(1, len(ops) - 1):
        kind, m, _, _ = ops[k]
        if kind != "act" or not isinstance(m, nn.Tanh) or ops[k - 1][0] not in ("linear", "bn") \
                or ops[k + 1][0] != "linear":
            continue
        pk, pm, pw, pb = ops[k - 1]
        ops[k - 1] = (pk, pm, tuple(2.0 * t for t in pw), tuple(2.0 * t for t in pb))
        ops[k] = ("act", _SIGMOID, None, None)
        nk, nm, nw, nb = ops[k + 1]
        ops[k + 1] = (nk, nm, tuple(2.0 * t for t in nw), tuple(t - w.sum(dim=1) for t, w in zip(nb, nw)))
    return ops


def _activate(m: nn.Module, h: torch.Tensor) -> torch.Tensor:
    """The activation, in place where torch has an in-place form."""
    if isinstance(m, nn.Sigmoid):
        return h.sigmoid_()
    if isinstance(m, nn.ReLU):
        return h.relu_()
    if isinstance(m, nn.Tanh):
        return h.tanh_()
    return m(h)


def _plan(model: nn.Module) -> list | None:
    """The layers as (kind, module, [flat slices of its parameters]) or None when the batched path cannot run it."""
    if not isinstance(model, nn.Sequential):
        return None
    offsets, start = {}, 0
    for p in model.parameters():
        offsets[id(p)] = slice(start, start + p.numel())
        start += p.numel()
    plan = []
    for m in model:
        if isinstance(m, nn.Linear) and m.bias is not None:
            plan.append(("linear", m, offsets[id(m.weight)], offsets[id(m.bias)]))
        elif isinstance(m, nn.BatchNorm1d) and m.affine and m.track_running_stats and m.running_mean is not None:
            plan.append(("bn", m, offsets[id(m.weight)], offsets[id(m.bias)]))
        elif isinstance(m, _ELEMENTWISE):
            if not isinstance(m, nn.Dropout):  # evaluation mode: dropout is the identity
                plan.append(("act", m, None, None))
        else:
            return None
    if not plan or plan[0][0] != "linear":
        return None
    return plan


@torch.no_grad()
def loss_surface(model: nn.Module, loss_info, X, y, center, d1, d2, alphas, betas, metric: bool = False,
                 chunk: int | None = None) -> LossSurface:
    """Loss (and, with ``metric``, accuracy) at every grid point, the network in evaluation mode (batch norm with
    its running statistics, no dropout), on the device of the model's parameters; equal to
    ``loss_surface_reference`` within float32 rounding. ``chunk`` grid points go through the network at once
    (default: as many as keep about CHUNK_ELEMENTS activations, 1 to MAX_CHUNK)."""
    plan = _plan(model)
    if plan is None:
        return loss_surface_reference(model, loss_info, X, y, center, d1, d2, alphas, betas, metric)
    c, u, v = _check(model, center, d1, d2)
    alphas, betas, aa, bb = _grid(alphas, betas)
    X, y = _owned(X, device=c.device), _owned(y, None, c.device)
    aa, bb = aa.to(c.device), bb.to(c.device)
    task = _task_of(y)
    ops = _fold_tanh([(kind, m, None if ws is None else tuple(t[ws].view(m.weight.shape) for t in (c, u, v)),
                       None if bs is None else tuple(t[bs] for t in (c, u, v))) for kind, m, ws, bs in plan])
    # the first layer, once: Z(α, β) = Z0 + α·ZD + β·ZE, stacked (3, N·H) so that a chunk is one small GEMM
    _, _, wparts, bparts = ops[0]
    Z = torch.stack([torch.addmm(bp, X, wp.T) for wp, bp in zip(wparts, bparts)]).view(3, -1)
    n, width = len(X), wparts[0].shape[0]
    widest = max(m.out_features for kind, m, _, _ in ops if kind == "linear")
    block = n
    if chunk is None:
        chunk = min(MAX_CHUNK, max(1, CHUNK_ELEMENTS // (n * widest)))
        if chunk < MIN_CHUNK:  # big data: several grid points over blocks of samples, all in cache
            chunk = MIN_CHUNK
            block = max(MIN_BLOCK, BLOCK_ELEMENTS // (chunk * widest))
    chunk = max(1, int(chunk))
    Z = Z.view(3, n, width)
    blocks = [(Z[:, s:s + block].reshape(3, -1), y[s:s + block]) for s in range(0, n, block)]
    rest = []  # (kind, module, the (θ*, d1, d2) parts of its weight stacked (3, in·out), of its bias (3, out))
    for kind, m, wp, bp in ops[1:]:
        if kind == "linear":
            wp = tuple(p.T.contiguous() for p in wp)  # (in, out), as bmm wants them
        rest.append((kind, m, None if wp is None else (torch.stack(wp).view(3, -1), wp[0].shape),
                     None if bp is None else torch.stack(bp)))
    losses, accs = [], []
    for start in range(0, len(aa), chunk):
        a, b = aa[start:start + chunk], bb[start:start + chunk]
        g = len(a)
        coef = torch.stack([torch.ones_like(a), a, b], dim=1)  # (G, 3)
        layers = []  # this chunk's weights, made once for all the sample blocks
        for kind, m, wparts, bparts in rest:
            if kind == "act":
                layers.append((kind, m, None, None))
                continue
            stacked, shape = wparts
            bias = torch.mm(coef, bparts)  # (G, out)
            if kind == "linear":
                layers.append((kind, m, torch.mm(coef, stacked).view(g, *shape), bias.unsqueeze(1)))
            else:  # eval-mode batch norm: running statistics fixed, γ and β move with (α, β)
                scale = torch.mm(coef, stacked) * torch.rsqrt(m.running_var + m.eps)
                layers.append((kind, m, scale.unsqueeze(1), (bias - m.running_mean * scale).unsqueeze(1)))
        loss_sum = acc_sum = None
        for zb, yb in blocks:
            h = torch.mm(coef, zb).view(g, len(yb), width)
            for kind, m, w, bias in layers:
                if kind == "act":
                    h = _activate(m, h)
                elif kind == "linear":
                    h = torch.baddbmm(bias, h, w)
                else:
                    h = torch.addcmul(bias, h, w)
            loss, acc = _batched_scores(h, yb, loss_info, task, metric)
            share = len(yb) / n  # each block's mean, weighted by its share of the samples
            loss_sum = loss * share if loss_sum is None else loss_sum + loss * share
            if acc is not None:
                acc_sum = acc * share if acc_sum is None else acc_sum + acc * share
        losses.append(loss_sum)
        if acc_sum is not None:
            accs.append(acc_sum)
    loss = torch.cat(losses).double().cpu().numpy().reshape(len(betas), len(alphas))
    acc = torch.cat(accs).double().cpu().numpy().reshape(len(betas), len(alphas)) if accs else None
    return LossSurface(alphas, betas, loss, acc)


@torch.no_grad()
def loss_surface_reference(model: nn.Module, loss_info, X, y, center, d1, d2, alphas, betas,
                           metric: bool = False) -> LossSurface:
    """The slow per-point loop of the loss-landscape scripts: set the weights of a copy of the network with
    ``vector_to_parameters``, one forward pass over the data per grid point (evaluation mode)."""
    c, u, v = _check(model, center, d1, d2)
    alphas, betas, aa, bb = _grid(alphas, betas)
    X = torch.as_tensor(X, dtype=torch.float32, device=c.device)
    y = torch.as_tensor(y, device=c.device)
    aa, bb = aa.to(c.device), bb.to(c.device)
    task = _task_of(y)
    net = copy.deepcopy(model).eval()
    losses, accs = [], []
    for a, b in zip(aa.tolist(), bb.tolist()):
        torch.nn.utils.vector_to_parameters(c + a * u + b * v, net.parameters())
        out = net(X)
        losses.append(float(loss_info(out, y, task)))
        if metric and task == "classification":
            accs.append(float((loss_info.predict_classes(out) == y).float().mean()))
    loss = np.asarray(losses, dtype=np.float64).reshape(len(betas), len(alphas))
    acc = np.asarray(accs, dtype=np.float64).reshape(len(betas), len(alphas)) if accs else None
    return LossSurface(alphas, betas, loss, acc)
