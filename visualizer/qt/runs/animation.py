"""Animations of a recorded run: one frame per chosen snapshot, drawn by the window's plot classes, to GIF and MP4.

The landscape animation shows the path up to step t on the loss surface beside the loss curve up to t; the other
views animate as themselves. Every frame has the same size. libx264 with yuv420p needs an even width and height,
so an odd size is padded by one pixel (the edge repeated) on the right or bottom, in the MP4 only.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from visualizer.core.errors import VisualizerError
from visualizer.qt.runs.export import VIEW_WIDGETS as _VIEW_WIDGETS
from visualizer.qt.runs.export import RunExport
from visualizer.qt.runs.export_files import render_widget

ANIMATED_VIEWS = ("loss", "landscape", "histograms", "boundary")
ANIMATION_FORMATS = ("gif", "mp4")
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
    """Draws one view of a run at any snapshot step into frames of width x height; reuses its plots."""

    def __init__(self, run: RunExport, view: str, width: int, height: int) -> None:
        if view not in ANIMATED_VIEWS:
            raise VisualizerError(f"{view}: cannot be animated; allowed: {', '.join(ANIMATED_VIEWS)}")
        self.run, self.view, self.width, self.height = run, view, width, height
        self.host = QWidget()
        self.host.setObjectName("animationFrame")
        self.host.setStyleSheet("#animationFrame { background: white; } QLabel { color: #202020; }")
        outer = QVBoxLayout(self.host)
        outer.setContentsMargins(6, 4, 6, 4)
        outer.setSpacing(2)
        self.caption = QLabel(self.host)
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        font = self.caption.font()
        font.setPointSizeF(max(10.0, min(16.0, height / 55)))
        self.caption.setFont(font)
        outer.addWidget(self.caption)
        row = QHBoxLayout()
        row.setSpacing(4)
        outer.addLayout(row, 1)
        self._plots: dict[str, QWidget] = {}
        for name in (("landscape", "loss") if view == "landscape" else (view,)):
            plot = _VIEW_WIDGETS[name](run, run.snapshot_steps[0])  # (run, step, plot=)
            plot.setParent(self.host)
            plot.setAntialiasing(True)
            plot.setMinimumSize(1, 1)  # equal halves at any frame size
            row.addWidget(plot, 1)
            self._plots[name] = plot
        self.title = run.experiment.title or run.path.stem

    def frame(self, step: int) -> np.ndarray:
        """The view at snapshot ``step`` as an (height, width, 3) uint8 array."""
        for name, plot in self._plots.items():
            _VIEW_WIDGETS[name](self.run, step, plot=plot)
        epoch = self.run.snapshot_at(step).epoch
        self.caption.setText(f"{self.title}: step {step} of {self.run.total_steps} (epoch {epoch})")
        return image_array(render_widget(self.host, self.width, self.height))

    def close(self) -> None:
        self.host.close()
        self.host.deleteLater()


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


def write_animation(frames: Iterable[np.ndarray], stem: Path, formats: Iterable[str], fps: float,
                    palette=None) -> list[Path]:
    """Write the frames as ``stem``.gif (with ``palette``, a P-mode PIL image, else the first frame's) and/or
    ``stem``.mp4 (libx264, yuv420p), in one pass over the frames; returns the files written."""
    import imageio_ffmpeg
    from PIL import Image

    formats = tuple(formats)
    unknown = set(formats) - set(ANIMATION_FORMATS)
    if unknown:
        raise VisualizerError(f"{', '.join(sorted(unknown))}: not an animation format; allowed: gif, mp4")
    gif_frames: list = []
    mp4 = None
    paths = []
    try:
        for frame in frames:
            if "mp4" in formats:
                even = _even(frame)
                if mp4 is None:
                    path = stem.with_suffix(".mp4")
                    mp4 = imageio_ffmpeg.write_frames(str(path), (even.shape[1], even.shape[0]), fps=fps,
                                                      codec="libx264", pix_fmt_out="yuv420p", quality=7,
                                                      macro_block_size=2, ffmpeg_log_level="error")
                    mp4.send(None)
                    paths.append(path)
                mp4.send(np.ascontiguousarray(even))
            if "gif" in formats:
                if palette is None:
                    palette = gif_palette([frame])
                gif_frames.append(Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE))
    finally:
        if mp4 is not None:
            mp4.close()
    if "gif" in formats:
        if not gif_frames:
            raise VisualizerError("no frames to write")
        path = stem.with_suffix(".gif")
        gif_frames[0].save(path, save_all=True, append_images=gif_frames[1:], duration=round(1000 / fps), loop=0)
        paths.insert(0, path)
    return paths


def export_animation(run: RunExport, view: str, out: Path, formats: Iterable[str], frames: int | None = None,
                     fps: float = 10, width: int = 1000, height: int = 700, on_frame=None) -> list[Path]:
    """Animate ``view`` of a run into ``out``/``view``.gif and/or .mp4; returns the files written.
    ``on_frame(i, n)`` is told after each of the n frames is drawn (progress)."""
    steps = frame_steps(run, frames)
    formats = tuple(formats)
    renderer = FrameRenderer(run, view, width, height)
    try:
        palette = None
        if "gif" in formats:  # the first, middle and last frames hold every colour the animation shows
            palette = gif_palette(renderer.frame(s) for s in dict.fromkeys((steps[0], steps[len(steps) // 2],
                                                                            steps[-1])))
        def drawn():
            for i, s in enumerate(steps, 1):
                image = renderer.frame(s)
                if on_frame is not None:
                    on_frame(i, len(steps))
                yield image

        return write_animation(drawn(), Path(out) / view, formats, fps, palette)
    finally:
        renderer.close()
