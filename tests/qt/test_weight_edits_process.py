"""A weight set by hand through the training process: the edit crosses the control channel, is applied before the
next step (the same numbers as the in-process session given the same edit), comes back in a frame and is in the run
file the child wrote."""

from __future__ import annotations

import pytest

from tests.qt.test_training_process import LONG, QUIET, WAIT_MS, bridge, shown  # noqa: F401 (bridge: a fixture)
from visualizer.core.runs.reader import RunReader
from visualizer.core.training.child import SessionRecipe
from visualizer.core.training.edits import WeightEdit
from visualizer.core.training.events import StepEvent, WeightEdited
from visualizer.core.training.session import RunControl, TrainingSession

EDIT = WeightEdit(0, 2, 1, 1.5)
UNDO = WeightEdit(0, 2, 1, -0.25, undo=True)


def reference(stop_at: int) -> tuple[list[StepEvent], list[WeightEdited]]:
    """The in-process session: EDIT asked for after step 3, UNDO after step 5, stopped after ``stop_at``."""
    control = RunControl()
    session = TrainingSession(LONG, control=control, **QUIET)
    steps, edits = [], []
    for event in session.run():
        if isinstance(event, WeightEdited):
            edits.append(event)
        if isinstance(event, StepEvent):
            steps.append(event)
            if event.step in (3, 5):
                control.edit_weight(EDIT if event.step == 3 else UNDO)
            if event.step == stop_at:
                control.stop()
    return steps, edits


def edits_shown(bridge) -> list:  # noqa: F811 (the fixture's name)
    return [e for f in bridge.frames for e in f.edits]


@pytest.mark.slow
def test_a_weight_set_by_hand_crosses_the_process_and_is_recorded(bridge, qtbot, tmp_path):  # noqa: F811
    assert bridge.start_in_child(SessionRecipe(LONG, options=QUIET, paused=True), record_to=tmp_path)
    bridge.control.step(3)
    qtbot.waitUntil(lambda: len(shown(bridge)) == 4, timeout=WAIT_MS)
    bridge.control.edit_weight(EDIT)  # while paused: applied by the next step
    qtbot.wait(200)
    assert edits_shown(bridge) == []
    bridge.control.step(2)
    qtbot.waitUntil(lambda: shown(bridge)[-1].step == 5, timeout=WAIT_MS)
    bridge.control.edit_weight(UNDO)
    bridge.control.step(2)
    qtbot.waitUntil(lambda: shown(bridge)[-1].step == 7, timeout=WAIT_MS)
    with qtbot.waitSignal(bridge.ended, timeout=WAIT_MS):
        bridge.control.stop()

    got = edits_shown(bridge)
    assert [(e.step, e.layer, e.target, e.source, e.new, e.undo) for e in got] == [
        (3, 0, 2, 1, 1.5, False), (5, 0, 2, 1, -0.25, True)]
    expected_steps, expected_edits = reference(stop_at=7)
    assert got == expected_edits  # the same old values: the same weights at the same steps
    assert [e._replace(wall_s=0.0) for e in shown(bridge)] == [e._replace(wall_s=0.0) for e in expected_steps]
    with RunReader(bridge.run_file) as reader:
        assert reader.edits() == got
