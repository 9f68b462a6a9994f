"""The Quantize tab: the article's power-of-two rule, symmetric b-bit and PyTorch's dynamic int8; the error per
layer, the weights with their grid, size and latency, and accuracy against bits."""

from __future__ import annotations

from fractions import Fraction

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QGroupBox, QVBoxLayout, QWidget

from visualizer.qt.compression.jobs import THREAD_NAME, QuantOutcome, quant_sweep_job, quantize_job
from visualizer.qt.compression.sweep_box import SweepBox
from visualizer.qt.compression.widgets import (
    column,
    compact,
    fill_table,
    fmt_bytes,
    fmt_seconds,
    form,
    lay_out_tab,
    make_table,
    note,
    row,
    spin,
)
from visualizer.qt.jobs import JobEnded, JobRunner
from visualizer.qt.plots import CompareHistogramPlot
from visualizer.qt.plots.figures import METRIC_LABELS

DEBOUNCE_MS = 150


def step_text(k: int) -> str:
    """'step = 2^-4 = 1/16 = 0.0625' (or '2^3 = 8')."""
    step = Fraction(2) ** k
    exact = f" = {step.numerator}/{step.denominator}" if step.denominator > 1 else ""
    return f"step = 2^{k}{exact} = {float(step):.6g}"


class QuantizeTab(QWidget):
    """Quantize a copy of the run's model as the settings change (debounced, on the worker thread)."""

    message = Signal(str, bool)

    def __init__(self, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from visualizer.core.compression.quantization import QUANT_METHODS

        self.run = None
        self.outcome: QuantOutcome | None = None
        self._queued: tuple | None = None
        self.runner = JobRunner(self, THREAD_NAME)
        self.runner.batch.connect(self._on_items)
        self.runner.ended.connect(self._on_ended)
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("quantMethodCombo")
        for info in QUANT_METHODS.values():
            self.method_combo.addItem(info.label, info.name)
            self.method_combo.setItemData(self.method_combo.count() - 1, info.description,
                                          Qt.ItemDataRole.ToolTipRole)
        pow2, bits = QUANT_METHODS["pow2"], QUANT_METHODS["bits"]
        self.k_spin = spin("quantKSpin", pow2.minimum, pow2.maximum, pow2.default, "k of the power-of-two step 2^k "
                           "(negative: a fraction, k = -4 gives steps of 1/16)")
        self.step_label = note("quantStepLabel", "The step every weight becomes a whole multiple of")
        self.step_label.setWordWrap(False)
        self.bits_spin = spin("quantBitsSpin", bits.minimum, bits.maximum, 4, "Bits per weight b (2 to 8): "
                              "2^(b−1) − 1 levels on each side of zero")
        self.per_channel_check = QCheckBox("per output channel")
        self.per_channel_check.setObjectName("quantPerChannelCheck")
        self.per_channel_check.setToolTip("One scale per output neuron (row) instead of one per layer: smaller "
                                          "error where rows differ in size (b-bit and int8)")
        self.formula = note("quantFormulaLabel", "The quantizer's formula")
        self.summary = make_table("quantSummaryTable", "Float32 against quantized: loss and accuracy on the "
                                  "evaluation set, size (theoretical; int8: measured file and latency)")
        self.layers = make_table("quantLayerTable", "Per Linear layer: bits per weight, the step, the largest and "
                                 "the root-mean-square error against the float weights, bytes quantized and as float32")
        self.explain = note("quantNoteLabel", "What the quantization saves and costs")
        self.histograms = CompareHistogramPlot(theme=theme)
        self.histograms.setObjectName("quantHistogramPlot")
        self.histograms.setToolTip("Each layer's float weights (filled), the quantized weights (outlined: they "
                                   "pile up on the levels) and the quantization levels (thin lines)")
        self.sweep = SweepBox("quantSweep", "accuracy against bits", theme, table=False)
        self.sweep.run_requested.connect(self.run_sweep)
        self.sweep.message.connect(self.message)

        settings = QGroupBox("Quantization")
        box = QVBoxLayout(settings)
        k_row = QWidget()
        k_row.setLayout(row(self.k_spin, self.step_label))
        k_row.setToolTip(self.k_spin.toolTip())
        box.addLayout(form(("Method:", self.method_combo), ("k:", k_row), ("Bits:", self.bits_spin),
                           ("", self.per_channel_check)))
        box.addWidget(self.formula)
        left = column(settings, self.summary, self.explain, self.layers, 1)
        lay_out_tab(self, left, self.histograms, self.sweep, (480, 380), (480, 560))

        self.debounce = QTimer(self)
        self.debounce.setSingleShot(True)
        self.debounce.setInterval(DEBOUNCE_MS)
        self.debounce.timeout.connect(self._on_settle)
        self.method_combo.currentIndexChanged.connect(self._on_method)
        for w in (self.k_spin, self.bits_spin):
            w.valueChanged.connect(self._on_settings)
        self.per_channel_check.toggled.connect(self._on_settings)
        self._on_method()

    # --- public -----------------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self.runner.running or self.sweep.running

    def set_run(self, run, baseline) -> None:
        self.run, self.before = run, baseline.weights
        self.sweep.set_metric(run.metric_name, baseline.scores.metric)
        self.debounce.stop()
        self._on_settle()

    def settings(self) -> tuple[str, int | None, bool]:
        """(method, its parameter, per channel) as the controls show them."""
        method = self.method_combo.currentData()
        parameter = {"pow2": self.k_spin.value(), "bits": self.bits_spin.value()}.get(method)
        per_channel = self.per_channel_check.isChecked() and self.per_channel_check.isEnabled()
        return method, parameter, per_channel

    def request(self, method: str, parameter: int | None, per_channel: bool = False) -> bool:
        """Quantize with these settings on the worker; False with a message when they are refused."""
        from visualizer.core.compression.quantization import QUANT_METHODS, check_method
        from visualizer.core.errors import VisualizerError, choices

        if self.run is None:
            return False
        try:
            info = check_method(method)
            parameter = info.check(parameter)
            if per_channel and not info.per_channel:
                allowed = choices(n for n, m in QUANT_METHODS.items() if m.per_channel)
                raise VisualizerError(f"{method}: per-channel quantization applies only to {allowed}")
        except VisualizerError as exc:
            self.message.emit(str(exc), True)
            return False
        self._show_settings(method, parameter, per_channel)
        if self.runner.running:
            self._queued = (method, parameter, per_channel)
            return True
        self.runner.start("quantize", quantize_job(self.run, method, parameter, per_channel, self.before))
        return True

    def run_sweep(self) -> bool:
        if self.run is None or self.sweep.running:
            return False
        method = self.method_combo.currentData()
        self.sweep.start(quant_sweep_job(self.run, method), *sweep_axes(method))
        return True

    def shutdown(self) -> None:
        self.debounce.stop()
        self.runner.shutdown()
        self.sweep.shutdown()

    def set_theme(self, name: str) -> None:
        self.histograms.set_theme(name)
        self.sweep.set_theme(name)

    # --- controls ---------------------------------------------------------------------------------
    def _show_settings(self, method: str, parameter: int | None, per_channel: bool) -> None:
        """Let the controls show what is quantized (a request may come from a script), without a new request."""
        widgets = (self.method_combo, self.k_spin, self.bits_spin, self.per_channel_check)
        for w in widgets:
            w.blockSignals(True)
        self.method_combo.setCurrentIndex(self.method_combo.findData(method))
        if method == "pow2":
            self.k_spin.setValue(parameter)
        elif method == "bits":
            self.bits_spin.setValue(parameter)
        self.per_channel_check.setChecked(per_channel)
        for w in widgets:
            w.blockSignals(False)
        self._on_method(schedule=False)

    def _on_method(self, *_args, schedule: bool = True) -> None:
        from visualizer.core.compression.quantization import QUANT_METHODS

        info = QUANT_METHODS[self.method_combo.currentData()]
        self.method_combo.setToolTip(info.description)
        self.formula.setText(info.formula)
        self.k_spin.setEnabled(info.name == "pow2")
        self.step_label.setEnabled(info.name == "pow2")
        self.bits_spin.setEnabled(info.name == "bits")
        self.per_channel_check.setEnabled(info.per_channel)
        self.sweep.run_button.setText("Sweep k" if info.name == "pow2" else "Sweep bits")
        self.sweep.set_axes(*sweep_axes(info.name))  # the plot names its axes before a sweep, and after a switch
        self.step_label.setText(step_text(self.k_spin.value()))
        if schedule:
            self._on_settings()

    def _on_settings(self, *_args) -> None:
        self.step_label.setText(step_text(self.k_spin.value()))
        if not self.debounce.isActive():  # at most every DEBOUNCE_MS while the settings change (as in Prune)
            self.debounce.start()

    def _on_settle(self) -> None:
        self.request(*self.settings())

    # --- results ----------------------------------------------------------------------------------
    def _on_items(self, items: list) -> None:
        for item in items:
            if isinstance(item, QuantOutcome):
                self._show(item)

    def _on_ended(self, ended: JobEnded) -> None:
        if ended.reason == "failed":
            self.message.emit(f"Quantization failed: {ended.message}", True)
        queued, self._queued = self._queued, None
        if queued is not None:
            self.request(*queued)

    def _show(self, outcome: QuantOutcome) -> None:
        self.outcome = outcome
        r = outcome.report
        metric = METRIC_LABELS[r.metric]
        rows = [["loss", r.before.loss, r.after.loss], [metric, r.before.metric, r.after.metric],
                ["size (theoretical)", fmt_bytes(r.bytes_float), fmt_bytes(r.bytes)]]
        if r.serialized_bytes is not None:
            rows += [["file (torch.save)", fmt_bytes(r.serialized_bytes_float), fmt_bytes(r.serialized_bytes)],
                     ["latency", fmt_seconds(r.latency_float_s), fmt_seconds(r.latency_quantized_s)]]
        fill_table(self.summary, ["", "float32", "quantized"], rows)
        compact(self.summary)
        layer_rows = []
        for q in r.layers:
            step = f"{q.steps[0]:.4g}" if len(q.steps) == 1 else f"{min(q.steps):.3g}–{max(q.steps):.3g}"
            layer_rows.append([q.name, q.bits, step, q.max_abs_error, q.rms_error, q.bytes])
        fill_table(self.layers, ["layer", "bits", "step", "max |err|", "RMS err", "bytes"], layer_rows, digits=5)
        compact(self.layers)
        self.histograms.set_pairs(list(outcome.histograms), "float32", "quantized")
        text = (f"{r.bytes_float / r.bytes:.1f}× smaller in theory ({fmt_bytes(r.bytes)} against "
                f"{fmt_bytes(r.bytes_float)}: bits × weights / 8, the scales, biases as float32); {metric} "
                f"{r.before.metric:.4f} → {r.after.metric:.4f}.")
        if r.serialized_bytes is not None:
            speed = r.latency_float_s / r.latency_quantized_s if r.latency_quantized_s else float("nan")
            text += (f" Measured int8: file {r.serialized_bytes_float / r.serialized_bytes:.1f}× smaller, "
                     f"{fmt_seconds(r.latency_quantized_s)} against {fmt_seconds(r.latency_float_s)} per batch "
                     f"({speed:.2f}× the float speed).")
        self.explain.setText(text)
        self.message.emit(f"{self.method_combo.currentText()}: {metric} {r.before.metric:.4f} → {r.after.metric:.4f}"
                          f" (computed in {outcome.seconds * 1e3:.0f} ms on the worker).", False)


def sweep_axes(method: str) -> tuple[str, str, float, str]:
    """(x name, x label, x scale, title) of the accuracy sweep for a quantization method."""
    if method == "pow2":
        return "k", "k (step = 2^k)", 1.0, "Accuracy against the power-of-two step"
    return "bits", "bits", 1.0, "Accuracy against bits (symmetric b-bit)"
