"""A run with weights set by hand, replayed: the loss plot marks each edit's step (its description as tooltip), a
line per edit above the views, the marks stay while scrubbing; a run without edits shows neither."""

from __future__ import annotations

import numpy as np
import pytest

from tests.core.test_weight_edits import run_with_edits
from visualizer.core.training.edits import WeightEdit
from visualizer.core.training.events import Snapshot
from visualizer.qt.runs.replay_window import ReplayWindow


@pytest.fixture(scope="module")
def edited_run(tmp_path_factory):
    path = tmp_path_factory.mktemp("edits") / "run.sqlite"
    _, events = run_with_edits({3: [WeightEdit(0, 1, 0, 2.5)], 5: [WeightEdit(0, 1, 0, -0.5, undo=True)]}, path)
    return path, events


def test_the_replay_marks_and_lists_the_edits(qtbot, edited_run, tmp_path):
    path, events = edited_run
    w = ReplayWindow(path)
    qtbot.addWidget(w)
    try:
        marks = w.views.loss.edit_marks
        assert sorted(marks.lines) == [3, 5] and [m.value() for m in marks.lines.values()] == [3, 5]
        assert "input 1 → neuron 2 set from" in marks.lines[3].toolTip() and "to 2.5" in marks.lines[3].toolTip()
        assert "put back from" in marks.lines[5].toolTip()
        text = w.edits_note.text().split("\n")
        assert len(text) == 2 and text[0].startswith("Weight set by hand after step 3: layer 1, input 1 → neuron 2")
        assert w.edits_note.isVisibleTo(w)
        for step in (0, 4, w.last):  # scrubbing restarts the views: the marks stay
            w.go_to(step)
            assert sorted(w.views.loss.edit_marks.lines) == [3, 5]
        snaps = {e.step: e for e in events if isinstance(e, Snapshot)}
        assert np.array_equal(w.run.snapshots[w.run.snapshots_up_to(4) - 1].params, snaps[4].params)
    finally:
        w.close()

    plain = tmp_path / "plain.sqlite"
    run_with_edits({}, plain)
    w = ReplayWindow(plain)
    qtbot.addWidget(w)
    try:
        assert w.views.loss.edit_marks.lines == {} and not w.edits_note.isVisibleTo(w)
    finally:
        w.close()
