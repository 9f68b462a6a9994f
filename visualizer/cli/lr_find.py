"""`visualizer lr-find`: the learning-rate range test (Smith 2017) on an experiment; prints the suggested learning
rate and writes the curve (CSV) and its plot (PNG, SVG)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from visualizer.cli.common import add_threads_option

CSV_FILE, JSON_FILE, FIGURE = "lr_find.csv", "lr_find.json", "lr_find"


def add_parser(sub) -> None:
    from visualizer.core.lab.lr_finder import HIGH, LOW, SMOOTH_DECADES, STEPS, STOP_FACTOR

    p = sub.add_parser(
        "lr-find", help="the learning-rate range test: a suggested learning rate for an experiment",
        description=f"From the experiment's initial weights (its seed) and on its mini-batches, train while the "
                    f"learning rate grows exponentially from --low to --high over --steps steps, stopping early "
                    f"once the running average of the loss exceeds {STOP_FACTOR:g} x its minimum (Smith 2017; "
                    f"fastai's lr_find). The losses are averaged over ±{SMOOTH_DECADES:g} decade of learning rate; "
                    "the suggestion is the learning rate of that curve's minimum divided by 10, printed on stdout; "
                    "the steepest descent (most negative slope against log lr, before the minimum) is reported "
                    f"too. With --out: DIR/{CSV_FILE} (step, lr, loss, smoothed), DIR/{JSON_FILE} (the "
                    f"suggestions) and DIR/{FIGURE}.png and .svg (loss against lr, log axis).")
    p.add_argument("experiment", type=Path, metavar="EXPERIMENT", help="an experiment file (.toml or .json)")
    p.add_argument("--out", type=Path, default=None, help="output folder for the CSV, JSON and plots (created if "
                                                          "missing; default: print the suggestion only)")
    p.add_argument("--steps", type=int, default=STEPS, help=f"training steps of the test, 10 to 10000 (default "
                                                            f"{STEPS})")
    p.add_argument("--low", type=float, default=LOW, help=f"the first learning rate (default {LOW:g})")
    p.add_argument("--high", type=float, default=HIGH, help=f"the last learning rate (default {HIGH:g})")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG and SVG plots")
    add_threads_option(p)
    p.set_defaults(func=cmd_lr_find)


def write_plots(out: Path, result) -> list[Path]:
    """lr_find.png and lr_find.svg, drawn by the window's plot class."""
    from visualizer.qt.labtools.lr_plot import LRFinderPlot
    from visualizer.qt.plots import ensure_app
    from visualizer.qt.plots.export import export_plot_files

    ensure_app()
    plot = LRFinderPlot(theme="light")
    try:
        plot.set_result(result)
        return export_plot_files(plot, out, FIGURE)
    finally:
        plot.deleteLater()


def cmd_lr_find(args: argparse.Namespace) -> int:
    from visualizer.cli.common import load_experiment
    from visualizer.core.errors import VisualizerError
    from visualizer.core.files import atomic_write_text
    from visualizer.core.lab.lr_finder import check_range, find_lr, summary, write_csv

    check_range(args.low, args.high, args.steps)
    if not args.experiment.is_file():
        raise VisualizerError(f"{args.experiment}: no such experiment file")
    exp, dataset = load_experiment(args.experiment)
    result = find_lr(exp, dataset, args.experiment.parent, low=args.low, high=args.high, steps=args.steps)
    if result.suggested is None:
        raise VisualizerError(f"the range test ended after {len(result.lrs)} steps ({result.stopped}): too few to "
                              "suggest a learning rate; lower --low or raise --steps")
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        write_csv(result, args.out / CSV_FILE)
        atomic_write_text(args.out / JSON_FILE, json.dumps(summary(result), indent=2) + "\n")
        if not args.no_plots:
            write_plots(args.out, result)
    steep = "none" if result.steepest is None else f"{result.steepest:.3g}"
    print(f"{len(result.lrs)} steps from lr {result.lrs[0]:.3g} to {result.lrs[-1]:.3g}"
          f"{'; ' + result.stopped if result.stopped else ''}. Steepest descent at {steep}; minimum / 10 at "
          f"{result.min_over_10:.3g}.", file=sys.stderr)
    print(f"suggested learning rate: {result.suggested:.3g}")
    return 0
