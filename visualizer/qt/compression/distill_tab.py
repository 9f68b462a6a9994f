"""The Distill tab: train a smaller student from the teacher's softened outputs and the same student from
scratch, live, then compare the three networks in one table (Hinton, Vinyals and Dean 2015)."""

from __future__ import annotations

import re

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QLineEdit, QVBoxLayout, QWidget

from visualizer.qt.compression.jobs import THREAD_NAME, StudentEvent, distill_job
from visualizer.qt.compression.widgets import (
    button,
    column,
    compact,
    double_spin,
    fill_table,
    form,
    lay_out_tab,
    make_table,
    note,
    progress_bar,
    row,
    spin,
)
from visualizer.qt.jobs import JobEnded, JobRunner
from visualizer.qt.plots import LossPlot, SweepPlot
from visualizer.qt.plots._style import TITLE_PT, get_theme, pt
from visualizer.qt.plots.figures import METRIC_LABELS, show_history

WHICH_TITLES = {"distilled": "distilled student", "scratch": "student from scratch"}


def parse_widths(text: str) -> tuple[int, ...]:
    """'16, 8' or '16 8' -> (16, 8); anything else raises VisualizerError naming the text."""
    from visualizer.core.errors import VisualizerError

    parts = [p for p in re.split(r"[,\s;]+", text.strip()) if p]
    if not parts or not all(re.fullmatch(r"[+-]?\d+", p) for p in parts):
        raise VisualizerError(f"student widths {text!r}: give whole numbers separated by commas, e.g. '8' or "
                              "'16, 8'")
    return tuple(int(p) for p in parts)


class DistillTab(QWidget):
    """Distillation on the worker thread, with live curves and Cancel; ``message`` goes to the status label."""

    message = Signal(str, bool)

    def __init__(self, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from visualizer.core.compression.distill import MAX_TEMPERATURE

        self.run = None
        self.comparison = None
        self.histories: dict = {}
        self._which = "distilled"
        self._total_steps = 1
        self.runner = JobRunner(self, THREAD_NAME)
        self.runner.batch.connect(self._on_items)
        self.runner.ended.connect(self._on_ended)
        self.hidden_edit = QLineEdit("8")
        self.hidden_edit.setObjectName("studentHiddenEdit")
        self.hidden_edit.setToolTip("The student's hidden layer widths, e.g. '8' or '16, 8' (the teacher's first "
                                    "activation is used)")
        self.temperature_spin = double_spin("temperatureSpin", 0.1, MAX_TEMPERATURE, 4.0, 0.5, 1,
                                            "Temperature T: softmax(z / T) softens the teacher's outputs so the "
                                            "student learns how it ranks the wrong classes too")
        self.alpha_spin = double_spin("alphaSpin", 0.0, 1.0, 0.7, 0.05, 2, "Weight α of the teacher's soft targets"
                                      " (1 − α on the labels); α = 0 is training from scratch")
        self.epochs_spin = spin("distillEpochsSpin", 1, 2000, 30, "Epochs of each student (the run's optimizer, "
                                "learning rate, batch size and seed)")
        self.train_button = button("Train student", "trainStudentButton", "Distil the teacher into the student, "
                                   "then train the same student from scratch, on a worker thread")
        self.cancel_button = button("Cancel", "distillCancelButton", "Stop the training (Esc)")
        self.progress = progress_bar("distillProgress", "Which student is training, and its step")
        self.table = make_table("distillTable", "Teacher, distilled student and the same student from scratch: "
                                "widths, parameters, loss and accuracy on the evaluation set")
        self.margin = note("distillMarginLabel", "Whether distillation beat training the student from scratch")
        self.loss = LossPlot(theme=theme)
        self.loss.setObjectName("distillLossPlot")
        self.loss.setToolTip("The student being trained: its training objective per step, validation loss and "
                             "accuracy per epoch")
        self.curves = SweepPlot(theme=theme)
        self.curves.setObjectName("distillCurvesPlot")
        self.curves.set_legend_corner("bottom-right")
        self.curves.setToolTip("Validation accuracy against step of both students; the dashed line is the teacher")

        settings = QGroupBox("Student")
        box = QVBoxLayout(settings)
        box.addLayout(form(("Hidden widths:", self.hidden_edit), ("Temperature T:", self.temperature_spin),
                           ("Weight α:", self.alpha_spin), ("Epochs:", self.epochs_spin)))
        box.addLayout(row(self.train_button, self.cancel_button))
        box.addWidget(self.progress)
        left = column(settings, self.table, self.margin, 1)
        lay_out_tab(self, left, self.loss, self.curves, (430, 430), (470, 560))
        self.train_button.clicked.connect(self._on_train)
        self.cancel_button.clicked.connect(self.cancel)
        self._sync()

    @property
    def busy(self) -> bool:
        return self.runner.running

    def set_run(self, run, baseline) -> None:
        self.run = run
        self.teacher_metric = baseline.scores.metric
        self.epochs_spin.setValue(run.experiment.train.epochs)
        metric = METRIC_LABELS[run.metric_name]
        self.loss.set_metric_name(metric)
        self.curves.set_axes("step", f"validation {metric}", "Students against the teacher")
        self.curves.set_baseline(baseline.scores.metric, "teacher")
        self._sync()

    def request(self, hidden: str, temperature: float, alpha: float, epochs: int) -> bool:
        """Start distillation with these settings; False with a message when they are refused."""
        from visualizer.core.compression.distill import check_settings
        from visualizer.core.errors import VisualizerError

        if self.run is None or self.runner.running:
            return False
        try:
            widths = check_settings(parse_widths(hidden), temperature, alpha, epochs)
        except VisualizerError as exc:
            self.message.emit(str(exc), True)
            return False
        self._show_settings(hidden, temperature, alpha, epochs)
        self.comparison, self.histories = None, {}
        fill_table(self.table, [], [])
        self.margin.setText("")
        self.curves.clear()
        self.loss.clear()
        self.runner.start("distill", distill_job(self.run, widths, float(temperature), float(alpha), int(epochs)))
        self.message.emit(f"Distilling into a {list(widths)} student (T = {temperature:g}, α = {alpha:g}, "
                          f"{epochs} epochs), then the same student from scratch…", False)
        self._sync()
        return True

    def cancel(self) -> None:
        self.runner.cancel()
        self._sync()

    def shutdown(self) -> None:
        self.runner.shutdown()

    def set_theme(self, name: str) -> None:
        self.loss.set_theme(name)
        self.curves.set_theme(name)

    # --- internals ------------------------------------------------------------------------------------
    def _show_settings(self, hidden: str, temperature: float, alpha: float, epochs: int) -> None:
        """Let the controls show what runs (a request may come from a script or a test)."""
        for widget, value in ((self.temperature_spin, temperature), (self.alpha_spin, alpha),
                              (self.epochs_spin, epochs)):
            widget.setValue(value)
        self.hidden_edit.setText(hidden)

    def _on_train(self) -> None:
        self.request(self.hidden_edit.text(), self.temperature_spin.value(), self.alpha_spin.value(),
                     self.epochs_spin.value())

    def _sync(self) -> None:
        running = self.runner.running
        for w in (self.hidden_edit, self.temperature_spin, self.alpha_spin, self.epochs_spin):
            w.setEnabled(not running)
        self.train_button.setEnabled(not running and self.run is not None)
        self.cancel_button.setEnabled(running)

    def _on_items(self, items: list) -> None:
        from visualizer.core.compression.distill import Comparison
        from visualizer.core.training.events import RunStarted
        from visualizer.core.training.history import History

        drawn = False
        for item in items:
            if isinstance(item, Comparison):
                self._show_comparison(item)
            elif isinstance(item, StudentEvent) and isinstance(item.event, RunStarted):
                self._which, self._total_steps = item.which, item.event.total_steps
                self.histories[item.which] = History()
                self.loss.clear()
                self.loss.set_step_range(item.event.total_steps)
                self.loss.loss_plot.setTitle(f"Loss — {WHICH_TITLES[item.which]}", size=f"{pt(TITLE_PT)}pt",
                                             color=get_theme(self.loss.theme).foreground)
            elif isinstance(item, StudentEvent):
                self.histories[item.which].append(item.event)
                drawn = True
        if not drawn:
            return
        history = self.histories[self._which]
        show_history(self.loss, history)
        self.curves.set_curves({WHICH_TITLES[w]: (h.eval_steps, h.val_metric) for w, h in self.histories.items()})
        step = int(history.steps[-1]) if len(history) else 0
        done = (0.0 if self._which == "distilled" else 0.5) + 0.5 * step / max(self._total_steps, 1)
        self.progress.setValue(round(1000 * done))
        self.progress.setFormat(f"{WHICH_TITLES[self._which]}: step {step} / {self._total_steps}")

    def _on_ended(self, ended: JobEnded) -> None:
        if ended.reason == "failed":
            self.progress.setFormat("failed")
            self.message.emit(f"Distillation failed: {ended.message}", True)
        elif ended.reason == "stopped":
            self.progress.setFormat("cancelled")
            self.message.emit("Distillation cancelled; no comparison was made.", False)
        else:
            self.progress.setValue(1000)
            self.progress.setFormat(f"done in {ended.seconds:.2f} s")
        self._sync()

    def _show_comparison(self, c) -> None:
        self.comparison = c
        metric = METRIC_LABELS[c.metric]
        rows = [[r.name, ", ".join(str(w) for w in r.hidden) or "none", r.parameters, r.loss, r.metric]
                for r in c.rows]
        fill_table(self.table, ["network", "hidden", "parameters", "loss", metric], rows)
        compact(self.table)
        verdict = "helped" if c.margin > 0 else "did not help" if c.margin < 0 else "made no difference"
        teacher, student = c.rows[0].parameters, c.rows[1].parameters
        self.margin.setText(f"Distillation {verdict}: distilled − scratch = {c.margin:+.4f} {metric} (T = "
                            f"{c.temperature:g}, α = {c.alpha:g}, {c.epochs} epochs, seed {c.seed}). The student "
                            f"has {student:,} parameters, {student / teacher:.1%} of the teacher's {teacher:,}.")
        self.message.emit(self.margin.text(), False)
