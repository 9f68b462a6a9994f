"""Learning-rate schedules: the factor the base learning rate is multiplied by at each step."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class ScheduleInfo:
    name: str
    label: str
    formula: str
    factor: Callable[[int, int, int, int, float], float]  # (step, steps_per_epoch, total_steps, step_size, gamma)


def _constant(step: int, spe: int, total: int, step_size: int, gamma: float) -> float:
    return 1.0


def _step(step: int, spe: int, total: int, step_size: int, gamma: float) -> float:
    # as torch.optim.lr_scheduler.StepLR stepped once per epoch: step t belongs to epoch (t-1)//spe
    epoch = (step - 1) // spe if step > 0 else 0
    return gamma ** (epoch // step_size)


def _cosine(step: int, spe: int, total: int, step_size: int, gamma: float) -> float:
    # as CosineAnnealingLR(T_max=total, eta_min=0) stepped once per step: step t uses index t-1
    t = max(step - 1, 0)
    return 0.5 * (1.0 + math.cos(math.pi * t / total))


SCHEDULES: dict[str, ScheduleInfo] = {
    s.name: s
    for s in (
        ScheduleInfo("constant", "Constant", "α(t) = α", _constant),
        ScheduleInfo("step", "Step decay", "α(t) = α · γ^⌊epoch / step_size⌋", _step),
        ScheduleInfo("cosine", "Cosine annealing", "α(t) = α · ½(1 + cos(π t / T))", _cosine),
    )
}


def default_step_size(epochs: int) -> int:
    """The step schedule's period when the experiment leaves step_size at 0: a third of the epochs."""
    return max(1, epochs // 3)
