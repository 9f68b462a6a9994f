"""The replay's timeline: a slider over the steps, play/pause, speed, snapshot stepping and where it is."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QSlider, QStyle, QToolButton, QWidget

SPEEDS = ("0.25x", "0.5x", "1x", "2x", "4x", "8x")


class TimelineBar(QWidget):
    """Emits ``moved(step)`` as the slider moves (the window coalesces them) and the buttons' requests."""

    moved = Signal(int)
    play_toggled = Signal(bool)
    previous_snapshot = Signal()
    next_snapshot = Signal()
    follow_toggled = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        icon = self.style().standardIcon
        self.back_button = QToolButton()
        self.back_button.setObjectName("previousSnapshotButton")
        self.back_button.setIcon(icon(QStyle.StandardPixmap.SP_MediaSeekBackward))
        self.back_button.setToolTip("Back to the previous snapshot (Page Up)")
        self.back_button.clicked.connect(self.previous_snapshot)
        self.play_button = QToolButton()
        self.play_button.setObjectName("playButton")
        self.play_button.setCheckable(True)
        self.play_button.setToolTip("Play or pause the replay (Space)")
        self.play_button.toggled.connect(self._on_play_toggled)
        self.forward_button = QToolButton()
        self.forward_button.setObjectName("nextSnapshotButton")
        self.forward_button.setIcon(icon(QStyle.StandardPixmap.SP_MediaSeekForward))
        self.forward_button.setToolTip("On to the next snapshot (Page Down)")
        self.forward_button.clicked.connect(self.next_snapshot)

        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setObjectName("timelineSlider")
        self.slider.setToolTip("Drag to any step; Home and End go to the first and the last")
        self.slider.setRange(0, 0)
        self.slider.setPageStep(10)
        self.slider.valueChanged.connect(self.moved)

        self.speed_combo = QComboBox()
        self.speed_combo.setObjectName("speedCombo")
        self.speed_combo.addItems(list(SPEEDS))
        self.speed_combo.setCurrentText("1x")
        self.speed_combo.setToolTip("Replay speed; 1x is the run's own pace (pauses shortened to 0.5 s, "
                                    "a run shorter than 10 s stretched to 10 s)")
        self.position_label = QLabel()
        self.position_label.setObjectName("positionLabel")
        self.position_label.setMinimumWidth(self.fontMetrics().horizontalAdvance("step 000000 / 000000 · epoch 0000"))
        self.follow_check = QCheckBox("Follow live")
        self.follow_check.setObjectName("followLiveCheck")
        self.follow_check.setToolTip("While the run is still being written, read what it adds every 0.5 s")
        self.follow_check.toggled.connect(self.follow_toggled)

        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 6)
        for w in (self.back_button, self.play_button, self.forward_button):
            layout.addWidget(w)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.position_label)
        layout.addWidget(QLabel("Speed:"))
        layout.addWidget(self.speed_combo)
        layout.addWidget(self.follow_check)
        self._on_play_toggled(False)

    def speed(self) -> float:
        return float(self.speed_combo.currentText().rstrip("x"))

    def set_last(self, last: int) -> None:
        """Let the slider reach ``last`` without moving it or emitting ``moved``."""
        self.slider.blockSignals(True)
        self.slider.setMaximum(max(last, 0))
        self.slider.setPageStep(max(1, last // 50))
        self.slider.blockSignals(False)

    def set_position(self, step: int, last: int, epoch: int) -> None:
        """Show ``step`` on the slider (without emitting ``moved``) and in words."""
        self.slider.blockSignals(True)
        self.slider.setValue(step)
        self.slider.blockSignals(False)
        self.position_label.setText(f"step {step} / {last} · epoch {epoch}")

    def set_playing(self, on: bool) -> None:
        self.play_button.setChecked(on)

    def _on_play_toggled(self, on: bool) -> None:
        pixmap = QStyle.StandardPixmap.SP_MediaPause if on else QStyle.StandardPixmap.SP_MediaPlay
        self.play_button.setIcon(self.style().standardIcon(pixmap))
        self.play_toggled.emit(on)
