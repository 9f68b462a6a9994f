"""The `visualizer` command: a registry of commands, one module each, and the entry point."""

from __future__ import annotations

import argparse
import importlib

from visualizer import __version__
from visualizer.cli.common import EXIT_BAD_INPUT, EXIT_FAILED, ArgParser, fail, take_threads_option

DESCRIPTION = """Optimization Visualizer: train small networks and watch the optimizer work.

Commands:
  (none)                      open the window on the last session, or on the built-in example
  gui [EXPERIMENT]            open the window on an experiment file
  run EXPERIMENT --out DIR    train without a screen; record run.sqlite (the run file), then derive from it
                              metrics.csv, summary.json, experiment.toml, model.safetensors and the plots
  validate EXPERIMENT         check an experiment file (and its data) without training
  evaluate EXPERIMENT --out DIR   cross-validate: holdout, kfold, stratified, loo or shuffle
  sweep EXPERIMENT --out DIR --param FIELD=VALUES   a grid of runs over 1-3 fields (and seeds), locally or on
                              Ray; sweep.csv (resumable) and the map
  compress RUN --out DIR      prune and/or quantize a trained run; compression.json and the weights
  distill RUN --out DIR       train a smaller student from a run's softened outputs; compare with scratch
  landscape EXPERIMENT|RUN --out DIR   the loss surface on a plane through the weights; landscape.npz
  lr-find EXPERIMENT [--out DIR]   the learning-rate range test: a suggested learning rate, its curve and plot
  barrier RUN_A RUN_B [--out DIR]   the loss on the straight line between two runs' weights; the barrier
  sharpness RUN [--out DIR]   the sharpness (top Hessian eigenvalue) at a run's snapshots, against 2/η
  spectrum RUN [--out DIR]    the Hessian's top eigenvalues and eigenvalue density at a run's weights
  export RUN --out DIR        a run's views to PNG/SVG/CSV, animations to GIF/MP4, the dashboard to PNG
  bench train                 steps/s of the training session against a plain torch loop
  bench gui                   GUI responsiveness and steps/s in the window; first paint
  bench landscape             batched loss-surface evaluation against the per-point loop
  bench sweep                 the 16-trial moons sweep: serial against the local backend and Ray

RUN is a run file (.sqlite) or the folder holding it (what `visualizer run` writes).

Exit status: 0 success, 1 the run failed (diverged or crashed) or the disk filled up, 2 bad input (one message on
stderr)."""

#: the commands, in the order `--help` lists them: each module of visualizer.cli with an ``add_parser(sub)`` that
#: sets ``func`` (adding a command is one module and one entry here)
COMMANDS = ("gui", "run", "validate", "evaluate", "sweep", "compress", "distill", "landscape", "lr_find", "barrier",
            "sharpness", "spectrum",
            "export", "bench")


def build_parser() -> argparse.ArgumentParser:
    p = ArgParser(prog="visualizer", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"visualizer {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgParser)
    for name in COMMANDS:
        importlib.import_module(f"visualizer.cli.{name}").add_parser(sub)
    return p


def main(argv: list[str]) -> int:
    """Entry point of the `visualizer` command; returns the exit status."""
    from visualizer.core.errors import DiskFull, VisualizerError, disk_full

    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.command is None:
        args = parser.parse_args(["gui"])
    try:
        take_threads_option(args)
        return args.func(args)
    except DiskFull as exc:  # not bad input: the command failed, what it wrote before stays
        return fail(str(exc), EXIT_FAILED)
    except VisualizerError as exc:
        return fail(str(exc), EXIT_BAD_INPUT)
    except KeyboardInterrupt:
        return fail("interrupted", EXIT_FAILED)
    except OSError as exc:
        out = getattr(args, "out", None)
        full = disk_full(exc, f"nothing more could be written to {out}" if out is not None else "")
        if full is None:
            raise
        return fail(f"{full} (files written before are kept)", EXIT_FAILED)
