"""Snapshots come by progress (100 a run at any speed); the heavier pictures they change (histograms, prediction,
network drawing) redraw in rounds at most every PICTURES_EVERY_S, and always end on the last snapshot."""

from __future__ import annotations

import time
from dataclasses import replace

from visualizer.core.session_model import FINISHED
from visualizer.qt.jobs.frames import FRAME_MS, MAX_FRAME_MS
from visualizer.qt.training.view_rounds import PICTURE_ROUND_FRAMES, PICTURES_EVERY_S, pictures_every_s


def test_pictures_redraw_in_rounds_and_end_on_the_last_snapshot(main_window, qtbot):
    w = main_window
    views = w.views
    drawn: list[int] = []
    first = views.snapshot_views[0]

    def counting(snap) -> None:
        drawn.append(snap.step)
        first(snap)

    views.snapshot_views[0] = counting
    w.experiment = replace(w.experiment, train=replace(w.experiment.train, epochs=30))
    began = time.monotonic()
    w.acts.train.trigger()
    qtbot.waitUntil(lambda: w.run_state == FINISHED, timeout=120_000)
    seconds = time.monotonic() - began
    snapshots = len(views._columns)
    assert snapshots >= 100  # by progress
    # the last snapshot is what the pictures show: at once, or when its round is due (PICTURES_EVERY_S)
    qtbot.waitUntil(lambda: bool(drawn) and drawn[-1] == views._snapshot.step, timeout=5_000)
    assert len(drawn) <= seconds / PICTURES_EVERY_S + 3 < snapshots  # rounds, not one redraw per snapshot


def test_a_paused_run_still_shows_its_last_snapshot(main_window, qtbot):
    w = main_window
    views = w.views
    w.acts.step.trigger()  # one step: its snapshot arrives with no frame after it
    qtbot.waitUntil(lambda: views._snapshot is not None, timeout=30_000)
    qtbot.waitUntil(lambda: not views._pending and not views._pictures_due, timeout=5_000)


def test_a_round_that_waited_for_its_time_is_drawn_a_picture_a_turn(main_window, qtbot):
    """The round's timer queues the pictures; each is then drawn in a turn of the event loop of its own (drawn all
    in the timer's turn, they held the GUI thread 30-55 ms every half second of a run)."""
    views = main_window.views
    drawn: list[str] = []
    views.snapshot_views = [lambda snap, name=name: drawn.append(name) for name in ("histograms", "prediction",
                                                                                   "network")]
    views._snapshot, views._pictures_due, views._pictures_at = object(), True, time.monotonic()
    views._start_pictures()  # the last round began just now: the timer waits out the half second
    assert drawn == [] and views._pictures_timer.isActive()
    views._pictures_timer.timeout.emit()  # the half second is up
    assert drawn == []  # nothing drawn in the timer's own turn
    qtbot.waitUntil(lambda: drawn == ["histograms", "prediction", "network"], timeout=2_000)
    assert not views._pending and not views._pictures_due


def test_picture_rounds_are_spaced_out_with_the_frames():
    """While drawing keeps the GUI thread busy the runner spaces frames out (up to MAX_FRAME_MS), and the rounds of
    pictures with them: a round every PICTURE_ROUND_FRAMES frames, never more often than PICTURES_EVERY_S."""
    assert pictures_every_s(FRAME_MS) == PICTURES_EVERY_S
    assert pictures_every_s(MAX_FRAME_MS) == PICTURE_ROUND_FRAMES * MAX_FRAME_MS / 1000 > PICTURES_EVERY_S


def test_a_round_waits_longer_while_the_frames_are_spaced_out(main_window, qtbot):
    views = main_window.views
    views.snapshot_views = [lambda snap: None]
    views._snapshot, views._pictures_due = object(), True
    views._frame_ms = MAX_FRAME_MS
    views._pictures_at = time.monotonic() - PICTURES_EVERY_S  # due at the light-load rate, not at this one
    views._start_pictures()
    assert not views._pending and views._pictures_timer.isActive()
    wait_s = views._pictures_timer.remainingTime() / 1000
    assert pictures_every_s(MAX_FRAME_MS) - PICTURES_EVERY_S - 0.1 < wait_s <= pictures_every_s(MAX_FRAME_MS)
