"""The edges of the network drawing under the mouse: hover one for its weight (from the latest snapshot), click one
to set it by hand (the window asks for the value and sends it to the run). Only a dense layer's edges are its
weights; an edge into or out of a column of feature maps sums a kernel, and is not editable."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, QPointF, Qt, Signal

#: how close (in pixels) the mouse must be to an edge's line to pick it
PICK_PX = 4.0


def distances(p: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Distance from point ``p`` to each segment (x[:, 0], y[:, 0]) – (x[:, 1], y[:, 1])."""
    a = np.stack([x[:, 0], y[:, 0]], axis=1)
    d = np.stack([x[:, 1] - x[:, 0], y[:, 1] - y[:, 0]], axis=1)
    t = np.clip(((p - a) * d).sum(axis=1) / np.maximum((d * d).sum(axis=1), 1e-18), 0.0, 1.0)
    return np.hypot(*(a + t[:, None] * d - p).T)


class EdgePicker(QObject):
    """Hover and click on the edges of a NetworkView: ``tip`` is the text shown for the edge under the mouse ('' when
    none), ``clicked(layer, target, source)`` is emitted for a click on an editable edge (0-based: weighted layer,
    its neuron, its input)."""

    clicked = Signal(int, int, int)

    def __init__(self, net) -> None:
        super().__init__(net)
        self.net = net
        self.tip = ""
        self.weights: list[np.ndarray] | None = None  # one (out, in) matrix per column pair, the latest drawn
        net.scene().sigMouseMoved.connect(self._on_moved)
        net.scene().sigMouseClicked.connect(self._on_clicked)

    def editable(self, layer: int) -> bool:
        """Whether the edges of column pair ``layer`` are weights (a dense layer on flat inputs)."""
        maps = self.net._maps
        return not maps[layer] and not maps[layer + 1]

    def weight(self, layer: int, target: int, source: int) -> float | None:
        """The drawn weight of an edge (None before the first snapshot)."""
        if self.weights is None or layer >= len(self.weights):
            return None
        return float(self.weights[layer][target, source])

    def edge_at(self, view_pos: QPointF) -> tuple[int, int, int] | None:
        """(layer, target, source) of the edge under ``view_pos`` (the drawing's coordinates), or None: off every
        edge, or on a node (a node's own tooltip and click win there)."""
        net = self.net
        if not len(net._edge_key):
            return None
        p = np.array([view_pos.x(), view_pos.y()])
        pixel = max(net.view.viewPixelSize()[0], 1e-9)
        if np.hypot(*(net._node_xy - p).T).min() <= net._picture_size / 2 + pixel:
            return None
        d = distances(p, net._edges_x, net._edges_y)
        best = int(np.argmin(d))
        if d[best] > PICK_PX * pixel:
            return None
        layer = int(np.searchsorted(net._edge_start, best, side="right")) - 1
        shown_in = min(net._sizes[layer], net.max_nodes)
        target, source = divmod(best - net._edge_start[layer], shown_in)
        return layer, target, source

    def tip_for(self, layer: int, target: int, source: int) -> str:
        """What hovering an edge says: where it goes, its weight, and whether a click sets it."""
        start = sum(min(s, self.net.max_nodes) for s in self.net._sizes[:layer])
        shown_in = min(self.net._sizes[layer], self.net.max_nodes)
        src, dst = self.net._titles[start + source], self.net._titles[start + shown_in + target]
        if not self.editable(layer):
            return f"{src} → {dst}\nthe sum of a kernel's weights: not editable by hand (only dense layers' are)"
        w = self.weight(layer, target, source)
        value = "not known before the first step" if w is None else f"{w:.4g}"
        return f"{src} → {dst}\nweight {value}\nclick to set it"

    def _on_moved(self, scene_pos) -> None:
        """The edge under the mouse becomes the drawing's tooltip (the scene shows it: the topmost item with one;
        the nodes keep theirs)."""
        edge = self.edge_at(self.net.view.mapSceneToView(scene_pos))
        tip = self.tip_for(*edge) if edge is not None else ""
        if tip != self.tip:
            self.net.view.setToolTip(tip)
            self.tip = tip

    def _on_clicked(self, event) -> None:
        if event.button() != Qt.MouseButton.LeftButton:
            return
        edge = self.edge_at(self.net.view.mapSceneToView(event.scenePos()))
        if edge is not None and self.editable(edge[0]):
            self.clicked.emit(*edge)
