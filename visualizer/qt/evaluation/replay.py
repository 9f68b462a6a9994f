"""The replay timeline: which fold and which step is shown, played back by a QTimer at a chosen speed."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QComboBox, QGridLayout, QLabel, QPushButton, QSlider, QWidget

SEQUENTIAL, OVERLAY = "one after another", "overlaid"
SPEEDS = {"0.25x": 0.25, "0.5x": 0.5, "1x": 1.0, "2x": 2.0, "4x": 4.0, "8x": 8.0}
#: at 1x a fold's whole training replays in this many seconds, whatever its number of steps
FOLD_SECONDS = 6.0
FRAME_MS = 33


class ReplayBar(QWidget):
    """Mode, play/pause, speed, a fold slider (1..folds) and a step slider; ``moved`` fires on every change."""

    moved = Signal()
    user_moved = Signal()  # the person moved a slider or pressed play (not the timer)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._last_steps: list[int] = []  # last recorded step of every finished fold
        self._fold = 0
        self._step = 0.0
        self.mode_combo = QComboBox()
        self.mode_combo.setObjectName("evalModeCombo")
        self.mode_combo.addItems([SEQUENTIAL, OVERLAY])
        self.mode_combo.setToolTip("Replay the folds' training one after another, or all folds overlaid on one "
                                   "plot with the current step marked")
        self.play_button = QPushButton("Play")
        self.play_button.setObjectName("evalPlayButton")
        self.play_button.setToolTip("Play or pause the replay of the recorded training (Space)")
        self.play_button.setCheckable(True)
        self.speed_combo = QComboBox()
        self.speed_combo.setObjectName("evalSpeedCombo")
        self.speed_combo.addItems(list(SPEEDS))
        self.speed_combo.setCurrentText("1x")
        self.speed_combo.setToolTip(f"Replay speed: at 1x a fold's training takes {FOLD_SECONDS:g} s")
        self.fold_slider = QSlider(Qt.Orientation.Horizontal)
        self.fold_slider.setObjectName("evalFoldSlider")
        self.fold_slider.setToolTip("The fold shown: its curves, decision boundary, row and map row")
        self.fold_slider.setPageStep(1)
        self.step_slider = QSlider(Qt.Orientation.Horizontal)
        self.step_slider.setObjectName("evalStepSlider")
        self.step_slider.setToolTip("The training step replayed: curves drawn up to it, the boundary recorded "
                                    "at or before it")
        self.fold_label = QLabel()
        self.fold_label.setObjectName("evalFoldLabel")
        self.step_label = QLabel()
        self.step_label.setObjectName("evalStepLabel")
        for label in (self.fold_label, self.step_label):
            label.setMinimumWidth(130)
        layout = QGridLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setHorizontalSpacing(8)
        layout.setVerticalSpacing(2)
        mode_label, speed_label = QLabel("Mode:"), QLabel("Speed:")
        mode_label.setToolTip(self.mode_combo.toolTip())
        speed_label.setToolTip(self.speed_combo.toolTip())
        layout.addWidget(self.play_button, 0, 0)
        layout.addWidget(mode_label, 0, 1)
        layout.addWidget(self.mode_combo, 0, 2)
        layout.addWidget(speed_label, 0, 3)
        layout.addWidget(self.speed_combo, 0, 4)
        layout.addWidget(self.fold_label, 1, 0)
        layout.addWidget(self.fold_slider, 1, 1, 1, 5)
        layout.addWidget(self.step_label, 2, 0)
        layout.addWidget(self.step_slider, 2, 1, 1, 5)
        layout.setColumnStretch(5, 1)

        self.timer = QTimer(self)
        self.timer.setInterval(FRAME_MS)
        self.timer.timeout.connect(self._on_tick)
        self._tick_at = 0.0
        self.play_button.toggled.connect(self._on_play_toggled)
        self.mode_combo.currentTextChanged.connect(self._on_mode)
        self.fold_slider.valueChanged.connect(self._on_fold_slider)
        self.step_slider.valueChanged.connect(self._on_step_slider)
        self.set_folds([])

    # --- state --------------------------------------------------------------------------------------
    @property
    def fold(self) -> int:
        """Index (0 = fold 1) of the fold shown."""
        return self._fold

    @property
    def step(self) -> int:
        return int(self._step)

    @property
    def mode(self) -> str:
        return self.mode_combo.currentText()

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    @property
    def speed(self) -> float:
        return SPEEDS[self.speed_combo.currentText()]

    def set_folds(self, last_steps: list[int]) -> None:
        """The last recorded step of each finished fold (the timeline grows as folds finish)."""
        self._last_steps = [int(s) for s in last_steps]
        n = len(self._last_steps)
        for w in (self.fold_slider, self.step_slider, self.play_button):
            w.setEnabled(n > 0)
        self._sync(moved=False)

    def set_position(self, fold: int, step: float) -> None:
        """Show fold index `fold` at `step` (both clamped)."""
        self._fold, self._step = fold, float(step)
        self._sync()

    def play(self) -> None:
        if self._last_steps:
            self.play_button.setChecked(True)

    def pause(self) -> None:
        self.play_button.setChecked(False)

    def toggle(self) -> None:
        self.play_button.setChecked(not self.play_button.isChecked())

    def advance(self, seconds: float) -> None:
        """Move the replay on by `seconds` of playback at the chosen speed (what one timer tick does)."""
        if not self._last_steps:
            self.pause()
            return
        last = self._span()
        self._step += self.speed * seconds * max(last, 1) / FOLD_SECONDS
        if self._step >= last:
            if self.mode == SEQUENTIAL and self._fold < len(self._last_steps) - 1:
                self._fold, self._step = self._fold + 1, 0.0
            else:
                self._step = float(last)
                self.pause()
        self._sync()

    # --- internals ----------------------------------------------------------------------------------
    def _span(self) -> int:
        """The step range of the timeline: the fold's own (one after another) or the longest (overlaid)."""
        if not self._last_steps:
            return 0
        return max(self._last_steps) if self.mode == OVERLAY else self._last_steps[self._fold]

    def _sync(self, moved: bool = True) -> None:
        """Clamp the position, set the sliders and labels to it without feedback, and announce it."""
        n = len(self._last_steps)
        self._fold = min(max(self._fold, 0), max(n - 1, 0))
        span = self._span()
        self._step = min(max(self._step, 0.0), float(span))
        for slider, lo, hi, value in ((self.fold_slider, 1, max(n, 1), self._fold + 1),
                                      (self.step_slider, 0, span, int(self._step))):
            slider.blockSignals(True)
            slider.setRange(lo, hi)
            slider.setValue(value)
            slider.blockSignals(False)
        self.step_slider.setPageStep(max(1, span // 20))
        self.fold_label.setText(f"fold {self._fold + 1} of {n}" if n else "fold –")
        self.step_label.setText(f"step {int(self._step)} of {span}" if n else "step –")
        if moved and n:
            self.moved.emit()

    def _on_fold_slider(self, value: int) -> None:
        self._fold = value - 1
        self.user_moved.emit()
        self._sync()

    def _on_step_slider(self, value: int) -> None:
        self._step = float(value)
        self.user_moved.emit()
        self._sync()

    def _on_mode(self, _mode: str) -> None:
        self._sync()

    def _on_play_toggled(self, on: bool) -> None:
        self.play_button.setText("Pause" if on else "Play")
        if on:
            self.user_moved.emit()
            last_fold = self.mode == OVERLAY or self._fold >= len(self._last_steps) - 1
            at_end = last_fold and self._step >= self._span()
            if at_end:  # play again from the start
                self._fold, self._step = (0 if self.mode == SEQUENTIAL else self._fold), 0.0
                self._sync()
            self._tick_at = time.perf_counter()
            self.timer.start()
        else:
            self.timer.stop()

    def _on_tick(self) -> None:
        now = time.perf_counter()
        dt, self._tick_at = min(now - self._tick_at, 0.2), now
        self.advance(dt)
