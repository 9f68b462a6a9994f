"""The curvature of the training loss: Hessian-vector products and the Lanczos iteration on them.

``LossHessian`` is the Hessian of the mean loss of a model on a fixed batch, as an operator v ↦ Hv (double backward
through one gradient graph, kept for all products). ``lanczos`` builds its Krylov basis with full
re-orthogonalisation (the vectors in float64 on the CPU, the products in the model's dtype and device); the
eigenvalue routines (``top_eigen``, ``top_eigenvalues``) and the density (``spectrum``) read their answers off the
tridiagonal matrix it returns.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from visualizer.core.errors import VisualizerError
from visualizer.core.model.nets import flat_parameters


def task_of(y: torch.Tensor) -> str:
    """'classification' for integer targets, 'regression' otherwise (what LossInfo.__call__ needs)."""
    return "regression" if y.is_floating_point() else "classification"


class LossHessian:
    """The Hessian of ``loss_info``'s mean loss of ``model`` on (X, y) w.r.t. all its parameters (flattened in
    ``model.parameters()`` order), at the weights the model holds now, as Hessian-vector products.

    The model is evaluated in evaluation mode (dropout off, batch norm on its running statistics) so that the
    products are those of one fixed function. The products differentiate through the model's own parameters (no
    copy: the cheapest way, for a measurement every few training steps), so they must be taken before the weights
    change again; the model's ``.grad`` is left as it was. Only the data loss: a regularisation penalty is not part
    of it.
    """

    def __init__(self, model: nn.Module, loss_info, X: torch.Tensor, y: torch.Tensor) -> None:
        self.params = [p for p in model.parameters()]
        self.n = sum(p.numel() for p in self.params)
        self._shapes = [p.shape for p in self.params]
        self._sizes = [p.numel() for p in self.params]
        ref = self.params[0]
        self._device, self._dtype = ref.device, ref.dtype
        was_training = model.training
        model.eval()
        try:
            with torch.enable_grad():
                self.loss = loss_info(model(X), y, task_of(y))
                grads = torch.autograd.grad(self.loss, self.params, create_graph=True, allow_unused=True)
        finally:
            model.train(was_training)
        self._grads = [torch.zeros_like(p) if g is None else g for g, p in zip(grads, self.params)]
        #: how many Hessian-vector products were computed (the cost of a measurement)
        self.products = 0

    def gradient(self) -> np.ndarray:
        """The gradient of the loss (float64)."""
        return torch.cat([g.detach().reshape(-1) for g in self._grads]).double().cpu().numpy()

    def __call__(self, v: torch.Tensor) -> torch.Tensor:
        """H v for a float64 CPU vector v; returns float64 on the CPU."""
        parts = torch.split(v.to(self._device, self._dtype), self._sizes)
        outs = torch.autograd.grad(self._grads, self.params, grad_outputs=[t.reshape(s) for t, s in
                                                                          zip(parts, self._shapes)],
                                   retain_graph=True, allow_unused=True)
        self.products += 1
        return torch.cat([torch.zeros(n, dtype=torch.float64) if h is None else h.detach().reshape(-1).double().cpu()
                          for h, n in zip(outs, self._sizes)])


@dataclass(frozen=True)
class Tridiagonal:
    """What ``lanczos`` found: the diagonal (m,) and off-diagonal (m-1,) of T = QᵀHQ, the basis Q (m, n) and the
    norm of the residual after the last vector (0 when the Krylov space closed)."""

    alphas: np.ndarray
    betas: np.ndarray
    basis: np.ndarray
    residual: float

    def matrix(self) -> np.ndarray:
        m = len(self.alphas)
        t = np.zeros((m, m))
        t.flat[::m + 1] = self.alphas  # (flat strides: three np.diag calls cost more than the small eigh itself)
        t.flat[1::m + 1] = self.betas[:m - 1]
        t.flat[m::m + 1] = self.betas[:m - 1]
        return t


class NumpyOperator:
    """An operator v ↦ Hv on float64 numpy vectors (``numpy_product``): what ``lanczos`` calls. A measurement of a
    small network is a few products of a fraction of a millisecond; each torch call around them cost 5-10 µs where
    numpy's cost 1-2, so the iteration itself is done in numpy."""

    def __init__(self, product) -> None:
        self.numpy_product = product


def numpy_operator(hvp) -> NumpyOperator:
    """``hvp`` as a NumpyOperator: its own numpy form when it has one (``MLPHessian``), else through torch (the
    vectors shared, not copied)."""
    if isinstance(hvp, NumpyOperator):
        return hvp
    direct = getattr(hvp, "numpy_product", None)
    if direct is not None:
        return NumpyOperator(direct)

    def product(v: np.ndarray) -> np.ndarray:
        out = hvp(torch.from_numpy(v))
        return out.detach().double().cpu().numpy() if isinstance(out, torch.Tensor) else np.asarray(out, np.float64)

    return NumpyOperator(product)


def _vector(v) -> np.ndarray:
    """A float64 numpy copy of a vector given as a tensor or an array."""
    if isinstance(v, torch.Tensor):
        v = v.detach().cpu().numpy()
    return np.array(v, dtype=np.float64)


def lanczos(hvp, start, steps: int, stop=None, restart: torch.Generator | None = None,
            first=None) -> Tridiagonal:
    """At most ``steps`` Lanczos steps on the symmetric operator ``hvp`` from ``start`` (a vector, any norm), with
    full re-orthogonalisation (twice is enough). ``stop(tridiagonal)``, asked after each step with the coefficients
    so far (its ``basis`` empty: the check is cheap), may end it early.

    When the Krylov space closes (an invariant subspace: e.g. a repeated eigenvalue, which one start vector sees
    once), it ends, or with ``restart`` (a generator) goes on from a new random vector orthogonal to the basis
    (an off-diagonal 0), so that repeated eigenvalues are found as often as they occur. ``first``: the product of
    the normalised ``start`` when the caller has it already. The vectors are float64 numpy arrays on the CPU (the
    products in the model's dtype and device: ``numpy_operator``)."""
    product = numpy_operator(hvp).numpy_product
    q = _vector(start)
    n = len(q)
    steps = max(1, int(steps))
    Q = np.empty((min(steps, n) + 1, n))  # the basis, one row a vector
    Q[0] = q / np.linalg.norm(q)
    alphas, betas = [], []
    residual, size = 0.0, 1
    for j in range(steps):
        # (a copy: an operator may hand back its input, and w is changed in place below)
        w = _vector(first) if j == 0 and first is not None else np.array(product(Q[j]), dtype=np.float64)
        a = float(w @ Q[j])
        alphas.append(a)
        basis = Q[:size]
        w -= basis.T @ (basis @ w)
        w -= basis.T @ (basis @ w)
        b = float(np.linalg.norm(w))
        residual = b
        if b < 1e-10 * max(1.0, abs(a)):
            residual = 0.0
            if restart is None or j == steps - 1 or size >= n:
                break
            w = torch.randn(n, generator=restart, dtype=torch.float64).numpy()
            w -= basis.T @ (basis @ w)
            w -= basis.T @ (basis @ w)
            betas.append(0.0)
            Q[size] = w / np.linalg.norm(w)
            size += 1
            continue
        if j == steps - 1 or (stop is not None and stop(_tridiagonal(alphas, betas, Q[:0], b))):
            break
        betas.append(b)
        Q[size] = w / b
        size += 1
    return _tridiagonal(alphas, betas, Q[:len(alphas)], residual)


def _tridiagonal(alphas, betas, basis: np.ndarray, residual) -> Tridiagonal:
    m = len(alphas)
    return Tridiagonal(np.asarray(alphas, np.float64), np.asarray(betas[:m - 1], np.float64), basis,
                       float(residual))


def _ritz(t: Tridiagonal) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Ritz values, eigenvectors of T (m, m), residual norm of each Ritz pair)."""
    vals, vecs = np.linalg.eigh(t.matrix())
    return vals, vecs, np.abs(t.residual * vecs[-1, :])


@dataclass(frozen=True)
class Eigen:
    """The top eigenvalue of a Hessian, its unit eigenvector (float64, flat) and how many products it took."""

    value: float
    vector: np.ndarray
    products: int


def top_eigen(hvp, n: int, warm: np.ndarray | None = None, tol: float = 1e-6, max_steps: int = 60,
              seed: int = 0, explore: float = 0.0) -> Eigen:
    """The largest (algebraic) eigenvalue of the n×n operator ``hvp`` and its eigenvector, by Lanczos until the Ritz
    pair's residual ‖Hv − λv‖ falls under ``tol``·max(|λ|, 1e-12) (or ``max_steps``, at most n); the eigenvalue's
    own error is then below residual²/gap.

    ``warm``: the previous call's vector. When it is still an eigenvector within ``tol`` (the weights moved a
    little), one product answers; else the Lanczos iteration goes on from it. ``explore`` mixes that share of a
    seeded random vector into the warm start, so that another eigenvalue that has grown past it is found too."""
    gen = torch.Generator().manual_seed(int(seed))
    op = numpy_operator(hvp)
    usable = warm is not None and len(warm) == n and np.all(np.isfinite(warm)) and np.any(warm)
    if not usable:
        q = torch.randn(n, generator=gen, dtype=torch.float64).numpy()
    else:
        q = np.array(warm, np.float64)
        q = q / np.linalg.norm(q)
        if explore > 0:
            noise = torch.randn(n, generator=gen, dtype=torch.float64).numpy()
            q = q + explore * noise / np.linalg.norm(noise)
    q = q / np.linalg.norm(q)
    w = np.array(op.numpy_product(q), dtype=np.float64)
    a = float(w @ q)
    if usable and explore <= 0 and float(np.linalg.norm(w - a * q)) <= tol * max(abs(a), 1e-12):
        return Eigen(a, q, 1)

    checked = usable and explore <= 0  # the one-vector check is the one just made (the same w and q)

    def converged(t: Tridiagonal) -> bool:
        if checked and len(t.alphas) == 1:
            return False
        vals, _vecs, res = _ritz(t)
        return res[-1] <= tol * max(abs(vals[-1]), 1e-12)

    t = lanczos(op, q, min(int(max_steps), n), stop=converged, first=w)
    vals, vecs, _ = _ritz(t)
    v = vecs[:, -1] @ t.basis
    v /= np.linalg.norm(v)
    return Eigen(float(vals[-1]), v, len(t.alphas))


def top_eigenvalues(hvp, n: int, k: int, steps: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` largest (algebraic) eigenvalues, largest first, and their unit eigenvectors (k, n), by ``steps``
    Lanczos steps (default max(3k, 30), at most n) from a seeded gaussian start."""
    if k < 1:
        raise VisualizerError(f"the number of eigenvalues must be 1 or more; got {k}")
    m = min(n, steps or max(3 * k, 30))
    gen = torch.Generator().manual_seed(int(seed))
    t = lanczos(hvp, torch.randn(n, generator=gen, dtype=torch.float64), m, restart=gen)
    vals, vecs, _ = _ritz(t)
    order = np.argsort(-vals)[:k]
    vectors = (vecs[:, order].T @ t.basis)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vals[order], vectors


def top_two_by_magnitude(hvp, n: int, steps: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The two eigenvalues of largest |λ| and their unit eigenvectors (2, n) (the landscape's Hessian plane)."""
    gen = torch.Generator().manual_seed(int(seed))
    t = lanczos(hvp, torch.randn(n, generator=gen, dtype=torch.float64), max(2, min(int(steps), n)))
    vals, vecs, _ = _ritz(t)
    order = np.argsort(-np.abs(vals))[:2]
    d = [vecs[:, i] @ t.basis for i in order]
    return vals[order], np.stack([v / np.linalg.norm(v) for v in d])


def dense_hessian(model: nn.Module, loss_info, X: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """The full Hessian (n, n) of the same loss as ``LossHessian`` (torch.autograd.functional.hessian), for small
    networks and as the tests' reference."""
    from torch.func import functional_call

    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    sizes = [p.numel() for _, p in model.named_parameters()]
    task = task_of(y)
    was_training = model.training
    model.eval()
    try:
        def loss_of(flat):
            params = {n: t.reshape(s) for n, t, s in zip(names, torch.split(flat, sizes), shapes)}
            return loss_info(functional_call(model, params, (X,)), y, task)

        return torch.autograd.functional.hessian(loss_of, flat_parameters(model).clone()).double().cpu().numpy()
    finally:
        model.train(was_training)
