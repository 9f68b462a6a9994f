"""The compression window: prune, sweep sensitivity, quantize and distil a trained run, each on a worker thread."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QMainWindow, QTabWidget, QVBoxLayout, QWidget

from visualizer.qt.compression.distill_tab import DistillTab
from visualizer.qt.compression.jobs import measure_baseline
from visualizer.qt.compression.prune_tab import PruneTab
from visualizer.qt.compression.quantize_tab import QuantizeTab
from visualizer.qt.compression.sensitivity_tab import SensitivityTab
from visualizer.qt.compression.widgets import fmt_bytes, note, recompact
from visualizer.qt.evaluation.views import ERROR_STYLE
from visualizer.qt.jobs import JobRunner
from visualizer.qt.plots.figures import METRIC_LABELS
from visualizer.qt.widgets.controls import resize_within_screen

LOADER_THREAD = "compression-loader"

TAB_TIPS = (
    "Zero the smallest (or random) weights, or whole neurons; see what it costs, fine-tune, shrink",
    "How much each layer can be pruned before accuracy drops: a curve per layer and one for all together",
    "Round the weights to a grid: the article's power-of-two step, b bits, or PyTorch's int8",
    "Train a smaller student from the teacher's softened outputs; compare it with the same student from scratch",
)


class CompressionWindow(QMainWindow):
    """Compression of one trained run, opened on the run itself: its run file (the window's recorded run) or the
    folder holding it. The loaded model is never modified; every preview, sweep and training works on a copy, on a
    thread named "compression-worker". The run is loaded and measured on the job runner too: ``loaded`` is emitted
    when it is there (``run`` is None until then, and stays None when it cannot be loaded)."""

    #: the controls kept between sessions (qt/app/window_memory.py)
    REMEMBERED = ("quantPerChannelCheck", "fineTuneEpochsSpin", "distillEpochsSpin", "temperatureSpin", "alphaSpin",
                  "studentHiddenEdit")

    loaded = Signal()

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
        resize_within_screen(self, 1500, 960)
        for keys, slot in (("Escape", self.cancel), ("Ctrl+W", self.close)):
            QShortcut(QKeySequence(keys), self, slot, context=Qt.ShortcutContext.WindowShortcut)
        self._after_load: list = []
        self.loader = JobRunner(self, LOADER_THREAD)
        self.loader.batch.connect(self._on_loaded)
        self.loader.ended.connect(self._on_load_ended)
        self.tabs.setEnabled(False)
        self.header.setText(f"Loading the run {self.run_path}…")
        self.loader.start("loading the run", lambda put, control: put(load_and_measure(self.run_path)))

    # --- public -----------------------------------------------------------------------------------
    def all_tabs(self) -> tuple:
        return (self.prune_tab, self.sensitivity_tab, self.quantize_tab, self.distill_tab)

    @property
    def loading(self) -> bool:
        """The run is still being loaded and measured."""
        return self.loader.running

    @property
    def busy(self) -> bool:
        """Whether the run is loading or any tab has a job running."""
        return self.loading or any(tab.busy for tab in self.all_tabs())

    def when_loaded(self, action) -> None:
        """Call ``action()`` once the run is loaded (now, if it is); never if it cannot be."""
        if self.run is not None:
            action()
        elif self.loading:
            self._after_load.append(action)

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
        recompact(self)  # presentation mode's fonts change the rows' heights

    def shutdown(self) -> None:
        """Stop and join every worker (closing the window does it too)."""
        self.loader.shutdown()
        for tab in self.all_tabs():
            tab.shutdown()

    def closeEvent(self, event) -> None:  # Qt override: no thread may outlive the window
        self.shutdown()
        super().closeEvent(event)

    # --- internals ----------------------------------------------------------------------------------
    def _on_loaded(self, items: list) -> None:
        self.run, self.baseline = items[-1]
        self.tabs.setEnabled(True)
        self._show_run()
        self.loaded.emit()
        actions, self._after_load = self._after_load, []
        for action in actions:
            action()

    def _on_load_ended(self, ended) -> None:
        if ended.reason == "failed":
            self.header.setText(f"Run: {self.run_path}")
            self.show_message(f"The run could not be loaded: {ended.message}", error=True)
            self._after_load = []

    def _show_run(self) -> None:
        run, b = self.run, self.baseline
        exp = run.experiment
        shape = "-".join(str(n) for n in (run.dataset.n_features, *exp.model.hidden, run.n_outputs()))
        if exp.model.layers:  # a layer list: its layers as written, then the output layer
            shape = " → ".join((*exp.model.layers, f"{run.n_outputs()} outputs"))
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


def load_and_measure(path: Path):
    """The run at ``path`` (a run file or its folder) and its baseline measurements: the loader job's one record."""
    from visualizer.core.runs.loaded import load_run

    run = load_run(path)
    return run, measure_baseline(run)
