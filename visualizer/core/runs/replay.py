"""What a replay reads from a run file, Qt-free: the history up to a step, the snapshots, the replay clock."""

from __future__ import annotations

import bisect
from pathlib import Path

import numpy as np

from visualizer.core.runs.reader import RunReader
from visualizer.core.training.events import StepEvent

#: at 1x a replay follows the run's own pace (its steps' wall-clock times), with two changes so that it can be
#: watched: a gap longer than MAX_GAP_S (a pause) counts as MAX_GAP_S, and a run that took less than
#: MIN_REPLAY_S is stretched to last MIN_REPLAY_S
MAX_GAP_S = 0.5
MIN_REPLAY_S = 10.0


def _nan_to_none(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


class HistoryUpTo:
    """The first part of a History (the steps at or before ``step``), with History's read-only interface."""

    def __init__(self, history, step: float) -> None:
        self._h = history
        self._n = int(np.searchsorted(history.steps, step, side="right"))
        self._m = int(np.searchsorted(history.eval_steps, step, side="right"))

    def __len__(self) -> int:
        return self._n

    def _s(self, name: str) -> np.ndarray:
        return getattr(self._h, name)[: self._n]

    def _e(self, name: str) -> np.ndarray:
        return getattr(self._h, name)[: self._m]

    steps = property(lambda self: self._s("steps"))
    epochs = property(lambda self: self._s("epochs"))
    train_loss = property(lambda self: self._s("train_loss"))
    lr = property(lambda self: self._s("lr"))
    wall_s = property(lambda self: self._s("wall_s"))
    penalty = property(lambda self: self._s("penalty"))
    eval_steps = property(lambda self: self._e("eval_steps"))
    val_loss = property(lambda self: self._e("val_loss"))
    train_metric = property(lambda self: self._e("train_metric"))
    val_metric = property(lambda self: self._e("val_metric"))
    eval_train_loss = property(lambda self: self._e("eval_train_loss"))

    def eval_at(self, step: int) -> int | None:
        i = self._h.eval_at(step)
        return i if i is not None and i < self._m else None


class ReplayRun:
    """A run file opened for replay: every snapshot loaded once, the step events rebuilt on demand."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.reader = RunReader(self.path)
        self.snapshots: list = []
        self.snapshot_steps: list[int] = []
        self._clock = np.empty(0)
        self.edits: list = []  # the weights set by hand (WeightEdited), in order
        self._load_new()

    @property
    def history(self):
        return self.reader.history()

    @property
    def started(self):
        return self.reader.started

    @property
    def ended(self):
        return self.reader.ended

    @property
    def experiment(self):
        return self.reader.experiment

    @property
    def last_step(self) -> int:
        h = self.history
        return int(h.steps[-1]) if len(h) else 0

    def measures_up_to(self, step: float):
        """The lab's measures (core.lab.measures.Measures) taken at or before ``step``."""
        return self._measures.up_to(step)

    def refresh(self) -> int:
        """Read what the writer committed since the last refresh; returns how many steps came."""
        n = self.reader.refresh()
        self.edits = self.reader.edits()
        if n or len(self.reader.snapshot_steps()) != len(self.snapshots):
            self._load_new()
        return n

    def _load_new(self) -> None:
        self.edits = self.reader.edits()
        self._measures = self.reader.measures()  # the lab's rows committed so far (a damaged one: at open)
        new = self.reader.snapshots(len(self.snapshots))
        self.snapshots.extend(new)
        self.snapshot_steps.extend(s.step for s in new)
        wall = self.history.wall_s
        with np.errstate(invalid="ignore"):  # a damaged file's infinite times: their gaps count as nothing
            gaps = np.clip(np.diff(wall, prepend=wall[:1]), 0.0, MAX_GAP_S) if len(wall) else np.empty(0)
        self._clock = np.cumsum(np.nan_to_num(gaps))

    def edits_up_to(self, step: int) -> list:
        """The weights set by hand at or before ``step`` (each between its step and the next)."""
        return [e for e in self.edits if e.step <= step]

    def snapshots_up_to(self, step: int) -> int:
        """How many snapshots were taken at or before ``step``."""
        return bisect.bisect_right(self.snapshot_steps, step)

    def index_of(self, step: float) -> int:
        """How many steps are at or before ``step``."""
        return int(np.searchsorted(self.history.steps, step, side="right"))

    def epoch_at(self, step: int) -> int:
        i = self.index_of(step)
        return int(self.history.epochs[i - 1]) if i else 0

    def step_events(self, start: int, stop: int) -> list[StepEvent]:
        """The StepEvents of the steps with indices start..stop-1, as the live run yielded them."""
        h = self.history
        steps, epochs, loss, lr, wall, pen = (a[start:stop] for a in (h.steps, h.epochs, h.train_loss, h.lr,
                                                                       h.wall_s, h.penalty))
        e_steps = h.eval_steps
        out = []
        for step, epoch, tl, rate, w, p in zip(steps, epochs, loss, lr, wall, pen):
            j = int(np.searchsorted(e_steps, step))
            if j < len(e_steps) and e_steps[j] == step:
                extra = (_nan_to_none(h.val_loss[j]), _nan_to_none(h.train_metric[j]), _nan_to_none(h.val_metric[j]),
                         _nan_to_none(h.eval_train_loss[j]))
            else:
                extra = (None, None, None, None)
            out.append(StepEvent(int(step), int(epoch), float(tl), float(rate), float(w), *extra, _nan_to_none(p)))
        return out

    # -- the replay clock --------------------------------------------------------------------------
    def duration(self) -> float:
        """Seconds the whole run lasts at 1x (see MAX_GAP_S and MIN_REPLAY_S)."""
        return max(float(self._clock[-1]) if len(self._clock) else 0.0, MIN_REPLAY_S)

    def _stretch(self) -> float:
        raw = float(self._clock[-1]) if len(self._clock) else 0.0
        return MIN_REPLAY_S / raw if 0 < raw < MIN_REPLAY_S else (1.0 if raw else 0.0)

    def time_at(self, step: int) -> float:
        """Replay seconds (at 1x) from the first step to ``step``."""
        i = self.index_of(step)
        return float(self._clock[i - 1]) * self._stretch() if i else 0.0

    def step_at_time(self, seconds: float) -> int:
        """The last step reached ``seconds`` into the replay at 1x."""
        if not len(self._clock):
            return 0
        stretch = self._stretch()
        if stretch == 0.0:  # one step, or every step at the same instant: the end
            return self.last_step
        i = int(np.searchsorted(self._clock * stretch, seconds, side="right"))
        return int(self.history.steps[max(i - 1, 0)])

    def close(self) -> None:
        self.reader.close()
