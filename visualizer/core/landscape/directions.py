"""The plane of a loss landscape: directions through the weights θ* and projection of weights onto the plane.

Every vector here is flattened in ``model.parameters()`` order (as ``nets.flat_parameters``) and returned as a
float32 numpy array, so that it can be stored, drawn or handed to another thread. The grid evaluation of the
surface on a plane lives in ``landscape_surface`` (re-exported here).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from visualizer.core.errors import VisualizerError

_EPS = 1e-10


def filter_normalized_direction(model: nn.Module, seed: int, include_bias_bn: bool = False) -> np.ndarray:
    """A gaussian direction with each filter rescaled to the norm of the matching filter of θ* (Li et al. 2018).

    A filter of a Linear weight is one output neuron's row. Biases and batch-norm parameters (all parameters with
    fewer than two dimensions) are zeroed, unless ``include_bias_bn``: then each element is a one-element filter,
    i.e. ±|θᵢ|.
    """
    gen = torch.Generator().manual_seed(int(seed))
    parts = []
    for p in model.parameters():
        w = p.detach().to("cpu", torch.float32)
        d = torch.randn(w.shape, generator=gen, dtype=torch.float32)
        if w.dim() <= 1:
            d = d.sign() * w.abs() if include_bias_bn else torch.zeros_like(w)
        else:
            rows_w = w.reshape(w.shape[0], -1)
            rows_d = d.reshape(d.shape[0], -1)
            scale = rows_w.norm(dim=1, keepdim=True) / (rows_d.norm(dim=1, keepdim=True) + _EPS)
            d = (rows_d * scale).reshape(w.shape)
        parts.append(d.reshape(-1))
    return torch.cat(parts).numpy()


def random_plane(model: nn.Module, seed: int, include_bias_bn: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Two filter-normalised directions, drawn with seeds ``seed`` and ``seed + 1``."""
    return (filter_normalized_direction(model, seed, include_bias_bn),
            filter_normalized_direction(model, seed + 1, include_bias_bn))


def pca_directions(trajectory) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The PCA plane of a trajectory (T, P) of flattened weights (Li et al. 2018 §7): (d1, d2, explained ratio (2,)).

    As Li et al. (who call scikit-learn's PCA): the rows are θ_t − θ_final, centred on their mean, and the axes are
    the top two right singular vectors (unit length; sign fixed so that the largest |component| is positive). The
    explained variance ratios are each axis's share of the total variance of the rows.
    """
    traj = np.asarray(trajectory, dtype=np.float64)
    if traj.ndim != 2 or traj.shape[0] < 3 or traj.shape[1] < 2:
        raise VisualizerError(f"the PCA plane needs a trajectory of at least 3 snapshots of 2 or more weights; "
                              f"got shape {traj.shape}")
    diffs = traj - traj[-1]
    diffs -= diffs.mean(axis=0)
    _, s, vt = np.linalg.svd(diffs, full_matrices=False)
    total = float(np.sum(s ** 2))
    if total <= 0.0 or s[1] <= 0.0:
        raise VisualizerError("the PCA plane needs a trajectory that moves in at least two directions")
    axes = vt[:2].copy()
    for axis in axes:
        if axis[np.argmax(np.abs(axis))] < 0:
            axis *= -1.0
    ratio = s[:2] ** 2 / total
    return axes[0].astype(np.float32), axes[1].astype(np.float32), ratio


def hessian_directions(model: nn.Module, loss_info, X: torch.Tensor, y: torch.Tensor, iters: int = 40,
                       seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The two Hessian eigenvectors of largest |eigenvalue| at θ*: (d1, d2, eigenvalues (2,)).

    Lanczos iteration with full re-orthogonalisation on Hessian-vector products (double backward through the
    loss on the whole of X, model in evaluation mode: ``core.lab.hessian``); ``iters`` Lanczos steps (at most the
    parameter count). The vectors are unit length.
    """
    from visualizer.core.lab.hessian import LossHessian, top_two_by_magnitude

    hvp = LossHessian(model, loss_info, X, y)
    vals, d = top_two_by_magnitude(hvp, hvp.n, iters, seed)
    if len(vals) < 2:  # the Krylov space closed after one vector: any orthogonal direction has eigenvalue 0 here
        raise VisualizerError("the Hessian has fewer than two non-trivial directions here; use random directions")
    return d[0].astype(np.float32), d[1].astype(np.float32), vals.astype(np.float64)


def weight_axes(model: nn.Module, i: int, j: int) -> tuple[np.ndarray, np.ndarray]:
    """Unit vectors along flat weights ``i`` and ``j``: the exact 2-weight slice, for tiny networks."""
    n = sum(p.numel() for p in model.parameters())
    for k in (i, j):
        if not 0 <= k < n:
            raise VisualizerError(f"weight index {k} is out of range; allowed: 0 to {n - 1}")
    if i == j:
        raise VisualizerError(f"the two weight axes must differ; both are {i}")
    d1, d2 = np.zeros(n, np.float32), np.zeros(n, np.float32)
    d1[i], d2[j] = 1.0, 1.0
    return d1, d2


from visualizer.core.landscape.plane import project  # noqa: E402
from visualizer.core.landscape.surface import LossSurface, loss_surface, loss_surface_reference  # noqa: E402

__all__ = ["LossSurface", "filter_normalized_direction", "hessian_directions", "loss_surface",
           "loss_surface_reference", "pca_directions", "project", "random_plane", "weight_axes"]
