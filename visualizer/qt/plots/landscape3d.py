"""The loss landscape as a rotatable 3-D surface (OpenGL), with the optimizer's path lying on it.

Import this module only where OpenGL works: ``opengl_unavailable()`` (from landscape_plot, re-exported here) says
why it does not (the offscreen Qt platform has no QOpenGLWidget). As a figure (an export) the surface is rendered
offscreen and its title, axis titles and a colour bar are drawn around it in 2-D (GL text does not reach an
offscreen render).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
import pyqtgraph.opengl as gl
from OpenGL import GL
from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetricsF, QImage, QLinearGradient, QPainter, QVector3D
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._style import LABEL_PT, TICK_PT, TITLE_PT, get_theme, pt
from visualizer.qt.plots.landscape_plot import (
    COLORMAP,
    CURRENT_COLOR,
    DEFAULT_AXIS_LABELS,
    START_COLOR,
    bilinear,
    opengl_unavailable,
)

#: the surface's height, as a share of the width of the grid
HEIGHT_SHARE = 0.6
__all__ = ["Landscape3DPlot", "opengl_unavailable"]
LIFT = 0.01  # the path floats this share of the height above the surface
#: the path and its markers are drawn over the surface (no depth test), so that a ridge never hides them
ON_TOP = {GL.GL_DEPTH_TEST: False, GL.GL_BLEND: True, GL.GL_CULL_FACE: False,
          "glBlendFunc": (GL.GL_SRC_ALPHA, GL.GL_ONE_MINUS_SRC_ALPHA)}


def _rgba(color: str) -> tuple[float, float, float, float]:
    return pg.mkColor(color).getRgbF()


class Landscape3DPlot(gl.GLViewWidget):
    """Surface z = loss (or log₁₀ loss) over (α, β), coloured as the 2-D heatmap, the path as a line on it."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        self.setObjectName("landscape3dPlot")
        self._theme = get_theme(theme)
        self._alphas = np.zeros(0)
        self._betas = np.zeros(0)
        self._values = np.zeros((0, 0))
        self._points = np.zeros((0, 2))
        self._scale = (0.0, 1.0, 1.0)  # lo, hi, height
        self._axis_titles: tuple[str, str] = DEFAULT_AXIS_LABELS
        self._value_title = "loss"
        self._anchors = np.zeros((3, 3))  # where the α, β and loss titles stand, in plot coordinates
        #: (text, rectangle) of each title drawn by the last figure_image, in the image's pixels
        self.figure_labels: list[tuple[str, QRectF]] = []
        self.floor = gl.GLGridItem(glOptions="translucent")
        self.addItem(self.floor)
        self.surface = gl.GLSurfacePlotItem(computeNormals=False, smooth=False, glOptions="opaque", showGrid=True,
                                            lineColor=(0.0, 0.0, 0.0, 0.12), lineWidth=1.0)
        self.addItem(self.surface)
        self.shadow = gl.GLLinePlotItem(pos=np.zeros((0, 3)), color=(0.0, 0.0, 0.0, 0.7), width=6.0, antialias=True,
                                        mode="line_strip", glOptions=ON_TOP)
        self.path = gl.GLLinePlotItem(pos=np.zeros((0, 3)), color=_rgba("#ffffff"), width=3.0, antialias=True,
                                      mode="line_strip", glOptions=ON_TOP)
        self.ends = gl.GLScatterPlotItem(pos=np.zeros((0, 3)), size=14.0, pxMode=True, glOptions=ON_TOP)
        self.labels = [gl.GLTextItem(text=t, font=QFont("DejaVu Sans", LABEL_PT)) for t in ("α", "β", "loss")]
        for depth, item in enumerate((self.shadow, self.path, self.ends, *self.labels)):
            item.setDepthValue(10 + depth)
            self.addItem(item)
        self.set_theme(theme)

    @property
    def path_positions(self) -> np.ndarray:
        """The (T, 3) vertices of the path as drawn."""
        return np.asarray(self.path.pos if self.path.pos is not None else np.zeros((0, 3)))

    @property
    def theme(self) -> str:
        """Name of the current theme."""
        return self._theme.name

    def set_theme(self, theme: str) -> None:
        """Background for the "light" or "dark" theme."""
        self._theme = get_theme(theme)
        self.setBackgroundColor(self._theme.background)
        fg = QColor(self._theme.foreground)
        for label in self.labels:
            label.setData(color=fg, font=QFont("DejaVu Sans", pt(LABEL_PT)))
        grid = QColor(self._theme.foreground)
        grid.setAlphaF(0.25)
        self.floor.setColor(grid)

    def set_surface(self, alphas: np.ndarray, betas: np.ndarray, values: np.ndarray, log_scale: bool = False,
                    axis_labels=DEFAULT_AXIS_LABELS, value_name: str = "loss") -> None:
        """Show values (len(betas), len(alphas); row i at betas[i]) as heights (log₁₀ when ``log_scale``);
        ``axis_labels`` title the α and β axes of the figure, ``value_name`` the heights."""
        alphas = np.asarray(alphas, np.float64).ravel()
        betas = np.asarray(betas, np.float64).ravel()
        values = np.asarray(values, np.float64)
        if values.shape != (betas.size, alphas.size):
            raise ValueError(f"values have shape {values.shape}; expected ({betas.size}, {alphas.size})")
        if log_scale:
            positive = values[np.isfinite(values) & (values > 0)]
            floor = positive.min() if positive.size else 1.0
            values = np.log10(np.maximum(np.where(np.isfinite(values), values, floor), floor))
        finite = values[np.isfinite(values)]
        lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
        if hi <= lo:
            hi = lo + 1.0
        values = np.where(np.isfinite(values), values, hi)
        width = max(alphas[-1] - alphas[0], betas[-1] - betas[0], 1e-12)
        height = HEIGHT_SHARE * width
        self._alphas, self._betas, self._values = alphas, betas, values
        self._scale = (lo, hi, height)
        z = ((values - lo) / (hi - lo) * height).T.astype(np.float32)  # (len(alphas), len(betas)): x = α
        colors = pg.colormap.get(COLORMAP).map(((values - lo) / (hi - lo)).T.ravel(), mode="float")
        self.surface.setData(x=alphas.astype(np.float32), y=betas.astype(np.float32), z=z,
                             colors=np.asarray(colors, np.float32).reshape(-1, 4))
        a0, a1, b0, b1 = alphas[0], alphas[-1], betas[0], betas[-1]
        self.floor.setSize(x=a1 - a0, y=b1 - b0)
        self.floor.setSpacing(x=(a1 - a0) / 10, y=(b1 - b0) / 10)
        self.floor.resetTransform()
        self.floor.translate((a0 + a1) / 2, (b0 + b1) / 2, 0)
        # the camera looks from the (α max, β min) corner: each axis is named along its front edge
        self.labels[0].setData(pos=np.array([(a0 + a1) / 2, b0 - 0.1 * width, 0.0]))
        self.labels[1].setData(pos=np.array([a1 + 0.1 * width, (b0 + b1) / 2, 0.0]))
        self._value_title = f"log₁₀ {value_name}" if log_scale else value_name
        self._axis_titles = (str(axis_labels[0]), str(axis_labels[1]))
        self.labels[2].setData(pos=np.array([a0, b0, 1.05 * height]), text=self._value_title)
        self._anchors = np.array([label.pos for label in self.labels], dtype=float)
        center = QVector3D(float(alphas.mean()), float(betas.mean()), float(height / 3))
        self.setCameraPosition(pos=center, distance=1.6 * width, elevation=28, azimuth=-60)
        self._draw_path()

    def set_trajectory(self, points: np.ndarray) -> None:
        """The (T, 2) path in plane coordinates, drawn on the surface (clamped to the grid's edges)."""
        points = np.asarray(points, np.float64)
        self._points = points.reshape(-1, 2) if points.size else np.zeros((0, 2))
        self._draw_path()

    def _draw_path(self) -> None:
        pts = self._points
        if len(pts) == 0 or self._alphas.size < 2:
            for item in (self.shadow, self.path, self.ends):
                item.setData(pos=np.zeros((0, 3)))
            return
        a = np.clip(pts[:, 0], self._alphas[0], self._alphas[-1])
        b = np.clip(pts[:, 1], self._betas[0], self._betas[-1])
        lo, hi, height = self._scale
        z = (bilinear(self._alphas, self._betas, self._values, np.stack([a, b], axis=1)) - lo) / (hi - lo) * height
        pos = np.stack([a, b, z + LIFT * height], axis=1).astype(np.float32)
        self.shadow.setData(pos=pos)
        self.path.setData(pos=pos)
        ends = pos[[0, -1]]
        self.ends.setData(pos=ends, color=np.array([_rgba(START_COLOR), _rgba(CURRENT_COLOR)], np.float32))

    def render_image(self, width: int, height: int) -> np.ndarray:
        """The view rendered offscreen to an (height, width, 4) uint8 RGBA array."""
        bgra = self.renderToArray((width, height))
        return bgra[..., [2, 1, 0, 3]].copy()

    # --- as a figure ---------------------------------------------------------------------------------
    def project(self, points: np.ndarray, width: int, height: int) -> np.ndarray:
        """Where (N, 3) points in plot coordinates land in a render of width x height pixels, (N, 2) x right, y
        down (the camera's projection, as the GL view draws them)."""
        mvp = self.projectionMatrix((0, 0, width, height), (0, 0, width, height)) * self.viewMatrix()
        out = []
        for x, y, z in np.asarray(points, dtype=float).reshape(-1, 3):
            v = mvp.map(QVector3D(float(x), float(y), float(z)))  # divided by w: normalised device coordinates
            out.append(((v.x() + 1) / 2 * width, (1 - v.y()) / 2 * height))
        return np.array(out).reshape(-1, 2)

    def figure_image(self, width: int, height: int) -> QImage:
        """The surface rendered offscreen at width x height with its title, the α and β axis titles and the height's
        title where the axes are, and a colour bar of the values at the right."""
        t = self._theme
        fg, bg = QColor(t.foreground), QColor(t.background)
        title_font, label_font, tick_font = QFont(), QFont(), QFont()
        title_font.setPointSize(pt(TITLE_PT))
        label_font.setPointSize(pt(LABEL_PT))
        tick_font.setPointSize(pt(TICK_PT))
        top = round(QFontMetricsF(title_font).height() * 1.6)
        ticks = [f"{v:.3g}" for v in np.linspace(self._scale[0], self._scale[1], 5)] if self._alphas.size else []
        tick_width = max((QFontMetricsF(tick_font).horizontalAdvance(s) for s in ticks), default=0.0)
        bar_room = round(14 + 6 + tick_width + 8 + QFontMetricsF(label_font).height() + 10) if ticks else 0
        scene = QRectF(0, top, max(width - bar_room, 16), max(height - top, 16))
        for label in self.labels:  # drawn in 2-D below: GL text does not reach an offscreen render
            label.setVisible(False)
        try:
            rgba = np.ascontiguousarray(self.render_image(int(scene.width()), int(scene.height())))
        finally:
            for label in self.labels:
                label.setVisible(True)
        render = QImage(rgba.data, rgba.shape[1], rgba.shape[0], 4 * rgba.shape[1], QImage.Format.Format_RGBA8888)
        image = QImage(width, height, QImage.Format.Format_ARGB32)
        image.fill(bg)
        painter = QPainter(image)
        try:
            painter.setRenderHints(QPainter.RenderHint.Antialiasing | QPainter.RenderHint.TextAntialiasing)
            painter.drawImage(scene.topLeft(), render)
            painter.setPen(fg)
            painter.setFont(title_font)
            painter.drawText(QRectF(0, 0, width, top), Qt.AlignmentFlag.AlignCenter, "Loss landscape")
            self.figure_labels = []
            if self._alphas.size:
                self._draw_axis_titles(painter, scene, label_font, fg, bg)
                self._draw_colour_bar(painter, QRectF(scene.right(), top, bar_room, scene.height()), ticks,
                                      tick_font, label_font, fg)
        finally:
            painter.end()
        return image

    def _draw_axis_titles(self, painter: QPainter, scene: QRectF, font: QFont, fg: QColor, bg: QColor) -> None:
        """The α, β and height titles at their anchors' places on the render, on a box of the background, kept
        inside the render."""
        where = self.project(self._anchors, int(scene.width()), int(scene.height()))
        metrics = QFontMetricsF(font)
        box = QColor(bg)
        box.setAlphaF(0.8)
        painter.setFont(font)
        for text, (x, y) in zip((*self._axis_titles, self._value_title), where):
            w, h = metrics.horizontalAdvance(text) + 8, metrics.height() + 2
            left = min(max(scene.left() + x - w / 2, scene.left() + 2), scene.right() - w - 2)
            top = min(max(scene.top() + y - h / 2, scene.top() + 2), scene.bottom() - h - 2)
            rect = QRectF(left, top, w, h)
            painter.fillRect(rect, box)
            painter.setPen(fg)
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
            self.figure_labels.append((text, rect))

    def _draw_colour_bar(self, painter: QPainter, room: QRectF, ticks: list[str], tick_font: QFont,
                         label_font: QFont, fg: QColor) -> None:
        """The colour map from the lowest to the highest value, its ticks and the values' title (rotated)."""
        bar = QRectF(room.left() + 6, room.top() + room.height() * 0.1, 14, room.height() * 0.8)
        gradient = QLinearGradient(bar.bottomLeft(), bar.topLeft())
        cmap = pg.colormap.get(COLORMAP)
        for stop in np.linspace(0, 1, 11):
            gradient.setColorAt(float(stop), cmap.map(float(stop), mode="qcolor"))
        painter.fillRect(bar, gradient)
        painter.setPen(fg)
        painter.drawRect(bar)
        painter.setFont(tick_font)
        metrics = QFontMetricsF(tick_font)
        for k, text in enumerate(ticks):
            y = bar.bottom() - k / (len(ticks) - 1) * bar.height()
            painter.drawLine(QPointF(bar.right(), y), QPointF(bar.right() + 4, y))
            painter.drawText(QPointF(bar.right() + 6, y + metrics.ascent() / 2 - 1), text)
        painter.setFont(label_font)
        height = QFontMetricsF(label_font).height()
        painter.save()
        painter.translate(room.right() - 6, bar.center().y())
        painter.rotate(-90)
        rect = QRectF(-bar.height() / 2, -height, bar.height(), height)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, self._value_title)
        painter.restore()
        self.figure_labels.append((self._value_title + " (colour bar)", QRectF(room.right() - 6 - height, bar.top(),
                                                                             height, bar.height())))
