"""Learning-rate schedules: the factor the base learning rate is multiplied by at each step, and the fields
(step size, γ) each schedule reads, declared once for the experiment file, the training panel and the trainer."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from visualizer.core.model.hyperparams import HyperParam

#: every field a schedule may read, by its key in the experiment's [train] table
SCHEDULE_FIELDS: dict[str, HyperParam] = {f.name: f for f in (
    HyperParam("step_size", "Decay every", 0, 0, 1_000_000, False,
               "Epochs between two decays of the learning rate (0: a third of the epochs).",
               integer=True, zero_text="⅓ of the epochs"),
    HyperParam("gamma", "Decay factor γ", 0.1, 0.0, 1.0, False,
               "The learning rate is multiplied by γ at each decay.", min_inclusive=False),
)}


@dataclass(frozen=True)
class ScheduleInfo:
    """A registered schedule: its label, its formula as text, the factor it applies and the fields it reads."""

    name: str
    label: str
    formula: str
    factor: Callable[[int, int, int, int, float], float]  # (step, steps_per_epoch, total_steps, step_size, gamma)
    fields: tuple[str, ...] = ()  # keys of SCHEDULE_FIELDS this schedule reads

    def uses(self, field: str) -> bool:
        return field in self.fields


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
        ScheduleInfo("step", "Step decay", "α(t) = α · γ^⌊epoch / step_size⌋", _step, ("step_size", "gamma")),
        ScheduleInfo("cosine", "Cosine annealing", "α(t) = α · ½(1 + cos(π t / T))", _cosine),
    )
}


def users_of(field: str) -> list[str]:
    """Labels of the schedules that read ``field``, in registry order (for 'only Step decay uses it')."""
    return [s.label for s in SCHEDULES.values() if s.uses(field)]


def default_step_size(epochs: int) -> int:
    """The step schedule's period when the experiment leaves step_size at 0: a third of the epochs."""
    return max(1, epochs // 3)
