"""The lab inside a training session: the sharpness every ``lab.sharpness_every`` steps and the training health
every ``lab.health_every`` steps, yielded as ``Measured`` events. Off (both 0), the session does not build it and
its loop pays one integer comparison per step.

On a CPU with a core to spare the sharpness is measured in a process of its own (core.lab.worker): the session
sends the weights at a measured step and goes on; the reading's ``Measured`` event comes out at the first step
after it is back (with the step it was taken at), and before a pause, a stop and the end of the run. Elsewhere (a
GPU, one core, ``VISUALIZER_LAB_WORKER=inline``) it is measured in the loop. The numbers are the same either way."""

from __future__ import annotations

import copy

from visualizer.core.experiment import hyper_values
from visualizer.core.lab import worker
from visualizer.core.training.events import Measured

#: the Lanczos tolerance along training: a residual ‖Hv − λv‖ under TOL·λ bounds the eigenvalue's error by
#: (TOL·λ)²/gap, about 1e-4 relative where the next eigenvalue is 10 % below (1 to 6 products a measurement)
TOL = 3e-3


#: while a reading is awaited, the session looks for it every this many steps (a reading takes a few ms, 10-20
#: small steps)
POLL_EVERY = 16


#: measurements sent to the measuring process (or held for its next message: worker.BATCH_S) and not answered
#: before the session waits for them (normally a batch or two are: a reading takes 10-20 small steps)
MAX_IN_FLIGHT = 2 * worker.BATCH_MOST


class LabTracker:
    """Measures one session's model: ``next_step(step)`` says which step the session calls it at next,
    ``before_step(step)`` comes just before that step's optimizer step, ``measure(step, lr)`` just after it (the
    events ready then), ``finish()`` before a pause, a stop and the end, ``close()`` when the run is left."""

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
        if self.sharpness is not None:  # its products are numpy's small matrix products (core.lab.mlp_hessian)
            from visualizer.core.threads import one_blas_thread

            one_blas_thread()  # a threaded BLAS spins on the core training needs: 0.72 -> 0.81 of its speed
        self._lease = None  # the measuring process (core.lab.worker), asked for at the run's first measurement
        self._ask = self.sharpness is not None
        self._synced = False  # whether the process's meter goes on from the last reading (else: send the state)

    def next_step(self, step: int) -> int:
        """The first step after ``step`` that is measured (sooner while a reading is awaited, so that its event
        comes out soon after it is back)."""
        after = [(step // every + 1) * every for every in (self.sharpness_every, self.health_every) if every]
        if self._lease is not None and self._lease.pending:
            after.append(step + POLL_EVERY)
        return min(after)

    def before_step(self, step: int) -> None:
        if self.health is not None and step % self.health_every == 0:
            self.health.before_step()

    def measure(self, step: int, lr: float) -> list[Measured]:
        """The events at ``step`` (the model's weights after that step's update): the readings back from the
        measuring process, this step's sharpness (sent to the process, or in the loop) and health."""
        sharp = self.sharpness is not None and step % self.sharpness_every == 0
        healthy = self.health is not None and step % self.health_every == 0
        if not (sharp or healthy or (self._lease is not None and self._lease.answered())):
            return []  # a step that only looks for a reading, and none is back (most of them: a cheap test)
        s = self.session
        out = self._readings(self._lease.ready()) if self._lease is not None else []
        rows = []
        if sharp:
            lease = self._lease_now()
            if lease is not None and lease.pending >= MAX_IN_FLIGHT:  # (its input pipe never fills: wait first)
                out.extend(self.finish())
                lease = self._lease
            if lease is not None and not lease.started and lease.usable():
                lease.begin(self.sharpness, s.model)
                self._synced = True
            if lease is not None and lease.started and lease.error is None and worker.core_to_spare():
                try:
                    scale = self.sharpness.scale(s.optimizer)
                except LookupError:  # an adaptive method before its first step: nothing to measure yet
                    scale = False
                if scale is not False:
                    lease.send(step, s.model, scale, lr, None if self._synced else self.sharpness.state())
                    if s.total_steps - step < worker.BATCH_MOST * self.sharpness_every:
                        lease.flush()  # near the end one at a time: the run's end waits for one reading, not a batch
                    self._synced = True
                    out.extend(self._readings([]))  # (a process that died takes it back)
            else:
                if lease is not None and lease.pending:  # the machine got busy: the chain comes back here
                    out.extend(self.finish())
                reading = self.sharpness.measure(s.model, s.optimizer, lr)
                self._synced = False
                if reading is not None:
                    rows.extend(reading.measures())
        if healthy:
            rows.extend(self.health.measure(s.model))
        if rows:
            out.append(Measured(step, tuple(rows)))
        return out

    def _lease_now(self):
        if self._ask:
            self._ask = False  # asked once a run
            if worker.wanted(self.session.device):
                try:
                    self._lease = worker.lease()
                except OSError:  # no process here: measured in the loop
                    self._lease = None
        return self._lease

    def finish(self) -> list[Measured]:
        """The readings still awaited, waited for (before a pause, a stop and the end of the run)."""
        if self._lease is None:
            return []
        return self._readings(self._lease.wait())

    def _readings(self, triples) -> list[Measured]:
        if triples:  # the loop's meter keeps up with the chain, to take it over whenever the process cannot
            self.sharpness.set_state(triples[-1][2])
        out = [Measured(step, reading.measures()) for step, reading, _state in triples]
        if self._lease.error is not None:  # it failed or died: what it did not answer is measured here
            unanswered = list(self._lease.unanswered)
            self._drop_lease()
            self._synced = False
            out.extend(self._measure_here(unanswered))
        return out

    def _measure_here(self, sent) -> list[Measured]:
        """Measure in the loop what was sent to the measuring process and not answered (from the weights sent)."""
        if not sent:
            return []
        model = copy.deepcopy(self.session.model).cpu()
        return [Measured(one[0], worker.measure_sent(self.sharpness, model, one).measures()) for one in sent]

    def _drop_lease(self) -> None:
        lease, self._lease = self._lease, None
        if lease is not None:
            lease.release()

    def close(self) -> None:
        """The run is left: the measuring process is free for the next (readings still to come are dropped)."""
        self._drop_lease()
