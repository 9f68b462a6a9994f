"""Animations (GIF, MP4) of a run file from the replay window, written by `visualizer export` in a child process:
rendering 120 frames takes seconds, and a child process keeps the window responsive and can be cancelled."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QProcess, QProcessEnvironment, Signal

from visualizer.qt.app.settings import visualizer_command


class AnimationExport(QObject):
    """One `visualizer export RUN --out DIR --views … --formats …` at a time; ``finished(ok, message)`` at the end."""

    finished = Signal(bool, str)
    #: (view, frame, frames) as the child process draws the animation
    progress = Signal(str, int, int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.process: QProcess | None = None
        self.folder: Path | None = None

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.state() != QProcess.ProcessState.NotRunning

    def start(self, run_file: Path, folder: Path, views=("landscape",), formats=("gif", "mp4"),
              frames: int | None = None) -> bool:
        """Start writing the animations; False when one is already being written."""
        if self.running:
            return False
        self.folder = Path(folder)
        program, *args = visualizer_command()
        args += ["export", str(run_file), "--out", str(folder), "--views", ",".join(views),
                 "--formats", ",".join(formats), "--progress-lines"]
        if frames is not None:
            args += ["--frames", str(frames)]
        process = QProcess(self)
        env = QProcessEnvironment.systemEnvironment()
        env.insert("QT_QPA_PLATFORM", "offscreen")  # no window of its own flashes up
        process.setProcessEnvironment(env)
        process.finished.connect(self._on_finished)
        process.readyReadStandardError.connect(self._on_stderr)
        self._errors: list[str] = []
        self._partial = ""
        process.errorOccurred.connect(self._on_error)
        self.process = process
        process.start(program, args)
        return True

    def cancel(self) -> None:
        """Stop a running export (closing the window does)."""
        if self.running:
            self.process.kill()
            self.process.waitForFinished(5000)

    def _on_error(self, error) -> None:
        if error == QProcess.ProcessError.FailedToStart:
            self.finished.emit(False, f"the export could not start: {self.process.errorString()}")

    def _on_stderr(self) -> None:
        text = self._partial + bytes(self.process.readAllStandardError()).decode(errors="replace")
        lines = text.split("\n")
        self._partial = lines.pop()  # a line the child has not finished writing yet
        for line in lines:
            parts = line.split()
            if len(parts) == 4 and parts[0] == "progress" and parts[2].isdigit() and parts[3].isdigit():
                self.progress.emit(parts[1], int(parts[2]), int(parts[3]))
            elif line.strip():
                self._errors.append(line)

    def _on_finished(self, code: int, status) -> None:
        self._on_stderr()
        if self._partial.strip():
            self._errors.append(self._partial)
        out = bytes(self.process.readAllStandardOutput()).decode(errors="replace")
        if status == QProcess.ExitStatus.NormalExit and code == 0:
            written = [Path(line.strip()).name for line in out.splitlines() if line.strip()]
            self.finished.emit(True, f"Wrote {', '.join(written) or 'nothing'} into {self.folder}.")
        else:
            last = self._errors
            self.finished.emit(False, f"The animation was not written: {last[-1] if last else f'exit {code}'}")
