"""One racer's editor in the playground: colour, optimizer, its hyper-parameters (from the registry), status."""

from __future__ import annotations

from PySide6.QtCore import QSignalBlocker, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from visualizer.core.model.optimizers import OPTIMIZERS
from visualizer.core.playground.functions import Racer
from visualizer.qt.panels._forms import FloatSpin, configure_hyper_spin


class RacerEditor(QFrame):
    """A framed row: colour swatch, optimizer combo, remove button; a grid of hyper-parameter fields; a status line.

    ``changed`` fires after any edit that changes the Racer; ``remove_requested`` when ✕ is clicked.
    """

    changed = Signal()
    remove_requested = Signal()

    def __init__(self, racer: Racer, color: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("racerEditor")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.color = color
        self.swatch = QLabel()
        self.swatch.setFixedSize(16, 16)
        self.combo = QComboBox()
        self.combo.setObjectName("racerOptimizer")
        self.combo.setToolTip("This racer's optimizer; its hyper-parameters are below")
        self.combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.combo.setMinimumContentsLength(12)
        for name, info in OPTIMIZERS.items():
            self.combo.addItem(info.label, name)
            self.combo.setItemData(self.combo.count() - 1, f"{info.description}\n\n{info.rule}",
                                   Qt.ItemDataRole.ToolTipRole)
        self.remove_button = QToolButton()
        self.remove_button.setObjectName("racerRemove")
        self.remove_button.setText("✕")
        self.remove_button.setToolTip("Remove this optimizer from the race")
        self.remove_button.clicked.connect(self.remove_requested)
        head = QHBoxLayout()
        head.setContentsMargins(0, 0, 0, 0)
        head.addWidget(self.swatch)
        head.addWidget(self.combo, 1)
        head.addWidget(self.remove_button)
        self.grid = QGridLayout()
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setHorizontalSpacing(6)
        self.grid.setVerticalSpacing(2)
        self.status = QLabel("")
        self.status.setObjectName("racerStatus")
        self.status.setWordWrap(True)  # in the theme's text colour: a fixed or palette colour stays from the last theme
        column = QVBoxLayout(self)
        column.setContentsMargins(6, 4, 6, 4)
        column.setSpacing(3)
        column.addLayout(head)
        column.addLayout(self.grid)
        column.addWidget(self.status)
        self.spins: dict[str, FloatSpin] = {}
        self._labels: list[QLabel] = []
        self._chosen: dict[str, float] = {}  # values the preset or the user set; the other fields show defaults
        self.set_color(color)
        self.set_racer(racer)
        self.combo.currentIndexChanged.connect(self._on_optimizer_changed)

    def racer(self) -> Racer:
        """The racer as edited: the chosen optimizer with every field's value."""
        return Racer(self.combo.currentData(), {name: spin.value() for name, spin in self.spins.items()})

    def set_racer(self, racer: Racer) -> None:
        """Show ``racer`` (fields the preset leaves out show the registry's defaults); emits nothing."""
        self._chosen = dict(racer.hyperparams)
        with QSignalBlocker(self.combo):
            self.combo.setCurrentIndex(self.combo.findData(racer.optimizer))
        self._build_fields(racer.values())

    def set_color(self, color: str) -> None:
        self.color = color
        self.swatch.setStyleSheet(f"QLabel {{ background: {color}; border: 1px solid #000000; border-radius: 3px; }}")

    def set_status(self, text: str, diverged: bool = False) -> None:
        self.status.setText(text)
        self.status.setStyleSheet("QLabel { font-weight: bold; }" if diverged else "")

    def _build_fields(self, values: dict[str, float]) -> None:
        for widget in (*self._labels, *self.spins.values()):
            self.grid.removeWidget(widget)
            widget.deleteLater()  # plain widgets, not painted plot items: safe to delete
        self._labels, self.spins = [], {}
        info = OPTIMIZERS[self.combo.currentData()]
        for k, hp in enumerate(info.hyperparams):
            label = QLabel(hp.label.split(" (")[0])
            label.setToolTip(f"{hp.label}: {hp.tooltip}")
            spin = FloatSpin()
            spin.setObjectName(f"racer_{hp.name}")
            configure_hyper_spin(spin, hp)
            spin.setMinimumWidth(70)  # its size hint counts 16 decimals: let the panel's width decide
            spin.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            spin.setValue(values[hp.name])
            spin.valueChanged.connect(lambda value, name=hp.name: self._on_value_changed(name, value))
            row, col = divmod(k, 2)
            self.grid.addWidget(label, row, 2 * col)
            self.grid.addWidget(spin, row, 2 * col + 1)
            self._labels.append(label)
            self.spins[hp.name] = spin
        self.grid.setColumnStretch(1, 1)
        self.grid.setColumnStretch(3, 1)

    def _on_optimizer_changed(self, _index: int) -> None:
        """The new optimizer's fields: the values the preset or the user set, where it reads and allows them, over
        its registry defaults."""
        params = {hp.name: hp for hp in OPTIMIZERS[self.combo.currentData()].hyperparams}
        kept = {k: v for k, v in self._chosen.items() if k in params and params[k].allows(v)}
        self._build_fields(Racer(self.combo.currentData(), kept).values())
        self.changed.emit()

    def _on_value_changed(self, name: str, value: float) -> None:
        self._chosen[name] = value
        self.changed.emit()
