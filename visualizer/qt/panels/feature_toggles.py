"""The data panel's input-feature toggles (TensorFlow Playground's x1, x2, x1², x2², x1·x2, sin x1, sin x2): one
checkable button per entry of the features registry; at least one stays on."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGridLayout, QSizePolicy, QToolButton, QWidget

from visualizer.core.data.features import FEATURES, PLAIN

PER_ROW = 4  # buttons per row: seven fit a 260-px panel in two rows


class FeatureToggles(QWidget):
    """Edits ``data.features``: emits ``changed`` with the chosen names in the registry's order."""

    changed = Signal(tuple)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("featureToggles")
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(3)
        self.buttons: dict[str, QToolButton] = {}
        for i, feature in enumerate(FEATURES.values()):
            button = QToolButton(self)
            button.setObjectName(f"feature_{feature.name.replace(' ', '_').replace('^', 'sq').replace('*', 'x')}")
            button.setText(feature.label)
            button.setCheckable(True)
            button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            button.setToolTip(f"Input feature {feature.name}: {feature.formula}, computed before standardisation")
            button.toggled.connect(self._on_toggled)
            grid.addWidget(button, i // PER_ROW, i % PER_ROW)
            self.buttons[feature.name] = button
        self._names: tuple[str, ...] = ()
        self.set_features(PLAIN)

    def features(self) -> tuple[str, ...]:
        """The names switched on, in the registry's order."""
        return self._names

    def set_features(self, names) -> None:
        """Show ``names`` switched on (never emits ``changed``)."""
        self._names = tuple(n for n in FEATURES if n in set(names))
        for name, button in self.buttons.items():
            button.blockSignals(True)
            button.setChecked(name in self._names)
            button.blockSignals(False)

    def _on_toggled(self, _on: bool) -> None:
        names = tuple(name for name, button in self.buttons.items() if button.isChecked())
        if not names:  # the network needs an input: the last one stays on
            self.set_features(self._names)
            return
        self._names = names
        self.changed.emit(names)
