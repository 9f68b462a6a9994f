"""Animations (GIF, MP4) of a run file from the replay window, written by `visualizer export` in a child process
that the job runner starts and ends: rendering 120 frames takes seconds, and a child process keeps the window
responsive and can be cancelled."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from visualizer.qt.app.settings import visualizer_command
from visualizer.qt.jobs import JobEnded, JobRunner


@dataclass(frozen=True)
class FrameDrawn:
    """The child process drew ``frame`` of ``frames`` of the animation of ``view``."""

    view: str
    frame: int
    frames: int


def progress_line(line: str) -> FrameDrawn | None:
    """`visualizer export --progress-lines` writes 'progress VIEW FRAME FRAMES' to stderr; other lines are errors."""
    parts = line.split()
    if len(parts) == 4 and parts[0] == "progress" and parts[2].isdigit() and parts[3].isdigit():
        return FrameDrawn(parts[1], int(parts[2]), int(parts[3]))
    return None


class AnimationExport(QObject):
    """One `visualizer export RUN --out DIR --views … --formats …` at a time; ``finished(ok, message)`` at the end."""

    finished = Signal(bool, str)
    #: (view, frame, frames) as the child process draws the animation
    progress = Signal(str, int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner = JobRunner(self, threads=None)
        self.runner.batch.connect(self._on_batch)
        self.runner.ended.connect(self._on_ended)
        self.folder: Path | None = None
        self._written: list[str] = []

    @property
    def running(self) -> bool:
        return self.runner.running

    def start(self, run_file: Path, folder: Path, views=("landscape",), formats=("gif", "mp4"),
              frames: int | None = None) -> bool:
        """Start writing the animations; False when one is already being written."""
        if self.running:
            return False
        program, *args = visualizer_command()
        args += ["export", str(run_file), "--out", str(folder), "--views", ",".join(views),
                 "--formats", ",".join(formats), "--progress-lines"]
        if frames is not None:
            args += ["--frames", str(frames)]
        self.folder, self._written = Path(folder), []
        # offscreen: no window of its own flashes up
        return self.runner.start_process("animation", program, args, env={"QT_QPA_PLATFORM": "offscreen"},
                                         parse=progress_line)

    def cancel(self) -> None:
        """Stop a running export (closing the window does)."""
        self.runner.cancel()

    def shutdown(self) -> None:
        """End the child process without reporting (the window is closing)."""
        self.runner.shutdown()

    def _on_batch(self, records: list) -> None:
        for record in records:
            if isinstance(record, FrameDrawn):
                self.progress.emit(record.view, record.frame, record.frames)
            elif isinstance(record, str):  # stdout: the files written, one per line
                self._written.append(Path(record).name)

    def _on_ended(self, ended: JobEnded) -> None:
        if ended.reason == "completed":
            self.finished.emit(True, f"Wrote {', '.join(self._written) or 'nothing'} into {self.folder}.")
        elif ended.reason == "stopped":
            self.finished.emit(False, "The animation was cancelled; its files may be incomplete.")
        else:
            self.finished.emit(False, f"The animation was not written: {ended.message}")
