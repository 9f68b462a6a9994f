"""The eigenvalue density of a Hessian by stochastic Lanczos quadrature (Ghorbani, Krishnan & Xiao 2019; PyHessian).

For each of several Rademacher probes v (normalised), m Lanczos steps give T = QᵀHQ; its eigenvalues θᵢ are the
quadrature nodes and the squared first components τᵢ of its eigenvectors their weights (they sum to 1). The density
is the probes' mean of Σᵢ τᵢ·N(t; θᵢ, σ²) on a grid: a probability density, which integrates to 1.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from visualizer.core.errors import VisualizerError
from visualizer.core.lab.hessian import lanczos, top_eigenvalues


@dataclass(frozen=True)
class Spectrum:
    """The top eigenvalues (largest first) and the eigenvalue density on a grid; ``nodes``/``weights``: the
    quadrature of each probe (probes, m)."""

    top: np.ndarray
    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    sigma: float

    def csv_rows(self) -> list[tuple[float, float]]:
        return list(zip(self.grid.tolist(), self.density.tolist()))


def quadrature(hvp, n: int, probes: int = 4, steps: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """The nodes and weights (probes, m) of stochastic Lanczos quadrature with Rademacher probes; a probe whose
    Krylov space closes early pads its nodes with its last one at weight 0."""
    if probes < 1:
        raise VisualizerError(f"the spectrum needs 1 probe or more; got {probes}")
    m = max(1, min(int(steps), n))
    gen = torch.Generator().manual_seed(int(seed))
    nodes, weights = np.zeros((probes, m)), np.zeros((probes, m))
    for p in range(probes):
        v = torch.randint(0, 2, (n,), generator=gen, dtype=torch.int64).double() * 2 - 1
        t = lanczos(hvp, v, m)
        vals, vecs = np.linalg.eigh(t.matrix())
        k = len(vals)
        nodes[p, :k], weights[p, :k] = vals, vecs[0, :] ** 2
        nodes[p, k:] = vals[-1]
    return nodes, weights


def density_on_grid(nodes: np.ndarray, weights: np.ndarray, points: int = 400, sigma: float | None = None,
                    ) -> tuple[np.ndarray, np.ndarray, float]:
    """(grid, density, σ): the Gaussian-broadened density of the quadrature; σ defaults to 1 % of the range of
    the nodes, and the grid reaches 5σ beyond both ends so that the density integrates to 1 on it."""
    lo, hi = float(nodes.min()), float(nodes.max())
    width = hi - lo if hi > lo else max(abs(hi), 1.0)
    s = float(sigma) if sigma else 0.01 * width
    grid = np.linspace(lo - 5 * s, hi + 5 * s, int(points))
    z = (grid[None, None, :] - nodes[:, :, None]) / s
    gauss = np.exp(-0.5 * z ** 2) / (s * np.sqrt(2 * np.pi))
    density = (weights[:, :, None] * gauss).sum(axis=1).mean(axis=0)
    return grid, density, s


def hessian_spectrum(hvp, n: int, k: int = 5, probes: int = 4, steps: int = 40, points: int = 400,
                     seed: int = 0) -> Spectrum:
    """The top ``k`` eigenvalues (Lanczos) and the density (SLQ) of the operator ``hvp`` (n×n)."""
    top, _ = top_eigenvalues(hvp, n, min(k, n), seed=seed)
    nodes, weights = quadrature(hvp, n, probes, steps, seed + 1)
    grid, density, sigma = density_on_grid(nodes, weights, points)
    return Spectrum(top, grid, density, nodes, weights, sigma)
