"""The lab inside a training session: the sharpness every ``lab.sharpness_every`` steps and the training health
every ``lab.health_every`` steps, yielded as ``Measured`` events. Off (both 0), the session does not build it and
its loop pays one integer comparison per step."""

from __future__ import annotations

from visualizer.core.experiment import hyper_values
from visualizer.core.training.events import Measured

#: the Lanczos tolerance along training: a residual ‖Hv − λv‖ under TOL·λ bounds the eigenvalue's error by
#: (TOL·λ)²/gap, about 1e-4 relative where the next eigenvalue is 10 % below (1 to 6 products a measurement)
TOL = 3e-3


class LabTracker:
    """Measures one session's model; ``due(step)`` says whether ``step`` is measured, ``before_step()`` comes just
    before the optimizer's step of such a step, ``measure(step, lr)`` just after it."""

    def __init__(self, session) -> None:
        from visualizer.core.lab.health import HealthMeter
        from visualizer.core.lab.sharpness import SharpnessMeter

        lab, tr = session.experiment.lab, session.experiment.train
        self.session = session
        self.sharpness_every, self.health_every = lab.sharpness_every, lab.health_every
        samples = lab.sharpness_samples or len(session._X)
        self.sharpness = (SharpnessMeter(tr.optimizer, hyper_values(tr), session.loss, session._X, session._y,
                                         max_samples=samples, tol=TOL, seed=tr.seed)
                          if self.sharpness_every else None)
        self.health = HealthMeter(session.model, session._X) if self.health_every else None

    def due(self, step: int) -> bool:
        return ((self.sharpness_every and step % self.sharpness_every == 0)
                or (self.health_every and step % self.health_every == 0)) or False

    def next_step(self, step: int) -> int:
        """The first step after ``step`` that is measured."""
        after = [(step // every + 1) * every for every in (self.sharpness_every, self.health_every) if every]
        return min(after)

    def before_step(self) -> None:
        if self.health is not None:
            self.health.before_step()

    def measure(self, step: int, lr: float) -> Measured | None:
        """What is due at ``step`` (the model's weights after that step's update), or None."""
        s = self.session
        rows = []
        if self.sharpness is not None and step % self.sharpness_every == 0:
            reading = self.sharpness.measure(s.model, s.optimizer, lr)
            if reading is not None:
                rows.extend(reading.measures())
        if self.health is not None and step % self.health_every == 0:
            rows.extend(self.health.measure(s.model))
        return Measured(step, tuple(rows)) if rows else None
