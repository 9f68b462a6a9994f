"""Helpers several test modules share."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.runs.folder import train_to_dir


def train_run(out: Path, raw: dict) -> Path:
    """Train an experiment (a dict as in a TOML file) and write its run folder, as `visualizer run` does."""
    exp = experiment.from_dict(raw)
    data = load_dataset(exp.data)
    run = train_to_dir(experiment.resolve(exp, data), out, data)
    assert run.ended.ok, run.ended.message
    return out


@pytest.fixture(scope="module")
def one_torch_thread():
    """Tiny models run faster on one thread, and do not stall when another process holds a core."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
