"""One numeric setting of a registry entry (an optimizer's learning rate, a schedule's γ): key, label, default,
allowed range and tooltip, so that the experiment file, the panels and the trainer read them from one place."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class HyperParam:
    """One hyper-parameter: its key in the experiment's [train] table, GUI label, default and allowed range."""

    name: str
    label: str
    default: float
    minimum: float
    maximum: float
    log_scale: bool
    tooltip: str
    min_inclusive: bool = True  # False: value must be > minimum (lr > 0, eps > 0)
    max_inclusive: bool = True  # False: value must be < maximum (betas < 1)
    integer: bool = False  # a whole number (a schedule's step size), shown in an integer field
    zero_text: str = ""  # what 0 means when it stands for "choose for me" (step size 0: a third of the epochs)

    def allows(self, value: float) -> bool:
        """Whether ``value`` is finite and inside the range, honouring the inclusive flags."""
        if not math.isfinite(value):
            return False
        above = value >= self.minimum if self.min_inclusive else value > self.minimum
        below = value <= self.maximum if self.max_inclusive else value < self.maximum
        return above and below

    def range_text(self) -> str:
        """The allowed range in interval notation, e.g. ``(0, 10]``, for messages and tooltips."""
        left = "[" if self.min_inclusive else "("
        right = "]" if self.max_inclusive else ")"
        return f"{left}{self.minimum:g}, {self.maximum:g}{right}"
