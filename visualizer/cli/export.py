"""`visualizer export RUN --out DIR`: a recorded run's views to PNG, SVG and CSV, its animation to GIF and MP4.

Files: VIEW.png / VIEW.svg (the window's plot classes), loss.csv, histograms.csv, boundary.csv, landscape.csv with
landscape_trajectory.csv, VIEW.gif / VIEW.mp4 (landscape: the path on the surface beside the loss curve), and
dashboard.png (loss, prediction, histograms and landscape in one image).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from visualizer.cli.common import RUN_HELP

VIEWS = ("loss", "landscape", "histograms", "boundary", "dashboard")
FORMATS = ("png", "svg", "csv", "gif", "mp4")
DEFAULT_VIEWS = VIEWS
DEFAULT_FORMATS = ("png", "svg", "csv")
#: which formats each view can be written in
VIEW_FORMATS = {"loss": FORMATS, "landscape": FORMATS, "histograms": FORMATS, "boundary": FORMATS,
                "dashboard": ("png",)}
MIN_SIZE, MAX_SIZE = 64, 8000
MIN_DPI, MAX_DPI = 10, 2400
MAX_FRAMES = 120
MAX_FPS = 60
DASHBOARD_SIZE = (1600, 1100)


def add_parser(sub) -> None:
    p = sub.add_parser(
        "export", help="a recorded run's plots to PNG/SVG/CSV, its animation to GIF/MP4, its dashboard to PNG",
        description="Export a run file's views: loss (curves; CSV one row per step), histograms (the last "
                    "snapshot's weights; CSV layer,bin_left,bin_right,count), boundary (2-D classification; CSV "
                    "x,y,p_CLASS...), landscape (the loss surface on the PCA plane of the recorded snapshots, or a "
                    "filter-normalised random plane with fewer than 3; CSV alpha,beta,loss and "
                    "landscape_trajectory.csv step,alpha,beta,distance) and dashboard (all of them in one PNG). "
                    "gif and mp4 animate each view over the snapshots; the landscape animation shows the path on "
                    "the surface beside the loss curve.")
    p.add_argument("run", type=Path, metavar="RUN", help=RUN_HELP)
    p.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    p.add_argument("--views", default=",".join(DEFAULT_VIEWS), metavar="LIST",
                   help=f"comma-separated, from {','.join(VIEWS)} (default: all)")
    p.add_argument("--formats", default=",".join(DEFAULT_FORMATS), metavar="LIST",
                   help=f"comma-separated, from {','.join(FORMATS)} (default {','.join(DEFAULT_FORMATS)}); "
                        "dashboard is PNG only")
    p.add_argument("--frames", type=int, default=None,
                   help=f"animation frames, evenly spaced over the snapshots (default: one per snapshot, at most "
                        f"{MAX_FRAMES}); 1 to {MAX_FRAMES}")
    p.add_argument("--fps", type=float, default=10.0, help=f"animation frames per second, above 0 to {MAX_FPS} "
                                                            "(default 10)")
    p.add_argument("--width", type=int, default=None,
                   help=f"image width in pixels, {MIN_SIZE} to {MAX_SIZE} (default 1000; dashboard 1600)")
    p.add_argument("--height", type=int, default=None,
                   help=f"image height in pixels, {MIN_SIZE} to {MAX_SIZE} (default 700; dashboard 1100)")
    p.add_argument("--progress-lines", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--dpi", type=float, default=100.0,
                   help=f"resolution written into the PNG files' metadata, {MIN_DPI} to {MAX_DPI} (default 100); "
                        "the pixel size is --width x --height")
    p.set_defaults(func=cmd_export)


def _list(option: str, text: str, allowed: tuple[str, ...]) -> tuple[str, ...]:
    from visualizer.core.errors import VisualizerError

    items = tuple(dict.fromkeys(x.strip().lower() for x in text.split(",") if x.strip()))
    bad = [x for x in items if x not in allowed]
    if bad or not items:
        what = f"{bad[0]!r} is not known" if bad else "nothing given"
        raise VisualizerError(f"{option}: {what}; allowed: {', '.join(allowed)} (comma-separated)")
    return items


def check_options(args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Refuse options out of range with a VisualizerError naming the option; returns (views, formats)."""
    from visualizer.core.errors import VisualizerError

    views = _list("--views", args.views, VIEWS)
    formats = _list("--formats", args.formats, FORMATS)
    if args.frames is not None and not 1 <= args.frames <= MAX_FRAMES:
        raise VisualizerError(f"--frames: {args.frames} is out of range; allowed: 1 to {MAX_FRAMES}")
    if not 0 < args.fps <= MAX_FPS:  # also refuses NaN
        raise VisualizerError(f"--fps: {args.fps:g} is out of range; allowed: above 0 to {MAX_FPS}")
    for name in ("width", "height"):
        value = getattr(args, name)
        if value is not None and not MIN_SIZE <= value <= MAX_SIZE:
            raise VisualizerError(f"--{name}: {value} is out of range; allowed: {MIN_SIZE} to {MAX_SIZE}")
    if not MIN_DPI <= args.dpi <= MAX_DPI:
        raise VisualizerError(f"--dpi: {args.dpi:g} is out of range; allowed: {MIN_DPI} to {MAX_DPI}")
    return views, formats


def export_run(run_path: Path, out: Path, views, formats, frames: int | None = None, fps: float = 10.0,
               width: int | None = None, height: int | None = None, dpi: float = 100.0,
               notes: list[str] | None = None, on_frame=None) -> list[Path]:
    """Write the chosen views of a run in the chosen formats into ``out``; returns the files written.

    A view that does not apply to the run (no boundary, no snapshots) is skipped with a line in ``notes``.
    """
    from visualizer.core.errors import VisualizerError
    from visualizer.qt.plots import ensure_app
    from visualizer.qt.runs.animation import export_animation
    from visualizer.qt.runs.export import VIEW_WIDGETS, RunExport
    from visualizer.qt.runs.export_files import write_csv, write_dashboard, write_plot

    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    ensure_app()
    notes = [] if notes is None else notes
    run = RunExport(run_path)
    written: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for view in views:
            wanted = [f for f in formats if f in VIEW_FORMATS[view]]
            if not wanted:
                notes.append(f"{view}: {'/'.join(VIEW_FORMATS[view])} only; skipped")
                continue
            if view == "boundary" and not run.has_boundary:
                notes.append("boundary: the run is not a 2-D classification (no decision boundary); skipped")
                continue
            if view in ("histograms",) and not run.snapshot_steps:
                notes.append(f"{view}: the run recorded no snapshots; skipped")
                continue
            try:
                if view == "dashboard":
                    w, h = width or DASHBOARD_SIZE[0], height or DASHBOARD_SIZE[1]
                    written.append(write_dashboard(run, out / "dashboard.png", w, h, dpi))
                    continue
                w, h = width or 1000, height or 700
                still = [f for f in wanted if f in ("png", "svg")]
                if still:
                    plot = VIEW_WIDGETS[view](run, None)
                    try:
                        for fmt in still:
                            written.append(write_plot(plot, out / f"{view}.{fmt}", w, h, dpi))
                    finally:
                        plot.deleteLater()
                if "csv" in wanted:
                    written.extend(write_csv(run, view, out))
                moving = [f for f in wanted if f in ("gif", "mp4")]
                if moving:
                    if not run.snapshot_steps:
                        notes.append(f"{view}: the run recorded no snapshots; no animation")
                    else:
                        progress = None if on_frame is None else (lambda i, n, v=view: on_frame(v, i, n))
                        written.extend(export_animation(run, view, out, moving, frames, fps, w, h, progress))
            except VisualizerError as exc:
                notes.append(f"{view}: {exc}; skipped")
    finally:
        run.close()
    return written


def cmd_export(args: argparse.Namespace) -> int:
    views, formats = check_options(args)
    t0 = time.perf_counter()
    notes: list[str] = []
    on_frame = None  # (the offscreen platform's size-hint notes are dropped by ensure_app)
    if args.progress_lines:  # for the replay window, which shows them while the child process works
        def on_frame(view: str, i: int, n: int) -> None:
            print(f"progress {view} {i} {n}", file=sys.stderr, flush=True)
    written = export_run(args.run, args.out, views, formats, args.frames, args.fps, args.width, args.height,
                         args.dpi, notes, on_frame)
    for note in notes:
        print(note, file=sys.stderr)
    for path in written:
        print(path)
    if not written:
        print("error: nothing exported (see the lines above)", file=sys.stderr)
        return 2
    print(f"{len(written)} files in {args.out} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return 0
