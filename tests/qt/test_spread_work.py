"""A live frame's drawing spread over turns of the event loop (qt.jobs.frames.SpreadWork): each turn runs one part,
the timers that came meanwhile run between them, and a new frame, a flush or a new run never leaves a part behind
or draws an old one."""

from __future__ import annotations

import time

from PySide6.QtCore import QObject, QTimer

from visualizer.qt.jobs.frames import SpreadWork


def test_the_parts_run_one_a_turn_with_the_timers_between_them(qtbot):
    owner, order = QObject(), []
    spread = SpreadWork(owner)

    def part(name):
        def run():
            order.append(name)
            time.sleep(0.012)  # longer than the timer's interval: it is due when the part ends
        return run

    tick = QTimer(owner)
    tick.setInterval(5)
    tick.timeout.connect(lambda: order.append("tick"))
    tick.start()
    spread.start([part("a"), part("b"), part("c")])
    assert order == []  # nothing before the event loop turns
    qtbot.waitUntil(lambda: "c" in order)
    tick.stop()
    parts = [i for i, name in enumerate(order) if name != "tick"]
    assert [order[i] for i in parts] == ["a", "b", "c"]
    assert all("tick" in order[i + 1:j] for i, j in zip(parts, parts[1:]))  # the timer ran between the parts


def test_a_new_frame_finishes_the_last_ones_parts_first_and_drop_forgets_them(qtbot):
    owner, done = QObject(), []
    spread = SpreadWork(owner)
    spread.start([lambda: done.append(1), lambda: done.append(2)])
    spread.start([lambda: done.append(3)])  # the next frame came before the event loop turned
    assert done == [1, 2]
    spread.finish()  # (a run's end, an export)
    assert done == [1, 2, 3]
    spread.start([lambda: done.append(4)])
    spread.drop()  # a new run: the old frame is not drawn
    qtbot.wait(50)
    assert done == [1, 2, 3]


def test_a_part_that_raises_leaves_the_others_to_run(qtbot, monkeypatch):
    import sys

    owner, done = QObject(), []
    spread = SpreadWork(owner)
    errors = []
    monkeypatch.setattr(sys, "excepthook", lambda *args: errors.append(args[1]))  # (what Qt does with it)

    def fails():
        raise RuntimeError("a view failed")

    spread.start([fails, lambda: done.append(2)])
    qtbot.waitUntil(lambda: done == [2])
    assert len(errors) == 1 and "a view failed" in str(errors[0])


def test_a_live_frame_paints_its_curves_in_a_turn_after_setting_them(qtbot):
    """The loss curves' data is set with the plot's painting held, and painted in the next turn of the event loop:
    in one turn the two held the GUI thread 8-12 ms a frame. A frame drawn at once (a replay), a flush or a new run
    never leaves the painting held."""
    from visualizer.core import experiment
    from visualizer.core.training.events import RunStarted, StepEvent
    from visualizer.core.training.history import History
    from visualizer.core.training.session import TrainingSession
    from visualizer.qt.training.bridge import Frame
    from visualizer.qt.training.views import TrainingViews

    exp = experiment.from_dict({"data": {"name": "moons", "samples": 100},
                                "train": {"epochs": 2, "lr": 0.01, "loss": "cross_entropy"}})
    events = list(TrainingSession(exp).run())
    views = TrainingViews()
    qtbot.addWidget(views)
    views.show()
    views.begin(next(e for e in events if isinstance(e, RunStarted)))
    history, frame = History(), Frame(steps=[e for e in events if isinstance(e, StepEvent)])
    history.extend(frame.steps)
    views.show_frame(history, frame, spread=True)
    views._spread._next()  # the first part: the curves' data
    assert views.loss.train_loss_raw.xData is not None and len(views.loss.train_loss_raw.xData) == len(history)
    assert not views.loss.updatesEnabled()  # held: nothing painted in this turn
    views._spread._next()
    assert views.loss.updatesEnabled()  # the next turn paints them
    for end in (views.flush, views.clear, lambda: views.begin(events[0])):
        views.show_frame(history, frame, spread=True)
        views._spread._next()
        end()
        assert views.loss.updatesEnabled()
    views.show_frame(history, frame)  # at once (a replay): never held
    assert views.loss.updatesEnabled()
