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


@pytest.fixture(scope="session")
def local_ray():
    """One local Ray of 2 CPUs for all the Ray tests (starting one takes ~10 s); skipped without ray."""
    ray = pytest.importorskip("ray")
    if not ray.is_initialized():
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    ray.shutdown()
