"""What every command shares: exit statuses, one-line errors, loading an experiment with its data, a run's help
text, the progress bar of a training run."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT = 0, 1, 2


class ArgParser(argparse.ArgumentParser):
    """argparse that reports usage errors as one line and exit status 2."""

    def error(self, message: str):  # noqa: D102
        raise SystemExit(fail(f"{self.prog}: {message}", EXIT_BAD_INPUT))


def fail(message: str, code: int) -> int:
    """Print ``error: message`` on stderr; returns ``code`` (the exit status)."""
    print(f"error: {message}", file=sys.stderr)
    return code


THREADS_HELP = ("torch threads (default: $VISUALIZER_THREADS if set, else one for a small model and more for a large "
                "one on many cores, one core left free; see the README's thread policy)")


def add_threads_option(parser) -> None:
    """--threads N, on every command that computes."""
    parser.add_argument("--threads", type=int, default=0, metavar="N", help=THREADS_HELP)


def take_threads_option(args) -> None:
    """A command's --threads holds for all it computes: it becomes $VISUALIZER_THREADS for this process, which every
    training session and computation reads (core.threads)."""
    import os

    from visualizer.core.threads import ENV, choose_threads

    if getattr(args, "threads", 0):
        os.environ[ENV] = str(choose_threads(0, args.threads).threads)  # checked: 1 to 256


def apply_threads_for(widths, rows: int):
    """Choose and set torch's threads for work outside a training session on a network of layer ``widths`` over
    ``rows`` samples a pass (the environment, else the policy); returns the ThreadChoice."""
    from visualizer.core.threads import apply_threads, choose_threads, forward_work

    return apply_threads(choose_threads(forward_work(widths, rows)))


def load_experiment(path: Path):
    """The experiment file at ``path``, resolved against its data (which is loaded): (experiment, dataset)."""
    from visualizer.core import experiment
    from visualizer.core.data.sets import load_dataset

    exp = experiment.load(path)
    dataset = load_dataset(exp.data, path.parent)
    return experiment.resolve(exp, dataset), dataset


def check_out(source: Path, out: Path) -> None:
    """Refuse an output folder that is the run read from, or the folder holding its run file (its files would be
    overwritten)."""
    from visualizer.core.errors import VisualizerError

    folder = source if source.is_dir() or source.suffix.lower() != ".sqlite" else source.parent
    if out.resolve() == folder.resolve():
        raise VisualizerError(f"--out {out}: is the run folder itself; its model.safetensors would be overwritten, "
                              "choose another folder")


RUN_HELP = "the run: a run file (.sqlite) or the folder holding it (what `visualizer run` writes)"


class ProgressBar:
    """Shows a training run on stderr: its device line, then a bar over its steps (none when ``quiet``); call it
    with every event of the session."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = None

    def __call__(self, event) -> None:
        name = type(event).__name__
        if name == "RunStarted":
            print(event.device_message, file=sys.stderr)
            if not self.quiet:
                from tqdm import tqdm

                self.bar = tqdm(total=event.total_steps, unit="step", file=sys.stderr, mininterval=0.5,
                                dynamic_ncols=True)
        elif self.bar is not None and name == "StepEvent" and event.step:
            self.bar.update(1)
            if event.val_loss is not None:
                self.bar.set_postfix(loss=f"{event.train_loss:.4f}", val_loss=f"{event.val_loss:.4f}", refresh=False)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
