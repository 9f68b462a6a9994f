"""Weights set by hand in the network drawing (a mixin of MainWindow): click an edge to set its weight, which the run
applies before its next step (also while paused: a single step shows it) and records in its run file; Ctrl+Z in the
drawing, or Run ▸ Undo weight edit, puts the last edit's old value back (itself recorded as an edit). Before a run
(or after it) there are no live weights to set: a click says so in the status bar."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QInputDialog

from visualizer.core.session_model import PAUSED, RUNNING

#: the values the editor accepts (a weight far outside this is a diverged network anyway)
WEIGHT_LIMIT = 1e6


def ask_weight(parent, title: str, label: str, value: float) -> tuple[float, bool]:
    """Ask for a weight's new value (the tests replace this)."""
    return QInputDialog.getDouble(parent, title, label, value, -WEIGHT_LIMIT, WEIGHT_LIMIT, 4)


@dataclass
class EditDone:
    """An edit on the undo stack: the request, and the value it replaced (the run's own once it has said)."""

    edit: object  # core.training.edits.WeightEdit
    old: float
    confirmed: bool = False


class WeightEdits:
    """Click-to-edit on the network drawing's edges, with an undo stack of the current run's edits."""

    def _setup_weight_edits(self) -> None:
        self.edit_stack: list[EditDone] = []
        view = self.network_view
        view.edges.clicked.connect(self._on_edge_clicked)
        self.undo_edit_action = action = QAction("Undo weight edit", view)
        action.setObjectName("undoEditAction")
        action.setShortcut(QKeySequence(QKeySequence.StandardKey.Undo))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # Ctrl+Z in the drawing
        action.setToolTip("Put back the weight the last edit by hand replaced")
        action.setStatusTip("Put back the weight the last edit by hand replaced (with the network drawing focused)")
        action.setEnabled(False)
        action.triggered.connect(self.undo_weight_edit)
        view.addAction(action)
        run_menu = next((a.menu() for a in self.menuBar().actions() if a.text() == "&Run"), None)
        if run_menu is not None:
            run_menu.addSeparator()
            run_menu.addAction(action)

    def _editing_refused(self) -> bool:
        """True (and a line in the status bar) when no run is on to take an edit."""
        if self.run_state in (RUNNING, PAUSED) and self.bridge.control is not None:
            return False
        self.show_message("Weights are set by hand during a run: press Step to start one paused, then click an "
                          "edge (the edit is applied at the next step).")
        return True

    def _on_edge_clicked(self, layer: int, target: int, source: int) -> None:
        if self._editing_refused():
            return
        edges = self.network_view.edges
        old = edges.weight(layer, target, source)
        where = edges.tip_for(layer, target, source).split("\n")[0]
        value, ok = ask_weight(self, "Set a weight", f"{where}\nnew weight (applied at the next step):",
                               0.0 if old is None else old)
        if ok:
            self.edit_weight(layer, target, source, value, old)

    def edit_weight(self, layer: int, target: int, source: int | None, value: float, old: float | None = None,
                    undo: bool = False) -> None:
        """Send an edit to the run (``old``: the value shown, put back by an undo until the run says the true one)."""
        from visualizer.core.training.edits import WeightEdit, edit_place

        edit = WeightEdit(layer, target, source, float(value), undo)
        self.bridge.control.edit_weight(edit)
        if not undo:
            self.edit_stack.append(EditDone(edit, value if old is None else old))
        self.undo_edit_action.setEnabled(bool(self.edit_stack))
        what = "put back to" if undo else "set to"
        self.show_message(f"Weight {edit_place(edit)} {what} {value:.4g} at the next step.")

    def undo_weight_edit(self) -> None:
        """Put back the value the last edit by hand replaced (sent as an edit, recorded as an undo)."""
        if not self.edit_stack:
            self.show_message("No weight edit to undo.")
            return
        if self._editing_refused():
            return
        done = self.edit_stack.pop()
        e = done.edit
        self.edit_weight(e.layer, e.target, e.source, done.old, undo=True)

    def _on_weight_edits(self, edits) -> None:
        """The run applied edits (WeightEdited): the undo stack learns the values they replaced, the loss plot marks
        them."""
        for event in edits:
            if event.undo:
                continue
            done = next((d for d in self.edit_stack if not d.confirmed and (d.edit.layer, d.edit.target, d.edit.source)
                         == (event.layer, event.target, event.source)), None)
            if done is not None:
                done.old, done.confirmed = event.old, True
        self.views.loss.edit_marks.add(edits)

    def _clear_weight_edits(self) -> None:
        """A new run: its weights are new, the last run's edits cannot be undone in it."""
        self.edit_stack.clear()
        self.undo_edit_action.setEnabled(False)
