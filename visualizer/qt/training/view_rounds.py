"""When the live views redraw (a mixin of TrainingViews): the loss curves painted in a turn of the event loop of
their own, and the snapshot pictures (histograms, prediction, network drawing) in rounds, spaced out with the
frames."""

from __future__ import annotations

import time

PICTURES_EVERY_S = 0.5  # histograms, prediction and network drawing: at most one round of redraws this often
#: ... and at most one every this many frames: while drawing keeps the GUI thread busy, the runner spaces frames out
#: (up to MAX_FRAME_MS), and the rounds (20-50 ms of the GUI thread each) are spaced out with them
PICTURE_ROUND_FRAMES = 5


def pictures_every_s(frame_ms: float) -> float:
    """The least time between two rounds of snapshot pictures at a frame interval of ``frame_ms``."""
    return max(PICTURES_EVERY_S, PICTURE_ROUND_FRAMES * frame_ms / 1000)


class ViewRounds:
    def _hold_curves(self, hold: bool) -> None:
        """Hold (or release) the loss plot's painting. A live frame sets the curves' data with the painting held
        and paints them in the next turn of the event loop (_paint_curves): in the same turn the two held the GUI
        thread 8-12 ms at every frame, and the timers and input due meanwhile waited for both."""
        self.loss.setUpdatesEnabled(not hold)

    def _paint_curves(self) -> None:
        self._hold_curves(False)

    def _draw_next(self) -> None:
        if self._pending:
            self._pending.pop(0)(self._snapshot)
            if not self._pending:  # a round done: a snapshot that came during it is due next
                self._start_pictures()

    def _start_pictures(self, force: bool = False) -> None:
        """Queue the snapshot pictures for redrawing (one per frame) when a newer snapshot waits and the last round
        began pictures_every_s ago or more (or ``force``); else come back when that time is up."""
        if not self._pictures_due or self._pending:
            return
        wait = pictures_every_s(self._frame_ms) - (time.monotonic() - self._pictures_at)
        if force or wait <= 0:
            self._pending = list(self.snapshot_views)
            self._pictures_due, self._pictures_at = False, time.monotonic()
            self._pictures_timer.stop()
        elif not self._pictures_timer.isActive():  # paused or slow: the last snapshot is drawn all the same
            self._pictures_timer.start(max(1, round(wait * 1000)))

    def _pictures_time_up(self) -> None:
        """A newer snapshot waited for the next round (or the run is paused): its pictures, one a turn of the event
        loop (drawn all in one turn, they held the GUI thread 40-50 ms every half second)."""
        self._start_pictures(force=True)
        self._spread.extend([self._draw_next] * len(self._pending))

    def flush(self) -> None:
        """Draw every view still waiting for the latest snapshot (at the end of a run, before an export)."""
        self._spread.finish()
        while self._pending or self._pictures_due:
            while self._pending:
                self._pending.pop(0)(self._snapshot)
            self._start_pictures(force=True)
        self.hist_time.redraw()
