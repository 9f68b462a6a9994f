"""A background thread that evaluates loss surfaces around the current weights for the live landscape view.

Only the latest request is kept: a newer one supersedes a pending one, and a fine surface in progress stops at its
next block of rows. Results go back through a thread-safe queue that the GUI drains on its own timer. The thread
starts on the first request and ends by itself after a few idle seconds; ``shutdown`` stops and joins it.
"""

from __future__ import annotations

import queue
import threading
import time
from dataclasses import dataclass, field

import numpy as np

THREAD_NAME = "landscape-worker"
#: the thread ends by itself after this long without a request
IDLE_EXIT_S = 5.0
COARSE_RESOLUTION = 15
#: grid rows evaluated between two checks for a newer request
ROW_BLOCK = 6
LINE_ALPHAS = np.round(np.linspace(-0.25, 1.25, 61), 10)  # the straight line θ₀ → θ (Goodfellow et al. 2015)
HESSIAN_ITERS = 20


@dataclass(frozen=True, eq=False)
class SurfaceRequest:
    """A surface around ``center`` on the plane of ``directions`` ('random', 'pca', 'hessian' or 'weights': the
    two flat weights ``weights`` as the axes, for tiny networks)."""

    request_id: int
    center: np.ndarray
    directions: str = "random"
    resolution: int = 41
    span: float | None = None          # None: 1 for random; 1.25 x the trajectory's reach for pca and hessian
    split: str = "train"               # "train" | "val"
    seed: int = 0
    start: np.ndarray | None = None     # θ₀, for the 1-D line and the start's honesty numbers
    trajectory: np.ndarray | None = None  # (T, P) snapshots, for the PCA plane and the automatic span
    coarse: bool = True                 # first a COARSE_RESOLUTION grid, then the full one
    weights: tuple[int, int] = (0, 1)   # the flat indices of the axes when directions == 'weights'
    include_bias: bool = False          # random directions: biases (and batch norm) get ±|θ| instead of 0


@dataclass(frozen=True, eq=False)
class SurfaceResult:
    """A surface (loss and accuracy) on the plane center + α·d1 + β·d2, with what its axes mean."""

    request_id: int
    fine: bool
    center: np.ndarray
    d1: np.ndarray
    d2: np.ndarray
    directions: str
    alphas: np.ndarray
    betas: np.ndarray
    loss: np.ndarray
    accuracy: np.ndarray | None
    explained_variance: np.ndarray | None = None
    eigenvalues: np.ndarray | None = None
    line_alphas: np.ndarray | None = None
    line_loss: np.ndarray | None = None
    seconds: float = 0.0


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


class _Evaluator:
    """The network of one run, built once (on the meta device: no draw from torch's global RNG), its data and loss."""

    def __init__(self, experiment, dataset) -> None:
        import torch

        from visualizer.core.model.losses import LOSSES
        from visualizer.core.model.nets import build_model
        from visualizer.core.training.device import resolve_device

        self.device, _ = resolve_device(experiment.train.device)  # the surface is evaluated where the run trains
        self.loss = LOSSES[experiment.train.loss]
        n_out = self.loss.output_size(dataset.task, dataset.n_classes)
        with torch.device("meta"):
            model = build_model(experiment.model, dataset.n_features, n_out)
        self.model = model.to_empty(device=self.device).eval()
        for m in self.model.modules():  # snapshots carry no running statistics: normalise with the whole set's
            if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                m.track_running_stats = False
                m.running_mean = m.running_var = m.num_batches_tracked = None
        ydtype = torch.long if dataset.task == "classification" else torch.float32
        dev = self.device
        self.data = {"train": (torch.as_tensor(dataset.X_train, dtype=torch.float32, device=dev),
                               torch.as_tensor(dataset.y_train, dtype=ydtype, device=dev))}
        if len(dataset.X_val):
            self.data["val"] = (torch.as_tensor(dataset.X_val, dtype=torch.float32, device=dev),
                                torch.as_tensor(dataset.y_val, dtype=ydtype, device=dev))
        self.task = dataset.task

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


class LandscapeWorker:
    """Evaluates SurfaceRequests and ProbeRequests on its own thread; ``results`` holds what came out."""

    def __init__(self) -> None:
        self.results: queue.Queue = queue.Queue()
        self._cond = threading.Condition()
        self._surface: SurfaceRequest | None = None
        self._probe: ProbeRequest | None = None
        self._stopped = False
        self._busy = False
        self._thread: threading.Thread | None = None
        self._last_thread: threading.Thread | None = None  # joined by shutdown even after an idle exit
        self._spec = None  # (experiment, dataset) of the current run
        self._evaluator: _Evaluator | None = None
        self.completed: list[int] = []  # request ids whose fine surface finished (for tests and diagnostics)

    # -- GUI side ---------------------------------------------------------------------------------------------
    def configure(self, experiment, dataset) -> None:
        """The run whose network and data the next requests use."""
        with self._cond:
            self._spec = (experiment, dataset)
            self._surface = self._probe = None

    def submit(self, request: SurfaceRequest | ProbeRequest) -> None:
        """Queue a request; it replaces a pending request of its kind."""
        with self._cond:
            if self._spec is None:
                return
            self._stopped = False
            if isinstance(request, ProbeRequest):
                self._probe = request
            else:
                self._surface = request
            if self._thread is None:
                self._thread = threading.Thread(target=self._work, name=THREAD_NAME, daemon=False)
                self._last_thread = self._thread
                self._thread.start()
            self._cond.notify_all()

    def busy(self) -> bool:
        """True while a request is pending or being evaluated."""
        with self._cond:
            return self._busy or self._surface is not None or self._probe is not None

    def is_alive(self) -> bool:
        thread = self._thread
        return thread is not None and thread.is_alive()

    def shutdown(self, timeout: float = 10.0) -> bool:
        """Drop pending requests, stop the thread at its next check and join it; True when it has ended."""
        with self._cond:
            self._stopped = True
            self._surface = self._probe = None
            thread = self._last_thread
            self._cond.notify_all()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        return thread is None or not thread.is_alive()

    # -- worker side ------------------------------------------------------------------------------------------
    def _superseded(self, request_id: int) -> bool:
        with self._cond:
            return self._stopped or (self._surface is not None and self._surface.request_id != request_id)

    def _take(self):
        with self._cond:
            deadline = time.monotonic() + IDLE_EXIT_S
            while not self._stopped and self._surface is None and self._probe is None:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            if self._stopped or (self._surface is None and self._probe is None):
                self._thread = None  # a later submit starts a new thread
                self._busy = False
                return None, None
            if self._probe is not None:
                request, self._probe = self._probe, None
            else:
                request, self._surface = self._surface, None
            self._busy = True
            return request, self._spec

    def _work(self) -> None:
        import torch

        torch.set_num_threads(1)
        built_for = None
        while True:
            request, spec = self._take()
            if request is None:
                return
            try:
                if built_for is not spec:
                    self._evaluator, built_for = _Evaluator(*spec), spec
                if isinstance(request, ProbeRequest):
                    losses = {k: self._evaluator.loss_at(v, request.split) for k, v in request.points.items()}
                    self.results.put(ProbeResult(request.request_id, losses))
                else:
                    self._surfaces(request)
            except Exception as exc:  # a failure becomes a message in the view, never a dead thread
                from visualizer.core.errors import VisualizerError

                text = str(exc) if isinstance(exc, VisualizerError) else f"{type(exc).__name__}: {exc}"
                self.results.put(Failure(request.request_id, text))
            finally:
                with self._cond:
                    self._busy = False

    def _plane(self, request: SurfaceRequest):
        from visualizer.core.landscape import directions as landscape

        ev = self._evaluator
        ev.load(request.center)
        extra: dict = {}
        if request.directions == "pca":
            if request.trajectory is None:
                raise ValueError("the PCA plane needs the trajectory")
            d1, d2, ratio = landscape.pca_directions(request.trajectory)
            extra["explained_variance"] = ratio
        elif request.directions == "hessian":
            X, y = ev.xy(request.split)
            d1, d2, eig = landscape.hessian_directions(ev.model, ev.loss, X, y, iters=HESSIAN_ITERS,
                                                       seed=request.seed)
            extra["eigenvalues"] = eig
        elif request.directions == "weights":
            d1, d2 = landscape.weight_axes(ev.model, *request.weights)
        else:
            d1, d2 = landscape.random_plane(ev.model, request.seed, include_bias_bn=request.include_bias)
        span = request.span
        if span is None:
            span = 1.0
            if request.directions != "random" and request.trajectory is not None and len(request.trajectory):
                a, b, _ = landscape.project(request.trajectory, request.center, d1, d2)
                reach = float(max(np.max(np.abs(a)), np.max(np.abs(b))))
                span = 1.25 * reach if reach > 0 else 1.0
                if request.directions == "weights":  # a weight that barely moved still gets a readable window
                    span = max(span, 0.5)
        return d1, d2, float(span), extra

    def _surfaces(self, request: SurfaceRequest) -> None:
        from visualizer.core.landscape.directions import loss_surface

        t0 = time.perf_counter()
        ev = self._evaluator
        d1, d2, span, extra = self._plane(request)
        X, y = ev.xy(request.split)
        center = np.asarray(request.center, np.float32)
        if request.start is not None:
            start = np.asarray(request.start, np.float32)
            line = loss_surface(ev.model, ev.loss, X, y, start, center - start, np.zeros_like(center), LINE_ALPHAS,
                                [0.0])
            extra.update(line_alphas=LINE_ALPHAS, line_loss=line.loss[0])
        sizes = [request.resolution]
        if request.coarse and request.resolution > COARSE_RESOLUTION:
            sizes.insert(0, COARSE_RESOLUTION)
        for k, n in enumerate(sizes):
            if self._superseded(request.request_id):
                return
            grid = np.linspace(-span, span, n)
            losses, accs = [], []
            for r in range(0, n, ROW_BLOCK):  # block by block, so that a newer request need not wait for this one
                if r and self._superseded(request.request_id):
                    return
                part = loss_surface(ev.model, ev.loss, X, y, center, d1, d2, grid, grid[r:r + ROW_BLOCK],
                                    metric=True)
                losses.append(part.loss)
                if part.accuracy is not None:
                    accs.append(part.accuracy)
            fine = k == len(sizes) - 1
            self.results.put(SurfaceResult(
                request.request_id, fine, center, d1, d2, request.directions, grid, grid, np.vstack(losses),
                np.vstack(accs) if accs else None, seconds=time.perf_counter() - t0, **extra))
            if fine:
                self.completed.append(request.request_id)
