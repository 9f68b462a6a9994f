"""Confusion matrix: a heatmap (one image, however many classes) with the count written in each cell while the
cells are large enough to read it."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QGraphicsItem, QWidget

from visualizer.qt.plots._style import LABEL_PT, TICK_PT, font, get_theme, readable_on, style_plot

MAX_TICK_CHARS = 10
MIN_TICK_CHARS = 6  # names under the matrix are shortened down to this many characters before classes are skipped
#: counts are written in the cells up to this many classes (k² text items: 300 classes took minutes to draw);
#: beyond, the colours alone show the matrix
MAX_TEXT_CLASSES = 40
#: at most this many class names on each axis (every n-th class beyond)
MAX_TICK_LABELS = 30
CELL_PADDING_PX = 4


def _short(name: str, chars: int = MAX_TICK_CHARS) -> str:
    return name if len(name) <= chars else name[: chars - 1] + "…"


def _cell_point_size(k: int) -> int:
    return 13 if k <= 4 else 11 if k <= 8 else 9 if k <= 14 else 7


def tick_labels(names: list[str], step: int = 1, chars: int = MAX_TICK_CHARS) -> list[tuple[int, str]]:
    """(class index, name shortened to ``chars``) of every ``step``-th class, and of every n-th one at least so that
    there are at most MAX_TICK_LABELS."""
    step = max(step, -(-len(names) // MAX_TICK_LABELS) if names else 1)
    return [(i, _short(names[i], chars)) for i in range(0, len(names), step)]


class ConfusionMatrixPlot(pg.GraphicsLayoutWidget):
    """Rows are true classes, columns predicted classes; colour is the row fraction (recall). The counts are
    written in the cells (up to MAX_TEXT_CLASSES classes) while a cell is large enough to hold them."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        vars(self).pop("clear", None)  # keep our clear(), not the layout's
        self.setObjectName("confusionPlot")
        self._theme = get_theme(theme)
        self._matrix = np.zeros((0, 0), dtype=int)
        self._names: list[str] = []
        self._title = "Confusion matrix"
        self.texts: list[pg.TextItem] = []

        self.plot: pg.PlotItem = self.addPlot()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.invertY(True)
        self.plot.setAspectLocked(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.plot.vb.sigResized.connect(self._fit_to_size)
        self.set_theme(theme)

    @property
    def theme(self) -> str:
        """Name of the current theme."""
        return self._theme.name

    @property
    def matrix(self) -> np.ndarray:
        """The counts shown (k, k)."""
        return self._matrix.copy()

    def set_theme(self, theme: str) -> None:
        """Restyle for the "light" or "dark" theme."""
        self._theme = get_theme(theme)
        self.setBackground(self._theme.background)
        style_plot(self.plot, self._theme, title=self._title, bottom="predicted class", left="true class", grid=False)
        lut = np.linspace(
            pg.mkColor(self._theme.background).getRgb()[:3], pg.mkColor(self._theme.train).getRgb()[:3], 256
        )
        self.image.setLookupTable(np.clip(np.rint(lut), 0, 255).astype(np.uint8))
        self._colours: dict[int, str] = {}  # the counts' colour per lookup-table entry (_text_colour)
        if self._names:  # the counts' fonts and the axis room for the class names follow the font scale
            self._laid_out = None
            for text in self.texts:
                text.setFont(font(_cell_point_size(len(self._names))))
            self.set_matrix(self._matrix, self._names)
        self._update_texts()

    def set_matrix(self, matrix: np.ndarray, class_names: list[str] | None = None, title: str | None = None) -> None:
        """Show counts `matrix` (k, k): row = true class, column = predicted class."""
        matrix = np.asarray(matrix)
        if matrix.ndim != 2 or matrix.shape[0] != matrix.shape[1]:
            raise ValueError(f"a confusion matrix must be square, got shape {matrix.shape}")
        k = matrix.shape[0]
        names = list(class_names) if class_names is not None else [str(i) for i in range(k)]
        if len(names) != k:
            raise ValueError(f"{len(names)} class names for a {k}x{k} matrix")
        if title is not None and title != self._title:  # (restyling took ~3 ms a live round)
            self._title = title
            style_plot(self.plot, self._theme, title=title, grid=False)
        self._matrix = matrix.astype(np.int64)
        self._names = names
        rows = self._matrix.sum(axis=1, keepdims=True)
        fraction = np.divide(self._matrix, rows, out=np.zeros(self._matrix.shape), where=rows > 0)
        self.image.setImage(fraction, levels=(0.0, 1.0))
        self.image.setRect(QRectF(-0.5, -0.5, k, k))
        if (names, k) != getattr(self, "_laid_out", None):  # axes are costly to lay out: only when they change
            self._laid_out = (names, k)
            self._tick_steps = None
            ticks = [tick_labels(names)]
            # Reserve room for the longest name: the automatic width lets it run into the axis title.
            metrics = QFontMetrics(font(TICK_PT))
            widest = max((metrics.horizontalAdvance(label) for _pos, label in ticks[0]), default=0)
            self.plot.getAxis("left").setWidth(widest + 2 * LABEL_PT + 20)
            self.plot.setRange(xRange=(-0.5, k - 0.5), yRange=(-0.5, k - 0.5), padding=0)
        wanted = k * k if k <= MAX_TEXT_CLASSES else 0
        if len(self.texts) != wanted:
            for text in self.texts:
                self.plot.removeItem(text)
            self.texts = [pg.TextItem(anchor=(0.5, 0.5)) for _ in range(wanted)]
            for index, text in enumerate(self.texts):
                text.setPos(index % k, index // k)
                text.setFont(font(_cell_point_size(k)))
                # painted from a pixmap until its count or colour changes: the view is fixed, the counts are many
                text.textItem.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)
                self.plot.addItem(text)
        self._update_texts()
        self._fit_to_size()

    @property
    def counts_shown(self) -> bool:
        """Whether the counts are written in the cells (enough room, and not too many classes)."""
        return bool(self.texts) and self.texts[0].isVisible()

    def _fit_to_size(self) -> None:
        """Name only as many classes on each axis as fit side by side, and write the counts only while the widest
        one fits in a cell, at the current size."""
        k = self._matrix.shape[0]
        rect = self.plot.vb.boundingRect()
        cell = min(rect.width(), rect.height()) / k if k else 0.0
        self._fit_ticks(cell)
        if not self.texts or len(self.texts) != self._matrix.size:  # none, or hidden by clear
            return
        metrics = QFontMetrics(font(_cell_point_size(k)))
        need = max(metrics.horizontalAdvance(str(int(self._matrix.max()))), metrics.height()) + CELL_PADDING_PX
        visible = cell >= need
        if self.texts[0].isVisible() != visible:
            for text in self.texts:
                text.setVisible(visible)

    def _fit_ticks(self, cell: float) -> None:
        """Class names on each axis that do not overlap at ``cell`` pixels a class: under the matrix shortened
        first (down to MIN_TICK_CHARS), then only every n-th class; beside it every n-th row."""
        if not self._names:
            return
        metrics = QFontMetrics(font(TICK_PT))
        bottom, chars, left = 1, MAX_TICK_CHARS, 1
        if cell > 0:  # else not laid out yet: every class (up to MAX_TICK_LABELS)
            options = []  # (step, -chars): the fewest skipped classes, then the longest names
            for n in range(MAX_TICK_CHARS, MIN_TICK_CHARS - 1, -1):
                short = [_short(name, n) for name in self._names]
                if n < MAX_TICK_CHARS and len(set(short)) < len(short):  # "class…" for every class says nothing
                    break
                widest = max(metrics.horizontalAdvance(name) for name in short)
                options.append((math.ceil((widest + 6) / cell), -n))
            bottom, chars = min(options)
            chars = -chars
            left = math.ceil((metrics.height() + 2) / cell)
        if (bottom, chars, left) != getattr(self, "_tick_steps", None):
            self._tick_steps = (bottom, chars, left)
            self.plot.getAxis("bottom").setTicks([tick_labels(self._names, bottom, chars)])
            self.plot.getAxis("left").setTicks([tick_labels(self._names, left)])

    def clear(self) -> None:
        """Remove the matrix. Its count texts are hidden and kept for the next matrix of as many classes (making a
        hundred of them took ~90 ms of a run's first frames)."""
        for text in self.texts:
            text.setVisible(False)
        self._matrix = np.zeros((0, 0), dtype=int)
        self._names = []
        self.image.clear()

    def prepare(self, class_names: list[str]) -> None:
        """Lay out a matrix of these classes ahead of its first counts (e.g. while the window waits for Train)."""
        k = len(class_names)
        self.set_matrix(np.zeros((k, k), dtype=np.int64), class_names)

    def _text_colour(self, index: int) -> str:
        """The count's colour on the cell of lookup-table entry ``index``, worked out once per entry of the theme's
        table (a hundred contrast calculations at every live round held the GUI thread ~4 ms)."""
        colour = self._colours.get(index)
        if colour is None:
            cell = QColor(*(int(v) for v in self.image.lut[index][:3]))
            colour = self._colours[index] = readable_on(cell, (self._theme.foreground, "#000000", "#ffffff"))
        return colour

    def _update_texts(self) -> None:
        """Write each count, light on dark cells and dark on light ones."""
        if not self.texts or len(self.texts) != self._matrix.size:  # (none, or hidden by clear)
            return
        rows = self._matrix.sum(axis=1, keepdims=True)
        fraction = np.divide(self._matrix, rows, out=np.zeros(self._matrix.shape), where=rows > 0)
        lut = self.image.lut
        # each count in the colour that reads best on its cell (the cell's colour from the image's lookup table)
        for text, count, frac in zip(self.texts, self._matrix.ravel(), fraction.ravel(), strict=True):
            shown = (str(int(count)), self._text_colour(round(float(frac) * (len(lut) - 1))))
            if getattr(text, "shown", None) != shown:  # (a live run changes a few counts a snapshot, not all)
                text.shown = shown
                text.setText(*shown)
