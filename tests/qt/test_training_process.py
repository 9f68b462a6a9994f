"""Training in the training process (a spawned child): frames and the run file as in the window's worker, the same
numbers as the in-process session through pause, single steps, a live learning rate and stop, and a child that
dies (SIGKILL) is a failed run with its signal and step, a readable run file and a fresh process for the next run."""

from __future__ import annotations

import os
import signal
from dataclasses import replace

import numpy as np
import pytest

from tests.qt.test_training_bridge import SMALL, connected_bridge
from visualizer.core.runs.reader import RunReader
from visualizer.core.training.child import SessionRecipe
from visualizer.core.training.events import RunStarted, Snapshot, StepEvent
from visualizer.core.training.session import RunControl, TrainingSession

#: generous: a spawned child imports torch first (seconds on a loaded 2-core machine)
WAIT_MS = 60000
#: snapshots only at step 0, where the run pauses and at its end (so a pause shows as a snapshot at its step)
QUIET = {"snapshot_every_steps": 10 ** 6, "snapshot_interval_s": 0.0}
#: 25,000 steps: still running whenever a test acts (seconds at full speed)
LONG = replace(SMALL, train=replace(SMALL.train, epochs=5000))


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.fixture
def bridge(qtbot):
    bridge = connected_bridge()
    yield bridge
    pid = bridge.child_pid
    assert bridge.close()
    assert pid is None or not alive(pid)


def shown(bridge, kind=StepEvent) -> list:
    attr = "steps" if kind is StepEvent else "snapshots"
    return [e for f in bridge.frames for e in getattr(f, attr)]


def test_a_run_in_the_training_process_arrives_in_frames_with_its_run_file(bridge, qtbot, tmp_path):
    bridge.warm()
    pid = bridge.child_pid
    recipe = SessionRecipe(SMALL, options={"snapshot_every_steps": 5, "snapshot_interval_s": 0.0}, paused=True)
    assert bridge.start_in_child(recipe, record_to=tmp_path)
    assert bridge.child_pid == pid and pid != os.getpid()  # the warm process trains
    qtbot.waitUntil(lambda: len(shown(bridge)) == 1, timeout=WAIT_MS)  # the evaluation at step 0, then paused
    with qtbot.waitSignal(bridge.ended, timeout=WAIT_MS):
        bridge.control.resume()
    steps = [e.step for e in shown(bridge)]
    assert steps == list(range(16))  # every step, once, in order
    assert len([f for f in bridge.frames if f.steps]) < len(steps)  # batched
    assert isinstance(bridge.starts[0], RunStarted) and bridge.starts[0].total_steps == 15
    assert bridge.ends[0].reason == "completed" and bridge.ends[0] is next(f.ended for f in bridge.frames if f.ended)
    assert bridge.record_error == "" and bridge.run_file is not None and bridge.run_file.parent == tmp_path
    with RunReader(bridge.run_file) as reader:  # written in the child, complete when ``ended`` arrives
        assert list(reader.history().steps) == steps and reader.weights() is not None
    assert bridge.child_pid == pid  # kept warm for the next run


def reference(lr_at: int, lr: float, stop_at: int) -> tuple[list[StepEvent], Snapshot]:
    """The in-process session on this thread: the learning rate changed after step ``lr_at``, stopped after
    ``stop_at``; its step events and its last snapshot."""
    control = RunControl()
    session = TrainingSession(LONG, control=control, **QUIET)
    steps, last = [], None
    for event in session.run():
        if isinstance(event, StepEvent):
            steps.append(event)
            if event.step == lr_at:
                control.set_lr(lr)
            if event.step == stop_at:
                control.stop()
        elif isinstance(event, Snapshot):
            last = event
    return steps, last


def test_pause_steps_learning_rate_and_stop_through_the_process_give_the_in_process_numbers(bridge, qtbot, tmp_path):
    assert bridge.start_in_child(SessionRecipe(LONG, options=QUIET, paused=True), record_to=tmp_path)
    bridge.control.step(5)
    qtbot.waitUntil(lambda: len(shown(bridge)) == 6, timeout=WAIT_MS)
    qtbot.wait(300)
    assert [e.step for e in shown(bridge)] == list(range(6))  # five steps, then paused
    bridge.control.set_lr(0.005)
    bridge.control.step(4)
    qtbot.waitUntil(lambda: shown(bridge)[-1].step == 9, timeout=WAIT_MS)
    bridge.control.resume()
    qtbot.waitUntil(lambda: shown(bridge)[-1].step >= 30, timeout=WAIT_MS)
    bridge.control.pause()  # while running: it pauses where the command finds it, with a snapshot of that step
    qtbot.waitUntil(lambda: shown(bridge, Snapshot)[-1].step == shown(bridge)[-1].step > 30, timeout=WAIT_MS)
    paused_at = shown(bridge)[-1].step
    qtbot.wait(300)
    assert shown(bridge)[-1].step == paused_at and bridge.running
    bridge.control.step(2)
    qtbot.waitUntil(lambda: shown(bridge, Snapshot)[-1].step == paused_at + 2, timeout=WAIT_MS)
    with qtbot.waitSignal(bridge.ended, timeout=WAIT_MS):
        bridge.control.stop()
    assert bridge.ends[0].reason == "stopped" and bridge.ends[0].step == paused_at + 2

    expected, last = reference(lr_at=5, lr=0.005, stop_at=paused_at + 2)
    got = shown(bridge)
    assert [e.step for e in got] == [e.step for e in expected] == list(range(paused_at + 3))
    assert [e._replace(wall_s=0.0) for e in got] == [e._replace(wall_s=0.0) for e in expected]  # identical numbers
    assert got[6].lr == 0.005 and got[5].lr == SMALL.train.lr
    final = shown(bridge, Snapshot)[-1]
    assert final.step == last.step and np.array_equal(final.params, last.params)
    with RunReader(bridge.run_file) as reader:
        assert np.array_equal(reader.history().train_loss, [e.train_loss for e in expected])


def test_a_slowed_down_run_in_the_process_spaces_its_steps(bridge, qtbot):
    bridge.set_delay(0.03)
    assert bridge.start_in_child(SessionRecipe(SMALL, options=QUIET))
    with qtbot.waitSignal(bridge.ended, timeout=WAIT_MS):
        pass
    wall = np.array([e.wall_s for e in shown(bridge)])
    # one step per 0.03 s on average (the pace may catch up by one step after a slow one, such as the first)
    assert len(wall) == 16 and wall[-1] - wall[1] >= 0.95 * 0.03 * (len(wall) - 2)


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
def test_a_killed_process_is_a_failed_run_with_its_signal_and_step_and_the_next_run_gets_a_fresh_one(
        bridge, qtbot, tmp_path):
    assert bridge.start_in_child(SessionRecipe(LONG, options=QUIET), record_to=tmp_path)
    qtbot.waitUntil(lambda: len(shown(bridge)) >= 50 and bridge.run_file is not None, timeout=WAIT_MS)
    pid = bridge.child_pid
    with qtbot.waitSignal(bridge.ended, timeout=WAIT_MS):
        os.kill(pid, signal.SIGKILL)
    ended, last = bridge.ends[0], shown(bridge)[-1].step
    assert ended.reason == "failed" and not bridge.running
    assert "killed by SIGKILL" in ended.message and f"at step {last:,}" in ended.message and ended.step == last
    with RunReader(bridge.run_file) as reader:  # readable up to its last commit
        recorded = list(reader.history().steps)
    assert recorded and recorded == list(range(len(recorded))) and recorded[-1] <= last
    qtbot.waitUntil(lambda: bridge.child_pid is not None, timeout=WAIT_MS)  # a fresh process, warmed at once
    assert bridge.child_pid != pid and not alive(pid)
    bridge.frames.clear()
    assert bridge.start_in_child(SessionRecipe(SMALL, options=QUIET))
    with qtbot.waitSignal(bridge.ended, timeout=WAIT_MS):
        pass
    assert bridge.ends[-1].reason == "completed" and [e.step for e in shown(bridge)] == list(range(16))
