"""`visualizer export RUN --out DIR`: a recorded run's views in each format chosen: stills (PNG, SVG), data (CSV)
and animations (GIF, MP4), from the registries of ``core.runs.export_registry``.

Files: VIEW.SUFFIX for stills and animations (the window's plot classes draw them), each view's CSV files
(loss.csv, histograms.csv, boundary.csv, landscape.csv with landscape_trajectory.csv) and dashboard.png (loss,
prediction, histograms and landscape in one image).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from visualizer.cli.common import RUN_HELP, add_threads_option, apply_threads_for
from visualizer.cli.landscape import add_plane_options
from visualizer.core.runs.export_registry import EXPORT_FORMATS, EXPORT_VIEWS, view_formats

MIN_SIZE, MAX_SIZE = 64, 8000
MIN_DPI, MAX_DPI = 10, 2400
MAX_FRAMES = 120
MAX_FPS = 60


def add_parser(sub) -> None:
    views = "; ".join(f"{v.name}: {v.description}" for v in EXPORT_VIEWS.values())
    kinds = {"still": "images", "data": "data", "animation": "animations"}
    formats = "; ".join(f"{f.name}: {f.description}" for f in EXPORT_FORMATS.values())
    p = sub.add_parser(
        "export", help="a recorded run's views as " + ", ".join(
            f"{kinds[k]} ({'/'.join(f.label for f in EXPORT_FORMATS.values() if f.kind == k)})" for k in kinds
            if any(f.kind == k for f in EXPORT_FORMATS.values())),
        description=f"Export a run file's views. Views: {views}. Formats: {formats}. Animations show each view "
                    "over the snapshots. The landscape is drawn on the PCA plane of the run's snapshots (3 or more), "
                    "else on a filter-normalised random plane, or as --directions says, or on exactly the plane "
                    "and grid of --plane; a run that diverged is drawn around its last finite weights.")
    p.add_argument("run", type=Path, metavar="RUN", help=RUN_HELP)
    p.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    p.add_argument("--views", default=",".join(EXPORT_VIEWS), metavar="LIST",
                   help=f"comma-separated, from {','.join(EXPORT_VIEWS)} (default: all)")
    only = [f"{v.name} is {'/'.join(view_formats(v))} only" for v in EXPORT_VIEWS.values()
            if len(view_formats(v)) < len(EXPORT_FORMATS)]
    p.add_argument("--formats", default=",".join(_default_formats()), metavar="LIST",
                   help=f"comma-separated, from {','.join(EXPORT_FORMATS)} (default {','.join(_default_formats())})"
                        + (f"; {', '.join(only)}" if only else ""))
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
                   help=f"resolution written into the image files' metadata, {MIN_DPI} to {MAX_DPI} (default 100); "
                        "the pixel size is --width x --height")
    p.add_argument("--plane", type=Path, default=None, metavar="FILE",
                   help="draw the landscape on exactly this plane: an .npz holding center, d1 and d2 (flat, in "
                        "model.parameters() order) and optionally alphas and betas (the grid; without them "
                        "--resolution and --span make one), such as the landscape.npz of `visualizer landscape`; "
                        "the replay window passes the plane its landscape tab shows")
    add_plane_options(p, None, 61, "pca with 3 or more snapshots, else random", two_runs=False)
    add_threads_option(p)
    p.set_defaults(func=cmd_export)


def _default_formats() -> list[str]:
    return [f.name for f in EXPORT_FORMATS.values() if f.default]


def _list(option: str, text: str, allowed) -> tuple[str, ...]:
    from visualizer.core.errors import VisualizerError

    allowed = tuple(allowed)
    items = tuple(dict.fromkeys(x.strip().lower() for x in text.split(",") if x.strip()))
    bad = [x for x in items if x not in allowed]
    if bad or not items:
        what = f"{bad[0]!r} is not known" if bad else "nothing given"
        raise VisualizerError(f"{option}: {what}; allowed: {', '.join(allowed)} (comma-separated)")
    return items


def check_options(args: argparse.Namespace) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Refuse options out of range with a VisualizerError naming the option; returns (views, formats)."""
    from visualizer.cli.landscape import check_options as check_plane_options
    from visualizer.core.errors import VisualizerError

    views = _list("--views", args.views, EXPORT_VIEWS)
    formats = _list("--formats", args.formats, EXPORT_FORMATS)
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
    check_plane_options(args.directions, args.resolution, args.span, args.weights)
    if args.plane is not None:
        from visualizer.core.runs.export import read_plane_file

        if args.directions is not None:
            raise VisualizerError("--plane and --directions: give one of them (the plane file holds its directions)")
        read_plane_file(args.plane)
    return views, formats


def landscape_options(args: argparse.Namespace):
    """The LandscapeOptions the command line asks for."""
    from visualizer.cli.landscape import check_options as check_plane_options
    from visualizer.core.runs.export import LandscapeOptions

    weights = check_plane_options(args.directions, args.resolution, args.span, args.weights)
    return LandscapeOptions(args.directions, args.resolution, args.span, args.seed, args.include_bias_bn, weights,
                            args.plane)


def export_run(run_path: Path, out: Path, views, formats, frames: int | None = None, fps: float = 10.0,
               width: int | None = None, height: int | None = None, dpi: float = 100.0,
               notes: list[str] | None = None, on_frame=None, landscape=None) -> list[Path]:
    """Write the chosen views of a run in the chosen formats into ``out``; returns the files written.
    ``landscape`` is a core.runs.export.LandscapeOptions (default: the defaults).

    A view that does not apply to the run (no boundary, no snapshots) or cannot be drawn is skipped with a line in
    ``notes``; so is a format the view is not written in.
    """
    from visualizer.core.errors import VisualizerError
    from visualizer.core.runs.export import RunExport
    from visualizer.core.runs.export_registry import writer_of
    from visualizer.qt.plots import ensure_app
    from visualizer.qt.runs.animation import export_animation

    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")) and sys.platform.startswith("linux"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    ensure_app()
    notes = [] if notes is None else notes
    run = RunExport(run_path, landscape)
    started = run.reader.started
    if started is not None:  # the landscape's grid is the heavy part: about 8 grid points over ~1,000 samples a pass
        apply_threads_for([started.n_features, *run.experiment.model.hidden, max(1, started.n_classes)], 8000)
    written: list[Path] = []
    try:
        out.mkdir(parents=True, exist_ok=True)
        for name in views:
            view = EXPORT_VIEWS[name]
            wanted = [EXPORT_FORMATS[f] for f in formats if view.allows(EXPORT_FORMATS[f])]
            if not wanted:
                notes.append(f"{name}: {'/'.join(view_formats(view))} only; skipped")
                continue
            reason = run.why_not(view)
            if reason is not None:
                notes.append(f"{name}: {reason}; skipped")
                continue
            w, h = width or view.size[0], height or view.size[1]
            try:
                stills = [f for f in wanted if f.kind == "still"]
                if stills and view.render is not None:
                    for fmt in stills:
                        written.append(writer_of(view.render)(run, out / f"{name}{fmt.suffix}", w, h, dpi))
                elif stills:
                    plot = writer_of(view.widget)(run, None)
                    try:
                        for fmt in stills:
                            written.append(writer_of(fmt.writer)(plot, out / f"{name}{fmt.suffix}", w, h, dpi))
                    finally:
                        plot.deleteLater()
                for fmt in (f for f in wanted if f.kind == "data"):
                    written.extend(writer_of(view.data[fmt.name])(run, out))
                moving = [f.name for f in wanted if f.kind == "animation"]
                if moving and not run.snapshot_steps:
                    notes.append(f"{name}: the run recorded no snapshots; no animation")
                elif moving:
                    progress = None if on_frame is None else (lambda i, n, v=name: on_frame(v, i, n))
                    written.extend(export_animation(run, name, out, moving, frames, fps, w, h, progress))
            except VisualizerError as exc:
                notes.append(f"{name}: {exc}; skipped")
        notes.extend(note for note in dict.fromkeys(run.notes) if note not in notes)
    finally:
        run.close()
    return written


def cmd_export(args: argparse.Namespace) -> int:
    views, formats = check_options(args)
    landscape = landscape_options(args)
    t0 = time.perf_counter()
    notes: list[str] = []
    on_frame = None  # (the offscreen platform's size-hint notes are dropped by ensure_app)
    if args.progress_lines:  # for the replay window, which shows them while the child process works
        def on_frame(view: str, i: int, n: int) -> None:
            print(f"progress {view} {i} {n}", file=sys.stderr, flush=True)
    written = export_run(args.run, args.out, views, formats, args.frames, args.fps, args.width, args.height,
                         args.dpi, notes, on_frame, landscape)
    for note in notes:
        print(note, file=sys.stderr)
    for path in written:
        print(path)
    if not written:
        print("error: nothing exported (see the lines above)", file=sys.stderr)
        return 2
    print(f"{len(written)} files in {args.out} ({time.perf_counter() - t0:.1f} s)", file=sys.stderr)
    return 0
