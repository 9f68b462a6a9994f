"""The playground's column of controls: preset, function, racers, speed and Play/Step/Reset (no behaviour here)."""

from __future__ import annotations

import math

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from visualizer.core.errors import VisualizerError
from visualizer.core.playground.functions import MAX_RACERS, MAX_STEPS, TEST_FUNCTIONS, load_preset, preset_paths

PANEL_WIDTH = 400


def speed_from_slider(value: int) -> int:
    """Slider 0..300 -> 1..1000 steps per second on a log scale."""
    return max(1, round(10 ** (value / 100)))


def slider_from_speed(speed: float) -> int:
    return round(100 * math.log10(max(1.0, min(1000.0, speed))))


class ControlPanel(QScrollArea):
    """The widgets of the left column; the window connects them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playgroundControls")
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(8, 8, 8, 8)

        box = QGroupBox("Preset")
        lay = QVBoxLayout(box)
        row = QHBoxLayout()
        self.preset_combo = QComboBox()
        self.preset_combo.setObjectName("presetCombo")
        self.preset_combo.setToolTip("A saved race (resources/playground/): its function, start and optimizers")
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(16)
        self.preset_combo.addItem("(custom)", None)
        for path in preset_paths():
            try:
                self.preset_combo.addItem(load_preset(path).title, str(path))
            except VisualizerError:
                continue  # a broken shipped preset is reported when opened from the Load… button
        self.load_button = QPushButton("Load…")
        self.load_button.setToolTip("Open a playground preset (.toml)")
        row.addWidget(self.preset_combo, 1)
        row.addWidget(self.load_button)
        lay.addLayout(row)
        self.description = QLabel()
        self.description.setObjectName("presetDescription")
        self.description.setWordWrap(True)
        self.description.setStyleSheet("QLabel { font-style: italic; }")
        lay.addWidget(self.description)
        column.addWidget(box)

        box = QGroupBox("Function")
        lay = QVBoxLayout(box)
        self.function_combo = QComboBox()
        self.function_combo.setObjectName("functionCombo")
        self.function_combo.setToolTip("The two-parameter test function; its exact surface is drawn")
        self.function_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.function_combo.setMinimumContentsLength(16)
        for key, fn in TEST_FUNCTIONS.items():
            self.function_combo.addItem(fn.label, key)
        self.formula = QLabel()
        self.formula.setObjectName("formula")
        self.formula.setWordWrap(True)
        self.formula.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.start_label = QLabel()
        self.start_label.setObjectName("startLabel")
        self.start_label.setWordWrap(True)
        lay.addWidget(self.function_combo)
        lay.addWidget(self.formula)
        lay.addWidget(self.start_label)
        column.addWidget(box)

        box = QGroupBox(f"Optimizers (up to {MAX_RACERS})")
        lay = QVBoxLayout(box)
        self.racer_column = QVBoxLayout()
        self.racer_column.setSpacing(4)
        lay.addLayout(self.racer_column)
        self.add_button = QPushButton("Add optimizer")
        self.add_button.setObjectName("addRacer")
        lay.addWidget(self.add_button)
        column.addWidget(box)

        box = QGroupBox("Race")
        lay = QVBoxLayout(box)
        row = QHBoxLayout()
        row.addWidget(QLabel("Speed"))
        self.speed_slider = QSlider(Qt.Orientation.Horizontal)
        self.speed_slider.setObjectName("speedSlider")
        self.speed_slider.setRange(0, 300)
        self.speed_slider.setToolTip("Steps per second, 1 to 1000 (log scale)")
        self.speed_label = QLabel()
        self.speed_label.setMinimumWidth(80)
        row.addWidget(self.speed_slider, 1)
        row.addWidget(self.speed_label)
        lay.addLayout(row)
        row = QHBoxLayout()
        row.addWidget(QLabel("Stop after"))
        self.steps_spin = QSpinBox()
        self.steps_spin.setObjectName("stepsSpin")
        self.steps_spin.setRange(1, MAX_STEPS)
        self.steps_spin.setSuffix(" steps")
        self.steps_spin.setToolTip("Play pauses when the race reaches this many steps")
        row.addWidget(self.steps_spin, 1)
        lay.addLayout(row)
        row = QHBoxLayout()
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("playButton")
        self.play_button.setToolTip("Run the race at the chosen speed, or pause it (Space)")
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("Advance every optimizer by one step")
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Back to the start point, optimizer state cleared")
        for b in (self.play_button, self.step_button, self.reset_button):
            row.addWidget(b)
        lay.addLayout(row)
        self.step_label = QLabel()
        self.step_label.setObjectName("stepLabel")
        lay.addWidget(self.step_label)
        column.addWidget(box)
        column.addStretch(1)

        self.setWidgetResizable(True)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(body)
        self.setMinimumWidth(PANEL_WIDTH)

