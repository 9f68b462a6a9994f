"""The landscape tab's options: view, directions (with the two weights and the biases option), resolution, span,
colour scale, value and data split; a mixin so that the view keeps them as its own attributes."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QSpinBox, QToolButton, QVBoxLayout, QWidget

from visualizer.core.landscape.planes import DIRECTIONS, DirectionInfo

VIEWS = {"2-D": "2d", "3-D": "3d", "1-D line": "1d"}
RESOLUTIONS = (21, 41, 61, 81)
DEFAULT_DIRECTIONS = "pca"
SPANS = {"Auto": None, "±0.1": 0.1, "±0.25": 0.25, "±0.5": 0.5, "±1": 1.0, "±2": 2.0, "±5": 5.0}

def _combo(name: str, tip: str, items, current: int = 0) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setToolTip(tip)
    combo.addItems([str(i) for i in items])
    combo.setCurrentIndex(current)
    return combo


class LandscapeOptions:
    """Builds the option widgets on the view (``_on_plane_options_changed`` is the view's slot)."""

    def _build_options(self) -> QVBoxLayout:
        """Create the option widgets and return their two rows."""
        self.view_combo = _combo("landscapeViewCombo", "2-D heatmap, rotatable 3-D surface, or the loss along the "
                                 "straight line from the initial to the current weights", VIEWS)
        self.directions_combo = _combo("landscapeDirectionsCombo", "The plane's two directions (each choice's "
                                       "tooltip says what it is)", ())
        for info in DIRECTIONS.values():  # the registry's kinds of plane, in its order (those of one run: the live one)
            if not info.needs_second_run:
                self.directions_combo.addItem(info.label, info.name)
                self.directions_combo.setItemData(self.directions_combo.count() - 1, info.description,
                                                  Qt.ItemDataRole.ToolTipRole)
        # the first look shows the path: on the PCA plane of the path it lies in the plane (random directions are
        # nearly orthogonal to it, so its start, current and end points would land on one spot)
        self.directions_combo.setCurrentIndex(max(0, self.directions_combo.findData(DEFAULT_DIRECTIONS)))
        self.resolution_combo = _combo("landscapeResolutionCombo", "Grid points per axis of the refined surface",
                                       RESOLUTIONS, 1)
        self.span_combo = _combo("landscapeSpanCombo", "The grid covers ±span along both directions (Auto: the "
                                 "path with a margin; ±1 for random directions, widened to hold the path)", SPANS)
        self.weight_spins = []
        for k, axis in enumerate(("α", "β")):
            spin = QSpinBox()
            spin.setObjectName(f"landscapeWeight{k + 1}Spin")
            spin.setPrefix(f"{axis}: θ[")
            spin.setSuffix("]")
            spin.setRange(0, 0)
            spin.setValue(k)
            spin.setToolTip(f"The flat index of the weight along {axis} (in model.parameters() order): the exact "
                            "slice of the loss through two weights, the others held where they are")
            spin.setVisible(False)
            spin.valueChanged.connect(self._on_plane_options_changed)
            self.weight_spins.append(spin)
        self.bias_check = QCheckBox("Biases too")
        self.bias_check.setObjectName("landscapeBiasCheck")
        self.bias_check.setToolTip("Random directions: give biases and batch-norm parameters a component too (±|θ|) "
                                   "instead of zero, Li et al.'s default")
        self.bias_check.toggled.connect(self._on_plane_options_changed)
        self.colour_combo = _combo("landscapeColourCombo", "Colour by the value or by its logarithm",
                                   ("Log colour", "Linear colour"))
        self.value_combo = _combo("landscapeValueCombo", "Show the loss or the accuracy over the plane",
                                  ("Loss", "Accuracy"))
        self.split_combo = _combo("landscapeSplitCombo", "Evaluate on the training or the validation set",
                                  ("Training set", "Validation set"))
        self.more_button = QToolButton()
        self.more_button.setObjectName("landscapeMoreButton")
        self.more_button.setText("More ▸")
        self.more_button.setCheckable(True)
        self.more_button.setToolTip("Resolution, span, colour scale, loss or accuracy, training or validation set")
        self.more_options = QWidget()
        self.more_options.setObjectName("landscapeMoreOptions")
        more = QHBoxLayout(self.more_options)
        more.setContentsMargins(0, 0, 0, 0)
        for w in (self.resolution_combo, self.span_combo, self.colour_combo, self.value_combo, self.split_combo):
            more.addWidget(w)
        more.addStretch(1)
        self.more_options.setVisible(False)  # the first row is all a first look needs; the tab stays narrow
        self.more_button.toggled.connect(self._on_more_toggled)
        rows = QVBoxLayout()
        rows.setContentsMargins(6, 2, 6, 0)
        rows.setSpacing(2)
        row = QHBoxLayout()
        for w in (self.view_combo, self.directions_combo, self.bias_check, *self.weight_spins):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.more_button)
        rows.addLayout(row)
        rows.addWidget(self.more_options)
        return rows

    def _on_more_toggled(self, shown: bool) -> None:
        self.more_options.setVisible(shown)
        self.more_button.setText("Less ▾" if shown else "More ▸")

    def _direction(self) -> DirectionInfo:
        """The registry entry of the chosen directions."""
        return DIRECTIONS[self.directions_combo.currentData()]

    def _split(self) -> str:
        return "val" if self.split_combo.currentIndex() == 1 else "train"

