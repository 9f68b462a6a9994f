"""The run's controls (pause, resume, single step, stop, a new learning rate, weights set by hand), shared by the
thread that asks and the training session that obeys at its next step."""

from __future__ import annotations

import threading


class RunControl:
    """Pause, resume, single-step, stop, learning-rate changes and weight edits, safe to call from any thread.

    The session checks it before every step; the fast path reads two plain attributes.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._paused = False
        self._stopped = False
        self._budget = 0
        self._lr: float | None = None
        self._edits: list = []  # WeightEdit requests, applied in order before the next step
        self._attention = False  # any of the above needs the session's attention

    @property
    def paused(self) -> bool:
        return self._paused

    @property
    def stopped(self) -> bool:
        return self._stopped

    def _notify(self) -> None:
        self._attention = self._paused or self._stopped or self._lr is not None or bool(self._edits)
        self._cond.notify_all()

    def pause(self) -> None:
        with self._cond:
            self._paused, self._budget = True, 0
            self._notify()

    def resume(self) -> None:
        with self._cond:
            self._paused, self._budget = False, 0
            self._notify()

    def step(self, n: int = 1) -> None:
        """Pause after exactly ``n`` more steps (from a paused or running session)."""
        with self._cond:
            self._paused, self._budget = True, self._budget + n
            self._notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._notify()

    def set_lr(self, lr: float) -> None:
        """Change the base learning rate; the next step uses it."""
        with self._cond:
            self._lr = float(lr)
            self._notify()

    def take_lr(self) -> float | None:
        with self._cond:
            lr, self._lr = self._lr, None
            self._notify()
            return lr

    def edit_weight(self, edit) -> None:
        """Set a weight by hand (a core.training.edits.WeightEdit) before the next step; while paused, before the
        step that ends the pause (a single step shows it)."""
        with self._cond:
            self._edits.append(edit)
            self._notify()

    def take_edits(self) -> list:
        """The weight edits asked for since the last call, in order."""
        if not self._edits:
            return []
        with self._cond:
            edits, self._edits = self._edits, []
            self._notify()
            return edits

    def will_wait(self) -> bool:
        """True when the next wait_turn() will block (paused with no steps to take)."""
        return self._paused and self._budget == 0 and not self._stopped

    def wait_turn(self) -> bool:
        """Block while paused with no step budget; False when the run must stop."""
        if not self._attention:
            return True
        with self._cond:
            while self._paused and self._budget == 0 and not self._stopped:
                self._cond.wait()
            if self._stopped:
                return False
            if self._paused:
                self._budget -= 1
            return True
