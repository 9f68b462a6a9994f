"""`visualizer sweep EXPERIMENT --out DIR --param FIELD=...`: many runs over a grid of the experiment's fields, in
worker processes or on a Ray cluster; sweep.csv as trials finish (resumable), then the map as PNG and SVG."""

from __future__ import annotations

import sys
from pathlib import Path

from visualizer.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, fail

#: the names of core.sweeps.backends.BACKENDS, here so that building the parser imports nothing heavy
BACKENDS = ("local", "ray", "serial")
METRICS = ("loss", "accuracy", "r2")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "sweep", help="train a grid of runs over 1-3 fields of an experiment (and seeds); sweep.csv and the map",
        description="Train one run per combination of the swept fields' values and per seed, each a normal run "
                    "(DIR/trials/ID/run.sqlite and its files), in worker processes (--backend local, the default) "
                    "or as Ray tasks (--backend ray, on a cluster with --address). DIR/sweep.csv gets a row per "
                    "finished trial as it finishes (the fields, seed, status done/diverged/failed, final and best "
                    "losses and metric, steps to --target-loss, the divergence step); rerun the same command to "
                    "resume a sweep that was stopped. Then DIR/map.png and map.svg: two fields as a heatmap of the "
                    "final validation loss (or --metric accuracy) with diverged cells hatched and the best cell "
                    "outlined; one field as the curve of the mean over seeds with min–max bars; three as one heatmap "
                    "per value of the third.")
    p.add_argument("experiment", type=Path, help="experiment file (.toml or .json)")
    p.add_argument("--out", type=Path, required=True, help="the sweep's folder (created if missing)")
    p.add_argument("--param", action="append", default=[], metavar="FIELD=VALUES", required=True,
                   help="a swept field of the experiment file and its values: FIELD=V1,V2,... or "
                        "FIELD=LOW:HIGH:lin|log:N (e.g. train.lr=0.001:1:log:4, train.optimizer=sgd,adam, "
                        "model.hidden=8,16x16); 1 to 3 fields with several values, any number with one (a fixed "
                        "setting, e.g. train.epochs=20)")
    p.add_argument("--seeds", type=int, default=1, metavar="K",
                   help="seeds per combination: train.seed, train.seed+1, ... (default 1)")
    p.add_argument("--target-loss", type=float, default=None, metavar="LOSS",
                   help="steps_to_target is the first evaluation step whose validation loss (training loss without a "
                        "validation set) is at most LOSS (default: not measured)")
    p.add_argument("--metric", choices=METRICS, default="loss",
                   help="what the map shows: the final validation loss (default), accuracy or r2")
    p.add_argument("--backend", choices=BACKENDS, default="local",
                   help="local: worker processes on this machine (default); ray: Ray tasks (pip install "
                        "\".[cluster]\"; on a Ray of this machine alone this process runs trials too, as "
                        "one of its CPUs); serial: one after another in this process")
    p.add_argument("--address", default=None, metavar="ADDR",
                   help="the Ray cluster to join (ray start --head prints it; default: a local Ray)")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="trials at once: worker processes, or a local Ray's CPUs (default: one per core)")
    p.add_argument("--threads", type=int, default=1, metavar="N", help="torch threads per trial (default 1)")
    p.add_argument("--no-plots", action="store_true", help="skip map.png and map.svg")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_sweep)


def cmd_sweep(args) -> int:
    from visualizer.cli.common import load_experiment
    from visualizer.core import experiment
    from visualizer.core.sweeps.grid import parse_param
    from visualizer.core.sweeps.runner import SweepPlan, SweepStarted, run_sweep
    from visualizer.core.threads import choose_threads

    if args.target_loss is not None and not args.target_loss == args.target_loss:
        return fail("--target-loss: nan is not a loss", EXIT_BAD_INPUT)
    threads = choose_threads(0, args.threads).threads
    load_experiment(args.experiment)  # the experiment file and its data are good (one message, exit 2)
    plan = SweepPlan(experiment.load(args.experiment), tuple(parse_param(t) for t in args.param), args.seeds,
                     args.target_loss, str(args.experiment.parent.resolve()))
    counts = {"done": 0, "diverged": 0, "failed": 0}
    bar = None
    try:
        for event in run_sweep(plan, args.out, args.backend, args.workers, args.address, threads):
            if isinstance(event, SweepStarted):
                for row in event.done_before:
                    counts[row["status"]] = counts.get(row["status"], 0) + 1
                if event.done_before:
                    print(f"resuming: {len(event.done_before)} of {event.total} trials were done before",
                          file=sys.stderr)
                if not args.quiet:
                    from tqdm import tqdm

                    bar = tqdm(total=event.total, initial=len(event.done_before), unit="trial", file=sys.stderr,
                               mininterval=0.5, dynamic_ncols=True)
            else:
                counts[event.row["status"]] = counts.get(event.row["status"], 0) + 1
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    if not args.no_plots:
        write_map(args.out, args.metric)
    total = sum(counts.values())
    print(f"{total} trials: {counts['done']} done, {counts['diverged']} diverged, {counts['failed']} failed; "
          f"table {args.out / 'sweep.csv'}", file=sys.stderr)
    return EXIT_FAILED if counts["failed"] == total and total else EXIT_OK


def write_map(out: Path, metric: str = "loss") -> list[Path]:
    """map.png and map.svg of the sweep in ``out``, drawn offscreen by the window's own map plot."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from visualizer.qt.sweeps.figures import write_sweep_map

    return write_sweep_map(out, metric)
