"""`visualizer run EXPERIMENT --out DIR`: train headless, record the run file, write its files and plots."""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from visualizer.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK, fail, load_experiment

#: snapshots `visualizer run` records, evenly spaced in steps, for replay and export however fast the run trains
RUN_FILE_SNAPSHOTS = 200


def add_parser(sub) -> None:
    p = sub.add_parser("run", help="train an experiment without a screen and write its files",
                       description="Train an experiment headless and write metrics.csv, summary.json, "
                                   "experiment.toml (resolved), model.safetensors and the plots to --out.")
    p.add_argument("experiment", type=Path, help="experiment file (.toml or .json)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="override train.device")
    p.add_argument("--epochs", type=int, help="override train.epochs")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_run)


def cmd_run(args) -> int:
    from visualizer.core.runs.folder import train_to_dir
    from visualizer.core.training.events import StepEvent

    exp, dataset = load_experiment(args.experiment)
    if args.epochs is not None:
        if args.epochs < 1:
            return fail(f"--epochs: {args.epochs} is out of range; allowed: 1 or more", EXIT_BAD_INPUT)
        exp = replace(exp, train=replace(exp.train, epochs=args.epochs))
    if args.device:
        exp = replace(exp, train=replace(exp.train, device=args.device))
    bar = None

    def progress(event) -> None:
        nonlocal bar
        if type(event).__name__ == "RunStarted":
            print(event.device_message, file=sys.stderr)
            if not args.quiet:
                from tqdm import tqdm

                bar = tqdm(total=event.total_steps, unit="step", file=sys.stderr, mininterval=0.5,
                           dynamic_ncols=True)
        elif bar is not None and isinstance(event, StepEvent) and event.step:
            bar.update(1)
            if event.val_loss is not None:
                bar.set_postfix(loss=f"{event.train_loss:.4f}", val_loss=f"{event.val_loss:.4f}", refresh=False)

    from visualizer.core.runs.file import create_run_file

    args.out.mkdir(parents=True, exist_ok=True)
    recorder = create_run_file(args.out, "run", exp)  # run.sqlite (run-2.sqlite … when rerun into DIR)

    def record_and_show(event) -> None:
        recorder.add(event)
        progress(event)

    try:
        run = train_to_dir(exp, args.out, dataset, args.experiment.parent, on_event=record_and_show,
                           snapshot_target=RUN_FILE_SNAPSHOTS)
        recorder.add_weights(run.session.model)
    finally:
        recorder.close()
    if bar is not None:
        bar.close()
    ended, started = run.ended, run.started
    if run.summary is None:  # failed before the first step
        return fail(ended.message, EXIT_FAILED)
    if not args.no_plots:
        from visualizer.qt.plots.figures import write_run_plots

        write_run_plots(args.out, run.history, started, run.last_snapshot, run.session)
    final = run.summary["final"]
    metric = "val_acc" if started.metric == "accuracy" else "val_r2"
    shown = f"{metric} {final[metric]:.4f}" if final.get(metric) is not None else "no validation set"
    print(f"{ended.message} {shown}; files in {args.out}", file=sys.stderr)
    return EXIT_OK if ended.ok else fail(ended.message, EXIT_FAILED)
