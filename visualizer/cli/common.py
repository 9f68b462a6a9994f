"""What every command shares: exit statuses, one-line errors, loading an experiment with its data."""

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


def load_experiment(path: Path):
    """The experiment file at ``path``, resolved against its data (which is loaded): (experiment, dataset)."""
    from visualizer.core import experiment
    from visualizer.core.data.sets import load_dataset

    exp = experiment.load(path)
    dataset = load_dataset(exp.data, path.parent)
    return experiment.resolve(exp, dataset), dataset


def check_out(source: Path, out: Path) -> None:
    """Refuse an output folder that is the run folder read from (its files would be overwritten)."""
    from visualizer.core.errors import VisualizerError

    if out.resolve() == source.resolve():
        raise VisualizerError(f"--out {out}: is the run folder itself; its model.safetensors would be overwritten, "
                              "choose another folder")
