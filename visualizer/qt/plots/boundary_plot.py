"""What the model predicts over the input plane (2-D classification) or line (1-D regression).

As in TensorFlow Playground the class colours fill the whole plot (the view is the grid's rectangle, no margins) and
the data points are small with a thin outline, so that the boundary stays visible where it bends; the points can be
hidden, and the shading by confidence can be replaced by the winning class's colour alone ("discretize output")."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._style import CLASS_COLORS, get_theme, line, px, style_legend, style_plot
from visualizer.qt.plots.confusion_plot import ConfusionMatrixPlot

__all__ = ["ConfusionMatrixPlot", "DecisionBoundaryPlot", "probability_image"]

HEATMAP_STRENGTH = 0.62  # how far a fully confident pixel moves from the background to the class colour
_PALETTE = np.array([pg.mkColor(c).getRgb()[:3] for c in CLASS_COLORS], dtype=float)
_LEGEND_GREY = "#9aa0a6"
TRAIN_POINT_PX = 5  # TensorFlow Playground's points are about this small: the heatmap shows between them
VALIDATION_POINT_PX = 7  # a triangle of the same area looks smaller than a circle
OUTLINE_PX = 0.6


def _rgb(color: str) -> np.ndarray:
    return np.array(pg.mkColor(color).getRgb()[:3], dtype=float)


def probability_image(probs: np.ndarray, background: str, discrete: bool = False) -> np.ndarray:
    """RGBA uint8 image (ny, nx, 4) for class probabilities (ny, nx, k).

    k == 2: diverging orange (class 0) - background - blue (class 1) by P(class 1), as in
    TensorFlow Playground. k > 2: the argmax class's colour, stronger the more confident.
    ``discrete``: every pixel in its winning class's full colour, without the shading by confidence (a tie stays the
    background).
    """
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 3:
        raise ValueError(f"probs must have shape (ny, nx, k), got {probs.shape}")
    k = probs.shape[2]
    bg = _rgb(background)
    if k == 2:
        p1 = np.nan_to_num(probs[..., 1], nan=0.5)
        towards = np.where((p1 >= 0.5)[..., None], _PALETTE[1], _PALETTE[0])
        strength = np.abs(p1 - 0.5)[..., None] * 2.0
    else:
        winner = np.argmax(np.nan_to_num(probs, nan=0.0), axis=2)
        towards = _PALETTE[winner % len(_PALETTE)]
        p_max = np.nan_to_num(np.max(probs, axis=2), nan=0.0)
        chance = 1.0 / max(k, 1)
        strength = np.clip((p_max - chance) / max(1.0 - chance, 1e-9), 0.0, 1.0)[..., None]
    if discrete:
        strength = (strength > 0).astype(float)
    rgb = bg + (towards - bg) * strength * HEATMAP_STRENGTH
    rgba = np.empty(probs.shape[:2] + (4,), dtype=np.uint8)
    rgba[..., :3] = np.clip(np.rint(rgb), 0, 255)
    rgba[..., 3] = 255
    return rgba


def _cell_rect(xs: np.ndarray, ys: np.ndarray) -> QRectF:
    """Rectangle whose pixel centres fall on the grid points (half a cell beyond each end)."""
    dx = (xs[-1] - xs[0]) / (xs.size - 1) if xs.size > 1 else 1.0
    dy = (ys[-1] - ys[0]) / (ys.size - 1) if ys.size > 1 else 1.0
    return QRectF(xs[0] - dx / 2, ys[0] - dy / 2, xs[-1] - xs[0] + dx, ys[-1] - ys[0] + dy)


class DecisionBoundaryPlot(pg.GraphicsLayoutWidget):
    """Class-probability heatmap with train/validation points, or a 1-D regression fit."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)  # keep our clear(), not the layout's
        self.setObjectName("boundaryPlot")
        self._theme = get_theme(theme)
        self._mode = "classification"
        self._probs: np.ndarray | None = None
        self._grid_rect: QRectF | None = None
        self._labels: dict[str, np.ndarray] = {}
        self._points_shown = True
        self._validation_shown = True  # Playground's "show test data"
        self._discrete = False

        self.plot: pg.PlotItem = self.addPlot()
        self.plot.hideButtons()
        self.plot.getAxis("left").setWidth(48)
        self.legend = self.plot.addLegend(offset=(-8, 8))
        self.legend.setVisible(False)  # shown with its first entry
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setZValue(-10)
        self.plot.addItem(self.image)
        self.curve = pg.PlotDataItem(antialias=True, connect="finite")
        self.curve.setZValue(5)
        self.plot.addItem(self.curve)
        self.train_points = pg.ScatterPlotItem(symbol="o", size=TRAIN_POINT_PX, antialias=True)
        self.val_points = pg.ScatterPlotItem(symbol="t", size=VALIDATION_POINT_PX, antialias=True)
        for points in (self.train_points, self.val_points):
            points.setZValue(10)
            self.plot.addItem(points)
        self._legend_names = {self.train_points: "train", self.val_points: "validation", self.curve: "model"}
        self.set_theme(theme)
        self._set_mode("classification")

    @property
    def theme(self) -> str:
        """Name of the current theme."""
        return self._theme.name

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light" or "dark" theme (the heatmap blends into the background)."""
        self._theme = get_theme(theme)
        self.setBackground(self._theme.background)
        style_plot(self.plot, self._theme, grid=self._mode == "regression")
        style_legend(self.legend, self._theme)
        self.curve.setPen(pg.mkPen(self._theme.model_curve, width=line(2.5)))
        self.train_points.setSize(px(TRAIN_POINT_PX))
        self.val_points.setSize(px(VALIDATION_POINT_PX))
        self._draw_image()
        self._paint_points()

    @property
    def mode(self) -> str:
        """"classification" (a heatmap of the classes) or "regression" (a fitted curve)."""
        return self._mode

    @property
    def points_shown(self) -> bool:
        """Whether the data points are drawn over the prediction."""
        return self._points_shown

    def set_points_shown(self, shown: bool) -> None:
        """Draw the data points, or hide them to see the whole prediction (the legend lists what is drawn)."""
        self._points_shown = bool(shown)
        self.train_points.setVisible(self._points_shown)
        self.val_points.setVisible(self._points_shown and self._validation_shown)
        self._sync_legend()

    def set_validation_shown(self, shown: bool) -> None:
        """Draw the validation points too, or the training points alone (TensorFlow Playground's "show test
        data")."""
        self._validation_shown = bool(shown)
        self.set_points_shown(self._points_shown)

    @property
    def discrete(self) -> bool:
        """Whether the heatmap shows only the winning class (no shading by confidence)."""
        return self._discrete

    def set_discrete(self, discrete: bool) -> None:
        """TensorFlow Playground's "discretize output": each pixel in its predicted class's colour, or shaded by how
        confident the prediction is (the default)."""
        self._discrete = bool(discrete)
        self._draw_image()

    def _draw_image(self) -> None:
        if self._probs is not None:
            self.image.setImage(probability_image(self._probs, self._theme.background, self._discrete),
                                autoLevels=False)

    def set_grid(self, xs: np.ndarray, ys: np.ndarray, probs: np.ndarray) -> None:
        """Heatmap of class probabilities `probs` (ny, nx, k) evaluated at grid points xs (nx,), ys (ny,)."""
        xs, ys = np.asarray(xs, dtype=float).ravel(), np.asarray(ys, dtype=float).ravel()
        probs = np.asarray(probs, dtype=float)
        if probs.ndim != 3 or probs.shape[:2] != (ys.size, xs.size):
            raise ValueError(f"probs has shape {probs.shape}; expected ({ys.size}, {xs.size}, k)")
        self._set_mode("classification")
        self._probs = probs
        self._draw_image()
        rect = _cell_rect(xs, ys)
        self.image.setRect(rect)
        self.image.show()
        if rect != self._grid_rect:  # full bleed: the view is the grid's rectangle, no margin around it
            self._grid_rect = rect
            self.plot.setRange(rect=rect, padding=0.0)

    def set_points(
        self,
        X_train: np.ndarray,
        y_train: np.ndarray,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
    ) -> None:
        """Scatter 2-D points coloured by class: train as circles, validation as triangles."""
        self._set_mode("classification")
        self._set_scatter(self.train_points, X_train, y_train, columns=2)
        self._set_scatter(self.val_points, X_val, y_val, columns=2)
        self._paint_points()

    def set_curve(
        self,
        x_grid: np.ndarray,
        y_pred: np.ndarray,
        X_train: np.ndarray,
        y_train: np.ndarray,
        X_val: np.ndarray | None = None,
        y_val: np.ndarray | None = None,
    ) -> None:
        """1-D regression: the model's prediction y_pred over x_grid, and the data points."""
        self._set_mode("regression")
        self._set_scatter(self.train_points, X_train, y_train, columns=1)
        self._set_scatter(self.val_points, X_val, y_val, columns=1)
        self.curve.setData(np.asarray(x_grid, dtype=float).ravel(), np.asarray(y_pred, dtype=float).ravel())
        self._paint_points()
        self._sync_legend()

    def clear(self) -> None:
        """Remove the heatmap, the curve and the points."""
        self._probs = None
        self._grid_rect = None
        self.image.clear()
        self.plot.enableAutoRange()
        self.curve.setData([], [])
        for points in (self.train_points, self.val_points):
            self._set_scatter(points, None, None, columns=2)

    # --- internals --------------------------------------------------------------------------
    def _set_mode(self, mode: str) -> None:
        if mode == self._mode and self.plot.getAxis("bottom").labelText:
            return
        self._mode = mode
        if mode == "classification":
            style_plot(
                self.plot,
                self._theme,
                title="Decision boundary",
                bottom="x₁ (standardised)",
                left="x₂ (standardised)",
                grid=False,
            )
            self.curve.setData([], [])
        else:
            style_plot(self.plot, self._theme, title="Model fit", bottom="x (standardised)", left="y")
            self._probs = None
            self._grid_rect = None
            self.image.clear()
            self.image.hide()
            self.plot.enableAutoRange()
        self._sync_legend()

    def _set_scatter(
        self,
        points: pg.ScatterPlotItem,
        X: np.ndarray | None,
        y: np.ndarray | None,
        columns: int,
    ) -> None:
        role = self._legend_names[points]
        if X is None or y is None or np.size(y) == 0:
            points.setData([], [])
            self._labels[role] = np.empty(0)
        else:
            y = np.asarray(y).ravel()
            X = np.asarray(X, dtype=float).reshape(y.size, -1)
            if X.shape[1] != columns:
                raise ValueError(f"expected {role} points with {columns} column(s), got shape {X.shape}")
            points.setData(X[:, 0], X[:, 1] if columns == 2 else y.astype(float))
            self._labels[role] = y
        self._sync_legend()

    def _paint_points(self) -> None:
        """Colour the points: by class when classifying, train/validation colours for regression."""
        t = self._theme
        for points, role_color in ((self.train_points, t.train), (self.val_points, t.validation)):
            labels = self._labels.get(self._legend_names[points], np.empty(0))
            if self._mode == "regression":
                points.setPen(pg.mkPen(t.background, width=1))
                points.setBrush(pg.mkBrush(role_color))
                continue
            # Default pen/brush is what the legend shows; each point gets its class colour, outlined thinly in the
            # background's colour so that neighbours stay apart without hiding the heatmap.
            points.setPen(pg.mkPen(t.background, width=line(OUTLINE_PX)))
            points.setBrush(pg.mkBrush(_LEGEND_GREY), update=False)
            if labels.size and labels.size == len(points.data):
                brushes = [pg.mkBrush(c) for c in CLASS_COLORS]
                points.setBrush([brushes[c] for c in labels.astype(int) % len(CLASS_COLORS)])

    def _sync_legend(self) -> None:
        """The legend lists the items drawn, in one order: train, validation (unless the points are hidden) and
        (regression) model."""
        wanted = []
        for item in self._legend_names:
            points = isinstance(item, pg.ScatterPlotItem)
            data = item.data if points else item.xData
            drawn = self._points_shown and (item is not self.val_points or self._validation_shown)
            if data is not None and len(data) > 0 and (drawn or not points):
                wanted.append(item)
        if [sample.item for sample, _label in self.legend.items] != wanted:
            self.legend.clear()
            for item in wanted:
                self.legend.addItem(item, self._legend_names[item])
        self.legend.setVisible(bool(wanted))  # (an empty box before the data teaches nothing)
