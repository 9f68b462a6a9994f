"""The optimizer playground window: race up to six optimizers on a two-parameter test function's exact surface.

Stepping runs on a QTimer in the GUI thread: a step of a 2-parameter problem takes ~0.1 ms, so each tick runs as
many steps as the speed asks for (within a time budget) and redraws once.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QFileDialog,
    QMainWindow,
    QSplitter,
    QWidget,
)

from visualizer.core.errors import VisualizerError
from visualizer.core.playground.functions import (
    MAX_RACERS,
    PRESETS_DIR,
    Preset,
    Race,
    Racer,
    function_info,
    load_preset,
    surface,
)
from visualizer.qt.playground.panel import PANEL_WIDTH, ControlPanel, slider_from_speed, speed_from_slider
from visualizer.qt.playground.plots import LossCurves, SurfacePlot, racer_color
from visualizer.qt.playground.racers import RacerEditor
from visualizer.qt.widgets.controls import resize_within_screen

FRAME_MS = 33
TICK_BUDGET_S = 0.025  # at most this much stepping per tick, so the window stays responsive at any speed
GRID = 241  # surface resolution (odd: the centre of a symmetric domain is a grid point)
DEFAULT_PRESET = PRESETS_DIR / "momentum_vs_sgd_rosenbrock.toml"


class PlaygroundWindow(QMainWindow):
    """Pick a test function, click its surface to place the start, and race up to six optimizers from there."""

    #: the controls kept between sessions (qt/app/window_memory.py)
    REMEMBERED = ("speedSlider", "stepsSpin")

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
        self.controls = c = ControlPanel()
        split.addWidget(c)
        split.addWidget(plots)
        split.setStretchFactor(1, 1)
        split.setSizes([PANEL_WIDTH, 1000])
        self.setCentralWidget(split)
        resize_within_screen(self, 1440, 960)

        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._on_tick)
        c.preset_combo.activated.connect(self._on_preset_chosen)
        c.load_button.clicked.connect(self._on_load_clicked)
        c.function_combo.currentIndexChanged.connect(self._on_function_chosen)
        c.add_button.clicked.connect(self._on_add_clicked)
        c.speed_slider.valueChanged.connect(self._on_speed_changed)
        c.play_button.clicked.connect(self._on_play_clicked)
        c.step_button.clicked.connect(lambda: self.step(1))
        c.reset_button.clicked.connect(self.reset)
        QShortcut(QKeySequence("Space"), self, self._on_play_clicked, context=Qt.ShortcutContext.WindowShortcut)
        self.surface.start_clicked.connect(self.set_start)
        self.load_preset(preset or DEFAULT_PRESET)

    # --- public API -------------------------------------------------------------------------
    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    @property
    def speed(self) -> int:
        """Steps per second while playing."""
        return speed_from_slider(self.controls.speed_slider.value())

    def racers(self) -> list[Racer]:
        return [editor.racer() for editor in self.editors]

    def load_preset(self, path: str | Path) -> Preset:
        """Show the preset at ``path``: function, start, racers, steps and speed; raises VisualizerError if bad."""
        preset = load_preset(path)
        self.apply_preset(preset)
        index = self.controls.preset_combo.findData(str(Path(path)))
        self.controls.preset_combo.setCurrentIndex(max(index, 0))
        return preset

    def apply_preset(self, preset: Preset) -> None:
        self.pause()
        self._loading = True
        try:
            self.controls.function_combo.setCurrentIndex(self.controls.function_combo.findData(preset.function))
            self._show_function(preset.function)
            self.start = preset.start
            for editor in list(self.editors):
                self._remove_editor(editor)
            for racer in preset.racers:
                self.add_racer(racer)
            self.controls.steps_spin.setValue(preset.steps)
            self.controls.speed_slider.setValue(slider_from_speed(preset.speed))
            self._on_speed_changed(self.controls.speed_slider.value())
            self.controls.description.setText(preset.description)
            self.controls.description.setVisible(bool(preset.description))
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
        self.controls.racer_column.addWidget(editor)
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
        self.controls.play_button.setText("Pause")

    def pause(self) -> None:
        self.timer.stop()
        self.controls.play_button.setText("Play")

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
        self.controls.formula.setText(fn.formula)
        xs, ys, z = surface(key, GRID)
        self.surface.set_function(fn, xs, ys, z)
        self.loss_plot.set_log_y(fn.log_scale)

    def _at_end(self) -> bool:
        return self.race is None or self.race.finished or self.race.steps >= self.controls.steps_spin.value()

    def _redraw(self) -> None:
        race = self.race
        if race is None:
            return
        colors = [editor.color for editor in self.editors]
        self.surface.set_race(race.start, race.paths, [r.label for r in race.racers], colors,
                              [not lane.running for lane in race.lanes])
        self.loss_plot.set_curves(race.losses, colors)
        for editor, lane in zip(self.editors, race.lanes):
            editor.set_status(lane.status, diverged=not lane.running)
        self.controls.start_label.setText(f"Start (x, y) = ({race.start[0]:.3g}, {race.start[1]:.3g}). "
                                 "Click the surface to move it.")
        self.controls.step_label.setText(f"Step {race.steps} of {self.controls.steps_spin.value()}")

    def _mark_custom(self) -> None:
        if not self._loading:
            self.controls.preset_combo.setCurrentIndex(0)
            self.controls.description.setText("")
            self.controls.description.hide()

    def _remove_editor(self, editor: RacerEditor) -> None:
        self.editors.remove(editor)
        self.controls.racer_column.removeWidget(editor)
        editor.deleteLater()
        self._sync_add_button()

    def _sync_add_button(self) -> None:
        full = len(self.editors) >= MAX_RACERS
        self.controls.add_button.setEnabled(not full)
        self.controls.add_button.setToolTip(f"At most {MAX_RACERS} optimizers" if full else "Add another optimizer")

    # --- slots ---------------------------------------------------------------------------------------
    def _on_tick(self) -> None:
        now = time.perf_counter()
        self._acc += self.speed * (now - self._last_tick)
        self._last_tick = now
        race = self.race
        if race is None:
            return
        todo = min(int(self._acc), self.controls.steps_spin.value() - race.steps)
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
        self.controls.speed_label.setText(f"{speed_from_slider(value)} steps/s")

    def _on_function_chosen(self, _index: int) -> None:
        if self._loading:
            return
        key = self.controls.function_combo.currentData()
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
        path = self.controls.preset_combo.itemData(index)
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
