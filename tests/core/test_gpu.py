"""Training on CUDA matches the CPU run (skipped without CUDA)."""

from __future__ import annotations

from dataclasses import replace

import pytest
import torch

from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec
from visualizer.core.training.events import RunEnded, StepEvent
from visualizer.core.training.session import TrainingSession

pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

MOONS = Experiment(
    data=DataSpec(name="moons", samples=1000, noise=0.2, seed=0),
    model=ModelSpec(hidden=(16, 16), activation=("tanh", "tanh")),
    train=TrainSpec(optimizer="adam", lr=0.01, batch_size=32, epochs=20, loss="cross_entropy", seed=0),
)

# Float32 kernels differ between devices in the last bits; after 500 Adam steps the losses agree to this.
LOSS_TOLERANCE = 2e-3
ACCURACY_TOLERANCE = 0.01


def _final(device: str):
    exp = replace(MOONS, train=replace(MOONS.train, device=device))
    session = TrainingSession(exp)
    events = list(session.run())
    assert isinstance(events[-1], RunEnded) and events[-1].reason == "completed", events[-1]
    last = [e for e in events if isinstance(e, StepEvent) and e.val_loss is not None][-1]
    return session, last


def test_cuda_training_matches_cpu():
    cuda_session, cuda = _final("cuda")
    assert cuda_session.device.type == "cuda"
    _, cpu = _final("cpu")
    assert abs(cuda.val_loss - cpu.val_loss) <= LOSS_TOLERANCE
    assert abs(cuda.val_metric - cpu.val_metric) <= ACCURACY_TOLERANCE
    assert cuda.val_metric >= 0.95
