"""The Prune tab: an amount slider that previews live, before/after histograms, fine-tuning with the masks held,
making the pruning permanent, and measured latency (dense, pruned, shrunk)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QGroupBox, QSlider, QVBoxLayout, QWidget

from visualizer.qt.compression.jobs import (
    THREAD_NAME,
    LatencyFigures,
    PruneOutcome,
    fine_tune_job,
    measure_job,
    permanent_job,
    preview_job,
)
from visualizer.qt.compression.prune_report import latency_text, layer_rows, summary_rows
from visualizer.qt.compression.widgets import (
    button,
    column,
    compact,
    fill_table,
    fmt_seconds,
    form,
    lay_out_tab,
    make_table,
    note,
    percent,
    row,
    spin,
)
from visualizer.qt.jobs import JobEnded, JobRunner
from visualizer.qt.plots import CompareHistogramPlot, LossPlot
from visualizer.qt.plots.figures import METRIC_LABELS, show_history

DEBOUNCE_MS = 150
DEFAULT_PERCENT = 50
STAGE_TITLES = {"preview": "pruned", "fine-tuned": "pruned + fine-tuned", "permanent": "pruned, permanent"}


class PruneTab(QWidget):
    """Prune a copy of the run's model; ``message`` (text, error) goes to the window's status label."""

    message = Signal(str, bool)
    #: (label, the pruned network's weights flattened in the original parameters() order) for a landscape
    pruned_weights = Signal(str, object)

    def __init__(self, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from visualizer.core.compression.pruning import PRUNE_METHODS

        self.run = None
        self.baseline = None
        self.outcome: PruneOutcome | None = None
        self.latency: LatencyFigures | None = None
        self.history = None
        self._queued: tuple[str, float] | None = None
        self.runner = JobRunner(self, THREAD_NAME)
        self.runner.batch.connect(self._on_items)
        self.runner.ended.connect(self._on_ended)

        self.method_combo = QComboBox()
        self.method_combo.setObjectName("pruneMethodCombo")
        for info in PRUNE_METHODS.values():
            self.method_combo.addItem(info.label, info.name)
            self.method_combo.setItemData(self.method_combo.count() - 1, info.description,
                                          Qt.ItemDataRole.ToolTipRole)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("pruneAmountSlider")
        self.slider.setRange(0, 99)
        self.slider.setValue(DEFAULT_PERCENT)
        self.slider.setToolTip("Share of the weights to prune, 0 to 99 %: the preview follows as you drag")
        self.amount_spin = spin("pruneAmountSpin", 0, 99, DEFAULT_PERCENT, self.slider.toolTip(), " %")
        self.epochs_spin = spin("fineTuneEpochsSpin", 1, 1000, 10, "Epochs of fine-tuning (the run's optimizer, "
                                "learning rate and batch size)")
        self.fine_tune_button = button("Fine-tune", "fineTuneButton", "Retrain the pruned network with its masks "
                                       "held: pruned weights stay zero, the others adapt (live curves below)")
        self.stop_button = button("Stop", "fineTuneStopButton", "Stop fine-tuning after the current step; what was "
                                  "trained so far is kept")
        self.permanent_button = button("Make permanent", "makePermanentButton", "Remove torch's pruning "
                                       "re-parametrisation (weight_orig × weight_mask → weight): the zeros stay, "
                                       "the masks go")
        self.measure_button = button("Measure latency", "measureLatencyButton", "Time the dense and the pruned "
                                     "model on the evaluation set (median of 30 alternated repeats)")
        self.shrink_button = button("Shrink", "shrinkButton", "Structured pruning only: remove the pruned neurons "
                                    "for real and measure the smaller network's parameters, bytes and latency")
        self.summary = make_table("pruneSummaryTable", "Original against pruned (and shrunk): loss and accuracy on "
                                  "the evaluation set, parameters, size as float32, measured latency")
        self.layers = make_table("pruneLayerTable", "Zeros in each Linear layer's weight matrix, and in total")
        self.explain = note("pruneLatencyLabel", "Why a pruned model is no faster, with the measured numbers")
        self.histograms = CompareHistogramPlot(theme=theme)
        self.histograms.setObjectName("pruneHistogramPlot")
        self.histograms.setToolTip("Each layer's weights before pruning (filled) and the non-zero weights after "
                                   "(outlined): magnitude pruning empties the middle")
        self.loss = LossPlot(theme=theme)
        self.loss.setObjectName("fineTuneLossPlot")
        self.loss.setToolTip("Fine-tuning: train loss per step and validation loss and accuracy per epoch")

        settings = QGroupBox("Pruning")
        box = QVBoxLayout(settings)
        box.addLayout(form(("Method:", self.method_combo)))
        box.addLayout(form(("Amount:", self.slider)))
        box.addLayout(row(self.amount_spin, self.measure_button, self.shrink_button))
        tune = QGroupBox("Fine-tune")
        tbox = QVBoxLayout(tune)
        tbox.addLayout(row(self.epochs_spin, self.fine_tune_button, self.stop_button))
        tbox.addWidget(self.permanent_button)
        left = column(settings, self.summary, self.explain, self.layers, tune, 1)
        lay_out_tab(self, left, self.histograms, self.loss, (520, 330), (470, 520))

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(DEBOUNCE_MS)
        self.debounce.timeout.connect(self._on_settle)
        self.slider.valueChanged.connect(self._on_slider)
        self.amount_spin.valueChanged.connect(self._on_spin)
        self.method_combo.currentIndexChanged.connect(self._on_method)
        self.fine_tune_button.clicked.connect(self.fine_tune)
        self.stop_button.clicked.connect(self.stop)
        self.permanent_button.clicked.connect(self.make_permanent)
        self.measure_button.clicked.connect(lambda: self.measure(False))
        self.shrink_button.clicked.connect(lambda: self.measure(True))
        self._on_method()
        self._sync()

    # --- public -----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.runner.running

    def set_run(self, run, baseline) -> None:
        """Work on ``run`` (a LoadedRun); ``baseline`` (jobs.Baseline) holds its scores, sizes and weights."""
        self.run, self.baseline, self.before = run, baseline, baseline.weights
        self.loss.set_metric_name(METRIC_LABELS[run.metric_name])
        self.debounce.stop()  # the preview starts now, not again when the controls' first change settles
        self.request(self.method(), self.slider.value() / 100.0)

    def method(self) -> str:
        return self.method_combo.currentData()

    def request(self, method: str, amount: float) -> bool:
        """Preview ``method`` at ``amount`` (a fraction, 0 to 0.99) on a worker thread; False with a message when
        the request is refused."""
        from visualizer.core.compression.pruning import check_amount, check_method
        from visualizer.core.errors import VisualizerError

        if self.run is None:
            return False
        try:
            check_method(method)
            amount = check_amount(amount)
        except VisualizerError as exc:
            self.message.emit(str(exc), True)
            return False
        self._show_settings(method, amount)
        if self.runner.running:
            if self.runner.kind != "preview":
                self.message.emit(f"Prune: wait for the {self.runner.kind} to finish (or stop it).", True)
                return False
            self._queued = (method, amount)
            return True
        self.runner.start("preview", preview_job(self.run, method, amount, self.before))
        self._sync()
        return True

    def fine_tune(self) -> bool:
        """Retrain the current pruned model with its masks held, on the worker thread."""
        if not self._ready("fine-tune") or self.outcome.stage == "permanent":
            return False
        self.history = None
        epochs = self.epochs_spin.value()
        self.runner.start("fine-tune", fine_tune_job(self.run, self.outcome.model, epochs, self.outcome.report,
                                                     self.before))
        self.message.emit(f"Fine-tuning for {epochs} epoch(s) with the masks held…", False)
        self._sync()
        return True

    def stop(self) -> None:
        """Stop the running job and join its thread (fine-tuning keeps what it trained)."""
        self.runner.cancel()
        self._sync()

    def make_permanent(self) -> bool:
        if not self._ready("make permanent") or self.outcome.stage == "permanent":
            return False
        self.runner.start("make permanent", permanent_job(self.run, self.outcome.model, self.outcome.report,
                                                          self.before))
        self._sync()
        return True

    def measure(self, do_shrink: bool) -> bool:
        """Measure latency (and shrink first when ``do_shrink``, structured pruning only)."""
        if not self._ready("shrink" if do_shrink else "measure"):
            return False
        if do_shrink and self.outcome.report.method != "structured":
            self.message.emit("Shrink removes whole neurons: choose 'Whole neurons (L2)'. Unstructured zeros are "
                              "scattered, no neuron can go.", True)
            return False
        self.runner.start("shrink" if do_shrink else "measure", measure_job(self.run, self.outcome.model, do_shrink))
        self.message.emit("Shrinking and timing…" if do_shrink else "Timing the dense and the pruned model…", False)
        self._sync()
        return True

    def shutdown(self) -> None:
        self.debounce.stop()
        self.runner.shutdown()

    def set_theme(self, name: str) -> None:
        self.histograms.set_theme(name)
        self.loss.set_theme(name)

    # --- controls ---------------------------------------------------------------------------------
    def _ready(self, what: str) -> bool:
        if self.outcome is None or self.run is None:
            return False
        if self.runner.running:
            self.message.emit(f"Prune: wait for the {self.runner.kind} to finish before you {what}.", True)
            return False
        return True

    def _show_settings(self, method: str, amount: float) -> None:
        """Let the controls show what is previewed (a request may come from a script), without a new request."""
        for widget, set_value in ((self.method_combo, lambda: self.method_combo.setCurrentIndex(
                self.method_combo.findData(method))), (self.slider, lambda: self.slider.setValue(round(100 * amount))),
                                  (self.amount_spin, lambda: self.amount_spin.setValue(round(100 * amount)))):
            widget.blockSignals(True)
            set_value()
            widget.blockSignals(False)
        self.method_combo.setToolTip(self.method_combo.currentData(Qt.ItemDataRole.ToolTipRole))

    def _on_slider(self, value: int) -> None:
        self.amount_spin.blockSignals(True)
        self.amount_spin.setValue(value)
        self.amount_spin.blockSignals(False)
        self._schedule()

    def _on_spin(self, value: int) -> None:
        self.slider.setValue(value)  # moves the slider, which starts the debounce

    def _on_method(self, *_args) -> None:
        tip = self.method_combo.currentData(Qt.ItemDataRole.ToolTipRole)
        self.method_combo.setToolTip(tip)
        self._schedule()

    def _schedule(self) -> None:
        """Preview at most every DEBOUNCE_MS while the controls move, and once more when they stop: the timer is
        started by the first change and not restarted by the next ones, so dragging shows a live preview."""
        if not self.debounce.isActive():
            self.debounce.start()

    def _on_settle(self) -> None:
        self.request(self.method(), self.slider.value() / 100.0)

    def _sync(self) -> None:
        """Enable what can be done now."""
        kind = self.runner.kind
        idle, has = kind is None, self.outcome is not None
        editable = self.run is not None and kind in (None, "preview")
        for w in (self.method_combo, self.slider, self.amount_spin):
            w.setEnabled(editable)
        stage = self.outcome.stage if has else None
        self.fine_tune_button.setEnabled(idle and has and stage != "permanent")
        self.epochs_spin.setEnabled(idle)
        self.stop_button.setEnabled(kind == "fine-tune")
        self.permanent_button.setEnabled(idle and has and stage != "permanent")
        self.measure_button.setEnabled(idle and has)
        self.shrink_button.setEnabled(idle and has and self.outcome.report.method == "structured")

    # --- results ----------------------------------------------------------------------------------
    def _on_items(self, items: list) -> None:
        from visualizer.core.training.events import RunEnded, RunStarted, StepEvent
        from visualizer.core.training.history import History

        steps = False
        for item in items:
            if isinstance(item, PruneOutcome):
                self._show_outcome(item)
            elif isinstance(item, LatencyFigures):
                self.latency = item
                self._show_tables()
            elif isinstance(item, RunStarted):
                self.history = History()
                self.loss.clear()
                self.loss.set_step_range(item.total_steps)
            elif isinstance(item, StepEvent) and self.history is not None:
                self.history.append(item)
                steps = True
            elif isinstance(item, RunEnded) and not item.ok:
                self.message.emit(f"Fine-tuning failed: {item.message}", True)
        if steps:
            show_history(self.loss, self.history)

    def _on_ended(self, ended: JobEnded) -> None:
        if ended.reason == "failed":
            self.message.emit(f"Prune ({ended.kind}) failed: {ended.message}", True)
        elif ended.kind == "fine-tune" and self.outcome is not None:
            how = "stopped" if ended.reason == "stopped" else "finished"
            r = self.outcome.report
            self.message.emit(f"Fine-tuning {how} after {ended.seconds:.1f} s: {self._metric()} "
                              f"{r.after.metric:.4f}, loss {r.after.loss:.4f}; sparsity still {percent(r.sparsity)}.",
                              False)
        elif ended.kind in ("measure", "shrink") and self.latency is not None:
            lat = self.latency
            text = f"Latency measured: dense {fmt_seconds(lat.dense_s)}, pruned {fmt_seconds(lat.pruned_s)}"
            if lat.shrunk is not None:
                text += f", shrunk {fmt_seconds(lat.shrunk.latency_s)} ({lat.shrunk.parameters:,} parameters)"
            self.message.emit(text + ".", False)
        queued, self._queued = self._queued, None
        if queued is not None:
            self.request(*queued)
        self._sync()

    def _show_outcome(self, outcome: PruneOutcome) -> None:
        previous = self.outcome
        self.outcome = outcome
        if outcome.stage != "permanent":  # new weights: the measured figures (and shrunk scores) are stale
            self.latency = None
        if outcome.stage == "preview":
            self.loss.clear()  # the curves of the previous model's fine-tuning
            self.loss.set_step_range(None)
            self.history = None
        self._show_tables()
        self.histograms.set_pairs(list(outcome.histograms), "original", "after (non-zero)")
        if outcome.flat is not None:
            self.pruned_weights.emit(f"pruned {percent(outcome.report.amount)} ({outcome.stage})", outcome.flat)
        r = outcome.report
        if outcome.stage == "preview":
            self.message.emit(f"{self.method_combo.currentText()} at {percent(r.amount)}: {percent(r.sparsity)} of "
                              f"the weights are zero; {self._metric()} {r.before.metric:.4f} → {r.after.metric:.4f} "
                              f"(computed in {outcome.seconds * 1e3:.0f} ms on the worker).", False)
        elif outcome.stage == "permanent" and previous is not None:
            self.message.emit(f"Masks removed: the state dict has {outcome.state_entries} entries instead of "
                              f"{previous.state_entries} (weight_orig and weight_mask are gone); the "
                              f"{r.zeros:,} zeros stay. Fine-tuning now would let them grow back, so it is off "
                              "until the next preview.", False)

    def _metric(self) -> str:
        return METRIC_LABELS[self.run.metric_name] if self.run is not None else "accuracy"

    def _show_tables(self) -> None:
        headers, rows = summary_rows(self.outcome, self.baseline, self.latency, self._metric(), STAGE_TITLES)
        fill_table(self.summary, headers, rows)
        compact(self.summary)
        fill_table(self.layers, ["layer", "weights", "zeros", "sparsity"], layer_rows(self.outcome.report))
        compact(self.layers)
        self.explain.setText(latency_text(self.latency))
