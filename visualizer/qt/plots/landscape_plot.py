"""The loss landscape in a 2-D plane: a heatmap with contour lines and a colour bar, and the optimizer's path."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._style import (
    LABEL_PT,
    TICK_PT,
    font,
    get_theme,
    keep_axis_title_inside,
    line,
    pt,
    px,
    style_legend,
    style_plot,
    style_text,
)
from visualizer.qt.plots.landscape_marks import LandscapeMarks

COLORMAP = "viridis"
N_CONTOURS = 12
DEFAULT_AXIS_LABELS = ("α (direction 1)", "β (direction 2)")
PATH_COLOR = "#ffffff"
PATH_SHADOW = "#000000b0"
START_COLOR = "#ffffff"
END_COLOR = "#ff3b30"
CURRENT_COLOR = "#ff9f0a"
CONTOUR_COLOR = "#ffffff70"
COMPARE_COLOR = "#00e5ff"


def opengl_unavailable() -> str:
    """Why a 3-D view cannot be shown here ('' when it can)."""
    from PySide6.QtGui import QGuiApplication

    platform = QGuiApplication.platformName()
    if platform in ("offscreen", "minimal"):
        return f"the '{platform}' Qt platform has no OpenGL"
    try:
        import OpenGL.GL  # noqa: F401
    except Exception as exc:  # PyOpenGL missing or no libGL
        return f"PyOpenGL cannot load ({type(exc).__name__}: {exc})"
    return ""


def bilinear(alphas: np.ndarray, betas: np.ndarray, values: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Bilinear interpolation of values[i, j] (at betas[i], alphas[j]) at (T, 2) points (α, β); NaN outside."""
    alphas, betas = np.asarray(alphas, np.float64), np.asarray(betas, np.float64)
    values = np.asarray(values, np.float64)
    pts = np.atleast_2d(np.asarray(points, np.float64))
    out = np.full(len(pts), np.nan)
    if alphas.size < 2 or betas.size < 2 or len(pts) == 0:
        return out
    a, b = pts[:, 0], pts[:, 1]
    inside = (a >= alphas[0]) & (a <= alphas[-1]) & (b >= betas[0]) & (b <= betas[-1])
    j = np.clip(np.searchsorted(alphas, a, side="right") - 1, 0, alphas.size - 2)
    i = np.clip(np.searchsorted(betas, b, side="right") - 1, 0, betas.size - 2)
    ta = (a - alphas[j]) / (alphas[j + 1] - alphas[j])
    tb = (b - betas[i]) / (betas[i + 1] - betas[i])
    v = (values[i, j] * (1 - ta) * (1 - tb) + values[i, j + 1] * ta * (1 - tb)
         + values[i + 1, j] * (1 - ta) * tb + values[i + 1, j + 1] * ta * tb)
    out[inside] = v[inside]
    return out


def contour_levels(lo: float, hi: float, n: int = N_CONTOURS) -> np.ndarray:
    """`n` evenly spaced levels strictly between `lo` and `hi` (none when the range is empty)."""
    if not (np.isfinite(lo) and np.isfinite(hi)) or hi <= lo:
        return np.zeros(0)
    return np.linspace(lo, hi, n + 2)[1:-1]



class LandscapePlot(LandscapeMarks, pg.GraphicsLayoutWidget):
    """Loss over a plane of weights (x = α, y = β) as a heatmap with contours and a colour bar, with the
    trajectory projected onto the plane: a polyline with start (circle), current (diamond) and end (square; drawn
    larger, beneath the current marker, so that both show when the current point is the last)."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)  # keep our clear(), not the layout's
        self.setObjectName("landscapePlot")
        self._theme = get_theme(theme)
        self._alphas = np.zeros(0)
        self._betas = np.zeros(0)
        self._loss = np.zeros((0, 0))
        self._log = False
        self._value_name = "loss"
        self._axis_labels: tuple[str, str] = DEFAULT_AXIS_LABELS
        self._levels = np.zeros(0)
        self._points = np.zeros((0, 2))
        self._current: int | None = None
        self.ci.setContentsMargins(6, 6, 6, 6)

        self.plot: pg.PlotItem = self.addPlot()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.getAxis("left").setWidth(56)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.contours: list[pg.IsocurveItem] = []  # pooled: children of the image, hidden when unused
        self.colorbar = pg.ColorBarItem(interactive=False, width=14, colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.colorbar.axis.enableAutoSIPrefix(False)  # "log₁₀ loss (x0.001)" with ticks of ±600 misleads
        self.colorbar.setColorMap(pg.colormap.get(COLORMAP))

        self.path = pg.PlotDataItem(pen=pg.mkPen(PATH_COLOR, width=2),
                                    shadowPen=pg.mkPen(PATH_SHADOW, width=4.5), name="trajectory")
        self.start_marker = pg.ScatterPlotItem(symbol="o", size=11, brush=pg.mkBrush(START_COLOR),
                                               pen=pg.mkPen("#000000", width=1.5), name="start")
        self.current_marker = pg.ScatterPlotItem(symbol="d", size=11, brush=pg.mkBrush(CURRENT_COLOR),
                                                 pen=pg.mkPen("#000000", width=1.5), name="current")
        self.end_marker = pg.ScatterPlotItem(symbol="s", size=16, brush=pg.mkBrush(END_COLOR),
                                             pen=pg.mkPen("#000000", width=1.5), name="end")
        for z, item in enumerate((self.path, self.start_marker, self.end_marker, self.current_marker)):
            item.setZValue(20 + z)
            self.plot.addItem(item)
        self.legend = pg.LegendItem(offset=(-8, 8), horSpacing=6, colCount=2)
        self.legend.setParentItem(self.plot.getViewBox())
        self.legend.setZValue(40)
        for item, name in ((self.path, "trajectory"), (self.start_marker, "start"),
                           (self.current_marker, "current"), (self.end_marker, "end")):
            self.legend.addItem(item, name)  # filled once: shown only with a trajectory
        # a compared run's path (the replay window's comparison), dashed, named at its end; hidden when unused
        self.compare_path = pg.PlotDataItem(pen=pg.mkPen(COMPARE_COLOR, width=2, style=Qt.PenStyle.DashLine),
                                            shadowPen=pg.mkPen(PATH_SHADOW, width=4))
        self.compare_label = pg.TextItem(anchor=(0.5, -0.3), color="#ffffff", fill=pg.mkBrush("#000000a0"))
        for item in (self.compare_path, self.compare_label):
            item.setZValue(19)
            self.plot.addItem(item)
            item.hide()
        self.marks: list[tuple[pg.ScatterPlotItem, pg.TextItem]] = []  # pooled labelled markers
        self._marks: list[tuple[str, float, float]] = []
        self.compared: tuple[str, np.ndarray] | None = None
        self.plot.vb.sigResized.connect(self._place_labels)
        self.plot.vb.sigRangeChanged.connect(self._place_labels)
        self.clear()
        self.set_theme(theme)

    # --- public API -------------------------------------------------------------------------
    @property
    def theme(self) -> str:
        """Name of the current theme."""
        return self._theme.name

    @property
    def log_scale(self) -> bool:
        """Whether colours and contours show log₁₀ of the loss."""
        return self._log

    @property
    def levels(self) -> np.ndarray:
        """Contour levels, in the image's units (log₁₀ loss on a log scale)."""
        return self._levels.copy()

    @property
    def trajectory(self) -> np.ndarray:
        """The (T, 2) points drawn."""
        return self._points.copy()

    @property
    def current(self) -> int | None:
        """Index of the point marked current, or None without a trajectory."""
        return self._current

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light" or "dark" theme (the colour map is the same in both)."""
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        style_plot(self.plot, t, title="Loss landscape", bottom=self._axis_labels[0], left=self._axis_labels[1],
                   grid=False)
        bar = self.colorbar
        for name in ("left", "right", "top", "bottom"):
            axis = bar.getAxis(name)
            axis.setPen(pg.mkPen(t.foreground, width=1))
            axis.setTextPen(pg.mkPen(t.foreground))
        bar.axis.setStyle(tickFont=font(TICK_PT), tickTextOffset=3)
        bar.axis.setWidth(px(48))
        self._label_colorbar()
        self.path.setPen(pg.mkPen(PATH_COLOR, width=line(2)))
        self.path.setShadowPen(pg.mkPen(PATH_SHADOW, width=line(4.5)))
        for marker, size in ((self.start_marker, 11), (self.current_marker, 11), (self.end_marker, 16)):
            marker.setSize(px(size))
        style_legend(self.legend, t)  # after the markers: its samples are drawn at their size
        for text in (self.compare_label, *(text for _dot, text in self.marks)):
            style_text(text, t, color="#ffffff")  # white on its own dark box, whatever the theme
        for dot, _text in self.marks:
            dot.setSize(px(14))
        self._place_labels()

    def set_surface(self, alphas: np.ndarray, betas: np.ndarray, loss: np.ndarray, log_scale: bool = False,
                    axis_labels: Sequence[str] = DEFAULT_AXIS_LABELS, value_name: str = "loss") -> None:
        """Show `loss` (len(betas), len(alphas); row i at betas[i]) over the evenly spaced grid `alphas` x `betas`,
        as log₁₀ of the loss when `log_scale` (non-positive values are clipped to the smallest positive one);
        `value_name` titles the colour bar (e.g. "accuracy")."""
        alphas = np.asarray(alphas, dtype=np.float64).ravel()
        betas = np.asarray(betas, dtype=np.float64).ravel()
        loss = np.asarray(loss, dtype=np.float64)
        if loss.shape != (betas.size, alphas.size):
            raise ValueError(f"loss has shape {loss.shape}; expected (len(betas), len(alphas)) = "
                             f"({betas.size}, {alphas.size})")
        if len(axis_labels) != 2:
            raise ValueError("axis_labels needs two titles (α axis, β axis)")
        self._alphas, self._betas, self._loss, self._log = alphas, betas, loss, bool(log_scale)
        self._value_name = str(value_name)
        self._axis_labels = (str(axis_labels[0]), str(axis_labels[1]))
        style_plot(self.plot, self._theme, bottom=self._axis_labels[0], left=self._axis_labels[1], grid=False)
        self._label_colorbar()
        self._draw_surface()
        self._fit_range()

    def set_trajectory(self, points: np.ndarray, current: int | None = -1) -> None:
        """Draw the (T, 2) path in plane coordinates; point `current` (default: the last; None: none, the run has
        ended) gets its own marker."""
        points = np.asarray(points, dtype=np.float64)
        if points.size == 0:
            points = np.zeros((0, 2))
        if points.ndim != 2 or points.shape[1] != 2:
            raise ValueError(f"trajectory has shape {points.shape}; expected (T, 2)")
        self._points = points
        n = len(points)
        if n:
            self.path.setData(points[:, 0], points[:, 1])
            self.start_marker.setData(points[:1, 0], points[:1, 1])
            self.end_marker.setData(points[-1:, 0], points[-1:, 1])
        else:
            self.path.setData([], [])
            self.start_marker.setData([], [])
            self.end_marker.setData([], [])
        self.set_current(current)
        self._fill_legend()
        self._fit_range()

    def set_current(self, index: int | None) -> None:
        """Mark trajectory point `index` (negative counts from the end; clamped to the path) as current; None: no
        current point (a finished run: its end marker says where it stopped)."""
        n = len(self._points)
        if not n or index is None:
            self._current = None
            self.current_marker.setData([], [])
            return
        index = int(index)
        if index < 0:
            index += n
        self._current = min(max(index, 0), n - 1)
        p = self._points[self._current]
        self.current_marker.setData([p[0]], [p[1]])

    def clear(self) -> None:
        """Remove the surface and the trajectory."""
        self._alphas, self._betas, self._loss = np.zeros(0), np.zeros(0), np.zeros((0, 0))
        self._draw_surface()
        self.set_trajectory(np.zeros((0, 2)))

    # --- internals ----------------------------------------------------------------------------------
    def _values(self) -> np.ndarray:
        loss = self._loss
        if not self._log or loss.size == 0:
            return loss
        positive = loss[np.isfinite(loss) & (loss > 0)]
        floor = positive.min() if positive.size else 1.0
        return np.log10(np.maximum(np.where(np.isfinite(loss), loss, floor), floor))

    def _label_colorbar(self) -> None:
        t = self._theme
        name = self._value_name
        self.colorbar.axis.setLabel(f"log₁₀ {name}" if self._log else name, color=t.foreground,
                                    **{"font-size": f"{pt(LABEL_PT)}pt"})
        keep_axis_title_inside(self.colorbar.axis, pt(LABEL_PT))

    def _grid_rect(self) -> QRectF | None:
        a, b = self._alphas, self._betas
        if a.size == 0 or b.size == 0:
            return None
        da = (a[-1] - a[0]) / (a.size - 1) if a.size > 1 else 1.0
        db = (b[-1] - b[0]) / (b.size - 1) if b.size > 1 else 1.0
        # pixel centres on the grid points: half a cell beyond each edge
        return QRectF(a[0] - da / 2, b[0] - db / 2, da * a.size, db * b.size)

    def _draw_surface(self) -> None:
        values = self._values()
        rect = self._grid_rect()
        finite = values[np.isfinite(values)] if values.size else values
        if rect is None or finite.size == 0:
            self.image.clear()
            self._levels = np.zeros(0)
            for curve in self.contours:
                curve.hide()
            return
        lo, hi = float(finite.min()), float(finite.max())
        if hi <= lo:
            hi = lo + 1.0
        self.image.setImage(values, autoLevels=False)
        self.image.setRect(rect)
        self.image.show()
        self.colorbar.setLevels((lo, hi))
        self._levels = contour_levels(float(finite.min()), float(finite.max()))
        while len(self.contours) < len(self._levels):
            curve = pg.IsocurveItem(pen=pg.mkPen(CONTOUR_COLOR, width=1), axisOrder="row-major")
            curve.setParentItem(self.image)  # isocurve points sit at pixel centres, as the image's pixels do
            curve.setZValue(5)
            self.contours.append(curve)
        for i, curve in enumerate(self.contours):
            if i < len(self._levels):
                curve.setData(values, level=float(self._levels[i]))
                curve.show()
            else:
                curve.hide()

    def _fit_range(self) -> None:
        """The grid, the path and the labelled markers in view (a marker off the grid with a margin: it is drawn
        whole)."""
        rect = self._grid_rect()
        if rect is None:
            return
        margin = 0.04 * max(rect.width(), rect.height())
        marks = np.array([(a, b) for _label, a, b in self._marks]).reshape(-1, 2)
        marks = marks[np.all(np.isfinite(marks), axis=1)]
        x0, x1, y0, y1 = rect.left(), rect.right(), rect.top(), rect.bottom()
        for points, pad in ((self._points.reshape(-1, 2), 0.0), (marks, margin)):
            if len(points):
                x0, x1 = min(x0, points[:, 0].min() - pad), max(x1, points[:, 0].max() + pad)
                y0, y1 = min(y0, points[:, 1].min() - pad), max(y1, points[:, 1].max() + pad)
        self.plot.setRange(xRange=(x0, x1), yRange=(y0, y1), padding=0.0)

    def _fill_legend(self) -> None:
        self.legend.setVisible(bool(len(self._points)))
