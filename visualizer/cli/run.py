"""`visualizer run EXPERIMENT --out DIR`: train headless, record the run file, derive its files and plots from it."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from visualizer.cli.common import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_OK,
    ProgressBar,
    add_threads_option,
    fail,
    load_experiment,
)


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="train an experiment without a screen and write its files",
                       description="Train an experiment headless and record DIR/run.sqlite (the run file: every "
                                   "step, about 200 snapshots, the final weights; run-2.sqlite… when rerun into "
                                   "DIR), then write from it metrics.csv, summary.json, experiment.toml (resolved), "
                                   "model.safetensors and the plots.")
    p.add_argument("experiment", type=Path, help="experiment file (.toml or .json)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="override train.device")
    p.add_argument("--epochs", type=int, help="override train.epochs")
    p.add_argument("--sharpness-every", type=int, metavar="N",
                   help="measure the sharpness (top Hessian eigenvalue; Adam: preconditioned) every N steps into "
                        "the run file and measures.csv (overrides lab.sharpness_every; 0: off)")
    p.add_argument("--health-every", type=int, metavar="N",
                   help="measure each layer's gradient norm, weight norm, update ratio and dead/saturated units "
                        "every N steps (overrides lab.health_every; 0: off)")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_threads_option(p)
    p.set_defaults(func=cmd_run)


def cmd_run(args) -> int:
    from visualizer.core.runs.folder import train_to_dir

    exp, dataset = load_experiment(args.experiment)
    if args.epochs is not None:
        if args.epochs < 1:
            return fail(f"--epochs: {args.epochs} is out of range; allowed: 1 or more", EXIT_BAD_INPUT)
        exp = replace(exp, train=replace(exp.train, epochs=args.epochs))
    if args.device:
        exp = replace(exp, train=replace(exp.train, device=args.device))
    for name in ("sharpness_every", "health_every"):
        value = getattr(args, name)
        if value is not None:
            if value < 0:
                return fail(f"--{name.replace('_', '-')}: {value} is out of range; allowed: 0 (off) or more",
                            EXIT_BAD_INPUT)
            exp = replace(exp, lab=replace(exp.lab, **{name: value}))
    bar = ProgressBar(args.quiet)
    try:
        run = train_to_dir(exp, args.out, dataset, args.experiment.parent, on_event=bar)
    finally:
        bar.close()
    ended, started = run.ended, run.started
    if run.summary is None:  # failed before the first step
        return fail(ended.message, EXIT_FAILED)
    if not args.no_plots:
        write_plots(run.run_file, args.out, dataset)
    if not ended.ok:  # said once; its last figures come from before the end (summary.json says from when)
        return fail(f"{ended.message} Files in {args.out}.", EXIT_FAILED)
    final = run.summary["final"]
    metric = "val_acc" if started.metric == "accuracy" else "val_r2"
    shown = f"{metric} {final[metric]:.4f}" if final.get(metric) is not None else "no validation set"
    print(f"{ended.message} {shown}; files in {args.out}", file=sys.stderr)
    return EXIT_OK


def write_plots(run_file: Path, out: Path, dataset=None) -> list[Path]:
    """loss.png, histograms.png and the prediction view of a run, drawn from its run file (``dataset``: the run's,
    when the caller has it loaded)."""
    from types import SimpleNamespace

    from visualizer.core.runs.loaded import LoadedRun
    from visualizer.core.runs.reader import RunReader
    from visualizer.qt.plots.figures import write_run_plots

    with RunReader(run_file) as reader:
        run = LoadedRun.from_reader(reader, dataset)
        steps = reader.snapshot_steps()
        last = reader.snapshot_at(steps[-1]) if steps else None
        trained = SimpleNamespace(dataset=run.dataset, model=run.model, loss=run.loss_info)
        return write_run_plots(out, reader.history(), reader.started, last, trained)
