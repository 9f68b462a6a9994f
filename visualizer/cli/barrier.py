"""`visualizer barrier`: the loss along the straight line between two runs' final weights and the barrier on it
(linear mode connectivity); CSV, JSON and the plot."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from visualizer.cli.common import RUN_HELP, add_threads_option

CSV_FILE, JSON_FILE, FIGURE = "barrier.csv", "barrier.json", "barrier"


def add_parser(sub) -> None:
    from visualizer.core.lab.interpolation import EXTEND, POINTS

    p = sub.add_parser(
        "barrier", help="the loss on the straight line between two runs' weights, and the barrier on it",
        description="Measure the training and validation loss (network in evaluation mode, whole sets, run A's "
                    "data) at θ(t) = θ_A + t·(θ_B − θ_A) between the final weights of two runs of the same network "
                    "and data, for --points values of t over [0, 1] and as far as --extend beyond each end. The "
                    "barrier is the largest excess of the loss over the straight line between its two end values, "
                    "max over t in [0, 1] of L(t) − ((1 − t)·L(0) + t·L(1)) (Entezari et al. 2022): 0 when the two "
                    "minima are linearly connected, positive when a ridge lies between them. Prints it; with --out "
                    f"writes DIR/{CSV_FILE} (t, train_loss, val_loss), DIR/{JSON_FILE} and DIR/{FIGURE}.png and "
                    ".svg. Two runs of different networks or data are refused, naming the field.")
    p.add_argument("run_a", type=Path, metavar="RUN_A", help=RUN_HELP + "; t = 0")
    p.add_argument("run_b", type=Path, metavar="RUN_B", help="the other run (t = 1), of the same network and data")
    p.add_argument("--points", type=int, default=POINTS, help=f"values of t over [0, 1], 3 to 1001 (default "
                                                              f"{POINTS})")
    p.add_argument("--extend", type=float, default=EXTEND,
                   help=f"how far beyond each end the line is measured, as a share of it, 0 to 1 (default {EXTEND:g})")
    p.add_argument("--out", type=Path, default=None, help="output folder for the CSV, JSON and plots")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG and SVG plots")
    add_threads_option(p)
    p.set_defaults(func=cmd_barrier)


def write_plots(out: Path, line) -> list[Path]:
    """barrier.png and barrier.svg, drawn by the window's plot class."""
    from visualizer.qt.labtools.barrier_plot import BarrierPlot
    from visualizer.qt.plots import ensure_app
    from visualizer.qt.plots.export import export_plot_files

    ensure_app()
    plot = BarrierPlot(theme="light")
    try:
        plot.set_line(line)
        return export_plot_files(plot, out, FIGURE)
    finally:
        plot.deleteLater()


def cmd_barrier(args: argparse.Namespace) -> int:
    from visualizer.cli.common import apply_threads_for
    from visualizer.core.files import atomic_write_text
    from visualizer.core.lab.interpolation import line_grid, line_losses
    from visualizer.core.runs.loaded import load_run

    line_grid(args.points, args.extend)  # the options checked before the runs are read
    run_a, run_b = load_run(args.run_a), load_run(args.run_b)
    apply_threads_for(run_a.widths(), len(run_a.dataset.X_train))
    line = None
    for event in line_losses(run_a, run_b, args.points, args.extend):
        line = event
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        atomic_write_text(args.out / CSV_FILE, line.csv_text())
        atomic_write_text(args.out / JSON_FILE, json.dumps(line.summary(), indent=2) + "\n")
        if not args.no_plots:
            write_plots(args.out, line)
    la, lb = line.end_losses("train")
    val = "" if line.val_barrier is None else (f"; validation barrier {line.val_barrier:.4g} at t = "
                                              f"{line.val_barrier_t:.2f}")
    print(f"training loss {la:.4g} at run A, {lb:.4g} at run B, ‖θ_B − θ_A‖ = {line.distance:.4g}{val}",
          file=sys.stderr)
    print(f"barrier (training loss): {line.train_barrier:.4g} at t = {line.train_barrier_t:.2f}")
    return 0
