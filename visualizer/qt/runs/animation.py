"""Animations of a recorded run: one frame per chosen snapshot, drawn by the window's plot classes, written by the
animation formats of ``core.runs.export_registry`` (GIF, MP4).

A view's frames show its ``panes`` side by side (the landscape: the path up to step t on the loss surface beside the
loss curve up to t); the other views animate as themselves. Every frame has the same size. libx264 with yuv420p
needs an even width and height, so an odd size is padded by one pixel (the edge repeated) on the right or bottom, in
the MP4 only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QWidget

from visualizer.core.errors import VisualizerError
from visualizer.core.runs.export import RunExport
from visualizer.core.runs.export_registry import EXPORT_FORMATS, EXPORT_VIEWS, writer_of
from visualizer.qt.plots.export import figure_image
from visualizer.qt.plots.figure_grid import FigureGrid

MAX_FRAMES = 120


def frame_steps(run: RunExport, frames: int | None = None) -> list[int]:
    """Evenly spaced snapshot steps, first and last included: ``frames`` of them (default one per snapshot,
    at most MAX_FRAMES); fewer when the run has fewer snapshots."""
    steps = run.snapshot_steps
    if not steps:
        raise VisualizerError(f"{run.path}: the run recorded no snapshots, so there is nothing to animate")
    n = min(len(steps), MAX_FRAMES if frames is None else frames)
    index = np.unique(np.linspace(0, len(steps) - 1, max(n, 1)).round().astype(int))
    return [steps[i] for i in index]


def image_array(image: QImage) -> np.ndarray:
    """A QImage as an (H, W, 3) uint8 RGB array (a copy)."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    w, h, stride = image.width(), image.height(), image.bytesPerLine()
    raw = np.frombuffer(image.constBits(), np.uint8, count=stride * h).reshape(h, stride)
    return raw[:, : w * 3].reshape(h, w, 3).copy()


class FrameRenderer:
    """Draws one view of a run at any snapshot step into frames of width x height (its panes side by side under a
    caption: one figure); reuses its plots."""

    def __init__(self, run: RunExport, view: str, width: int, height: int) -> None:
        info = EXPORT_VIEWS.get(view)
        if info is None or "animation" not in info.kinds:
            allowed = ", ".join(v.name for v in EXPORT_VIEWS.values() if "animation" in v.kinds)
            raise VisualizerError(f"{view}: cannot be animated; allowed: {allowed}")
        self.run, self.view, self.width, self.height = run, view, width, height
        self._plots: dict[str, QWidget] = {}
        self._draw = {name: writer_of(EXPORT_VIEWS[name].widget) for name in (info.panes or (view,))}
        for name, draw in self._draw.items():
            plot = draw(run, run.snapshot_steps[0])  # (run, step, plot=)
            if hasattr(plot, "setAntialiasing"):
                plot.setAntialiasing(True)
            self._plots[name] = plot
        self.grid = FigureGrid(list(self._plots.values()), columns=len(self._plots), caption=" ")
        self.title = run.experiment.title or run.path.stem

    def frame(self, step: int) -> np.ndarray:
        """The view at snapshot ``step`` as an (height, width, 3) uint8 array."""
        for name, plot in self._plots.items():
            self._draw[name](self.run, step, plot=plot)
        epoch = self.run.snapshot_at(step).epoch
        self.grid.caption = f"{self.title}: step {step} of {self.run.total_steps} (epoch {epoch})"
        return image_array(figure_image(self.grid, self.width, self.height))

    def close(self) -> None:
        for plot in self._plots.values():
            plot.close()
            plot.deleteLater()


def _even(frame: np.ndarray) -> np.ndarray:
    h, w = frame.shape[:2]
    if h % 2 or w % 2:
        frame = np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), mode="edge")
    return frame


def gif_palette(samples: Iterable[np.ndarray]):
    """One 256-colour palette for every frame (no flicker), chosen to cover the colours of the sample frames:
    median cut, as Pillow does by default, drops the small markers' colours; max coverage keeps them."""
    from PIL import Image

    collage = Image.fromarray(np.concatenate(list(samples), axis=0))
    return collage.quantize(256, method=Image.Quantize.MAXCOVERAGE)


class GifWriter:
    """A looping GIF at ``fps``, every frame in one palette made from the ``samples`` frames."""

    def __init__(self, path: Path, fps: float, samples: list[np.ndarray]) -> None:
        self.path, self.fps = Path(path), fps
        self.palette = gif_palette(samples) if samples else None
        self.frames: list = []

    def add(self, frame: np.ndarray) -> None:
        from PIL import Image

        if self.palette is None:
            self.palette = gif_palette([frame])
        self.frames.append(Image.fromarray(frame).quantize(palette=self.palette, dither=Image.Dither.NONE))

    def close(self) -> Path:
        if not self.frames:
            raise VisualizerError("no frames to write")
        self.frames[0].save(self.path, save_all=True, append_images=self.frames[1:],
                            duration=round(1000 / self.fps), loop=0)
        return self.path

    def abort(self) -> None:
        self.frames = []


class Mp4Writer:
    """An H.264 MP4 (libx264, yuv420p) at ``fps``, streamed to ffmpeg frame by frame."""

    def __init__(self, path: Path, fps: float, samples: list[np.ndarray] | None = None) -> None:
        self.path, self.fps = Path(path), fps
        self._pipe = None

    def add(self, frame: np.ndarray) -> None:
        import imageio_ffmpeg

        even = _even(frame)
        if self._pipe is None:
            self._pipe = imageio_ffmpeg.write_frames(str(self.path), (even.shape[1], even.shape[0]), fps=self.fps,
                                                     codec="libx264", pix_fmt_out="yuv420p", quality=7,
                                                     macro_block_size=2, ffmpeg_log_level="error")
            self._pipe.send(None)
        self._pipe.send(np.ascontiguousarray(even))

    def close(self) -> Path:
        if self._pipe is None:
            raise VisualizerError("no frames to write")
        self._pipe.close()
        self._pipe = None
        return self.path

    def abort(self) -> None:
        """Stop ffmpeg and remove the partial file."""
        if self._pipe is not None:
            self._pipe.close()
            self._pipe = None
            self.path.unlink(missing_ok=True)


def write_animation(frames: Iterable[np.ndarray], stem: Path, formats: Iterable[str], fps: float,
                    samples: list[np.ndarray] | None = None) -> list[Path]:
    """Write the frames as ``stem``.SUFFIX in each animation format named, in one pass over the frames (each
    format's writer gets the ``samples`` frames first, e.g. for its palette); returns the files written."""
    chosen = []
    for name in dict.fromkeys(formats):
        fmt = EXPORT_FORMATS.get(name)
        if fmt is None or fmt.kind != "animation":
            allowed = ", ".join(f.name for f in EXPORT_FORMATS.values() if f.kind == "animation")
            raise VisualizerError(f"{name}: not an animation format; allowed: {allowed}")
        chosen.append(fmt)
    writers = [writer_of(fmt.writer)(Path(stem).with_suffix(fmt.suffix), fps, list(samples or [])) for fmt in chosen]
    done = False
    try:
        for frame in frames:
            for writer in writers:
                writer.add(frame)
        paths = [writer.close() for writer in writers]
        done = True
        return paths
    finally:
        if not done:  # stop every encoder (an ffmpeg child process) before the error goes on
            for writer in writers:
                if hasattr(writer, "abort"):
                    writer.abort()


def export_animation(run: RunExport, view: str, out: Path, formats: Iterable[str], frames: int | None = None,
                     fps: float = 10, width: int = 1000, height: int = 700, on_frame=None) -> list[Path]:
    """Animate ``view`` of a run into ``out``/``view``.SUFFIX for each animation format; returns the files
    written. ``on_frame(i, n)`` is told after each of the n frames is drawn (progress)."""
    steps = frame_steps(run, frames)
    renderer = FrameRenderer(run, view, width, height)
    try:
        # the first, middle and last frames hold every colour the animation shows
        samples = [renderer.frame(s) for s in dict.fromkeys((steps[0], steps[len(steps) // 2], steps[-1]))]

        def drawn():
            for i, s in enumerate(steps, 1):
                image = renderer.frame(s)
                if on_frame is not None:
                    on_frame(i, len(steps))
                yield image

        return write_animation(drawn(), Path(out) / view, formats, fps, samples)
    finally:
        renderer.close()
