"""The live landscape's computations, Qt-free: surfaces around the current weights (coarse, then fine, a block of
rows at a time so that a newer request need not wait) and the true loss at a few weight vectors.

The window's worker feeds requests to a ``LandscapeEvaluator`` and hands its frozen results to the GUI thread.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from visualizer.core.landscape.plane import project
from visualizer.core.landscape.planes import Plane, PlaneInputs, make_plane, plane_grid

COARSE_RESOLUTION = 15
#: grid rows evaluated between two checks for a newer request
ROW_BLOCK = 6
LINE_ALPHAS = np.round(np.linspace(-0.25, 1.25, 61), 10)  # the straight line θ₀ → θ (Goodfellow et al. 2015)


@dataclass(frozen=True, eq=False)
class SurfaceRequest:
    """A surface around ``center`` on a plane of kind ``directions`` (a key of planes.DIRECTIONS)."""

    request_id: int
    center: np.ndarray
    directions: str = "random"
    resolution: int = 41
    span: float | None = None          # None: the registry's automatic extent (planes.grid_extent)
    split: str = "train"               # "train" | "val"
    seed: int = 0
    start: np.ndarray | None = None     # θ₀, for the 1-D line and the start's honesty numbers
    trajectory: np.ndarray | None = None  # (T, P) snapshots: for planes made from the path, and the extent
    coarse: bool = True                 # first a COARSE_RESOLUTION grid, then the full one
    weights: tuple[int, int] = (0, 1)   # the flat indices of the axes of the 'weights' plane
    include_bias: bool = False          # random directions: biases (and batch norm) get ±|θ| instead of 0
    path: np.ndarray | None = None      # (T, P) the whole path to project on the plane here, off the GUI thread


@dataclass(frozen=True, eq=False)
class SurfaceResult:
    """A surface (loss and accuracy) on ``plane``, with the 1-D line θ₀ → θ when a start was given."""

    request_id: int
    fine: bool
    plane: Plane
    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray | None
    line_alphas: np.ndarray | None = None
    line_loss: np.ndarray | None = None
    seconds: float = 0.0
    path_projection: np.ndarray | None = None  # (T, 3): alpha, beta, distance of the request's path on the plane

    @property
    def center(self) -> np.ndarray:
        return self.plane.center

    @property
    def d1(self) -> np.ndarray:
        return self.plane.d1

    @property
    def d2(self) -> np.ndarray:
        return self.plane.d2

    @property
    def directions(self) -> str:
        return self.plane.directions

    @property
    def explained_variance(self) -> np.ndarray | None:
        return self.plane.extra.get("explained_variance")

    @property
    def eigenvalues(self) -> np.ndarray | None:
        return self.plane.extra.get("eigenvalues")


@dataclass(frozen=True, eq=False)
class ProbeRequest:
    """The true loss at a few weight vectors (the honesty panel's 'true loss')."""

    request_id: int
    points: dict = field(default_factory=dict)  # label -> flat weights
    split: str = "train"


@dataclass(frozen=True, eq=False)
class ProbeResult:
    request_id: int
    loss: dict  # label -> loss


@dataclass(frozen=True, eq=False)
class Failure:
    request_id: int
    message: str


class LandscapeEvaluator:
    """The network of one run, built once (on the meta device: no draw from torch's global RNG), its data and loss,
    on the device the run trains on."""

    def __init__(self, experiment, dataset) -> None:
        import torch

        from visualizer.core.data.tensors import dataset_tensors
        from visualizer.core.model.losses import LOSSES
        from visualizer.core.model.nets import build_model_for
        from visualizer.core.training.device import resolve_device

        self.device, _ = resolve_device(experiment.train.device)
        self.loss = LOSSES[experiment.train.loss]
        with torch.device("meta"):
            model = build_model_for(experiment.model, dataset, self.loss)
        self.model = model.to_empty(device=self.device).eval()
        for m in self.model.modules():  # snapshots carry no running statistics: normalise with the whole set's
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.track_running_stats = False
                m.running_mean = m.running_var = m.num_batches_tracked = None
        self.task = dataset.task
        t = dataset_tensors(dataset, self.device)
        self.data = {"train": (t.X_train, t.y_train)}
        if len(dataset.X_val):
            self.data["val"] = (t.X_val, t.y_val)

    def xy(self, split: str):
        return self.data.get(split, self.data["train"])

    def load(self, flat: np.ndarray) -> None:
        import torch

        flat = torch.as_tensor(np.asarray(flat, np.float32), device=self.device)
        torch.nn.utils.vector_to_parameters(flat, self.model.parameters())

    def loss_at(self, flat: np.ndarray, split: str) -> float:
        import torch

        self.load(flat)
        X, y = self.xy(split)
        with torch.no_grad():
            return float(self.loss(self.model(X), y, self.task))

    def probe(self, request: ProbeRequest) -> ProbeResult:
        """The true loss at each of the request's points."""
        return ProbeResult(request.request_id, {k: self.loss_at(v, request.split) for k, v in request.points.items()})

    def plane(self, request: SurfaceRequest) -> Plane:
        """The request's plane through its center (the network is left holding the center's weights)."""
        self.load(request.center)
        X, y = self.xy(request.split)
        return make_plane(request.directions, PlaneInputs(
            self.model, np.asarray(request.center, np.float32), request.trajectory, self.loss, X, y, request.seed,
            request.include_bias, request.weights))

    def surfaces(self, request: SurfaceRequest,
                 superseded: Callable[[], bool] = lambda: False) -> Iterator[SurfaceResult]:
        """The coarse surface (when asked for) and then the fine one; stops early when ``superseded()``."""
        from visualizer.core.landscape.surface import loss_surface

        t0 = time.perf_counter()
        plane = self.plane(request)
        X, y = self.xy(request.split)
        center = plane.center
        extra: dict = {}
        if request.start is not None:
            start = np.asarray(request.start, np.float32)
            line = loss_surface(self.model, self.loss, X, y, start, center - start, np.zeros_like(center),
                                LINE_ALPHAS, [0.0])
            extra.update(line_alphas=LINE_ALPHAS, line_loss=line.loss[0])
        points = plane.points(request.trajectory)[0] if request.trajectory is not None else np.zeros((0, 2))
        if request.path is not None and len(request.path):
            extra["path_projection"] = np.column_stack(project(request.path, plane.center, plane.d1, plane.d2))
        sizes = [request.resolution]
        if request.coarse and request.resolution > COARSE_RESOLUTION:
            sizes.insert(0, COARSE_RESOLUTION)
        for k, n in enumerate(sizes):
            if superseded():
                return
            alphas, betas = plane_grid(plane, points, request.span, n)
            losses, accs = [], []
            for r in range(0, n, ROW_BLOCK):  # block by block, so that a newer request need not wait for this one
                if r and superseded():
                    return
                part = loss_surface(self.model, self.loss, X, y, center, plane.d1, plane.d2, alphas,
                                    betas[r:r + ROW_BLOCK], metric=True)
                losses.append(part.loss)
                if part.accuracy is not None:
                    accs.append(part.accuracy)
            yield SurfaceResult(request.request_id, k == len(sizes) - 1, plane, alphas, betas, np.vstack(losses),
                                np.vstack(accs) if accs else None, seconds=time.perf_counter() - t0, **extra)
