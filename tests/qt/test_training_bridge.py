"""Training through the job runner: frames, the run file written on the worker before ``ended``, a slowed-down
run, failures outside the session as a failed run, and no worker running into the next run."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec
from visualizer.core.runs.reader import RunReader
from visualizer.core.training.events import RunEnded, RunStarted
from visualizer.core.training.session import RunControl, TrainingSession
from visualizer.qt.training.bridge import THREAD_NAME, TrainingBridge

SMALL = Experiment(
    title="bridge test",
    data=DataSpec(name="moons", samples=200, noise=0.2, seed=1),
    model=ModelSpec(hidden=(8,), activation=("tanh",)),
    train=TrainSpec(optimizer="adam", lr=0.02, batch_size=32, epochs=3, loss="cross_entropy", seed=5),
)


def training_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == THREAD_NAME and t.is_alive()]


class FakeSession:
    """A session whose run is given: for what a real session never does (raise, or hang in one step)."""

    def __init__(self, run) -> None:
        self.control = RunControl()
        self.experiment = SMALL
        self.model = None
        self._run = run

    def run(self):
        return self._run(self)


def connected_bridge() -> TrainingBridge:
    """A bridge whose frames, ends and starts are collected in lists of the same names."""
    bridge = TrainingBridge()
    bridge.frames, bridge.ends, bridge.starts = [], [], []
    bridge.frame.connect(bridge.frames.append)
    bridge.ended.connect(bridge.ends.append)
    bridge.started.connect(bridge.starts.append)
    return bridge


@pytest.fixture
def bridge(qtbot):
    bridge = connected_bridge()
    yield bridge
    bridge.shutdown()


def test_a_run_arrives_in_frames_and_ends_after_its_run_file_is_written(bridge, qtbot, tmp_path):
    session = TrainingSession(SMALL, snapshot_every_steps=5, snapshot_interval_s=0.0)
    session.control.pause()  # frames keep coming while nothing arrives (how fast the run goes is not the test)
    assert bridge.start(session, record_to=tmp_path)
    qtbot.waitUntil(lambda: len(bridge.frames) >= 3, timeout=30000)
    with qtbot.waitSignal(bridge.ended, timeout=30000):
        session.control.resume()
    assert not bridge.running and not training_threads()
    steps = [e.step for f in bridge.frames for e in f.steps]
    assert steps == list(range(16))  # every step, once, in order
    assert len([f for f in bridge.frames if f.steps]) < len(steps)  # batched per frame
    assert any(not f.steps and not f.snapshots for f in bridge.frames)  # a frame every frame, also empty
    assert isinstance(bridge.starts[0], RunStarted) and bridge.starts[0].total_steps == 15
    assert bridge.ends[0].reason == "completed" and bridge.ends[0] is next(f.ended for f in bridge.frames if f.ended)
    assert bridge.record_error == "" and bridge.run_file is not None and bridge.run_file.parent == tmp_path
    with RunReader(bridge.run_file) as reader:  # complete when ``ended`` arrives: steps and final weights
        assert list(reader.history().steps) == steps and reader.weights() is not None


def test_a_slowed_down_run_spaces_its_steps(bridge, qtbot):
    bridge.set_delay(0.03)
    session = TrainingSession(SMALL, snapshot_every_steps=100, snapshot_interval_s=0.0)
    bridge.start(session)
    with qtbot.waitSignal(bridge.ended, timeout=30000):
        pass
    wall = np.array([e.wall_s for f in bridge.frames for e in f.steps])
    # one step per 0.03 s on average (the pace may catch up by one step after a slow one, such as the first)
    assert wall[-1] - wall[1] >= 0.95 * 0.03 * (len(wall) - 2)


def test_pause_and_single_steps_reach_the_session(bridge, qtbot):
    control = RunControl()
    control.pause()
    bridge.start(TrainingSession(SMALL, control=control, snapshot_interval_s=0.0))
    assert bridge.control is control
    bridge.control.step(3)
    qtbot.waitUntil(lambda: sum(len(f.steps) for f in bridge.frames) >= 4, timeout=10000)
    qtbot.wait(200)
    shown = [e.step for f in bridge.frames for e in f.steps]
    assert shown == [0, 1, 2, 3] and bridge.running  # the evaluation at step 0, three steps, then paused
    bridge.control.stop()
    with qtbot.waitSignal(bridge.ended, timeout=10000):
        pass
    assert bridge.ends[0].reason == "stopped" and not training_threads()


def test_a_failure_outside_the_session_ends_the_run_with_its_message(bridge, qtbot):
    def broken(session):
        yield RunStarted.__new__(RunStarted)  # a record the views never see here
        raise RuntimeError("the disk is full")

    bridge.frame.disconnect()
    with qtbot.waitSignal(bridge.ended, timeout=10000) as blocker:
        bridge.start(FakeSession(broken))
    ended = blocker.args[0]
    assert isinstance(ended, RunEnded)
    assert (ended.reason, ended.message) == ("failed", "RuntimeError: the disk is full")


def test_a_step_longer_than_the_join_timeout_keeps_the_next_run_from_starting(bridge, qtbot):
    in_step, release = threading.Event(), threading.Event()

    def long_step(session):
        in_step.set()
        release.wait(10)  # one step that does not look at the control
        yield from ()

    assert bridge.start(FakeSession(long_step))
    assert in_step.wait(5)
    assert not bridge.shutdown(timeout=0.1)
    assert not bridge.start(TrainingSession(SMALL))
    assert "still finishing its current step" in bridge.refusal and len(training_threads()) == 1
    release.set()
    qtbot.waitUntil(lambda: not training_threads(), timeout=5000)
    assert bridge.start(TrainingSession(SMALL, snapshot_interval_s=0.0))
    with qtbot.waitSignal(bridge.ended, timeout=30000):
        pass
    assert [e.reason for e in bridge.ends] == ["completed"]  # the abandoned run reported nothing
