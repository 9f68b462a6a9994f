"""`visualizer sharpness RUN`: the sharpness (top Hessian eigenvalue) at a finished run's snapshots, against 2/η."""

from __future__ import annotations

import sys
from pathlib import Path

from visualizer.cli.common import EXIT_OK, RUN_HELP, check_out


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sharpness", help="the sharpness (top Hessian eigenvalue) at a run's snapshots",
        description="Measure the top eigenvalue of the training loss's Hessian (Lanczos on Hessian-vector products, "
                    "warm-started from one snapshot to the next) at a finished run's snapshots, and print it with "
                    "the threshold 2/η of gradient descent (momentum: (2+2μ)/η). Adam's preconditioner is not in "
                    "the snapshots: for the preconditioned sharpness and its 38/η threshold, measure while "
                    "training with `visualizer run --sharpness-every N` (measures.csv). With --out, writes "
                    "sharpness.csv (step, sharpness, threshold) and sharpness.png.")
    p.add_argument("run", type=Path, help=RUN_HELP)
    p.add_argument("--every", type=int, default=1, metavar="N",
                   help="measure at snapshots at least N steps apart (default 1: every snapshot)")
    p.add_argument("--samples", type=int, default=2048, metavar="N",
                   help="training samples the Hessian is measured on (a seeded subset when the set is larger; "
                        "default 2048)")
    p.add_argument("--out", type=Path, help="folder for sharpness.csv and sharpness.png")
    p.set_defaults(func=cmd_sharpness)


def cmd_sharpness(args) -> int:
    from visualizer.core.errors import VisualizerError
    from visualizer.core.lab.after_run import sharpness_along_run
    from visualizer.core.runs.loaded import LoadedRun
    from visualizer.core.runs.reader import open_run

    if args.samples < 1:
        raise VisualizerError(f"--samples: {args.samples} is out of range; allowed: 1 or more")
    if args.out is not None:
        check_out(args.run, args.out)
    with open_run(args.run) as reader:
        run = LoadedRun.from_reader(reader)
        found = sharpness_along_run(reader, run, args.every, args.samples)
    print("step,sharpness,threshold")
    for s, v, t in zip(found.steps, found.values, found.thresholds):
        print(f"{s},{v:.6g},{'' if t != t else f'{t:.6g}'}")
    if found.note:
        print(found.note, file=sys.stderr)
    if args.out is not None:
        write_sharpness_files(found.measures(), args.out)
        print(f"sharpness.csv and sharpness.png in {args.out}", file=sys.stderr)
    return EXIT_OK


def write_sharpness_files(measures, out: Path) -> list[Path]:
    """sharpness.csv and sharpness.png of ``measures``, drawn by the window's Sharpness plot."""
    from visualizer.qt.lab.sharpness_plot import SharpnessPlot
    from visualizer.qt.plots import ensure_app, export_widget

    out.mkdir(parents=True, exist_ok=True)
    ensure_app()
    plot = SharpnessPlot()
    plot.set_measures(measures)
    plot.write_csv(out / "sharpness.csv")
    return [out / "sharpness.csv", export_widget(plot, out / "sharpness.png", 1000, 600)]
