"""Headless commands: run, validate, bench. Imports the core only, plus the plot classes offscreen for PNGs."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

from visualizer import __version__

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2

DESCRIPTION = """Optimization Visualizer: train small networks and watch the optimizer work.

Commands:
  (none)                      open the window on the last session, or on the built-in example
  gui [EXPERIMENT]            open the window on an experiment file
  run EXPERIMENT --out DIR    train without a screen; write metrics.csv, summary.json, experiment.toml,
                              model.safetensors, run.sqlite and loss.png, histograms.png, decision_boundary.png
  validate EXPERIMENT         check an experiment file (and its data) without training
  evaluate EXPERIMENT --out DIR   cross-validate: holdout, kfold, stratified, loo or shuffle
  compress RUN_DIR --out DIR  prune and/or quantize a trained run; compression.json and the weights
  distill RUN_DIR --out DIR   train a smaller student from a run's softened outputs; compare with scratch
  landscape EXPERIMENT_OR_RUN_DIR --out DIR   the loss surface on a plane through the weights; landscape.npz
  export RUN --out DIR        a run's views to PNG/SVG/CSV, animations to GIF/MP4, the dashboard to PNG
  bench train                 steps/s of the training session against a plain torch loop
  bench gui                   GUI responsiveness and steps/s in the window; first paint
  bench landscape             batched loss-surface evaluation against the per-point loop

Exit status: 0 success, 1 the run failed (diverged or crashed), 2 bad input (one message on stderr)."""


#: snapshots `visualizer run` records, evenly spaced in steps, for replay and export however fast the run trains
RUN_FILE_SNAPSHOTS = 200


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message: str):  # noqa: D102
        raise SystemExit(_fail(f"{self.prog}: {message}", EXIT_BAD_INPUT))


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="visualizer", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"visualizer {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="train an experiment without a screen and write its files",
                         description="Train an experiment headless and write metrics.csv, summary.json, "
                                     "experiment.toml (resolved), model.safetensors and the plots to --out.")
    run.add_argument("experiment", type=Path, help="experiment file (.toml or .json)")
    run.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    run.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="override train.device")
    run.add_argument("--epochs", type=int, help="override train.epochs")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.add_argument("--quiet", action="store_true", help="no progress bar")

    gui = sub.add_parser("gui", help="open the window", description="Open the window on an experiment file, or "
                         "on the last session (the built-in example the first time).")
    gui.add_argument("experiment", nargs="?", type=Path, help="experiment file (.toml or .json)")
    gui.add_argument("--first-paint-probe", action="store_true", help=argparse.SUPPRESS)
    gui.add_argument("--check-start", action="store_true",
                     help="open the window, train the experiment for 50 steps, print what was shown and quit "
                          "(exit status 0 when it worked): the start check of a packaged build")

    val = sub.add_parser("validate", help="check an experiment file and its data",
                         description="Check an experiment file: every key, value and the data it names.")
    val.add_argument("experiment", type=Path)

    from visualizer.cli.compress import add_parsers as add_compress
    from visualizer.cli.evaluate import add_parsers as add_evaluate
    from visualizer.cli.export import add_parsers as add_export
    from visualizer.cli.landscape import add_parsers as add_landscape

    add_evaluate(sub, _Parser)
    add_compress(sub, _Parser)
    add_landscape(sub, _Parser)
    add_export(sub, _Parser)

    bench = sub.add_parser("bench", help="benchmarks", description="Benchmarks, measured side by side in one run.")
    bsub = bench.add_subparsers(dest="bench", metavar="WHAT", parser_class=_Parser, required=True)
    bt = bsub.add_parser("train", help="session steps/s against a plain torch loop (digits MLP, Adam, batch 32)",
                         description="Alternates a plain torch loop (the same model, batches and optimizer, "
                                     "validation once per epoch) and the training session (step events every "
                                     "step, snapshots at the window's rate) on the digits MLP; prints the medians "
                                     "of the repeats and their ratio, and the ratio against the loop without "
                                     "validation.")
    bt.add_argument("--repeats", type=int, default=9, help="alternated repeats (default 9)")
    bt.add_argument("--epochs", type=int, default=20, help="epochs of 45 steps per repeat (default 20)")
    bt.add_argument("--threads", type=int, default=0, help="torch threads (default: torch's own choice)")
    bt.add_argument("--json", action="store_true", help="print one JSON object")
    from visualizer.cli.landscape import add_bench_parser

    add_bench_parser(bsub, _Parser)
    bg = bsub.add_parser("gui", help="GUI-thread lateness and steps/s in the window against headless; first paint",
                         description="Runs the window offscreen and trains the digits MLP at full speed: the "
                                     "lateness of a 5 ms timer on the GUI thread (p50, p95, max), the window's "
                                     "steps/s against the headless session, alternated, and the seconds from "
                                     "process start to the first painted window.")
    bg.add_argument("--epochs", type=int, default=150, help="epochs of 45 steps per run (default 150)")
    bg.add_argument("--repeats", type=int, default=3, help="alternated headless/window runs (default 3)")
    bg.add_argument("--json", action="store_true", help="print one JSON object")
    return p


def _load(path: Path):
    from visualizer.core import experiment
    from visualizer.core.data.sets import load_dataset

    exp = experiment.load(path)
    dataset = load_dataset(exp.data, path.parent)
    return experiment.resolve(exp, dataset), dataset


def cmd_validate(args) -> int:
    exp, ds = _load(args.experiment)
    print(f"{args.experiment}: ok ({exp.data.name}: {len(ds.X_train)} train / {len(ds.X_val)} validation samples, "
          f"{ds.n_features} features, {ds.task}; {exp.train.optimizer}, {exp.train.loss})")
    return EXIT_OK


def cmd_run(args) -> int:
    from visualizer.core.runs.folder import train_to_dir
    from visualizer.core.training.events import StepEvent

    exp, dataset = _load(args.experiment)
    if args.epochs is not None:
        if args.epochs < 1:
            return _fail(f"--epochs: {args.epochs} is out of range; allowed: 1 or more", EXIT_BAD_INPUT)
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
        return _fail(ended.message, EXIT_FAILED)
    if not args.no_plots:
        from visualizer.qt.plots.figures import write_run_plots

        write_run_plots(args.out, run.history, started, run.last_snapshot, run.session)
    final = run.summary["final"]
    metric = "val_acc" if started.metric == "accuracy" else "val_r2"
    shown = f"{metric} {final[metric]:.4f}" if final.get(metric) is not None else "no validation set"
    print(f"{ended.message} {shown}; files in {args.out}", file=sys.stderr)
    return EXIT_OK if ended.ok else _fail(ended.message, EXIT_FAILED)


def cmd_bench(args) -> int:
    if args.bench == "gui":
        import os

        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        from visualizer.qt.app.bench_gui import bench_gui

        result = bench_gui(epochs=args.epochs, repeats=args.repeats)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['model']}; {result['repeats']} alternated runs of {result['steps_per_run']} steps; "
                  f"worker {result['worker_threads']} torch thread, headless {result['headless_threads']}")
            print(f"GUI timer (5 ms) lateness : p50 {result['p50_lateness_ms']:.2f} ms, p95 "
                  f"{result['p95_lateness_ms']:.2f} ms, max {result['max_lateness_ms']:.1f} ms "
                  f"({result['timer_ticks']} ticks)")
            print(f"headless session         : {result['headless_steps_per_s']:8.0f} steps/s "
                  f"({result['headless_threads']} threads), {result['headless_1_thread_steps_per_s']:.0f} "
                  "steps/s (1 thread)")
            print(f"in the window            : {result['window_steps_per_s']:8.0f} steps/s")
            print(f"steps ratio              : {result['steps_ratio']:.3f} (window / the faster headless)")
            print(f"first paint              : {result['first_paint_s']:.2f} s (median)")
        return EXIT_OK
    if args.bench == "train":
        from visualizer.core.training.bench import bench_train

        result = bench_train(repeats=args.repeats, epochs=args.epochs, threads=args.threads or None)
        if args.json:
            print(json.dumps(result))
        else:
            print(f"{result['model']}; {result['repeats']} alternated repeats of {result['steps_per_repeat']} steps, "
                  f"{result['torch_threads']} torch threads")
            print(f"plain torch loop (validation once per epoch) : {result['plain_steps_per_s']:8.0f} steps/s")
            print(f"training session (events, snapshots)         : {result['session_steps_per_s']:8.0f} steps/s")
            print(f"plain torch loop without validation          : "
                  f"{result['plain_no_validation_steps_per_s']:8.0f} steps/s")
            print(f"ratio session / plain loop                   : {result['ratio']:.3f}")
            print(f"ratio session / plain loop without validation: {result['ratio_vs_no_validation']:.3f}")
    return EXIT_OK


def cmd_gui(args) -> int:
    if args.experiment is not None and not args.experiment.exists():
        return _fail(f"{args.experiment}: no such experiment file", EXIT_BAD_INPUT)
    from visualizer.qt.app.start import main as gui_main

    return gui_main(str(args.experiment) if args.experiment else None, first_paint_probe=args.first_paint_probe,
                    check_start=args.check_start)


COMMANDS = {"gui": cmd_gui, "run": cmd_run, "validate": cmd_validate, "bench": cmd_bench}


def main(argv: list[str]) -> int:
    """Entry point of the `visualizer` command; returns the exit status."""
    from visualizer.core.errors import VisualizerError

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command is None:
        args = parser.parse_args(["gui"])
    try:
        if hasattr(args, "func"):  # commands defined in their own modules (cli_evaluate, ...)
            return args.func(args)
        return COMMANDS[args.command](args)
    except VisualizerError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return _fail("interrupted", EXIT_FAILED)
