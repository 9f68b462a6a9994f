"""A window that replays a run file through the same views as a live run, step by step, and compares runs."""

from __future__ import annotations

import time
from html import escape
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QVBoxLayout, QWidget

from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import hyper_values
from visualizer.core.runs.replay import HistoryUpTo, ReplayRun
from visualizer.qt.jobs import FRAME_MS
from visualizer.qt.runs.replay_compare import ReplayComparison, run_label
from visualizer.qt.runs.replay_exports import ReplayExports
from visualizer.qt.runs.timeline import TimelineBar
from visualizer.qt.training.bridge import Frame
from visualizer.qt.training.views import TrainingViews
from visualizer.qt.widgets.controls import resize_within_screen

FOLLOW_MS = 500
LIVE_S = 10.0  # a run without an end whose file changed this recently is taken to be still written
STATUS_WORDS = {None: "incomplete (no end was recorded)", "completed": "completed", "stopped": "stopped",
                "diverged": "diverged", "failed": "failed"}


class ReplayWindow(ReplayComparison, ReplayExports, QMainWindow):
    """Replays the run file ``path`` (raises VisualizerError when it cannot be read); ``closed`` on close. Comparing
    with another run is ``ReplayComparison``'s, the File menu's exports ``ReplayExports``'s."""

    #: the controls kept between sessions (qt/app/window_memory.py)
    REMEMBERED = ("speedCombo", "followLiveCheck")

    closed = Signal()

    def __init__(self, path: str | Path, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.run = ReplayRun(self.path)
        self.theme = theme
        self.setObjectName("replayWindow")
        self.setWindowTitle(f"Replay – {self.run.experiment.title or run_label(self.path)} ({self.path.name})")
        resize_within_screen(self, 1280, 860)

        self.views = TrainingViews(theme=theme)
        self.timeline = TimelineBar()
        self.header = QLabel()
        self.header.setObjectName("replayHeader")
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = QLabel()
        self.message.setObjectName("replayMessage")
        self.message.setWordWrap(True)
        self.message.hide()
        self.edits_note = QLabel()  # the weights set by hand during the run, one line each
        self.edits_note.setObjectName("replayEdits")
        self.edits_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(6, 4, 6, 0)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addWidget(self.message)
        layout.addWidget(self.edits_note)
        layout.addWidget(self.views, 1)
        layout.addWidget(self.timeline)
        self.setCentralWidget(central)
        self._build_menu()

        self._step = 0  # the step the views show
        self._shown = (0, 0)  # steps and snapshots fed to the views
        self._begun = False
        self._x_max = 0
        self._clock = 0.0  # replay seconds at 1x (ReplayRun.time_at)
        self._tick_at = 0.0
        self._pending: int | None = None
        self._scrub_timer = QTimer(self)  # slider moves are drawn at most once per frame
        self._scrub_timer.setSingleShot(True)
        self._scrub_timer.setInterval(FRAME_MS)
        self._scrub_timer.timeout.connect(self._on_scrub_tick)
        self._play_timer = QTimer(self)
        self._play_timer.setInterval(FRAME_MS)
        self._play_timer.timeout.connect(self._on_play_tick)
        self._follow_timer = QTimer(self)
        self._follow_timer.setInterval(FOLLOW_MS)
        self._follow_timer.timeout.connect(self._on_follow_tick)

        self.timeline.moved.connect(self._on_slider_moved)
        self.timeline.play_toggled.connect(self._on_play_toggled)
        self.timeline.previous_snapshot.connect(self.previous_snapshot)
        self.timeline.next_snapshot.connect(self.next_snapshot)
        self.timeline.follow_toggled.connect(self._on_follow_toggled)
        self._keys = {Qt.Key.Key_Home: lambda: self.go_to(0), Qt.Key.Key_End: lambda: self.go_to(self.last),
                      Qt.Key.Key_Space: self.toggle_play, Qt.Key.Key_PageUp: self.previous_snapshot,
                      Qt.Key.Key_PageDown: self.next_snapshot}

        self._dataset = self._load_dataset()
        if hasattr(self.views, "set_experiment"):  # the landscape tab rebuilds the network from it
            self.views.set_experiment(self.run.experiment)
        self.timeline.follow_check.setChecked(self.run.ended is None and self._recently_written())
        self.timeline.follow_check.setEnabled(self.run.ended is None)
        self._update_header()
        self.timeline.set_last(self.last)
        self.go_to(self.last)

    # -- set-up ---------------------------------------------------------------------------------------
    def _build_menu(self) -> None:
        file_menu = self.menuBar().addMenu("&File")
        compare = QAction("Open to &compare…", self)
        compare.setObjectName("compareAction")
        compare.triggered.connect(self._on_compare_chosen)
        clear = QAction("Clear the comparison", self)
        clear.triggered.connect(self.clear_comparison)
        file_menu.addActions([compare, clear])
        file_menu.addSeparator()
        self._build_exports(file_menu)
        file_menu.addSeparator()
        close = QAction("&Close", self)
        close.setShortcut(QKeySequence(QKeySequence.StandardKey.Close))
        close.triggered.connect(self.close)
        file_menu.addAction(close)

    def _load_dataset(self):
        try:
            return self.run.reader.dataset()  # a CSV file where the run recorded it
        except (VisualizerError, OSError, ValueError) as exc:
            self.show_message(f"The data set could not be loaded ({exc}); the replay shows no data points.")
            return None

    def _recently_written(self) -> bool:
        """Whether the file changed in the last LIVE_S seconds (a live writer commits several times a second)."""
        times = [p.stat().st_mtime for p in (self.path, Path(f"{self.path}-wal")) if p.exists()]
        return bool(times) and time.time() - max(times) < LIVE_S

    def _update_header(self) -> None:
        exp, run = self.run.experiment, self.run
        status = STATUS_WORDS.get(run.ended.reason if run.ended else None, run.ended and run.ended.reason)
        if run.ended is None and self.following:
            status = "being written"
        created = run.reader.created.replace("T", " ")[:16]
        lr = hyper_values(exp.train)["lr"]  # the optimizer's default when the experiment sets none
        self.header.setText(f"<b>{escape(exp.title or run_label(self.path))}</b> — {escape(exp.data.name)} · "
                            f"{escape(exp.train.optimizer)} lr {lr:g} · {status} · {run.last_step} steps · "
                            f"recorded {created} UTC · {escape(str(self.path))}")
        from visualizer.core.runs.edits import describe_edit

        lines = [f"Weight set by hand {describe_edit(e)}" for e in run.edits]
        self.edits_note.setText("\n".join(lines))
        self.edits_note.setVisible(bool(lines))
        if len(self.views.loss.edit_marks.edits) != len(run.edits):  # a followed run's new edits
            self.views.loss.edit_marks.set(run.edits)

    def set_theme(self, name: str) -> None:
        """Restyle every view ("light", "dark" or "contrast")."""
        self.theme = name
        self.views.set_theme(name)

    def show_message(self, text: str) -> None:
        """Show a note above the views ('' hides it)."""
        self.message.setText(text)
        self.message.setVisible(bool(text))

    def message_text(self) -> str:
        return self.message.text()

    # -- position -------------------------------------------------------------------------------------
    @property
    def last(self) -> int:
        return self.run.last_step

    @property
    def step(self) -> int:
        """The step every view shows."""
        return self._step

    @property
    def following(self) -> bool:
        return self._follow_timer.isActive()

    @property
    def playing(self) -> bool:
        return self._play_timer.isActive()

    def go_to(self, step: int) -> None:
        """Drive every view to ``step``: curves up to it, the snapshot taken at or before it."""
        self._pending = None
        self._show(max(0, min(int(step), self.last)))
        self._clock = self.run.time_at(self._step)

    def previous_snapshot(self) -> None:
        i = self.run.snapshots_up_to(self._step - 1)
        self.go_to(self.run.snapshot_steps[i - 1] if i else 0)

    def next_snapshot(self) -> None:
        i = self.run.snapshots_up_to(self._step)
        self.go_to(self.run.snapshot_steps[i] if i < len(self.run.snapshot_steps) else self.last)

    def _show(self, step: int) -> None:
        run = self.run
        if run.started is None:  # the writer has not started the run yet
            self._step = 0
            self.timeline.set_position(0, 0, 0)
            return
        n, k = run.index_of(step), run.snapshots_up_to(step)
        if not self._begun or k < self._shown[1]:
            self._restart_views()  # a snapshot cannot be un-drawn: start again from the first step
        n0, k0 = self._shown
        # back within one snapshot's span only the curves change: they are drawn from the history up to `step`
        frame = Frame(steps=run.step_events(min(n0, n - 1), n), snapshots=run.snapshots[k0:k])
        if frame.steps or frame.snapshots:
            self.views.show_frame(HistoryUpTo(run.history, step), frame)
            self.views.flush()
        if hasattr(self.views, "lab"):
            self.views.lab.set_measures(run.measures_up_to(step))
        self._shown = (n, k)
        self._step = step
        self.views.loss.set_cursor(step)
        self.timeline.set_position(step, self.last, run.epoch_at(step))

    def _restart_views(self) -> None:
        """Views back to before the first step (going back in time cannot un-draw a snapshot)."""
        if self._dataset is not None:
            self.views.show_data(self._dataset)
            self._show_filters()
        else:
            self.views.clear()
        self.views.begin(self.run.started)
        self.views.loss.edit_marks.set(self.run.edits)  # where weights were set by hand
        self._begun = True
        self._shown = (0, 0)
        self._set_x_range()

    def _show_filters(self) -> None:
        """The Filters tab of a convolutional run (hidden for an MLP)."""
        from visualizer.core.model.losses import LOSSES
        from visualizer.qt.training.filters_tab import filter_source

        exp, ds = self.run.experiment, self._dataset
        loss = LOSSES.get(exp.train.loss)
        if loss is not None and hasattr(self.views, "set_filter_source"):
            self.views.set_filter_source(filter_source(exp.model, ds, loss.output_size(ds.task, ds.n_classes)))

    def _set_x_range(self) -> None:
        started = self.run.started
        end = started.total_steps if (self.following and started) else self.last
        self._x_max = max(end, self._compare_last, 1)
        self.views.loss.set_step_range(self._x_max)

    # -- slider, play, follow -------------------------------------------------------------------------
    def _on_slider_moved(self, step: int) -> None:
        self._pending = step
        if not self._scrub_timer.isActive():
            self._scrub_timer.start()

    def _on_scrub_tick(self) -> None:
        if self._pending is not None:
            self.go_to(self._pending)

    def toggle_play(self) -> None:
        self.timeline.set_playing(not self.playing)

    def play(self, on: bool = True) -> None:
        self.timeline.set_playing(on)

    def _on_play_toggled(self, on: bool) -> None:
        if not on:
            self._play_timer.stop()
            return
        if self._step >= self.last and not self.following:
            self.go_to(0)  # play from the end starts again
        self._clock = self.run.time_at(self._step)
        self._tick_at = time.perf_counter()
        self._play_timer.start()

    def _on_play_tick(self) -> None:
        now = time.perf_counter()
        self._clock += (now - self._tick_at) * self.timeline.speed()
        self._tick_at = now
        step = self.run.step_at_time(self._clock)
        if step > self._step:
            clock = self._clock
            self.go_to(step)
            self._clock = clock
        if self._step >= self.last and not self.following:
            self.timeline.set_playing(False)

    def _on_follow_toggled(self, on: bool) -> None:
        if on:
            self._follow_timer.start()
        else:
            self._follow_timer.stop()
        self._update_header()

    def _on_follow_tick(self) -> None:
        at_end = self._step >= self.last
        try:
            came = self.run.refresh()
        except VisualizerError as exc:
            self.timeline.follow_check.setChecked(False)
            self.show_message(f"Stopped following the run: {exc}")
            return
        if self.run.ended is not None:
            self.timeline.follow_check.setChecked(False)
            self.timeline.follow_check.setEnabled(False)
            self.show_message(f"The run ended: {self.run.ended.message or self.run.ended.reason}")
        if came or self.run.ended is not None or not self._begun:
            self.timeline.set_last(self.last)
            if not self._begun or not self.following:
                self._set_x_range()
            if at_end and not self.playing:
                self.go_to(self.last)
            else:
                self.timeline.set_position(self._step, self.last, self.run.epoch_at(self._step))
            self._update_header()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # Qt override: keys no child took (the slider takes Home/End)
        action = self._keys.get(Qt.Key(event.key()))
        if action is None:
            super().keyPressEvent(event)
        else:
            action()

    # -- closing --------------------------------------------------------------------------------------
    def stop_timers(self) -> None:
        for timer in (self._scrub_timer, self._play_timer, self._follow_timer):
            timer.stop()

    def closeEvent(self, event: QCloseEvent) -> None:  # Qt override: no timer outlives the window
        self.stop_timers()
        self.animation.shutdown()
        if hasattr(self.views, "shutdown"):
            self.views.shutdown()  # joins the landscape's thread
        self.run.close()
        self.closed.emit()
        super().closeEvent(event)
