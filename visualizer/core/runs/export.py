"""A recorded run opened for export: its history, snapshots, data set, network, decision boundary at a step and
loss landscape, computed on demand from the run file (the Qt layer draws them: ``visualizer.qt.runs.export``).

The landscape's plane comes from the directions registry (``core.landscape.planes``), or from a plane file (an .npz
with the arrays of ``Plane.arrays()`` and optionally ``alphas``/``betas``, as the replay window and
`visualizer landscape` write it) whose plane and grid are used exactly. A run that diverged is drawn around its
last finite weights: its path is its finite snapshots.
"""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from visualizer.core.errors import VisualizerError
from visualizer.core.landscape.planes import Plane
from visualizer.core.scales import history_wants_log_axis

BOUNDARY_RESOLUTION = 100
LANDSCAPE_RESOLUTION = 61
MAX_TRAJECTORY = 400  # snapshots projected onto the landscape at most (evenly spaced, the last always kept)
#: the most grid points per axis a plane file may give
MAX_PLANE_GRID = 1001
_PLANE_KEYS = ("directions", "center", "d1", "d2", "explained_variance", "eigenvalues", "alphas", "betas")


@dataclass(frozen=True)
class LandscapeOptions:
    """How an export draws the loss landscape. ``directions`` None: "pca" when the run has 3 or more finite
    snapshots, else "random"; ``span`` None: the registry's automatic extent; ``plane_file``: a plane (and grid)
    to use as it is, instead of making one."""

    directions: str | None = None
    resolution: int = LANDSCAPE_RESOLUTION
    span: float | None = None
    seed: int = 0
    include_bias: bool = False
    weights: tuple[int, int] = (0, 1)
    plane_file: Path | None = None


@dataclass(frozen=True, eq=False)
class Landscape:
    """A loss surface (loss[i, j] at alphas[j], betas[i]) on ``plane`` and the run's path on it, one point per
    snapshot step."""

    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    steps: np.ndarray      # (T,) the snapshot steps
    points: np.ndarray     # (T, 2) alpha, beta
    distance: np.ndarray   # (T,) distance of each snapshot from the plane
    plane: Plane

    @property
    def axis_labels(self) -> tuple[str, str]:
        return self.plane.axis_titles()


def write_plane_file(path: str | Path, plane: Plane, alphas=None, betas=None) -> Path:
    """Save a plane (and its grid) as an .npz that ``read_plane_file`` and `visualizer export --plane` read."""
    from visualizer.core.files import atomic_write_bytes

    grid = {} if alphas is None else {"alphas": np.asarray(alphas, np.float64), "betas": np.asarray(betas, np.float64)}
    buf = io.BytesIO()
    np.savez(buf, **plane.arrays(), **grid)
    return atomic_write_bytes(Path(path), buf.getvalue())


def read_plane_file(path: str | Path) -> tuple[Plane, np.ndarray | None, np.ndarray | None]:
    """(plane, alphas, betas) of a plane file; the grid is None when the file has none. A file that is not one is a
    VisualizerError naming what is wrong."""
    path = Path(path)
    if not path.is_file():
        raise VisualizerError(f"--plane {path}: no such file")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("it holds one array, not named arrays")
        with data:
            arrays = {key: np.asarray(data[key]) for key in data.files if key in _PLANE_KEYS}
    except (OSError, ValueError, EOFError, MemoryError, zipfile.BadZipFile) as exc:
        raise VisualizerError(f"--plane {path}: not a readable .npz file ({exc})") from None
    missing = [k for k in ("center", "d1", "d2") if k not in arrays]
    if missing:
        raise VisualizerError(f"--plane {path}: has no {', '.join(missing)} (a plane file holds center, d1 and d2, "
                              "as `visualizer landscape` writes them)")
    vectors = [np.asarray(arrays[k]) for k in ("center", "d1", "d2")]
    if any(v.ndim != 1 or v.shape != vectors[0].shape or not np.issubdtype(v.dtype, np.number) for v in vectors):
        raise VisualizerError(f"--plane {path}: center, d1 and d2 must be flat vectors of one length")
    if not all(np.isfinite(v).all() for v in vectors):
        raise VisualizerError(f"--plane {path}: center, d1 or d2 holds a value that is not finite")
    try:
        plane = Plane.from_arrays(arrays)
    except (TypeError, ValueError) as exc:
        raise VisualizerError(f"--plane {path}: not a plane ({exc})") from None
    if ("alphas" in arrays) != ("betas" in arrays):
        raise VisualizerError(f"--plane {path}: has only one of alphas and betas")
    if "alphas" not in arrays:
        return plane, None, None
    grid = []
    for key in ("alphas", "betas"):
        values = np.asarray(arrays[key])
        if (values.ndim != 1 or not 2 <= len(values) <= MAX_PLANE_GRID or not np.issubdtype(values.dtype, np.number)
                or not np.isfinite(values).all() or not np.all(np.diff(values) > 0)):
            raise VisualizerError(f"--plane {path}: {key} must be 2 to {MAX_PLANE_GRID} increasing finite values")
        grid.append(values.astype(np.float64))
    return plane, grid[0], grid[1]


class RunExport:
    """A run opened for export (its run file, or the folder holding it); the data set, network and landscape are
    computed when first asked for. ``notes`` collects what a reader of the exports should know (a divergence)."""

    def __init__(self, path: str | Path, landscape: LandscapeOptions | None = None) -> None:
        from visualizer.core.runs.reader import open_run

        self.options = landscape or LandscapeOptions()
        self.reader = open_run(path)
        self.path = self.reader.path
        self.experiment = self.reader.experiment
        self.history = self.reader.history()
        self.notes: list[str] = []
        if len(self.history) == 0:
            self.reader.close()
            raise VisualizerError(f"{self.path}: the run recorded no steps; nothing to export")
        self.snapshot_steps = sorted(set(self.reader.snapshot_steps()))

    def close(self) -> None:
        self.reader.close()

    @property
    def metric(self) -> str:
        """The metric the run measured ("accuracy" or "r2")."""
        started = self.reader.started
        return started.metric if started else "accuracy"

    @property
    def task(self) -> str:
        started = self.reader.started
        return started.task if started is not None else self.dataset.task

    @property
    def n_features(self) -> int:
        """Coordinates of the run's data (2 for a 2-D set with input features): what its pictures fit."""
        from visualizer.core.data.features import plane_size

        started = self.reader.started
        if started is None:
            return self.dataset.n_plane
        return plane_size(started.n_features, self.experiment.data.features)

    @property
    def total_steps(self) -> int:
        started = self.reader.started
        return started.total_steps if started and started.total_steps else int(self.history.steps[-1])

    @property
    def loss_on_log_axis(self) -> bool:
        """Whether the loss curves are drawn on a log axis (the window's rule: core.scales)."""
        return history_wants_log_axis(self.history)

    def why_not(self, view) -> str | None:
        """Why an export_registry.ExportView does not apply to this run, or None."""
        measured = set(self.reader.measures().names()) if view.measures else None
        return view.why_not(self.task, self.n_features, len(self.snapshot_steps), measured)

    def snapshot_at(self, step: int):
        return self.reader.snapshot_at(step)

    @cached_property
    def dataset(self):
        """The run's data set, standardised as the session did (its CSV file found where it was recorded)."""
        return self.reader.dataset()

    @cached_property
    def loss_info(self):
        from visualizer.core.experiment import resolve
        from visualizer.core.model.losses import LOSSES

        return LOSSES[resolve(self.experiment, self.dataset).train.loss]

    @cached_property
    def trajectory(self):
        """The finite snapshots (at most MAX_TRAJECTORY, evenly spaced): steps (T,) and parameters (T, P)."""
        from visualizer.core.runs.reader import Trajectory

        path = self.reader.trajectory(MAX_TRAJECTORY)
        if not len(path):
            return path
        finite = np.isfinite(path.params).all(axis=1)
        return path if finite.all() else Trajectory(path.steps[finite], path.params[finite])

    @cached_property
    def model(self):
        """The network the views show at the end (CPU, eval mode): the final weights, or after a divergence the
        last finite snapshot's (said in ``notes``). Raises VisualizerError when no weights of the run are finite."""
        from visualizer.core.model.nets import flat_parameters

        model = self.reader.model(self.dataset)
        if np.isfinite(flat_parameters(model).numpy()).all():
            return model
        path = self.trajectory
        if not len(path):
            raise VisualizerError("the run diverged: its final weights are not finite and no snapshot of them is, "
                                  "so there is no network to draw")
        self._load_flat(model, path.params[-1])
        self.notes.append(f"the run's final weights are not finite (it diverged); the landscape and the predictions "
                          f"show the weights of its last finite snapshot, step {int(path.steps[-1])}")
        return model

    @cached_property
    def center(self) -> np.ndarray:
        """``model``'s weights as one flat vector: the landscape's default center."""
        from visualizer.core.model.nets import flat_parameters

        return flat_parameters(self.model).numpy()

    @staticmethod
    def _load_flat(model, flat: np.ndarray) -> None:
        import torch

        with torch.no_grad():
            torch.nn.utils.vector_to_parameters(torch.as_tensor(np.asarray(flat), dtype=torch.float32),
                                                model.parameters())

    @property
    def prediction_view(self):
        """The picture the run's task gets (core.model.predict.PREDICTION_VIEWS), or None."""
        from visualizer.core.model.predict import prediction_view

        return prediction_view(self.task, self.n_features)

    def boundary_at(self, step: int | None = None):
        """The decision boundary at a snapshot step (recorded, or computed from its weights), or at the end."""
        import copy

        from visualizer.core.model import predict

        if self.prediction_view is None or self.prediction_view.name != "boundary":
            raise VisualizerError("boundary: the run is not a 2-D classification, so it has no decision boundary")
        snap = self.snapshot_at(step) if step is not None else None
        if snap is not None and snap.boundary is not None:
            return snap.boundary
        model = self.model
        if snap is not None:
            model = copy.deepcopy(model)
            self._load_flat(model, snap.params)
        return predict.decision_grid(model, self.loss_info, self.dataset, BOUNDARY_RESOLUTION)

    def prediction(self):
        """What the network at ``center`` predicts, in its task's picture (None for a task without one)."""
        view = self.prediction_view
        return None if view is None else view.compute(self.model, self.loss_info, self.dataset, BOUNDARY_RESOLUTION)

    @cached_property
    def landscape(self) -> Landscape:
        """The loss surface on the plane the options ask for (or the plane file's), with the finite path."""
        from visualizer.core.data.tensors import as_inputs, as_targets
        from visualizer.core.landscape.planes import PlaneInputs, make_plane, plane_grid
        from visualizer.core.landscape.surface import loss_surface

        o = self.options
        path, model, ds = self.trajectory, self.model, self.dataset
        traj = path.params if len(path) else None
        X, y = as_inputs(ds.X_train), as_targets(ds.y_train, ds.task)
        alphas = betas = None
        if o.plane_file is not None:
            plane, alphas, betas = read_plane_file(o.plane_file)
            n = sum(p.numel() for p in model.parameters())
            if plane.center.size != n:
                raise VisualizerError(f"--plane {o.plane_file}: the plane is for a network of {plane.center.size} "
                                      f"parameters; this run's has {n}")
        else:
            directions = o.directions or ("pca" if traj is not None and len(traj) >= 3 else "random")
            plane = make_plane(directions, PlaneInputs(model, self.center, traj, self.loss_info, X, y, o.seed,
                                                       o.include_bias, o.weights))
        points, distance = plane.points(traj if traj is not None else [])
        if alphas is None:
            alphas, betas = plane_grid(plane, points, o.span, o.resolution)
        surface = loss_surface(model, self.loss_info, X, y, plane.center, plane.d1, plane.d2, alphas, betas)
        if not np.isfinite(surface.loss).any():
            self.notes.append("landscape: the loss is not finite anywhere on its grid (it overflows: the run "
                              "diverged), so only the path is drawn")
        return Landscape(surface.alphas, surface.betas, surface.loss, np.asarray(path.steps, np.int64), points,
                         distance, plane)
