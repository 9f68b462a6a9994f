"""The compression window: prune, sweep sensitivity, quantize and distil a trained run, each on a worker thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QTabWidget, QVBoxLayout, QWidget

from visualizer.qt.compression.distill_tab import DistillTab
from visualizer.qt.compression.jobs import measure_baseline
from visualizer.qt.compression.prune_tab import PruneTab
from visualizer.qt.compression.quantize_tab import QuantizeTab
from visualizer.qt.compression.sensitivity_tab import SensitivityTab
from visualizer.qt.compression.widgets import fmt_bytes, note
from visualizer.qt.evaluation.views import ERROR_STYLE
from visualizer.qt.plots.figures import METRIC_LABELS

TAB_TIPS = (
    "Zero the smallest (or random) weights, or whole neurons; see what it costs, fine-tune, shrink",
    "How much each layer can be pruned before accuracy drops: a curve per layer and one for all together",
    "Round the weights to a grid: the article's power-of-two step, b bits, or PyTorch's int8",
    "Train a smaller student from the teacher's softened outputs; compare it with the same student from scratch",
)


class CompressionWindow(QMainWindow):
    """Compression of one trained run, opened on the run itself: its run file (the window's recorded run) or the
    folder holding it. The loaded model is never modified; every preview, sweep and training works on a copy, on a
    thread named "compression-worker"."""

    def __init__(self, run: str | Path, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("compressionWindow")
        self.run_path = Path(run)
        self.theme = theme
        self.run = None
        self.baseline = None
        self._messages: dict[int, tuple[str, bool]] = {}
        self.setWindowTitle(f"Compression — {self.run_path.name}")
        self.header = note("compressionRunLabel", "The run being compressed: its network and how it scores")
        self.status = note("compressionStatusLabel", "What the current tab is doing, or why a request was refused")
        self.prune_tab = PruneTab(theme)
        self.sensitivity_tab = SensitivityTab(theme)
        self.quantize_tab = QuantizeTab(theme)
        self.distill_tab = DistillTab(theme)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("compressionTabs")
        for i, (tab, title) in enumerate(zip(self.all_tabs(), ("Prune", "Sensitivity", "Quantize", "Distill"))):
            self.tabs.addTab(tab, title)
            self.tabs.setTabToolTip(i, TAB_TIPS[i])
            tab.message.connect(lambda text, error, i=i: self._on_tab_message(i, text, error))
        self.tabs.currentChanged.connect(self._on_tab_changed)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addWidget(self.status)
        layout.addWidget(self.tabs, 1)
        self.setCentralWidget(central)
        self.resize(1500, 960)
        for keys, slot in (("Escape", self.cancel), ("Ctrl+W", self.close)):
            QShortcut(QKeySequence(keys), self, slot, context=Qt.ShortcutContext.WindowShortcut)
        self._load()

    # --- public -----------------------------------------------------------------------------------
    def all_tabs(self) -> tuple:
        return (self.prune_tab, self.sensitivity_tab, self.quantize_tab, self.distill_tab)

    @property
    def busy(self) -> bool:
        """Whether any tab has a job running."""
        return any(tab.busy for tab in self.all_tabs())

    def show_message(self, text: str, error: bool = False) -> None:
        self.status.setText(f"⚠ {text}" if error else text)
        self.status.setStyleSheet(ERROR_STYLE if error else "QLabel { padding: 5px; }")

    def cancel(self) -> None:
        """Cancel the current tab's job (Esc)."""
        tab = self.tabs.currentWidget()
        if tab is self.prune_tab:
            tab.stop()
        elif tab is self.quantize_tab:
            tab.sweep.cancel()
        else:
            tab.cancel()

    def set_theme(self, name: str) -> None:
        self.theme = name
        for tab in self.all_tabs():
            tab.set_theme(name)

    def shutdown(self) -> None:
        """Stop and join every worker (closing the window does it too)."""
        for tab in self.all_tabs():
            tab.shutdown()

    def closeEvent(self, event) -> None:  # Qt override: no thread may outlive the window
        self.shutdown()
        super().closeEvent(event)

    # --- internals ----------------------------------------------------------------------------------
    def _load(self) -> None:
        """Load the run and measure it (synchronous for now: one function, to move onto the job runner)."""
        from visualizer.core.errors import VisualizerError
        from visualizer.core.runs.loaded import load_run

        try:
            self.run = load_run(self.run_path)
            self.baseline = measure_baseline(self.run)
        except (VisualizerError, OSError) as exc:
            self.header.setText(f"Run: {self.run_path}")
            self.show_message(f"The run could not be loaded: {exc}", error=True)
            self.tabs.setEnabled(False)
            return
        self._show_run()

    def _show_run(self) -> None:
        run, b = self.run, self.baseline
        exp = run.experiment
        shape = "-".join(str(n) for n in (run.dataset.n_features, *exp.model.hidden, run.n_outputs()))
        metric = METRIC_LABELS[run.metric_name]
        self.setWindowTitle(f"Compression — {exp.title or exp.data.name} ({run.path.name})")
        self.header.setText(f"<b>{exp.title or exp.data.name}</b> — network {shape}, {b.parameters:,} parameters, "
                            f"{fmt_bytes(b.bytes)} as float32; on the {run.eval_set_name} set "
                            f"({len(run.eval_tensors()[1]):,} samples): loss {b.scores.loss:.4f}, {metric} "
                            f"{b.scores.metric:.4f}. Run: {run.path}")
        for tab in self.all_tabs():
            tab.set_run(run, b)

    def _on_tab_message(self, index: int, text: str, error: bool) -> None:
        self._messages[index] = (text, error)
        if index == self.tabs.currentIndex():
            self.show_message(text, error)

    def _on_tab_changed(self, index: int) -> None:
        text, error = self._messages.get(index, ("", False))
        self.show_message(text, error)
