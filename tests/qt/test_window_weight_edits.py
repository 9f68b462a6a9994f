"""Weights by hand in the main window: before a run a click on an edge says how to set one; during a paused run a
click asks for the value (the dialog is replaced here), the next step applies it in the training process, the loss
plot marks it, the drawing shows it after the step; Ctrl+Z in the drawing puts the old value back; the run file holds
both edits."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.qt.test_edge_editing import edge_point
from visualizer.core.runs.reader import RunReader
from visualizer.core.session_model import FINISHED, PAUSED
from visualizer.qt.app import window_edits

WAIT_MS = 60000
EDGE = (0, 1, 0)  # the first layer's weight from input 1 to neuron 2


def last_step(window) -> int:
    return int(window.history.steps[-1]) if len(window.history) else -1


def drawn_at(window, step: int) -> bool:
    """The snapshot of ``step`` has come and every view (the network drawing too) has drawn it."""
    snap = window.views._snapshot
    if snap is None or snap.step != step:
        return False
    window.views.flush()
    return window.network_view.edges.weights is not None


@pytest.mark.qt_log_ignore("Mouse event .* not accepted by receiving widget")  # pyqtgraph clicks from press+release
def test_an_edge_clicked_in_a_paused_run_is_set_at_the_next_step_and_undone_with_ctrl_z(main_window, qtbot,
                                                                                           monkeypatch):
    window, view = main_window, main_window.network_view
    asked = []

    def ask(parent, title, label, value):
        asked.append((label, value))
        return 2.0, True

    monkeypatch.setattr(window_edits, "ask_weight", ask)
    view.edges.clicked.emit(*EDGE)  # before any run: nothing to set, and the status bar says how
    assert asked == [] and "during a run" in window.statusBar().currentMessage()

    qtbot.waitUntil(lambda: window.bridge.ready, timeout=WAIT_MS)
    window.acts.step.trigger()  # a run, paused after one step
    qtbot.waitUntil(lambda: window.run_state == PAUSED and last_step(window) == 1 and drawn_at(window, 1),
                    timeout=WAIT_MS)
    shown = view.edges.weight(*EDGE)
    view.scene().sigMouseMoved.emit(edge_point(view, *EDGE)[1])  # hover: the value the drawing has
    assert f"weight {shown:.4g}" in view.edges.tip

    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=edge_point(view, *EDGE)[0])
    assert len(asked) == 1 and asked[0][1] == shown and "x1 → layer 1" in asked[0][0]
    assert "at the next step" in window.statusBar().currentMessage()
    qtbot.wait(300)
    assert window.views.loss.edit_marks.edits == []  # paused: not applied yet
    window.acts.step.trigger()
    qtbot.waitUntil(lambda: last_step(window) == 2 and bool(window.views.loss.edit_marks.edits), timeout=WAIT_MS)
    (edited,) = window.views.loss.edit_marks.edits
    assert (edited.step, edited.layer, edited.target, edited.source, edited.new) == (1, *EDGE, 2.0)
    assert edited.old == pytest.approx(shown, abs=1e-6)  # the drawing showed the run's own weight
    assert list(window.views.loss.edit_marks.lines) == [1]
    qtbot.waitUntil(lambda: drawn_at(window, 2), timeout=WAIT_MS)
    assert abs(view.edges.weight(*EDGE) - 2.0) < 0.2  # one step away from the value set

    view.setFocus()
    qtbot.waitUntil(view.hasFocus)
    qtbot.keyClick(view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo, in the drawing
    assert window.edit_stack == [] and "put back to" in window.statusBar().currentMessage()
    window.acts.step.trigger()
    qtbot.waitUntil(lambda: len(window.views.loss.edit_marks.edits) == 2, timeout=WAIT_MS)
    undone = window.views.loss.edit_marks.edits[1]
    assert undone.undo and undone.step == 2 and undone.new == pytest.approx(edited.old, abs=1e-7)

    window.acts.stop.trigger()
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=WAIT_MS)
    with RunReader(window.bridge.run_file) as reader:
        assert reader.edits() == [edited, undone]
