"""The optimizer playground window: race up to six optimizers on a two-parameter test function's exact surface.

Stepping runs on a QTimer in the GUI thread: a step of a 2-parameter problem takes ~0.1 ms, so each tick runs as
many steps as the speed asks for (within a time budget) and redraws once.
"""

from __future__ import annotations

import math
import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ...core.analytic import (
    MAX_RACERS,
    MAX_STEPS,
    PRESETS_DIR,
    TEST_FUNCTIONS,
    Preset,
    Race,
    Racer,
    function_info,
    load_preset,
    preset_paths,
    surface,
)
from ...core.errors import VisualizerError
from .plots import LossCurves, SurfacePlot, racer_color
from .racers import RacerEditor

FRAME_MS = 33
TICK_BUDGET_S = 0.025  # at most this much stepping per tick, so the window stays responsive at any speed
GRID = 241  # surface resolution (odd: the centre of a symmetric domain is a grid point)
DEFAULT_PRESET = PRESETS_DIR / "momentum_vs_sgd_rosenbrock.toml"
PANEL_WIDTH = 400


def speed_from_slider(value: int) -> int:
    """Slider 0..300 -> 1..1000 steps per second on a log scale."""
    return max(1, round(10 ** (value / 100)))


def slider_from_speed(speed: float) -> int:
    return round(100 * math.log10(max(1.0, min(1000.0, speed))))


class PlaygroundWindow(QMainWindow):
    """Pick a test function, click its surface to place the start, and race up to six optimizers from there."""

    def __init__(self, theme: str = "light", preset: Path | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("playgroundWindow")
        self.setWindowTitle("Optimizer playground")
        self.theme = theme
        self.race: Race | None = None
        self.editors: list[RacerEditor] = []
        self.function_key = "rosenbrock"
        self.start: tuple[float, float] = function_info("rosenbrock").start
        self._acc = 0.0
        self._last_tick = 0.0
        self._loading = False

        self.surface = SurfacePlot(theme=theme)
        self.loss_plot = LossCurves(theme=theme)
        plots = QSplitter(Qt.Orientation.Vertical)
        plots.addWidget(self.surface)
        plots.addWidget(self.loss_plot)
        plots.setStretchFactor(0, 3)
        plots.setStretchFactor(1, 1)
        plots.setSizes([700, 260])
        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self._build_panel())
        split.addWidget(plots)
        split.setStretchFactor(1, 1)
        split.setSizes([PANEL_WIDTH, 1000])
        self.setCentralWidget(split)
        self.resize(1440, 960)

        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._on_tick)
        self.surface.start_clicked.connect(self.set_start)
        self.load_preset(preset or DEFAULT_PRESET)

    # --- building ---------------------------------------------------------------------------
    def _build_panel(self) -> QWidget:
        body = QWidget()
        column = QVBoxLayout(body)
        column.setContentsMargins(8, 8, 8, 8)

        box = QGroupBox("Preset")
        lay = QVBoxLayout(box)
        row = QHBoxLayout()
        self.preset_combo = QComboBox()
        self.preset_combo.setObjectName("presetCombo")
        self.preset_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.preset_combo.setMinimumContentsLength(16)
        self.preset_combo.addItem("(custom)", None)
        for path in preset_paths():
            try:
                self.preset_combo.addItem(load_preset(path).title, str(path))
            except VisualizerError:
                continue  # a broken shipped preset is reported when opened from the Load… button
        self.preset_combo.activated.connect(self._on_preset_chosen)
        self.load_button = QPushButton("Load…")
        self.load_button.setToolTip("Open a playground preset (.toml)")
        self.load_button.clicked.connect(self._on_load_clicked)
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
        self.function_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.function_combo.setMinimumContentsLength(16)
        for key, fn in TEST_FUNCTIONS.items():
            self.function_combo.addItem(fn.label, key)
        self.function_combo.currentIndexChanged.connect(self._on_function_chosen)
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
        self.add_button.clicked.connect(self._on_add_clicked)
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
        self.speed_slider.valueChanged.connect(self._on_speed_changed)
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
        self.play_button.clicked.connect(self._on_play_clicked)
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("Advance every optimizer by one step")
        self.step_button.clicked.connect(lambda: self.step(1))
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip("Back to the start point, optimizer state cleared")
        self.reset_button.clicked.connect(self.reset)
        for b in (self.play_button, self.step_button, self.reset_button):
            row.addWidget(b)
        lay.addLayout(row)
        self.step_label = QLabel()
        self.step_label.setObjectName("stepLabel")
        lay.addWidget(self.step_label)
        column.addWidget(box)
        column.addStretch(1)

        area = QScrollArea()
        area.setWidgetResizable(True)
        area.setFrameShape(QFrame.Shape.NoFrame)
        area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        area.setWidget(body)
        area.setMinimumWidth(PANEL_WIDTH)
        return area

    # --- public API -------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    @property
    def speed(self) -> int:
        """Steps per second while playing."""
        return speed_from_slider(self.speed_slider.value())

    def racers(self) -> list[Racer]:
        return [editor.racer() for editor in self.editors]

    def load_preset(self, path: str | Path) -> Preset:
        """Show the preset at ``path``: function, start, racers, steps and speed; raises VisualizerError if bad."""
        preset = load_preset(path)
        self.apply_preset(preset)
        index = self.preset_combo.findData(str(Path(path)))
        self.preset_combo.setCurrentIndex(max(index, 0))
        return preset

    def apply_preset(self, preset: Preset) -> None:
        self.pause()
        self._loading = True
        try:
            self.function_combo.setCurrentIndex(self.function_combo.findData(preset.function))
            self._show_function(preset.function)
            self.start = preset.start
            for editor in list(self.editors):
                self._remove_editor(editor)
            for racer in preset.racers:
                self.add_racer(racer)
            self.steps_spin.setValue(preset.steps)
            self.speed_slider.setValue(slider_from_speed(preset.speed))
            self._on_speed_changed(self.speed_slider.value())
            self.description.setText(preset.description)
        finally:
            self._loading = False
        self.reset()

    def add_racer(self, racer: Racer | None = None) -> bool:
        """Add a racer (default: Adam); refused (False, with a message) when there are already six."""
        if len(self.editors) >= MAX_RACERS:
            self.statusBar().showMessage(f"At most {MAX_RACERS} optimizers race at once.", 5000)
            return False
        used = {editor.color for editor in self.editors}
        color = next(racer_color(i) for i in range(MAX_RACERS) if racer_color(i) not in used)
        editor = RacerEditor(racer or Racer("adam", {"lr": 0.05}), color)
        editor.changed.connect(self._on_racer_edited)
        editor.remove_requested.connect(lambda e=editor: self._on_remove(e))
        self.racer_column.addWidget(editor)
        self.editors.append(editor)
        self._sync_add_button()
        if not self._loading:
            self._mark_custom()
            self.reset()
        return True

    def set_start(self, x: float, y: float) -> None:
        """Move the common start point (a click on the surface does this) and restart the race from there."""
        self.start = (float(x), float(y))
        self._mark_custom()
        self.reset()

    def reset(self) -> None:
        """Rebuild the race from the start with fresh optimizers; playing continues if it was on."""
        try:
            self.race = Race(self.function_key, self.start, self.racers())
        except VisualizerError as exc:
            self.statusBar().showMessage(str(exc), 8000)
            return
        self._acc = 0.0
        self._redraw()

    def play(self) -> None:
        if self.race is None or self._at_end():
            self.reset()
        self._last_tick = time.perf_counter()
        self._acc = 0.0
        self.timer.start()
        self.play_button.setText("Pause")

    def pause(self) -> None:
        self.timer.stop()
        self.play_button.setText("Play")

    def step(self, n: int = 1) -> None:
        """Advance every racer by ``n`` steps and redraw."""
        if self.race is not None:
            self.race.step(n)
            self._redraw()

    def set_theme(self, name: str) -> None:
        self.theme = name
        self.surface.set_theme(name)
        self.loss_plot.set_theme(name)

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt override): nothing may tick after the window closes
        self.pause()
        super().closeEvent(event)

    # --- internals ----------------------------------------------------------------------------------
    def _show_function(self, key: str) -> None:
        fn = function_info(key)
        self.function_key = key
        self.formula.setText(fn.formula)
        xs, ys, z = surface(key, GRID)
        self.surface.set_function(fn, xs, ys, z)
        self.loss_plot.set_log_y(fn.log_scale)

    def _at_end(self) -> bool:
        return self.race is None or self.race.finished or self.race.steps >= self.steps_spin.value()

    def _redraw(self) -> None:
        race = self.race
        if race is None:
            return
        colors = [editor.color for editor in self.editors]
        self.surface.set_race(race.start, race.paths, [r.label for r in race.racers], colors)
        self.loss_plot.set_curves(race.losses, colors)
        for editor, lane in zip(self.editors, race.lanes):
            editor.set_status(lane.status, diverged=not lane.running)
        self.start_label.setText(f"Start (x, y) = ({race.start[0]:.3g}, {race.start[1]:.3g}). "
                                 "Click the surface to move it.")
        self.step_label.setText(f"Step {race.steps} of {self.steps_spin.value()}")

    def _mark_custom(self) -> None:
        if not self._loading:
            self.preset_combo.setCurrentIndex(0)
            self.description.setText("")

    def _remove_editor(self, editor: RacerEditor) -> None:
        self.editors.remove(editor)
        self.racer_column.removeWidget(editor)
        editor.deleteLater()
        self._sync_add_button()

    def _sync_add_button(self) -> None:
        full = len(self.editors) >= MAX_RACERS
        self.add_button.setEnabled(not full)
        self.add_button.setToolTip(f"At most {MAX_RACERS} optimizers" if full else "Add another optimizer")

    # --- slots ---------------------------------------------------------------------------------------
    def _on_tick(self) -> None:
        now = time.perf_counter()
        self._acc += self.speed * (now - self._last_tick)
        self._last_tick = now
        race = self.race
        if race is None:
            return
        todo = min(int(self._acc), self.steps_spin.value() - race.steps)
        self._acc -= int(self._acc)
        deadline = now + TICK_BUDGET_S
        while todo > 0 and time.perf_counter() < deadline and not race.finished:
            chunk = min(todo, 10)
            race.step(chunk)
            todo -= chunk
        self._redraw()
        if self._at_end():
            self.pause()

    def _on_play_clicked(self) -> None:
        if self.playing:
            self.pause()
        else:
            self.play()

    def _on_speed_changed(self, value: int) -> None:
        self.speed_label.setText(f"{speed_from_slider(value)} steps/s")

    def _on_function_chosen(self, _index: int) -> None:
        if self._loading:
            return
        key = self.function_combo.currentData()
        self._show_function(key)
        self.start = function_info(key).start
        self._mark_custom()
        self.reset()

    def _on_racer_edited(self) -> None:
        self._mark_custom()
        self.reset()

    def _on_add_clicked(self) -> None:
        self.add_racer()

    def _on_remove(self, editor: RacerEditor) -> None:
        if editor in self.editors:
            self._remove_editor(editor)
            self._mark_custom()
            self.reset()

    def _on_preset_chosen(self, index: int) -> None:
        path = self.preset_combo.itemData(index)
        if path:
            try:
                self.load_preset(path)
            except VisualizerError as exc:
                self.statusBar().showMessage(str(exc), 8000)

    def _on_load_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open a playground preset", str(PRESETS_DIR),
                                              "Playground presets (*.toml)")
        if path:
            try:
                self.load_preset(path)
            except VisualizerError as exc:
                self.statusBar().showMessage(str(exc), 8000)
