"""Which plane a loss landscape is drawn on: the registry of directions, one function that makes a plane, and one
rule for the grid over it. The window, the command line, the exports and the race all go through here.

Importing this module needs numpy only (the window lists the directions before torch is loaded, and building the
command line's parser must stay fast); each direction imports torch when it is computed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

from visualizer.core.landscape.plane import project

#: the grid fitted to a path reaches this share of the path's largest extent beyond it on each side
MARGIN = 0.2


@dataclass(frozen=True, eq=False)
class PlaneInputs:
    """What a direction may be computed from: the network with the weights ``center`` loaded (CPU or the run's
    device), the path's snapshots (T, P) when there are some, the loss and data (for curvature), and the options."""

    model: object
    center: np.ndarray
    trajectory: np.ndarray | None = None
    loss_info: object | None = None
    X: object | None = None
    y: object | None = None
    seed: int = 0
    include_bias: bool = False
    weights: tuple[int, int] = (0, 1)
    other: np.ndarray | None = None


@dataclass(frozen=True, eq=False)
class Plane:
    """The plane center + α·d1 + β·d2 (flat vectors in ``model.parameters()`` order) and what its axes mean."""

    directions: str
    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    extra: Mapping[str, np.ndarray] = field(default_factory=dict)  # explained_variance, eigenvalues, ...

    def axis_titles(self) -> tuple[str, str]:
        """The titles of the α and β axes, in words: what each direction is."""
        info = DIRECTIONS.get(self.directions)
        return info.titles(self) if info is not None else ("α (direction 1)", "β (direction 2)")

    def project(self, params):
        """(alpha, beta, distance from the plane) of one flat vector or of a (T, P) path."""
        return project(params, self.center, self.d1, self.d2)

    def points(self, params) -> tuple[np.ndarray, np.ndarray]:
        """A (T, P) path as (T, 2) plane coordinates and (T,) distances; empty arrays for an empty path."""
        params = np.asarray(params)
        if params.size == 0:
            return np.zeros((0, 2)), np.zeros(0)
        a, b, dist = self.project(params.reshape(-1, self.center.size))
        return np.stack([a, b], axis=1).astype(np.float64), np.asarray(dist, np.float64)

    def arrays(self) -> dict[str, np.ndarray]:
        """The plane as named arrays (for an .npz file): directions, center, d1, d2 and the extras."""
        return {"directions": np.asarray(self.directions), "center": self.center, "d1": self.d1, "d2": self.d2,
                **{k: np.asarray(v) for k, v in self.extra.items()}}

    @classmethod
    def from_arrays(cls, arrays: Mapping[str, np.ndarray]) -> Plane:
        """The plane stored by ``arrays()`` (or in a landscape.npz of `visualizer landscape`, also one written
        before the directions were named in it: they are told by their extras, the vectors may be missing)."""
        extra = {k: np.asarray(arrays[k]) for k in ("explained_variance", "eigenvalues") if k in arrays}
        if "directions" in arrays:
            name = str(np.asarray(arrays["directions"]))
        else:
            name = "pca" if "explained_variance" in extra else "hessian" if "eigenvalues" in extra else "stored"
        vector = {k: np.asarray(arrays[k], np.float32) if k in arrays else np.zeros(0, np.float32)
                  for k in ("center", "d1", "d2")}
        return cls(name, vector["center"], vector["d1"], vector["d2"], extra)


@dataclass(frozen=True)
class DirectionInfo:
    """A registered kind of plane. ``compute(inputs)`` returns (d1, d2, extras); ``titles(plane)`` the axis
    titles; ``needs_path`` the snapshots it needs; ``fits_path``: an automatic span fits the path (False: the
    directions' own scale, ±1, as filter-normalised directions are scaled like the weights); ``min_half_span`` the
    smallest automatic half-width; ``options`` which of seed, include_bias and weights it reads; ``needs_second_run``:
    it is made from a second run's weights too (``PlaneInputs.other``; the window's live landscape has none)."""

    name: str
    label: str
    description: str
    compute: Callable[[PlaneInputs], tuple[np.ndarray, np.ndarray, dict]]
    titles: Callable[[Plane], tuple[str, str]]
    needs_path: int = 0
    needs_data: bool = False
    fits_path: bool = True
    min_half_span: float = 0.0
    options: frozenset[str] = frozenset()
    needs_second_run: bool = False


def _random(inputs: PlaneInputs):
    from visualizer.core.landscape.directions import random_plane

    d1, d2 = random_plane(inputs.model, inputs.seed, include_bias_bn=inputs.include_bias)
    return d1, d2, {}


def _pca(inputs: PlaneInputs):
    from visualizer.core.errors import VisualizerError
    from visualizer.core.landscape.directions import pca_directions

    if inputs.trajectory is None:
        raise VisualizerError("the PCA plane needs the path's snapshots")
    d1, d2, ratio = pca_directions(inputs.trajectory)
    return d1, d2, {"explained_variance": np.asarray(ratio)}


def _hessian(inputs: PlaneInputs):
    from visualizer.core.landscape.directions import hessian_directions

    d1, d2, eig = hessian_directions(inputs.model, inputs.loss_info, inputs.X, inputs.y, iters=HESSIAN_ITERS,
                                     seed=inputs.seed)
    return d1, d2, {"eigenvalues": np.asarray(eig)}


def _weights(inputs: PlaneInputs):
    from visualizer.core.landscape.directions import weight_axes

    d1, d2 = weight_axes(inputs.model, *inputs.weights)
    return d1, d2, {}


def _three_point(inputs: PlaneInputs):
    """Garipov et al. (2018)'s plane through θ₀ (the path's first snapshot: run A's initial weights), θ_A (the center:
    run A's final weights) and θ_B (``other``: run B's final weights). d1 = (θ_A − θ₀)/‖θ_A − θ₀‖ and d2 the part of
    θ_B − θ₀ orthogonal to it (Gram-Schmidt), unit length: coordinates are distances in weight space."""
    from visualizer.core.errors import VisualizerError

    if inputs.other is None:
        raise VisualizerError("the three-point plane needs a second run's weights (`visualizer landscape RUN_A "
                              "--directions three-point --with RUN_B`)")
    if inputs.trajectory is None or not len(inputs.trajectory):
        raise VisualizerError("the three-point plane needs run A's initial weights: its first snapshot")
    theta0 = np.asarray(inputs.trajectory[0], np.float64)
    center, other = np.asarray(inputs.center, np.float64), np.asarray(inputs.other, np.float64)
    if other.shape != center.shape:
        raise VisualizerError(f"the second run has {other.size} weights; this network has {center.size}")
    u, v = center - theta0, other - theta0
    nu = float(np.linalg.norm(u))
    if not nu > 0:
        raise VisualizerError("run A's final weights are its initial weights: no plane through three points")
    d1 = u / nu
    w = v - (v @ d1) * d1
    w -= (w @ d1) * d1  # twice is enough (Gram-Schmidt in floating point)
    nw = float(np.linalg.norm(w))
    if not nw > 1e-5 * max(nu, float(np.linalg.norm(v))):  # float32 weights on one line leave ~1e-7
        raise VisualizerError("θ₀, run A's and run B's weights lie on one line: they span no plane")
    return d1, w / nw, {}


def _pca_titles(plane: Plane) -> tuple[str, str]:
    ev = plane.extra["explained_variance"]
    return f"α (PC 1, {100 * ev[0]:.1f}% of variance)", f"β (PC 2, {100 * ev[1]:.1f}% of variance)"


def _hessian_titles(plane: Plane) -> tuple[str, str]:
    eig = plane.extra["eigenvalues"]
    return f"α (Hessian eigenvector 1, λ = {eig[0]:.3g})", f"β (Hessian eigenvector 2, λ = {eig[1]:.3g})"


def _weight_titles(plane: Plane) -> tuple[str, str]:
    i, j = (int(np.argmax(np.abs(d))) for d in (plane.d1, plane.d2))
    return f"α (weight θ[{i}])", f"β (weight θ[{j}])"


HESSIAN_ITERS = 20

DIRECTIONS: dict[str, DirectionInfo] = {info.name: info for info in (
    DirectionInfo("random", "Random (filter-normalised)",
                  "Two gaussian directions, each neuron's row rescaled to the norm of that row in θ (Li et al. 2018); "
                  "biases and batch norm zeroed unless biases are included",
                  _random, lambda plane: ("α (random direction 1)", "β (random direction 2)"),
                  fits_path=False, options=frozenset({"seed", "include_bias"})),
    DirectionInfo("pca", "PCA of the path",
                  "The top two principal axes of the path's snapshots (Li et al. 2018, §7): the plane that holds "
                  "most of the path", _pca, _pca_titles, needs_path=3),
    DirectionInfo("hessian", "Hessian top-2",
                  "The two eigenvectors of the loss's Hessian of largest |eigenvalue| at θ (Lanczos on "
                  "Hessian-vector products): the most curved directions", _hessian, _hessian_titles,
                  needs_data=True, options=frozenset({"seed"})),
    DirectionInfo("weights", "Two weights",
                  "Two single weights θ[i] and θ[j] as the axes: the exact slice of the loss through them, the "
                  "others held where they are", _weights, _weight_titles, min_half_span=0.5,
                  options=frozenset({"weights"})),
    DirectionInfo("three-point", "Three points (θ₀, run A, run B)",
                  "The plane through run A's initial weights θ₀ and the final weights of runs A and B (Garipov et al. "
                  "2018): α along θ_A − θ₀, β along θ_B − θ₀ made orthogonal to it, both unit length (distances in "
                  "weight space); needs a second run (`--with RUN_B`)", _three_point,
                  lambda plane: ("α (along θ_A − θ₀, weight-space distance)",
                                 "β (θ_B − θ₀ orthogonalised, weight-space distance)"),
                  needs_path=1, needs_second_run=True),
)}


def direction_info(name: str) -> DirectionInfo:
    """The registry entry of ``name``; an unknown name is a VisualizerError listing the known ones."""
    from visualizer.core.errors import VisualizerError, choices

    try:
        return DIRECTIONS[name]
    except KeyError:
        raise VisualizerError(f"directions {name!r} is not known; allowed: {choices(DIRECTIONS)}") from None


def make_plane(directions: str, inputs: PlaneInputs) -> Plane:
    """The plane of kind ``directions`` through ``inputs.center``: the one way every view makes its plane."""
    from visualizer.core.errors import VisualizerError

    info = direction_info(directions)
    have = 0 if inputs.trajectory is None else len(inputs.trajectory)
    if have < info.needs_path:
        raise VisualizerError(f"the {info.label} plane needs at least {info.needs_path} snapshots of the path; "
                              f"there are {have}")
    d1, d2, extra = info.compute(inputs)
    center = np.asarray(inputs.center, np.float32)
    return Plane(info.name, center, np.asarray(d1, np.float32), np.asarray(d2, np.float32), extra)


def grid_extent(plane: Plane, points: np.ndarray, span: float | None) -> tuple[float, float, float]:
    """(mid α, mid β, half-width) of the square grid over ``plane``: ±``span`` around the plane's center when a
    span is given; otherwise, for directions that fit the path, the path's bounding box (with the center) widened by
    MARGIN of its largest side on each side, and for the others ±1 widened to hold the path."""
    points = np.asarray(points, np.float64).reshape(-1, 2)
    points = points[np.all(np.isfinite(points), axis=1)]
    if span is not None:
        return 0.0, 0.0, float(span)
    info = DIRECTIONS.get(plane.directions)
    if info is not None and not info.fits_path:
        reach = float(np.max(np.abs(points))) if len(points) else 0.0
        return 0.0, 0.0, max(1.0, (1 + MARGIN) * reach)
    box = np.vstack([points, np.zeros((1, 2))])
    lo, hi = box.min(axis=0), box.max(axis=0)
    side = float(np.max(hi - lo))
    half = (0.5 + MARGIN) * side
    floor = info.min_half_span if info is not None else 0.0
    if not half > 0:
        half = max(floor, 1.0)
    mid = (lo + hi) / 2
    return float(mid[0]), float(mid[1]), max(half, floor)


def plane_grid(plane: Plane, points: np.ndarray, span: float | None, resolution: int) -> tuple[np.ndarray, np.ndarray]:
    """The α and β values of a ``resolution`` x ``resolution`` grid over ``plane`` (see ``grid_extent``)."""
    ma, mb, half = grid_extent(plane, points, span)
    return np.linspace(ma - half, ma + half, resolution), np.linspace(mb - half, mb + half, resolution)
