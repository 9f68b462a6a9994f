"""Neuron pictures in the network drawing, as TensorFlow Playground shows them: each drawn node filled with what it
computes over the input plane (core.model.neurons), orange below zero, blue above, pale near zero; and the large
view of one neuron with its value scale (click a node)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from visualizer.qt.plots._style import CLASS_COLORS, class_color, get_theme, style_plot

NEGATIVE, POSITIVE = CLASS_COLORS[0], CLASS_COLORS[1]


def diverging_map(theme) -> pg.ColorMap:
    """Orange (low) through the theme's background (middle) to blue (high): Playground's node colours."""
    return pg.ColorMap([0.0, 0.5, 1.0], [NEGATIVE, theme.background, POSITIVE])


def picture_map(theme, output: bool, task: str, outputs: int, k: int) -> pg.ColorMap:
    """The colours of one picture: an output of a classifier with one output per class goes from the background
    (probability 0) to its class's colour (1), as the decision boundary shades it; every other picture is
    diverging (a single logit's probability: orange class 0 below 0.5, blue class 1 above)."""
    if output and task == "classification" and outputs > 1:
        return pg.ColorMap([0.0, 1.0], [theme.background, class_color(k)])
    return diverging_map(theme)


def picture_levels(values: np.ndarray, output: bool, task: str) -> tuple[float, float]:
    """The value scale of one picture: 0 to 1 for a class probability, else symmetric about 0 (0 in the middle
    colour) out to the largest size it reaches."""
    if output and task == "classification":
        return 0.0, 1.0
    finite = np.abs(values[np.isfinite(values)])
    top = float(finite.max()) if finite.size else 1.0
    top = top if top > 0 else 1.0
    return -top, top


class NodePictures:
    """The ImageItems under the nodes of a NetworkView: one per drawn node, placed on its square."""

    def __init__(self, view: pg.ViewBox) -> None:
        self.view = view
        self._pool: list[pg.ImageItem] = []  # every item made, kept in the view
        self.items: list[pg.ImageItem] = []  # those of the current nodes
        self.rects: list[QRectF] = []  # each node's square
        self.nodes: list[tuple[int, int]] = []  # (layer, neuron) of each item
        self.pictures = None  # the last NeuronPictures drawn
        self.task = "classification"
        self.last = 1  # the output layer's index
        self.theme = get_theme("light")

    def set_theme(self, theme) -> None:
        self.theme = theme
        if self.pictures is not None:
            self.draw(self.pictures, self.task, self.last)

    def place(self, node_xy: np.ndarray, nodes: list[tuple[int, int]], diameter: float) -> None:
        """One hidden item per node at its position (a new architecture); the pictures come with draw. Items are
        pooled and reused, never deleted: deleting an item that was in the scene crashes PySide6 in a later paint
        (see HistogramPlot._rebuild)."""
        while len(self._pool) < len(nodes):
            item = pg.ImageItem(axisOrder="row-major")
            item.setZValue(9)
            self.view.addItem(item)
            self._pool.append(item)
        for item in self._pool:
            item.hide()
        self.items, self.nodes, self.pictures = self._pool[:len(nodes)], list(nodes), None
        half = diameter / 2
        self.rects = [QRectF(float(x) - half, float(y) - half, diameter, diameter) for x, y in node_xy]

    def draw(self, pictures, task: str, last: int) -> None:
        """Fill every node's item with its picture (the layers the pictures have; ``last`` is the output's)."""
        self.pictures, self.task, self.last = pictures, task, last
        for item, rect, (layer, k) in zip(self.items, self.rects, self.nodes):
            if layer >= len(pictures.layers):
                item.hide()
                continue
            values = pictures.layers[layer][k]
            cmap = picture_map(self.theme, layer == last, task, len(pictures.layers[-1]), k)
            item.setImage(values, levels=picture_levels(values, layer == last, task),
                          lut=cmap.getLookupTable(nPts=256), autoLevels=False)
            item.setRect(rect)  # after the image: the rect scales its pixels
            item.show()

    def clear(self) -> None:
        self.pictures = None
        for item in self.items:
            item.hide()


class NeuronDetail(QWidget):
    """The large view of one neuron's picture over the plane, with its value scale; follows the live pictures."""

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("neuronDetail")
        self.setWindowTitle("Neuron")
        self.resize(460, 400)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.canvas = pg.GraphicsLayoutWidget()
        self.canvas.setToolTip("What the neuron computes at each point of the input plane (x1, x2 standardised); "
                               "the bar is its value scale.")
        layout.addWidget(self.canvas)
        self.plot: pg.PlotItem = self.canvas.addPlot()
        self.plot.hideButtons()
        self.plot.setMenuEnabled(False)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colorbar = pg.ColorBarItem(interactive=False, width=14, colorMapMenu=False)
        self.colorbar.setImageItem(self.image, insert_in=self.plot)
        self.node: tuple[int, int] | None = None
        self.title = ""
        self.cmap = diverging_map  # the shown neuron's colours, as a function of the theme
        self.set_theme(theme)

    def set_theme(self, theme: str) -> None:
        self._theme = t = get_theme(theme)
        self.canvas.setBackground(t.background)
        style_plot(self.plot, t, title=self.title, bottom="x1 (standardised)", left="x2 (standardised)")
        self.colorbar.setColorMap(self.cmap(t))

    def show_neuron(self, node: tuple[int, int], title: str, xs: np.ndarray, ys: np.ndarray, values: np.ndarray,
                    levels: tuple[float, float], cmap=None) -> None:
        """Draw ``values`` (len(ys), len(xs)) over the grid with its value scale ``levels`` in the colours ``cmap``
        (a function of the theme; default: diverging)."""
        self.node, self.title = node, title
        self.cmap = cmap or diverging_map
        self.colorbar.setColorMap(self.cmap(self._theme))
        self.setWindowTitle(title)
        style_plot(self.plot, self._theme, title=title, bottom="x1 (standardised)", left="x2 (standardised)")
        dx = (xs[-1] - xs[0]) / max(len(xs) - 1, 1)
        dy = (ys[-1] - ys[0]) / max(len(ys) - 1, 1)
        rect = QRectF(xs[0] - dx / 2, ys[0] - dy / 2, dx * len(xs), dy * len(ys))
        self.image.setImage(values, autoLevels=False)
        self.image.setRect(rect)
        self.colorbar.setLevels(levels)
        self.plot.setRange(rect=rect, padding=0)
