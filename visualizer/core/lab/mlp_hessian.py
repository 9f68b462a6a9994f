"""Hessian-vector products of a plain MLP by Pearlmutter's R-operator, written out as matrix products.

``LossHessian`` takes each product by double backward through autograd's graph: exact for any network, but on the
small networks this app trains the engine's per-node overhead is most of the cost (0.4 ms a product on the moons
preset's 2-16-16-2 net and 800 samples). For a network of Linear layers and elementwise activations (tanh, ReLU,
sigmoid, identity) with cross-entropy on classes or squared error on one regression output, the same product is
one forward and one backward pass of the directional derivatives (Pearlmutter 1994, "Fast exact multiplication by
the Hessian"): with z_l = a_{l-1} W_lᵀ + b_l, a_l = f(z_l) and δ_l = ∂L/∂z_l,

    R(z_l) = R(a_{l-1}) W_lᵀ + a_{l-1} V_lᵀ + v_l,            R(a_l) = f'(z_l) R(z_l)
    R(δ_{l-1}) = (R(δ_l) W_l + δ_l V_l) f'(z_{l-1}) + (δ_l W_l) f''(z_{l-1}) R(z_{l-1})
    (H v)_{W_l} = R(δ_l)ᵀ a_{l-1} + δ_lᵀ R(a_{l-1}),          (H v)_{b_l} = Σ R(δ_l)

in numpy in the model's float type (numpy's small-array calls cost a microsecond or two where torch's cost five to
ten: on the moons preset 0.17-0.25 ms a product against 0.31-0.55, 0.13 ms to set up against 0.27), against which the
autograd product agrees to float rounding (tests: 1e-10 relative on float64 nets, 1e-5 on float32 ones). Anything
else (batch norm, dropout, other activations, convolutions, other losses) returns None and the caller uses
``LossHessian``.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

#: the activations written out here, by their f(z): numpy's small-array calls cost a microsecond or two where
#: torch's cost five to ten, which on these networks is the whole product
_ACTIVATIONS = {nn.Tanh: np.tanh, nn.ReLU: lambda z: np.maximum(z, 0.0),
                nn.Sigmoid: lambda z: 1.0 / (1.0 + np.exp(-z)), nn.Identity: lambda z: z}


def _derivatives(kind, z: np.ndarray, a: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
    """f'(z) and f''(z) (None where it is 0) from z and a = f(z)."""
    if kind is nn.Tanh:
        d1 = 1.0 - a * a
        return d1, -2.0 * a * d1
    if kind is nn.Sigmoid:
        d1 = a * (1.0 - a)
        return d1, d1 * (1.0 - 2.0 * a)
    if kind is nn.ReLU:
        return (z > 0).astype(z.dtype), None  # f'' = 0 (almost everywhere, as autograd has it)
    return np.ones_like(z), None


class MLPHessian:
    """The Hessian of the mean loss of a plain MLP on (X, y) at its current weights, as products v ↦ Hv (float64
    vectors on the CPU, in ``model.parameters()`` order, as ``LossHessian``). Build it with ``mlp_hessian``.

    Each layer's input carries a column of ones and its direction the bias as a last column, so that one matrix
    product gives z's direction with its bias, and one the weights' part of Hv with the bias's (the sum over the
    samples): numpy adds a bias row by row and sums a column in a loop (5-15 µs each on moons' 800 × 16 arrays)
    where a product with the ones takes 1-2. ``_order`` takes a flat vector to that layout, and back."""

    def __init__(self, layers: list[tuple[torch.Tensor, torch.Tensor, type | None]], curvature,
                 X: torch.Tensor, y: torch.Tensor, task: str) -> None:
        dtype = np.float32 if layers[0][0].dtype == torch.float32 else np.float64  # the model's, as autograd's
        self.dtype = dtype
        self.weights = [w.detach().cpu().numpy().astype(dtype) for w, _b, _ in layers]
        self.shapes = tuple(w.shape for w in self.weights)
        self._order, ends = _layout(self.shapes)
        self.n = int(ends[-1])
        #: each layer's slice of the per-row layout and its shape (slices: np.split costs 20 µs a product)
        self._parts = [(int(end) - rows * (cols + 1), int(end), (rows, cols + 1))
                       for end, (rows, cols) in zip(ends, self.shapes)]
        self.products = 0
        a = X.detach().cpu().numpy().astype(dtype)
        self.inputs, self.d1, self.d2 = [], [], []  # per layer: its input [a_{k-1}, 1]; f', f'' of its output
        for (w, b, kind) in layers:
            self.inputs.append(_with_ones(a))
            wb = np.empty((w.shape[0], w.shape[1] + 1), dtype)
            wb[:, :-1], wb[:, -1] = w.detach().cpu().numpy(), b.detach().cpu().numpy()
            z = self.inputs[-1] @ wb.T
            if kind is None:  # the output layer
                a = z
                self.d1.append(None)
                self.d2.append(None)
            else:
                a = _ACTIVATIONS[kind](z)
                d1, d2 = _derivatives(kind, z, a)
                self.d1.append(d1)
                self.d2.append(d2)
        out = curvature(a, y.detach().cpu().numpy(), task)
        if out is None:
            raise LookupError("the loss's curvature is not written out for this task")
        delta, self._output_product = out  # ∂L/∂z of the output, and v ↦ ∂²L/∂z² v
        delta = delta.astype(dtype)
        self.deltas = [None] * len(self.weights)  # δ_l = ∂L/∂z_l
        self.curved = [None] * len(self.weights)  # (δ_l W_l) f''(z_{l-1}): the same in every product
        for k in range(len(self.weights) - 1, -1, -1):
            self.deltas[k] = delta
            if k:
                back = delta @ self.weights[k]
                if self.d2[k - 1] is not None:
                    self.curved[k] = back * self.d2[k - 1]
                delta = back * self.d1[k - 1]

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(self.numpy_product(v.detach().cpu().numpy()))

    def numpy_product(self, v: np.ndarray) -> np.ndarray:
        """H v for a float64 numpy vector v (float64: what core.lab.hessian's iterations call)."""
        flat = v[self._order].astype(self.dtype)
        dirs = [flat[start:end].reshape(shape) for start, end, shape in self._parts]
        r_a, r_as, r_z = None, [], []  # R-forward: R(z_l) and R(a_l) for every layer
        for k, (w, vwb) in enumerate(zip(self.weights, dirs)):
            rz = self.inputs[k] @ vwb.T
            if r_a is not None:
                rz += r_a @ w.T
            r_z.append(rz)
            if self.d1[k] is not None:
                r_a = self.d1[k] * rz
                r_as.append(r_a)
        r_delta = self._output_product(r_z[-1]).astype(self.dtype)  # R of the output's δ
        grads = [None] * len(self.weights)  # R-backward
        for k in range(len(self.weights) - 1, -1, -1):
            gwb = r_delta.T @ self.inputs[k]  # [R(δ_l)ᵀ a_{l-1}, Σ R(δ_l)]
            if k:
                delta = self.deltas[k]
                gwb[:, :-1] += delta.T @ r_as[k - 1]
                r_prev = (r_delta @ self.weights[k] + delta @ dirs[k][:, :-1]) * self.d1[k - 1]
                if self.curved[k] is not None:
                    r_prev += self.curved[k] * r_z[k - 1]
                r_delta = r_prev
            grads[k] = gwb.reshape(-1)
        out = np.empty(self.n)
        out[self._order] = np.concatenate(grads)
        self.products += 1
        return out


@functools.lru_cache(maxsize=8)
def _layout(shapes: tuple) -> tuple[np.ndarray, np.ndarray]:
    """For layers of weight ``shapes``: where each entry of the per-row [W row, b] layout sits in the flat vector
    (W row by row, then b, layer after layer), and where each layer's part of that layout ends."""
    order, offset = [], 0
    for rows, cols in shapes:
        index = np.empty((rows, cols + 1), np.int64)
        index[:, :cols] = offset + np.arange(rows * cols).reshape(rows, cols)
        index[:, cols] = offset + rows * cols + np.arange(rows)
        order.append(index.reshape(-1))
        offset += rows * (cols + 1)
    return np.concatenate(order), np.cumsum([rows * (cols + 1) for rows, cols in shapes])


def _with_ones(a: np.ndarray) -> np.ndarray:
    """[a, 1]: ``a`` with a column of ones after it."""
    out = np.empty((a.shape[0], a.shape[1] + 1), a.dtype)
    out[:, :-1], out[:, -1] = a, 1
    return out


def mlp_layers(model: nn.Module) -> list[tuple[torch.Tensor, torch.Tensor, type | None]] | None:
    """(weight, bias, activation class or None for the output layer) of each Linear layer of ``model`` when it is
    a plain MLP (a Sequential of Linear layers, each hidden one followed by a tanh, ReLU, sigmoid or identity);
    None otherwise. The tensors are the model's own: a measurement reads their values when it starts."""
    if not isinstance(model, nn.Sequential):
        return None
    modules = list(model)
    layers: list[tuple[torch.Tensor, torch.Tensor, type | None]] = []
    i = 0
    while i < len(modules):
        lin = modules[i]
        if not isinstance(lin, nn.Linear) or lin.bias is None:
            return None
        if i == len(modules) - 1:
            layers.append((lin.weight, lin.bias, None))
            break
        act = modules[i + 1]
        if type(act) not in _ACTIVATIONS:
            return None
        layers.append((lin.weight, lin.bias, type(act)))
        i += 2
    if not layers or layers[-1][2] is not None:
        return None  # it ended on an activation: not this app's MLP
    params = [p for p in model.parameters()]
    ordered = [t for w, b, _ in layers for t in (w, b)]
    if len(params) != len(ordered) or any(p is not q for p, q in zip(params, ordered)):
        return None
    return layers


def mlp_hessian(model: nn.Module, loss_info, X: torch.Tensor, y: torch.Tensor, layers=None) -> MLPHessian | None:
    """The R-operator products for ``model`` when it is a plain MLP (``mlp_layers``; ``layers``: what it gave
    for this model, when the caller kept it) under a loss whose registry entry writes out its curvature in the
    outputs (``LossInfo.output_curvature``: cross-entropy; squared error on one regression output); None
    otherwise (the caller takes ``LossHessian``)."""
    from visualizer.core.lab.hessian import task_of

    curvature = getattr(loss_info, "output_curvature", None)
    if curvature is None:
        return None
    layers = layers if layers is not None else mlp_layers(model)
    if layers is None:
        return None
    try:
        return MLPHessian(layers, curvature, X, y, task_of(y))
    except LookupError:  # (squared error on classes: not written out)
        return None
