"""The network as TensorFlow Playground draws it: a column of nodes per layer, edges coloured by weight sign, and
(for 2-D sets) each node filled with its picture over the input plane; click a node for its large view, hover an
edge for its weight and click it to set it (``edges``: qt/widgets/edge_picking.py)."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtGui import QColor, QFontMetrics
from PySide6.QtWidgets import QGraphicsView, QWidget

from visualizer.qt.plots._style import CLASS_COLORS, TICK_PT, font, get_theme, line, style_text
from visualizer.qt.widgets.edge_picking import EdgePicker
from visualizer.qt.widgets.neuron_pictures import NeuronDetail, NodePictures, picture_levels, picture_map

MAX_NODES = 16  # nodes drawn per column; a wider layer shows its first MAX_NODES and "… +N"
MAX_OUTPUT_NAMES = 10  # output class names are written beside the outputs only when this few
MAX_NAME_CHARS = 12
NEGATIVE, POSITIVE = CLASS_COLORS[0], CLASS_COLORS[1]  # TF Playground's orange and blue
NEUTRAL = {"light": "#b0b4ba", "dark": "#5f636a", "contrast": "#8a8a8a"}  # edges before any weight is known
# |w| / (the layer's max |w|) falls in one of these buckets; each bucket is one item per sign.
BUCKET_ALPHA = (0.22, 0.42, 0.68, 0.95)
BUCKET_WIDTH = (0.6, 1.0, 1.6, 2.4)
SPREAD = 3.0  # a narrow column's nodes are at most this many times further apart than a full column's
GAP_PX = 6  # between a node and its label
PICTURE_SIZE = 0.3  # the largest side of a neuron's picture (columns are 1 apart)


def _short(name: str) -> str:
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


class NetworkView(pg.GraphicsLayoutWidget):
    """A multilayer perceptron's nodes and weights; set_weights recolours the edges without rebuilding items.

    Every edge of the network lives in one of 1 + 2 x 4 PlotCurveItems (connect="pairs"): a grey one while
    the weights are unknown, then one per sign and magnitude bucket, so a redraw is nine setData calls.
    """

    max_nodes = MAX_NODES

    def __init__(self, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        self.setObjectName("networkView")
        # its edges span the view: painting it whole is ~2x faster than the region pyqtgraph would update
        # (antialiased paths clipped to a part of the view; measured 8.5-9 vs 14-15 ms a live repaint)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.FullViewportUpdate)
        self._theme = get_theme(theme)
        self.ci.setContentsMargins(4, 4, 4, 4)
        self.view: pg.ViewBox = self.addViewBox(enableMouse=False, enableMenu=False)
        self.view.setAspectLocked(True)
        self.view.sigResized.connect(self._on_resized)
        self.neutral_edges = pg.PlotCurveItem(connect="pairs", antialias=True)
        self.edge_items = [pg.PlotCurveItem(connect="pairs", antialias=True) for _ in range(2 * len(BUCKET_ALPHA))]
        for z, item in enumerate([self.neutral_edges, *self.edge_items]):
            item.setZValue(z % len(BUCKET_ALPHA))  # stronger buckets on top
            self.view.addItem(item)
        self.nodes = pg.ScatterPlotItem(pxMode=False, hoverable=True, tip=lambda x, y, data: data)
        self.nodes.setZValue(10)
        self.view.addItem(self.nodes)
        self.nodes.sigClicked.connect(self._on_node_clicked)
        self.node_pictures = NodePictures(self.view)
        self.detail: NeuronDetail | None = None  # the large view of a clicked neuron
        self._tips: list[str] = []
        self.legend = pg.TextItem(anchor=(0.5, 0))
        self.view.addItem(self.legend)
        self.texts: list[pg.TextItem] = []
        self._sizes: list[int] = []
        self._edge_key = np.empty(0, dtype=np.int64)  # bucket item of each edge (-1: not drawn)
        self._edge_start: list[int] = []  # first edge of each layer in the flat arrays
        self._has_weights = False
        self._legend_lines = 0
        self.edges = EdgePicker(self)  # hover an edge for its weight, click it to set it
        self.set_architecture([2, 2], [], ["x1", "x2"], ["0", "1"])
        self.set_theme(theme)

    # --- public API -------------------------------------------------------------------------
    @property
    def theme(self) -> str:
        """Name of the current theme."""
        return self._theme.name

    @property
    def layer_sizes(self) -> list[int]:
        """Widths of every layer, input first."""
        return list(self._sizes)

    @property
    def node_count(self) -> int:
        """Nodes drawn (at most MAX_NODES per layer)."""
        return len(self._node_xy)

    @property
    def edge_count(self) -> int:
        """Edges drawn (between the nodes drawn)."""
        return len(self._edge_key)

    def set_theme(self, theme: str) -> None:
        """Restyle for a theme ("light", "dark", "contrast") and the current font scale: colours, the labels' fonts
        and the room the drawing leaves for them."""
        t = self._theme = get_theme(theme)
        self.setBackground(t.background)
        self.neutral_edges.setPen(pg.mkPen(NEUTRAL[t.name], width=line(1.0)))
        for sign, color in enumerate((NEGATIVE, POSITIVE)):
            for bucket, (alpha, width) in enumerate(zip(BUCKET_ALPHA, BUCKET_WIDTH)):
                c = QColor(color)
                c.setAlphaF(alpha)
                self.edge_items[sign * len(BUCKET_ALPHA) + bucket].setPen(pg.mkPen(c, width=line(width)))
        self.nodes.setPen(pg.mkPen(t.foreground, width=line(1.2)))
        self.nodes.setBrush(pg.mkBrush(t.background) if self.node_pictures.pictures is None else pg.mkBrush(None))
        self.node_pictures.set_theme(t)
        if self.detail is not None:
            self.detail.set_theme(t.name)
        for text in self.texts:
            style_text(text, t, bold=text.textItem.font().bold())
        self.legend.setFont(font(TICK_PT))
        self._legend_lines = 0  # written for the theme by the next _on_resized
        self._on_resized()

    def set_architecture(
        self, layer_sizes: list[int], activations: list[str], input_names: list[str], output_names: list[str],
        maps: list[bool] | None = None,
    ) -> None:
        """Redraw for layers of `layer_sizes` (input first); edges stay grey until set_weights.

        `activations` names each hidden layer's activation (one more, for the output, is accepted and not shown).
        `maps` marks the columns of feature maps (convolutions): drawn as squares, one per map (channel).
        """
        sizes = [int(s) for s in layer_sizes]
        if len(sizes) < 2 or min(sizes) < 1:
            raise ValueError(f"need an input and an output layer of positive widths, got {layer_sizes}")
        hidden = len(sizes) - 2
        if len(activations) not in (hidden, hidden + 1):
            raise ValueError(f"{len(activations)} activations for {hidden} hidden layers")
        self._sizes = sizes
        shown = [min(s, MAX_NODES) for s in sizes]
        column_slots = [n + (1 if size > n else 0) for n, size in zip(shown, sizes)]  # a slot for "… +N"
        slots = max(column_slots)
        self._dy = dy = min(0.62 * (len(sizes) - 1) / max(slots - 1, 1), 0.3)
        diameter = min(0.68 * dy, 0.16)
        # Narrower columns spread out (up to 3x the spacing) and each column is centred vertically.
        self._column_dy = [min(dy * (slots - 1) / max(k - 1, 1), SPREAD * dy) for k in column_slots]
        self._tops = [(k - 1) / 2 * cdy for k, cdy in zip(column_slots, self._column_dy)]
        columns = [np.column_stack([np.full(n, float(x)), top - np.arange(n) * cdy])
                   for x, (n, top, cdy) in enumerate(zip(shown, self._tops, self._column_dy))]
        self._node_xy = np.concatenate(columns)
        maps = list(maps) if maps is not None and len(maps) == len(sizes) else [False] * len(sizes)
        self._maps = maps
        last = len(sizes) - 1
        unit = lambda li: "feature map" if maps[li] else "neuron"
        names = lambda li, k: (input_names[k] if li == 0 and k < len(input_names) else
                               output_names[k] if li == last and k < len(output_names) else f"{unit(li)} {k + 1}")
        kinds = lambda li: ("input" if li == 0 else "output" if li == last else
                            f"layer {li} ({activations[li - 1]})" if activations[li - 1] else f"layer {li}")
        tips = [f"{'input' if li == 0 else 'output' if li == last else f'layer {li}'}, {unit(li)} {k + 1}"
                for li, n in enumerate(shown) for k in range(n)]
        self._tips = tips
        self._titles = [f"{kinds(li)}: {names(li, k)}" for li, n in enumerate(shown) for k in range(n)]
        symbols = ["s" if maps[li] else "o" for li, n in enumerate(shown) for _ in range(n)]
        self.nodes.setData(pos=self._node_xy, size=diameter, data=tips, symbol=symbols, brush=pg.mkBrush(
            self._theme.background))
        self._picture_size = min(0.9 * dy, PICTURE_SIZE)  # pictures are larger than the empty circles
        self.node_pictures.place(self._node_xy, [(li, k) for li, n in enumerate(shown) for k in range(n)],
                                 self._picture_size)

        ex, ey, self._edge_start = [], [], []
        for a, b in zip(columns[:-1], columns[1:]):
            self._edge_start.append(sum(len(x) for x in ex))
            src = np.broadcast_to(a[None, :, :], (len(b), len(a), 2))  # (out, in) order, as nn.Linear.weight
            dst = np.broadcast_to(b[:, None, :], (len(b), len(a), 2))
            pairs = np.stack([src, dst], axis=2).reshape(-1, 2, 2)  # (edges, endpoint, xy)
            ex.append(pairs[:, :, 0])
            ey.append(pairs[:, :, 1])
        self._edges_x, self._edges_y = np.concatenate(ex), np.concatenate(ey)
        self._edge_key = np.full(len(self._edges_x), -1, dtype=np.int64)
        self.neutral_edges.setData(x=self._edges_x.ravel(), y=self._edges_y.ravel())
        self.neutral_edges.setVisible(True)
        for item in self.edge_items:
            item.setData(x=np.empty(0), y=np.empty(0))
        self._has_weights, self.edges.weights = False, None
        self._label(sizes, shown, activations, input_names, output_names, slots, self._picture_size)
        self._on_resized()

    def set_weights(self, weights: list[np.ndarray]) -> bool:
        """Colour the edges by sign and |w| relative to each layer's max |w|; one (out, in) matrix per layer.

        Returns False (and draws nothing) when the shapes do not match the architecture.
        """
        sizes = self._sizes
        if len(weights) != len(sizes) - 1:
            return False
        mats = [np.asarray(w) for w in weights]
        if any(m.shape != (b, a) for m, a, b in zip(mats, sizes[:-1], sizes[1:])):
            return False
        keys = []
        levels = len(BUCKET_ALPHA)
        for m in mats:
            m = np.nan_to_num(np.asarray(m, dtype=float), nan=0.0, posinf=0.0, neginf=0.0)
            top = float(np.abs(m).max()) if m.size else 0.0
            w = m[:MAX_NODES, :MAX_NODES].ravel()
            rel = np.abs(w) / top if top > 0 else np.zeros_like(w)
            bucket = np.minimum((rel * levels).astype(np.int64), levels - 1)
            key = np.where(w > 0, levels, 0) + bucket
            keys.append(np.where(w == 0, -1, key))  # exact zeros (pruned weights) are not drawn
        self._edge_key = np.concatenate(keys)
        order = np.argsort(self._edge_key, kind="stable")
        bounds = np.searchsorted(self._edge_key[order], np.arange(len(self.edge_items) + 1))
        for k, item in enumerate(self.edge_items):
            idx = order[bounds[k]: bounds[k + 1]]
            item.setData(x=self._edges_x[idx].ravel(), y=self._edges_y[idx].ravel())
        self.neutral_edges.setVisible(False)
        self._has_weights, self.edges.weights = True, mats
        return True

    def set_pictures(self, pictures, task: str = "classification") -> bool:
        """Fill the nodes with their pictures (core.model.neurons.NeuronPictures; its first layers only, such as
        the inputs before a run, leave the others empty); False (nothing drawn) when they do not fit. Pictures
        are for the neurons of a 2-D set's network: a drawing with feature maps (an image set's) takes none."""
        sizes = self._sizes
        if any(self._maps) or len(pictures.layers) > len(sizes) or any(
                layer.shape[0] != size for layer, size in zip(pictures.layers, sizes)):
            return False
        self.node_pictures.draw(pictures, task, len(sizes) - 1)
        self.nodes.setData(pos=self._node_xy, size=self._picture_size, data=self._tips, symbol="s",
                           brush=pg.mkBrush(None))
        if self.detail is not None and self.detail.isVisible() and self.detail.node is not None:
            self._show_detail(*self.detail.node)
        return True

    @property
    def has_pictures(self) -> bool:
        """Whether the nodes show pictures."""
        return self.node_pictures.pictures is not None

    def open_neuron(self, layer: int, neuron: int) -> NeuronDetail | None:
        """Open the large view of one drawn neuron (as a click on it does); None while it has no picture."""
        pictures = self.node_pictures.pictures
        if pictures is None or layer >= len(pictures.layers) or neuron >= min(self._sizes[layer], MAX_NODES):
            return None
        if self.detail is None:
            self.detail = NeuronDetail(self, self._theme.name)
        self._show_detail(layer, neuron)
        self.detail.show()
        return self.detail

    def _show_detail(self, layer: int, neuron: int) -> None:
        pictures = self.node_pictures.pictures
        if layer >= len(pictures.layers):
            return
        values = pictures.layers[layer][neuron]
        index = sum(min(s, MAX_NODES) for s in self._sizes[:layer]) + neuron
        output, task = layer == len(self._sizes) - 1, self.node_pictures.task
        levels = picture_levels(values, output, task)
        cmap = lambda theme: picture_map(theme, output, task, self._sizes[-1], neuron)  # noqa: E731
        self.detail.show_neuron((layer, neuron), self._titles[index], pictures.xs, pictures.ys, values, levels, cmap)

    def _on_node_clicked(self, _item, points, _event=None) -> None:
        if len(points):
            self.open_neuron(*self.node_pictures.nodes[int(points[0].index())])

    def edge_color(self, layer: int, out: int, inp: int) -> QColor | None:
        """Colour drawn for the weight from input `inp` to output `out` of Linear layer `layer` (0-based).

        None when that edge is not drawn (a hidden node, or a zero weight).
        """
        shown_in = min(self._sizes[layer], MAX_NODES)
        if out >= MAX_NODES or inp >= shown_in:
            return None
        index = self._edge_start[layer] + out * shown_in + inp
        if not self._has_weights:
            return self.neutral_edges.opts["pen"].color()
        key = int(self._edge_key[index])
        return None if key < 0 else self.edge_items[key].opts["pen"].color()

    # --- internals --------------------------------------------------------------------------
    def _label(self, sizes, shown, activations, input_names, output_names, slots, diameter) -> None:
        for text in self.texts:
            self.view.removeItem(text)
        self.texts = []
        top, last = (slots - 1) / 2 * self._dy, len(sizes) - 1
        tops, cdy = self._tops, self._column_dy
        margin = diameter / 2

        def add(text: str, x: float, y: float, anchor: tuple[float, float], bold: bool = False) -> pg.TextItem:
            item = pg.TextItem(text, color=self._theme.foreground, anchor=anchor)
            item.setFont(font(TICK_PT, bold=bold))
            item.setPos(x, y)
            self.view.addItem(item)
            self.texts.append(item)
            return item

        for li, size in enumerate(sizes):
            title = f"input {size}" if li == 0 else f"output {size}" if li == last else f"{size} {activations[li - 1]}"
            if li == 0 and self._maps[0]:
                title = "input image" if size == 1 else f"input {size} maps"
            add(title, li, top + margin, (0.5, 1.0), bold=True)
            if size > shown[li]:
                add(f"… +{size - shown[li]}", li, tops[li] - shown[li] * cdy[li], (0.5, 0.5))
        self._left = [add(_short(name), -margin, tops[0] - k * cdy[0], (1.0, 0.5)) for k, name in
                      enumerate(input_names[: shown[0]])]
        self._right = []
        if sizes[-1] <= MAX_OUTPUT_NAMES:
            self._right = [add(_short(name), last + margin, tops[-1] - k * cdy[-1], (0.0, 0.5)) for k, name in
                           enumerate(output_names[: shown[-1]])]
        self._bounds = (-margin, last + margin, -top - margin, top + margin)

    def _write_legend(self, lines: int) -> None:
        """"weight ━ positive ━ negative" on one line, or two when the view is narrow; the words in the text colour,
        only the line samples in the weights' colours (readable on any background)."""
        if lines == self._legend_lines:
            return
        self._legend_lines = lines
        fg, gap = self._theme.foreground, "<br>" if lines == 2 else "&nbsp;&nbsp;"
        self.legend.setHtml(f'<div style="color:{fg}; text-align:center">weight <span style="color:{POSITIVE}">━'
                            f'</span> positive{gap}<span style="color:{NEGATIVE}">━</span> negative</div>')

    def _on_resized(self, *_args) -> None:
        """Fit the drawing with room in pixels for the labels around it (they do not scale with the view); layer
        titles too wide for the space between columns alternate between two rows."""
        rect = self.view.rect()
        if rect.width() < 20 or rect.height() < 20:
            return
        metrics = QFontMetrics(font(TICK_PT))
        bold = QFontMetrics(font(TICK_PT, bold=True))
        width = lambda items: max((metrics.horizontalAdvance(t.textItem.toPlainText()) for t in items), default=0)
        titles = [t for t in self.texts if t.anchor.y() == 1.0]
        title_px = [bold.horizontalAdvance(t.textItem.toPlainText()) for t in titles]
        left = max(width(self._left) + GAP_PX, title_px[0] / 2 + 4) + 4
        right = max(width(self._right) + GAP_PX, title_px[-1] / 2 + 4) + 4
        one_line = metrics.horizontalAdvance("weight ━ positive  ━ negative") + 12 <= rect.width()
        self._write_legend(1 if one_line else 2)
        bottom = self._legend_lines * metrics.height() + 10
        x0, x1, y0, y1 = self._bounds

        def fit(rows: int) -> float:
            top = rows * bold.height() + 6
            s = min((rect.width() - left - right) / max(x1 - x0, 1e-9), (rect.height() - top - bottom) / (y1 - y0))
            return max(s, 1.0), top

        scale, top = fit(1)
        crowded = any((a + b) / 2 + GAP_PX > scale for a, b in zip(title_px, title_px[1:]))
        if crowded:
            scale, top = fit(2)
        for k, title in enumerate(titles):
            raised = crowded and k % 2 == 0
            title.setPos(title.pos().x(), y1 + (bold.height() / scale if raised else 0.0))
        self.view.setRange(xRange=(x0 - left / scale, x1 + right / scale),
                           yRange=(y0 - bottom / scale, y1 + top / scale), padding=0)
        self.legend.setPos((x0 + x1) / 2, y0 - 4 / scale)
        for names, x in ((self._left, x0 - GAP_PX / scale), (self._right, x1 + GAP_PX / scale)):
            for text in names:
                text.setPos(x, text.pos().y())
        # Names closer than a line of text apart: write only every `every`-th (always the first).
        for names, cdy in ((self._left, self._column_dy[0]), (self._right, self._column_dy[-1])):
            every = int(np.ceil(metrics.height() / max(cdy * scale, 1e-9)))
            for k, text in enumerate(names):
                text.setVisible(k % every == 0)
