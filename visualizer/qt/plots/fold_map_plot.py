"""Which samples each fold trains and validates on, as scikit-learn's plot_cv_indices draws it."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtWidgets import QWidget

from visualizer.qt.plots._folds import UNUSED, _fold_ticks, _rgba, _swatch
from visualizer.qt.plots._style import CLASS_COLORS, get_theme, style_legend, style_plot

#: train and validation cells in colours of their own (slate and magenta): the class row below uses the class
#: palette, whose first two colours are orange and blue, and one legend lists both
MEMBERSHIP_COLORS = {"light": ("#4f5d75", "#d1307a"), "dark": ("#a3b1c6", "#ff5ca8"),
                     "contrast": ("#c8c8c8", "#ff2d95")}

class FoldMapPlot(pg.GraphicsLayoutWidget):
    """One row per fold (fold 1 at the top), one column per sample in its original order, coloured train,
    validation or unused; below, a row with each sample's class (like scikit-learn's plot_cv_indices)."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)  # keep our clear(), not the layout's
        self.setObjectName("foldMapPlot")
        self._theme = get_theme(theme)
        self._membership = np.zeros((0, 0), dtype=np.int8)  # 0 unused, 1 train, 2 validation
        self._classes: np.ndarray | None = None
        self._class_names: list[str] = []
        self._highlight: int | None = None
        self.ci.setContentsMargins(6, 4, 12, 6)

        self.legend = pg.LegendItem(horSpacing=6, colCount=4)
        self.ci.addItem(self.legend, row=0, col=0)
        self.plot: pg.PlotItem = self.ci.addPlot(row=1, col=0)
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.invertY(True)
        self.plot.getAxis("left").setWidth(54)
        self.fold_image = pg.ImageItem(axisOrder="row-major")
        self.class_image = pg.ImageItem(axisOrder="row-major")
        self.outline = pg.PlotDataItem()
        self.outline.setZValue(10)
        for item in (self.fold_image, self.class_image, self.outline):
            self.plot.addItem(item)
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        """Name of the current theme."""
        return self._theme.name

    @property
    def membership(self) -> np.ndarray:
        """(folds, samples): 0 unused, 1 train, 2 validation."""
        return self._membership.copy()

    @property
    def highlighted(self) -> int | None:
        """Index (0 = fold 1) of the outlined fold, or None."""
        return self._highlight

    @property
    def colors(self) -> dict[str, np.ndarray]:
        """RGBA of "train", "validation" and "unused" cells in the current theme."""
        t = self._theme
        train, validation = MEMBERSHIP_COLORS[t.name]
        return {"train": _rgba(train), "validation": _rgba(validation), "unused": _rgba(UNUSED[t.name])}

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light" or "dark" theme."""
        self._theme = get_theme(theme)
        self.setBackground(self._theme.background)
        style_plot(self.plot, self._theme, title="Fold membership", bottom="sample index", left="fold",
                   grid=False)
        self.outline.setPen(pg.mkPen(self._theme.foreground, width=2.5))
        self.legend.setLabelTextColor(self._theme.foreground)
        self._draw()

    def set_folds(self, n_samples: int, folds: list[tuple[np.ndarray, np.ndarray]], y: np.ndarray | None = None,
                  class_names: list[str] | None = None) -> None:
        """Show each fold's (train indices, validation indices) over `n_samples`; `y` (class indices) and
        `class_names` add the class row."""
        membership = np.zeros((len(folds), int(n_samples)), dtype=np.int8)
        for row, (train, val) in enumerate(folds):
            membership[row, np.asarray(train, dtype=np.int64)] = 1
            membership[row, np.asarray(val, dtype=np.int64)] = 2
        self._membership = membership
        if y is not None and len(y) != n_samples:
            raise ValueError(f"{len(y)} classes for {n_samples} samples")
        self._classes = None if y is None else np.asarray(y, dtype=np.int64)
        k = int(self._classes.max()) + 1 if self._classes is not None and self._classes.size else 0
        self._class_names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
        if self._highlight is not None and self._highlight >= len(folds):
            self._highlight = None
        self._draw()

    def highlight(self, fold: int | None) -> None:
        """Outline the row of fold index `fold` (0 = fold 1), or none."""
        n = self._membership.shape[0]
        self._highlight = fold if fold is not None and 0 <= fold < n else None
        self._draw_outline()

    def clear(self) -> None:
        """Remove the map."""
        self.set_folds(0, [])

    # --- internals ----------------------------------------------------------------------------------
    def _draw(self) -> None:
        n_folds, n = self._membership.shape
        colors = self.colors
        table = np.stack([colors["unused"], colors["train"], colors["validation"]])
        if n_folds and n:
            self.fold_image.setImage(table[self._membership], autoLevels=False)
            self.fold_image.setRect(QRectF(-0.5, 0.5, n, n_folds))
            self.fold_image.show()
        else:
            self.fold_image.clear()
        has_classes = self._classes is not None and n > 0
        gap = max(0.3, 0.04 * n_folds)  # rows are tiny for leave-one-out: keep the class row visible
        class_height = max(1.0, 0.06 * n_folds)
        if has_classes:
            palette = np.stack([_rgba(c) for c in CLASS_COLORS])
            self.class_image.setImage(palette[self._classes % len(CLASS_COLORS)][None, :, :], autoLevels=False)
            self.class_image.setRect(QRectF(-0.5, n_folds + 0.5 + gap, n, class_height))
            self.class_image.show()
        else:
            self.class_image.clear()
        ticks = _fold_ticks(n_folds) if n_folds else []
        if has_classes:
            ticks.append((n_folds + 0.5 + gap + class_height / 2, "class"))
        self.plot.getAxis("left").setTicks([ticks, []])
        bottom = n_folds + 0.5 + (gap + class_height if has_classes else 0.0)
        self.plot.setRange(xRange=(-0.5, max(n, 1) - 0.5), yRange=(0.5, max(bottom, 1.5)), padding=0.01)
        self._fill_legend(has_classes, bool((self._membership == 0).any()))
        self._draw_outline()

    def _draw_outline(self) -> None:
        n_folds, n = self._membership.shape
        if self._highlight is None or not n:
            self.outline.setData([], [])
            return
        top, bottom = self._highlight + 0.5, self._highlight + 1.5
        self.outline.setData([-0.5, n - 0.5, n - 0.5, -0.5, -0.5], [top, top, bottom, bottom, top])

    def _fill_legend(self, has_classes: bool, has_unused: bool) -> None:
        t = self._theme
        train, validation = MEMBERSHIP_COLORS[t.name]
        entries = [(train, "train"), (validation, "validation")]
        if has_unused:
            entries.append((UNUSED[t.name], "unused"))
        if has_classes:
            entries += [(CLASS_COLORS[i % len(CLASS_COLORS)], f"class {name}")
                        for i, name in enumerate(self._class_names)]
        self.legend.clear()
        self.legend.setColumnCount(min(len(entries), 6))
        for color, name in entries:
            self.legend.addItem(_swatch(color), name)
        style_legend(self.legend, t)
        self.legend.setPen(pg.mkPen(None))
        self.legend.setBrush(pg.mkBrush(None))


