"""A tiny experiment for sweeps: 200 moons samples, one hidden layer of 8, a few epochs (a trial takes ~0.1 s)."""

from __future__ import annotations

import pytest

TINY = """title = "tiny moons"
[data]
name = "moons"
samples = 200
[model]
hidden = [8]
activation = "tanh"
[train]
optimizer = "momentum"
lr = 0.1
batch_size = 32
epochs = 3
"""


@pytest.fixture
def tiny_experiment(tmp_path):
    path = tmp_path / "tiny.toml"
    path.write_text(TINY)
    return path
