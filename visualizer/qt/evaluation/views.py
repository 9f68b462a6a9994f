"""The widgets of the cross-validation window and their layout (the window connects and drives them)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from visualizer.qt.evaluation.replay import ReplayBar
from visualizer.qt.evaluation.tables import make_table
from visualizer.qt.plots import (
    ConfusionMatrixPlot,
    DecisionBoundaryPlot,
    FoldCurvesPlot,
    FoldMapPlot,
    FoldMetricsPlot,
)
from visualizer.qt.plots._style import TITLE_PT, get_theme, pt
from visualizer.qt.widgets.controls import button as make_button
from visualizer.qt.widgets.controls import spin

USES_K = ("kfold", "stratified")
USES_REPEATS = ("kfold", "stratified", "shuffle")
USES_FRACTION = ("holdout", "shuffle")
ERROR_STYLE = ("QLabel { background: #fdecea; color: #611a15; padding: 5px; border: 1px solid #f5c2c0; "
               "border-radius: 3px; }")


def _labelled(text: str, widget: QWidget) -> QLabel:
    label = QLabel(text)
    label.setToolTip(widget.toolTip())
    label.setBuddy(widget)
    return label


def _column(*widgets: QWidget, stretch_last: bool = True) -> QWidget:
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    for i, w in enumerate(widgets):
        layout.addWidget(w, 1 if stretch_last and i == len(widgets) - 1 else 0)
    return box


class EvaluationViews(QWidget):
    """Settings and run controls on top; the fold map and tables at the left; the replay at the right."""

    def __init__(self, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from visualizer.core.evaluation.folds import METHODS

        self.method_combo = QComboBox()
        self.method_combo.setObjectName("evalMethodCombo")
        for key, description in METHODS.items():
            self.method_combo.addItem(description.split(":")[0], key)
            self.method_combo.setItemData(self.method_combo.count() - 1, description, Qt.ItemDataRole.ToolTipRole)
        self.method_combo.setCurrentIndex(self.method_combo.findData("kfold"))
        self.method_combo.currentIndexChanged.connect(self._on_method_tip)
        self.k_spin = spin("evalKSpin", 2, 20, 5, "Number of folds k (k-fold and stratified k-fold)")
        self.repeats_spin = spin("evalRepeatsSpin", 1, 100, 1, "Repeat k-fold with new shuffles, or the number "
                                  "of random splits (repeated sub-sampling)")
        self.val_spin = spin("evalValPercentSpin", 5, 90, 20, "Share of the samples held out for validation "
                              "(hold-out and repeated sub-sampling)", " %")
        self.run_button = make_button("Run", "evalRunButton", "Train a fresh network on every fold (Ctrl+Return)")
        self.cancel_button = make_button("Cancel", "evalCancelButton", "Stop after the current step; the finished "
                                     "folds are kept (Esc)")
        self.compare_button = make_button("Compare with…", "evalCompareButton", "Evaluate another experiment file on "
                                      "the same folds and show the per-fold differences")
        self.export_button = make_button("Export PNG…", "evalExportButton", "Write the fold map, the metrics strip "
                                     "plot and the curves as PNG files into a folder")
        self.progress = QProgressBar()
        self.progress.setObjectName("evalProgress")
        self.progress.setRange(0, 1000)
        self.progress.setTextVisible(True)
        self.progress.setToolTip("Which fold is training, and its step")
        self.status = QLabel()
        self.status.setObjectName("evalStatusLabel")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.status.setToolTip("What the evaluation is doing, or why a request was refused")

        top = QHBoxLayout()
        top.setContentsMargins(0, 0, 0, 0)
        for text, widget in (("Method:", self.method_combo), ("k:", self.k_spin), ("Repeats:", self.repeats_spin),
                             ("Validation:", self.val_spin)):
            top.addWidget(_labelled(text, widget))
            top.addWidget(widget)
            top.addSpacing(8)
        for button in (self.run_button, self.cancel_button):
            top.addWidget(button)
        top.addWidget(self.progress, 1)
        top.addWidget(self.compare_button)
        top.addWidget(self.export_button)

        self.fold_map = FoldMapPlot(theme=theme)
        self.fold_map.setToolTip("Which samples each fold trains on (train) and validates on (validation); the "
                                 "outlined row is the fold replayed")
        self.table = make_table("evalMetricsTable", "Each fold's validation metrics, with their mean and sample "
                                "standard deviation; click a row to replay that fold")
        self.compare_table = make_table("evalCompareTable", "Per-fold paired differences of each metric "
                                        "(compared experiment − this one), with their mean and std")
        self.compare_label = QLabel()
        self.compare_label.setObjectName("evalCompareLabel")
        self.compare_label.setWordWrap(True)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("evalTableTabs")
        self.tabs.addTab(self.table, "Per fold")
        self.tabs.addTab(_column(self.compare_label, self.compare_table), "Compare")
        self.tabs.setTabToolTip(0, self.table.toolTip())
        self.tabs.setTabToolTip(1, self.compare_table.toolTip())

        self.replay = ReplayBar()
        self.curves = FoldCurvesPlot(theme=theme)
        self.curves.setToolTip("Train and validation loss of the fold(s) replayed, drawn up to the replayed step")
        self.boundary = DecisionBoundaryPlot(theme=theme)
        self.boundary.setToolTip("The replayed fold's decision boundary at the last snapshot before the step; "
                                 "its train (circles) and validation (triangles) points")
        self.metrics_plot = FoldMetricsPlot(theme=theme)
        self.metrics_plot.setToolTip("Every fold's metrics (a point each), their mean (bar) and ± one standard "
                                     "deviation (whiskers); the replayed fold is drawn bigger")
        self.confusion = ConfusionMatrixPlot(theme=theme)
        self.confusion_combo = QComboBox()
        self.confusion_combo.setObjectName("evalConfusionCombo")
        self.confusion_combo.setToolTip("The validation confusion matrix of one fold, or of all folds summed")
        self.confusion_box = _column(self.confusion_combo, self.confusion)

        left = QSplitter(Qt.Orientation.Vertical)
        left.addWidget(self.fold_map)
        left.addWidget(self.tabs)
        left.setSizes([420, 420])
        upper = QSplitter(Qt.Orientation.Horizontal)
        upper.addWidget(self.curves)
        upper.addWidget(self.boundary)
        upper.setSizes([520, 400])
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.metrics_plot)
        lower.addWidget(self.confusion_box)
        lower.setSizes([500, 420])
        right_split = QSplitter(Qt.Orientation.Vertical)
        right_split.addWidget(upper)
        right_split.addWidget(lower)
        right_split.setSizes([450, 380])
        right = _column(self.replay, right_split)
        main = QSplitter(Qt.Orientation.Horizontal)
        main.setObjectName("evalSplitter")
        main.addWidget(left)
        main.addWidget(right)
        main.setSizes([600, 900])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(main, 1)
        self._on_method_tip()
        self.set_running(False, "kfold")

    def plots(self) -> list[QWidget]:
        return [self.fold_map, self.curves, self.boundary, self.metrics_plot, self.confusion]

    def set_theme(self, name: str) -> None:
        for plot in self.plots():
            plot.set_theme(name)

    def set_task(self, task: str, is_2d: bool, val_fraction: float) -> None:
        """Offer what the data set allows: stratified for classes; the boundary for 2-D classes."""
        stratified = self.method_combo.model().item(self.method_combo.findData("stratified"))
        stratified.setEnabled(task == "classification")
        if task == "classification":
            self.method_combo.setCurrentIndex(self.method_combo.findData("stratified"))
        self.val_spin.setValue(round(100 * val_fraction) if val_fraction > 0 else 20)
        self.boundary.setVisible(is_2d)
        self.confusion_box.setVisible(task == "classification")

    def enable_settings(self, method: str, idle: bool) -> None:
        self.method_combo.setEnabled(idle)
        self.k_spin.setEnabled(idle and method in USES_K)
        self.repeats_spin.setEnabled(idle and method in USES_REPEATS)
        self.val_spin.setEnabled(idle and method in USES_FRACTION)

    def set_running(self, on: bool, method: str) -> None:
        self.run_button.setEnabled(not on)
        self.cancel_button.setEnabled(on)
        self.compare_button.setEnabled(not on)
        self.export_button.setEnabled(not on)
        self.enable_settings(method, not on)

    def set_progress(self, fraction: float | None, text: str) -> None:
        if fraction is not None:
            self.progress.setValue(round(1000 * min(max(fraction, 0.0), 1.0)))
        self.progress.setFormat(text.replace("%", "%%"))

    def show_message(self, text: str, error: bool = False) -> None:
        self.status.setText(f"⚠ {text}" if error else text)
        self.status.setStyleSheet(ERROR_STYLE if error else "QLabel { padding: 5px; }")

    def set_boundary_title(self, text: str) -> None:
        """The replayed boundary's title; on two lines ("Decision boundary" over "fold 3, step 249") where one line
        would be wider than the plot (a plot's title sets its least width: the plot would be cut off instead)."""
        size = pt(TITLE_PT)
        font = QFont(self.boundary.font())
        font.setPointSizeF(size)
        if " — " in text and QFontMetrics(font).horizontalAdvance(text) > self.boundary.width() - 90:
            text = text.replace(" — ", "<br>", 1)
        self.boundary.plot.setTitle(text, color=get_theme(self.boundary.theme).foreground, size=f"{size}pt")

    def set_confusion_folds(self, folds: list[int]) -> None:
        """Offer "summed" and each finished fold, keeping the choice."""
        combo = self.confusion_combo
        wanted = ["summed", *(f"fold {f}" for f in folds)]
        if [combo.itemText(i) for i in range(combo.count())] == wanted:
            return
        index = combo.currentIndex()
        combo.blockSignals(True)
        combo.clear()
        combo.addItems(wanted)
        combo.setCurrentIndex(min(max(index, 0), len(wanted) - 1))
        combo.blockSignals(False)

    def show_compare_tab(self) -> None:
        self.tabs.setCurrentIndex(1)

    def _on_method_tip(self) -> None:
        tip = self.method_combo.currentData(Qt.ItemDataRole.ToolTipRole) or "How the data is split into folds"
        self.method_combo.setToolTip(tip)
