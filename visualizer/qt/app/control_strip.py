"""The training controls presentation mode keeps on screen when the panels are out of the way: the optimizer and the
learning rate, beside the toolbar's Train/Pause, Step, Reset and speed. They edit the experiment through the Training
panel's own controls, so a change takes the panel's path (asking before it resets a run, the learning rate applying
from the next step mid-run) and the strip then shows what the experiment holds."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QToolBar, QWidget

from visualizer.core.experiment import hyper_values
from visualizer.core.model.optimizers import OPTIMIZERS
from visualizer.qt.panels._forms import FloatSpin, combo, configure_hyper_spin, select_data, signals_blocked


class ControlStrip(QWidget):
    """Optimizer and learning rate in the toolbar, shown in presentation mode only."""

    def __init__(self, toolbar: QToolBar, train_panel, session) -> None:
        super().__init__(toolbar)
        self.setObjectName("controlStrip")
        self.train_panel = train_panel
        self.session = session
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 0, 4, 0)
        self.optimizer_combo: QComboBox = combo(
            "stripOptimizerCombo", [(o.label, o.name, o.description) for o in OPTIMIZERS.values()])
        self.optimizer_combo.setToolTip("The optimizer (as in the Training panel); changing it during a run asks "
                                        "before it starts again")
        self.lr_spin = FloatSpin()
        self.lr_spin.setObjectName("stripLearningRateSpin")
        self.lr_spin.setMinimumWidth(self.lr_spin.fontMetrics().horizontalAdvance("0.00001") + 40)
        optimizer_label, lr_label = QLabel("Optimizer:"), QLabel("lr:")
        optimizer_label.setBuddy(self.optimizer_combo)
        lr_label.setBuddy(self.lr_spin)
        optimizer_label.setToolTip(self.optimizer_combo.toolTip())
        for widget in (optimizer_label, self.optimizer_combo, lr_label, self.lr_spin):
            layout.addWidget(widget)
        self._lr_label = lr_label
        self.action = toolbar.addWidget(self)
        self.action.setVisible(False)
        self.optimizer_combo.currentIndexChanged.connect(self._on_optimizer)
        self.lr_spin.valueChanged.connect(self._on_learning_rate)
        session.events.experiment.connect(self._on_experiment)
        self.refresh()

    def set_shown(self, shown: bool) -> None:
        self.action.setVisible(shown)
        if shown:
            self.refresh()

    def refresh(self) -> None:
        """Show the experiment's optimizer and learning rate (its range and tooltip from the optimizer registry)."""
        exp = self.session.experiment
        if exp is None:
            return
        spec = exp.train
        info = OPTIMIZERS.get(spec.optimizer)
        with signals_blocked([self.optimizer_combo, self.lr_spin]):
            select_data(self.optimizer_combo, spec.optimizer)
            lr = next((hp for hp in info.hyperparams if hp.name == "lr"), None) if info else None
            if lr is not None:
                configure_hyper_spin(self.lr_spin, lr)
                self._lr_label.setToolTip(self.lr_spin.toolTip())
            self.lr_spin.setValue(float(hyper_values(spec).get("lr", self.lr_spin.value())))

    def _on_experiment(self, _experiment, parts) -> None:
        if "train" in parts:
            self.refresh()

    def _on_optimizer(self, _index: int) -> None:
        select_data(self.train_panel.optimizerCombo, self.optimizer_combo.currentData())
        self.refresh()  # the window may have kept the old one (a run it did not reset)

    def _on_learning_rate(self, value: float) -> None:
        self.train_panel.learningRateSpin.setValue(value)
        self.refresh()
