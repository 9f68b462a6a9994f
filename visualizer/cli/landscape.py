"""`visualizer landscape`: the loss surface on a plane through the trained weights, with the trajectory projected.

Writes DIR/landscape.npz (see ``cmd_landscape``); given an experiment it trains first as `visualizer run` does: the
run file DIR/run.sqlite (its snapshots are the trajectory) and the files derived from it.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

from visualizer.cli.common import add_threads_option, apply_threads_for
from visualizer.core.landscape.planes import DIRECTIONS

LANDSCAPE_FILE = "landscape.npz"
LANDSCAPE3D_FILE = "landscape3d.png"
MIN_RESOLUTION, MAX_RESOLUTION = 5, 301


def add_parser(sub) -> None:
    p = sub.add_parser(
        "landscape", help="the loss surface around the trained weights, with the optimizer's path projected",
        description="Evaluate the loss on an N x N grid of the plane θ* + α·d1 + β·d2 through the trained weights "
                    "θ* and write DIR/landscape.npz: alphas (N), betas (N), loss (N x N, row i = betas[i]), "
                    "accuracy (N x N, classification), trajectory (T x 2, the recorded weights projected on the "
                    "plane; T = 0 without a trajectory), distance (T, each snapshot's distance from the plane), "
                    "center, d1, d2 (flattened in model.parameters() order), X and y (the training data the "
                    "surface was evaluated on, after standardisation) and eigenvalues or explained_variance where "
                    "the directions have them. Given an experiment file it trains first as `visualizer run` "
                    "does: DIR/run.sqlite (about 200 snapshots of the weights: the trajectory) and the files "
                    "derived from it. Given a run (its run file or its folder) the trajectory comes from the run "
                    "file's snapshots.")
    p.add_argument("source", type=Path, metavar="EXPERIMENT_OR_RUN",
                   help="an experiment file (.toml or .json) to train, or RUN: a run file (.sqlite) or the folder "
                        "holding it (what `visualizer run` or `visualizer landscape` writes)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    add_plane_options(p, "random", 51)
    p.add_argument("--with", dest="other", type=Path, default=None, metavar="RUN_B",
                   help="a second run of the same network and data (its run file or folder): its path is projected "
                        "and drawn too, dashed; what --directions three-point needs (the plane through the first "
                        "run's initial weights and both runs' final weights). landscape.npz then also holds "
                        "trajectory_b and distance_b (its path), and points (3 x 2: θ₀, θ_A, θ_B on the plane)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_threads_option(p)
    p.set_defaults(func=cmd_landscape)


def add_plane_options(p, directions: str | None, resolution: int, directions_default: str | None = None,
                      two_runs: bool = True) -> None:
    """The options that choose a landscape's plane and grid (--directions, --resolution, --span, --seed, --weights,
    --include-bias-bn), shared by `visualizer landscape` and `visualizer export`; the choices come from the
    directions registry (without the planes through a second run unless ``two_runs``). ``directions_default`` says
    the default in words (default: ``directions``)."""
    offered = [info for info in DIRECTIONS.values() if two_runs or not info.needs_second_run]
    kinds = "; ".join(f"{info.name}: {info.description}" for info in offered)
    p.add_argument("--directions", default=directions, metavar="|".join(info.name for info in offered),
                   help=f"the plane's two directions (default {directions_default or directions}). {kinds}")
    p.add_argument("--resolution", type=int, default=resolution, help=f"grid points per axis, {MIN_RESOLUTION} to "
                                                                       f"{MAX_RESOLUTION} (default {resolution})")
    p.add_argument("--span", type=float, default=None,
                   help="the grid covers [-S, S] around the weights on both axes (default: for directions made "
                        "from the path or unit vectors, the path's extent with a margin; for random directions, "
                        "±1, widened to hold the path)")
    p.add_argument("--seed", type=int, default=0, help="seed of the random and Hessian directions (default 0)")
    p.add_argument("--weights", default="0,1", metavar="I,J",
                   help="the two flat weight indices of the 'weights' directions (default 0,1)")
    p.add_argument("--include-bias-bn", action="store_true",
                   help="random directions: give biases and batch-norm parameters a component (±|θ|) instead of "
                        "zero")


def write_landscape_plots(out: Path, npz_path: Path) -> list[Path]:
    """The PNG plots of a landscape, drawn by the window's plot classes: the 2-D heatmap with the trajectory
    (landscape.png) and, where OpenGL works, the 3-D surface (landscape3d.png; otherwise one line on stderr says
    why not). Returns the list of files written."""
    import numpy as np

    from visualizer.core.landscape.planes import Plane
    from visualizer.core.scales import log_colours
    from visualizer.qt.plots import LandscapePlot, ensure_app, export_widget

    with np.load(npz_path, allow_pickle=False) as data:
        arrays = {key: np.asarray(data[key]) for key in data.files}
    alphas, betas, loss = arrays["alphas"], arrays["betas"], arrays["loss"]
    labels = Plane.from_arrays(arrays).axis_titles()
    log_scale = log_colours(loss)
    ensure_app()
    plot = LandscapePlot(theme="light")
    try:
        plot.set_surface(alphas, betas, loss, log_scale=log_scale, axis_labels=labels)
        plot.set_trajectory(arrays.get("trajectory", np.zeros((0, 2))), None)  # a finished path: its end marker
        if "trajectory_b" in arrays:  # a second run (--with): its path dashed, the three points marked
            plot.set_compare_path(arrays["trajectory_b"], "")  # named by its end's marker
        if "points" in arrays:
            plot.set_marks([(name, a, b, colour) for name, (a, b), colour in
                            zip(("θ₀", "θ_A (run A)", "θ_B (run B)"), arrays["points"],
                                ("#ffffff", "#f59322", "#0877bd"))])
        path = export_widget(plot, Path(out) / "landscape.png", width=1000, height=800)
    finally:
        plot.deleteLater()
    written = [path]
    path3d = write_landscape3d(Path(out) / LANDSCAPE3D_FILE, alphas, betas, loss, log_scale,
                               arrays.get("trajectory", np.zeros((0, 2))), axis_labels=labels)
    if path3d is not None:
        written.append(path3d)
    return written


def write_landscape3d(path: Path, alphas, betas, loss, log_scale: bool, trajectory, width: int = 1000,
                      height: int = 800, axis_labels: tuple[str, str] | None = None) -> Path | None:
    """Render the 3-D surface offscreen (an OpenGL framebuffer) to ``path`` as a figure: its title, the α and β
    axis titles (``axis_labels``), the loss's title and a colour bar drawn around it. None, with one line on stderr
    saying why, where OpenGL is not available (the offscreen Qt platform, no libGL, no GL context)."""
    from visualizer.qt.plots import ensure_app
    from visualizer.qt.plots.landscape_plot import opengl_unavailable

    ensure_app()
    reason = opengl_unavailable()
    if not reason:
        try:
            return _render_3d(path, alphas, betas, loss, log_scale, trajectory, width, height, axis_labels)
        except Exception as exc:  # a GL context that cannot be made: the 2-D plot is enough
            reason = f"{type(exc).__name__}: {exc}"
    print(f"{path.name} skipped: no OpenGL here ({reason})", file=sys.stderr)
    return None


def _render_3d(path: Path, alphas, betas, loss, log_scale, trajectory, width, height, axis_labels) -> Path:
    from PySide6.QtCore import QCoreApplication, Qt

    from visualizer.core.experiment import atomic_write_bytes
    from visualizer.qt.plots.landscape3d import Landscape3DPlot

    view = Landscape3DPlot(theme="light")
    try:
        view.setAttribute(Qt.WidgetAttribute.WA_DontShowOnScreen)
        view.resize(width, height)
        view.show()  # creates the GL context without mapping a window
        QCoreApplication.processEvents()
        view.set_surface(alphas, betas, loss, log_scale=log_scale, **({"axis_labels": axis_labels}
                                                                      if axis_labels else {}))
        view.set_trajectory(trajectory)
        if not view.render_image(64, 48)[..., :3].std() > 0:
            raise RuntimeError("the OpenGL framebuffer came back blank")
        payload = _png_bytes(view.figure_image(width, height))
    finally:
        view.close()
        view.deleteLater()
    return atomic_write_bytes(path, payload)


def _png_bytes(image) -> bytes:
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise RuntimeError("the 3-D image could not be encoded as PNG")
    buffer.close()
    return bytes(data.data())


def check_options(directions: str | None, resolution: int, span: float | None,
                  weights: str = "0,1") -> tuple[int, int]:
    """Refuse options out of range with a VisualizerError naming the option (``directions`` None: the caller's
    default); returns the two weight indices."""
    from visualizer.core.errors import VisualizerError, choices

    parts = weights.split(",")
    if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
        raise VisualizerError(f"--weights: {weights!r} is not two weight indices such as 0,1")
    if directions is not None and directions not in DIRECTIONS:
        raise VisualizerError(f"--directions: {directions!r} is not known; allowed: {choices(DIRECTIONS)}")
    if not MIN_RESOLUTION <= resolution <= MAX_RESOLUTION:
        raise VisualizerError(f"--resolution: {resolution} is out of range; allowed: {MIN_RESOLUTION} to "
                              f"{MAX_RESOLUTION}")
    if span is not None and not span > 0:  # also refuses NaN
        raise VisualizerError(f"--span: {span:g} is out of range; allowed: above 0")
    return int(parts[0]), int(parts[1])


def _train(path: Path, out: Path, quiet: bool) -> Path:
    """Train an experiment file as `visualizer run` does (the run file, then its files); returns the run file."""
    from visualizer.cli.common import ProgressBar, load_experiment
    from visualizer.core.errors import VisualizerError
    from visualizer.core.runs.folder import train_to_dir

    exp, dataset = load_experiment(path)
    bar = ProgressBar(quiet)
    try:
        run = train_to_dir(exp, out, dataset, path.parent, on_event=bar)
    finally:
        bar.close()
    if run.summary is None or not run.ended.ok:
        raise VisualizerError(f"training failed, no landscape: {run.ended.message}")
    return run.run_file


def _save_npz(path: Path, **arrays) -> Path:
    import numpy as np

    from visualizer.core.experiment import atomic_write_bytes

    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return atomic_write_bytes(path, buf.getvalue())


def _second_run(args, run, info):
    """(run B's final flat weights, its recorded path) from --with, checked against the first run; (None, None)
    without --with. A plane that needs a second run without one is refused."""
    from visualizer.core.errors import VisualizerError

    if args.other is None:
        if info.needs_second_run:
            raise VisualizerError(f"--directions {info.name}: needs a second run; add --with RUN_B")
        return None, None
    from visualizer.core.lab.interpolation import check_same_architecture
    from visualizer.core.model.nets import flat_parameters
    from visualizer.core.runs.loaded import load_run

    run_b = load_run(args.other)
    check_same_architecture(run, run_b, "the run", f"--with {args.other}")
    return flat_parameters(run_b.model).numpy(), run_b.trajectory()


def cmd_landscape(args: argparse.Namespace) -> int:
    weights = check_options(args.directions, args.resolution, args.span, args.weights)
    import numpy as np

    from visualizer.core.errors import VisualizerError
    from visualizer.core.landscape.planes import PlaneInputs, make_plane, plane_grid
    from visualizer.core.landscape.surface import loss_surface
    from visualizer.core.model.nets import flat_parameters
    from visualizer.core.runs.loaded import load_run

    source: Path = args.source
    if source.is_dir() or source.suffix.lower() == ".sqlite":
        run = load_run(source)
    elif source.is_file():
        run = load_run(_train(source, args.out, args.quiet))
    else:
        raise VisualizerError(f"{source}: no such experiment file, run file or run folder")
    dataset, model, loss = run.dataset, run.model, run.loss_info
    recorded = run.trajectory()
    trajectory = recorded.params if len(recorded) else None
    info = DIRECTIONS[args.directions]
    other, second = _second_run(args, run, info)
    if info.needs_path and trajectory is None:
        raise VisualizerError(f"--directions {info.name}: {source} recorded no trajectory (no snapshots of the "
                              "weights); choose directions that need no path, or give the experiment file to "
                              "`visualizer landscape` so that it trains and records one")
    X, y = run.tensors("training")
    apply_threads_for(run.widths(), 8 * len(X))  # a pass of the batched grid: about 8 grid points at a time
    center = flat_parameters(model).numpy()
    plane = make_plane(info.name, PlaneInputs(model, center, trajectory, loss, X, y, args.seed,
                                              args.include_bias_bn, weights, other))
    traj2, dist = plane.points(trajectory if trajectory is not None else [])
    if other is not None:
        traj_b, dist_b = plane.points(second.params if len(second) else [])
        first = trajectory[:1] if trajectory is not None else np.zeros((0, center.size), np.float32)
        points, _ = plane.points(np.vstack([first, center[None], other[None]]))
        second = {"trajectory_b": traj_b, "distance_b": dist_b, "points": points}
    alphas, betas = plane_grid(plane, np.vstack([traj2, *(() if other is None else (traj_b, points))]), args.span,
                               args.resolution)
    surface = loss_surface(model, loss, X, y, center, plane.d1, plane.d2, alphas, betas, metric=True)
    extra = {} if surface.accuracy is None else {"accuracy": surface.accuracy}
    path = _save_npz(args.out / LANDSCAPE_FILE, alphas=surface.alphas, betas=surface.betas, loss=surface.loss,
                     trajectory=traj2, distance=dist, X=dataset.X_train, y=dataset.y_train, **plane.arrays(),
                     **extra, **(second if other is not None else {}))
    if not args.no_plots:
        write_landscape_plots(args.out, path)
    print(f"loss {surface.loss.min():.4g} to {surface.loss.max():.4g} on a {args.resolution} x {args.resolution} "
          f"grid, α {alphas[0]:.3g} to {alphas[-1]:.3g}, β {betas[0]:.3g} to {betas[-1]:.3g}, along "
          f"{info.label}; {path}", file=sys.stderr)
    return 0
