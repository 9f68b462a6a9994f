"""Animations (GIF, MP4) of a run file from the replay window, written by `visualizer export` in a child process
that the job runner starts and ends: rendering 120 frames takes seconds, and a child process keeps the window
responsive and can be cancelled. The landscape is drawn as the window's landscape tab shows it: on its plane and
grid, handed to the child as a plane file (``--plane``), or with the tab's directions and resolution before it has
drawn a surface."""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Signal

from visualizer.qt.app.settings import visualizer_command
from visualizer.qt.jobs import JobEnded, JobRunner

PLANE_FILE = "plane.npz"


@dataclass(frozen=True)
class FrameDrawn:
    """The child process drew ``frame`` of ``frames`` of the animation of ``view``."""

    view: str
    frame: int
    frames: int


@dataclass(frozen=True, eq=False)
class ShownLandscape:
    """What a landscape tab shows: its surface's plane and grid (``plane`` None before the first surface), and the
    options chosen on the tab."""

    plane: object | None
    alphas: np.ndarray | None
    betas: np.ndarray | None
    directions: str
    resolution: int
    span: float | None
    include_bias: bool
    weights: tuple[int, int]

    def arguments(self, folder: Path) -> list[str]:
        """The `visualizer export` options that draw this landscape; a plane file is written into ``folder``."""
        if self.plane is not None:
            from visualizer.core.runs.export import write_plane_file

            path = write_plane_file(Path(folder) / PLANE_FILE, self.plane, self.alphas, self.betas)
            return ["--plane", str(path)]
        from visualizer.core.landscape.planes import DIRECTIONS

        options = DIRECTIONS[self.directions].options  # the options this kind of plane reads
        args = ["--directions", self.directions, "--resolution", str(self.resolution)]
        if self.span is not None:
            args += ["--span", repr(float(self.span))]
        if "weights" in options and self.weights[0] != self.weights[1]:  # (the tab knows the count after a surface)
            args += ["--weights", ",".join(map(str, self.weights))]
        return args + (["--include-bias-bn"] if self.include_bias and "include_bias" in options else [])


def shown_landscape(view) -> ShownLandscape:
    """The landscape a LandscapeView (qt.landscape.view) shows: its surface's plane and grid, and its options."""
    from visualizer.qt.landscape.controls import SPANS

    surface = view.surface
    return ShownLandscape(
        surface.plane if surface is not None else None, surface.alphas if surface is not None else None,
        surface.betas if surface is not None else None, view.directions_combo.currentData(),
        int(view.resolution_combo.currentText()), SPANS[view.span_combo.currentText()], view.bias_check.isChecked(),
        tuple(spin.value() for spin in view.weight_spins))


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
        self._scratch: Path | None = None  # the plane file's folder while the child process runs

    @property
    def running(self) -> bool:
        return self.runner.running

    def start(self, run_file: Path, folder: Path, views=("landscape",), formats=("gif", "mp4"),
              frames: int | None = None, landscape: ShownLandscape | None = None) -> bool:
        """Start writing the animations (the landscape as ``landscape`` says, else by the export's defaults);
        False when one is already being written."""
        if self.running:
            return False
        program, *args = visualizer_command()
        args += ["export", str(run_file), "--out", str(folder), "--views", ",".join(views),
                 "--formats", ",".join(formats), "--progress-lines"]
        if frames is not None:
            args += ["--frames", str(frames)]
        self._clean()
        if landscape is not None:
            self._scratch = Path(tempfile.mkdtemp(prefix="visualizer-animation-"))
            args += landscape.arguments(self._scratch)
        self.folder, self._written = Path(folder), []
        # offscreen: no window of its own flashes up
        started = self.runner.start_process("animation", program, args, env={"QT_QPA_PLATFORM": "offscreen"},
                                            parse=progress_line)
        if not started:
            self._clean()
        return started

    def cancel(self) -> None:
        """Stop a running export (closing the window does)."""
        self.runner.cancel()

    def shutdown(self) -> None:
        """End the child process without reporting (the window is closing)."""
        self.runner.shutdown()
        self._clean()

    def _clean(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None

    def _on_batch(self, records: list) -> None:
        for record in records:
            if isinstance(record, FrameDrawn):
                self.progress.emit(record.view, record.frame, record.frames)
            elif isinstance(record, str):  # stdout: the files written, one per line
                self._written.append(Path(record).name)

    def _on_ended(self, ended: JobEnded) -> None:
        self._clean()
        if ended.reason == "completed":
            self.finished.emit(True, f"Wrote {', '.join(self._written) or 'nothing'} into {self.folder}.")
        elif ended.reason == "stopped":
            self.finished.emit(False, "The animation was cancelled; its files may be incomplete.")
        else:
            self.finished.emit(False, f"The animation was not written: {ended.message}")
