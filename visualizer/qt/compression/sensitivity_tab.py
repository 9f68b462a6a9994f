"""The Sensitivity tab: accuracy (or R²) against sparsity, each layer pruned alone and all layers together."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QLabel, QVBoxLayout, QWidget

from visualizer.qt.compression.jobs import sparsity_sweep_job
from visualizer.qt.compression.sweep_box import SweepBox
from visualizer.qt.compression.widgets import row

#: the methods a single layer can be pruned with alone ('global' is the all-layers curve)
SWEEP_METHODS = ("l1", "random", "structured")


class SensitivityTab(QWidget):
    """Which layers can lose weights without hurting: one curve per layer (that layer pruned alone, the others
    intact) and a 'global' curve (all layers together by global magnitude), at 0 % to 99 %."""

    message = Signal(str, bool)

    def __init__(self, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from visualizer.core.compression.pruning import PRUNE_METHODS

        self.run = None
        self.method_combo = QComboBox()
        self.method_combo.setObjectName("sweepMethodCombo")
        for name in SWEEP_METHODS:
            info = PRUNE_METHODS[name]
            self.method_combo.addItem(info.label, name)
            self.method_combo.setItemData(self.method_combo.count() - 1, info.description,
                                          Qt.ItemDataRole.ToolTipRole)
        self.method_combo.setToolTip("How each layer is pruned when it is pruned alone")
        self.per_layer_check = QCheckBox("each layer alone")
        self.per_layer_check.setObjectName("sweepPerLayerCheck")
        self.per_layer_check.setChecked(True)
        self.per_layer_check.setToolTip("A curve per Linear layer: that layer pruned, the others intact")
        self.global_check = QCheckBox("all layers (global)")
        self.global_check.setObjectName("sweepGlobalCheck")
        self.global_check.setChecked(True)
        self.global_check.setToolTip("A curve for all layers pruned together by global L1 magnitude")
        self.box = SweepBox("sweep", "accuracy against sparsity", theme)
        self.box.plot.setObjectName("sensitivityPlot")
        self.box.run_requested.connect(self.run_sweep)
        self.box.message.connect(self.message)
        label = QLabel("Prune each layer with:")
        label.setToolTip(self.method_combo.toolTip())
        settings = row(label, self.method_combo, self.per_layer_check, self.global_check, stretch=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(settings)
        layout.addWidget(self.box, 1)

    @property
    def busy(self) -> bool:
        return self.box.running

    def set_run(self, run, baseline) -> None:
        self.run = run
        self.box.set_metric(run.metric_name, baseline.scores.metric)
        self.box.plot.set_axes("sparsity (%)", self.box.plot.y_label, "Sensitivity to pruning")

    def run_sweep(self) -> bool:
        """Start the sweep on the worker thread; False (with a message) when nothing is asked for."""
        if self.run is None or self.box.running:
            return False
        per_layer, include_global = self.per_layer_check.isChecked(), self.global_check.isChecked()
        if not (per_layer or include_global):
            self.message.emit("Sweep: tick 'each layer alone' and/or 'all layers (global)'.", True)
            return False
        method = self.method_combo.currentData()
        self.box.start(sparsity_sweep_job(self.run, method, per_layer, include_global), "sparsity",
                       "sparsity (%)", 100.0, f"Sensitivity to pruning ({self.method_combo.currentText()})")
        self.message.emit("Sweeping sparsity 0 % to 99 %…", False)
        return True

    def cancel(self) -> None:
        self.box.cancel()

    def shutdown(self) -> None:
        self.box.shutdown()

    def set_theme(self, name: str) -> None:
        self.box.set_theme(name)
