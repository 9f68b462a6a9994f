"""NetworkView draws every (capped) node and edge, and colours edges by the sign and size of their weight."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import time

import numpy as np
import pytest
from PySide6.QtGui import QColor, QImage

from visualizer.qt.plots import export_widget
from visualizer.qt.widgets import NetworkView
from visualizer.qt.widgets import network_view as nv


@pytest.fixture
def view(qtbot) -> NetworkView:
    widget = NetworkView()
    qtbot.addWidget(widget)
    widget.set_architecture([2, 16, 16, 2], ["tanh", "tanh"], ["x1", "x2"], ["class 0", "class 1"])
    return widget


def _weights(sizes: list[int], seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(b, a)) for a, b in zip(sizes[:-1], sizes[1:])]


def _texts(view: NetworkView) -> list[str]:
    return [t.textItem.toPlainText() for t in view.texts]


def _segments(item) -> set[tuple[float, float, float, float]]:
    x, y = item.xData, item.yData
    if x is None:
        return set()
    return {tuple(np.round([x[i], y[i], x[i + 1], y[i + 1]], 9)) for i in range(0, len(x), 2)}


def test_counts_and_labels_match_the_architecture(view):
    assert view.objectName() == "networkView"
    assert view.node_count == 2 + 16 + 16 + 2
    assert view.edge_count == 2 * 16 + 16 * 16 + 16 * 2
    assert len(_segments(view.neutral_edges)) == view.edge_count
    texts = _texts(view)
    for label in ("input 2", "16 tanh", "output 2", "x1", "x2", "class 0", "class 1"):
        assert label in texts
    assert texts.count("16 tanh") == 2
    assert not any(t.startswith("…") for t in texts)


def test_big_layers_are_capped_with_a_count_of_the_rest(view):
    view.set_architecture([64, 128, 128, 10], ["relu", "relu"], [f"f{i}" for i in range(64)], list("abcdefghij"))
    cap = nv.MAX_NODES
    assert view.layer_sizes == [64, 128, 128, 10]
    assert view.node_count == 3 * cap + 10
    assert view.edge_count == cap * cap * 2 + cap * 10
    texts = _texts(view)
    assert "… +48" in texts and texts.count("… +112") == 2
    assert "f15" in texts and "f16" not in texts and "j" in texts
    assert view.set_weights(_weights([64, 128, 128, 10]))
    drawn = sum(len(_segments(item)) for item in view.edge_items)
    assert drawn == view.edge_count


def test_edges_are_grey_until_weights_then_coloured_by_sign(view):
    grey = view.edge_color(0, 0, 0)
    assert grey is not None and grey.name() == QColor(nv.NEUTRAL["light"]).name()
    weights = _weights([2, 16, 16, 2])
    weights[0][0, 0], weights[0][1, 0] = 5.0, -5.0  # input 0 -> hidden 0 positive, input 0 -> hidden 1 negative
    assert view.set_weights(weights)
    assert not view.neutral_edges.isVisible()
    assert view.edge_color(0, 0, 0).name() == QColor(nv.POSITIVE).name()
    assert view.edge_color(0, 1, 0).name() == QColor(nv.NEGATIVE).name()
    # The positive edge is drawn by a blue item between the right nodes: input 0 (x=0) to hidden 0 (x=1).
    x_in, y_in = view._node_xy[0]
    x_out, y_out = view._node_xy[2]
    segment = tuple(np.round([x_in, y_in, x_out, y_out], 9))
    holders = [k for k, item in enumerate(view.edge_items) if segment in _segments(item)]
    assert holders == [len(nv.BUCKET_ALPHA) * 2 - 1]  # the strongest positive bucket: it is the layer's max |w|
    # Signs of every drawn edge agree with the weights.
    for out in range(16):
        for inp in range(2):
            w = weights[0][out, inp]
            assert view.edge_color(0, out, inp).name() == QColor(nv.POSITIVE if w > 0 else nv.NEGATIVE).name()


def test_larger_weights_are_more_opaque_and_zero_weights_vanish(view):
    weights = [np.zeros((16, 2)), np.zeros((16, 16)), np.zeros((2, 16))]
    weights[0][0, 0], weights[0][1, 0] = 1.0, 0.1
    assert view.set_weights(weights)
    strong, weak = view.edge_color(0, 0, 0), view.edge_color(0, 1, 0)
    assert strong.alphaF() > weak.alphaF()
    assert view.edge_color(0, 2, 0) is None  # a pruned (zero) weight is not drawn
    assert sum(len(_segments(item)) for item in view.edge_items) == 2


def test_wrong_shapes_are_refused_and_change_nothing(view):
    good = _weights([2, 16, 16, 2])
    assert view.set_weights(good)
    before = [item.xData.copy() if item.xData is not None else None for item in view.edge_items]
    assert view.set_weights([w.T for w in good]) is False  # (in, out) instead of (out, in)
    assert view.set_weights(good[:2]) is False
    assert view.set_weights(_weights([2, 8, 2])) is False
    after = [item.xData for item in view.edge_items]
    for b, a in zip(before, after):
        assert (b is None and a is None) or np.array_equal(b, a)


def test_bad_architecture_raises(view):
    with pytest.raises(ValueError, match="positive"):
        view.set_architecture([2, 0, 2], ["tanh"], ["x1", "x2"], ["a", "b"])
    with pytest.raises(ValueError, match="activations"):
        view.set_architecture([2, 8, 8, 2], ["tanh"], ["x1", "x2"], ["a", "b"])


def test_tooltips_name_layer_and_neuron(view):
    tips = [p.data() for p in view.nodes.points()]
    assert tips[0] == "input, neuron 1"
    assert tips[2 + 4] == "layer 1, neuron 5"
    assert tips[-1] == "output, neuron 2"


def test_set_weights_is_fast(view):
    for sizes, budget in (([2, 16, 16, 2], 0.005), ([64, 128, 128, 10], 0.015)):
        view.set_architecture(sizes, ["tanh", "tanh"], [f"x{i}" for i in range(sizes[0])], [str(i) for i in range(2)])
        weights = _weights(sizes)
        times = []
        for _ in range(20):
            start = time.perf_counter()
            view.set_weights(weights)
            times.append(time.perf_counter() - start)
        assert np.median(times) < budget  # ~0.2-0.3 ms measured


@pytest.mark.parametrize("theme", ["light", "dark"])
def test_export_draws_the_network(view, tmp_path, theme):
    view.set_weights(_weights([2, 16, 16, 2]))
    path = export_widget(view, tmp_path / f"network_{theme}.png", 350, 250, theme=theme)
    image = QImage(str(path))
    assert (image.width(), image.height()) == (350, 250)
    colours = {QColor(image.pixel(x, y)).name() for x in range(0, 350, 3) for y in range(0, 250, 3)}
    assert len(colours) > 30
    assert view.theme == "light"  # the export's theme was temporary


def _pictures(sizes: list[int], n: int = 6, seed: int = 0):
    from visualizer.core.model.neurons import NeuronPictures

    rng = np.random.default_rng(seed)
    layers = [rng.normal(size=(s, n, n)).astype(np.float32) for s in sizes]
    layers[-1] = rng.uniform(size=(sizes[-1], n, n)).astype(np.float32)  # class probabilities
    return NeuronPictures(np.linspace(-2, 2, n), np.linspace(-1, 1, n), tuple(layers))


def test_every_drawn_node_shows_its_picture(view, qtbot):
    sizes = [2, 16, 16, 2]
    assert not view.has_pictures and not any(item.isVisible() for item in view.node_pictures.items)
    pictures = _pictures(sizes)
    assert view.set_pictures(pictures)
    assert len(view.node_pictures.items) == view.node_count == sum(sizes)
    for item, (layer, k) in zip(view.node_pictures.items, view.node_pictures.nodes):
        assert item.isVisible()
        np.testing.assert_array_equal(item.image, pictures.layers[layer][k])
        lo, hi = item.levels
        if layer == 3:  # an output's class probability, from the background to its class's colour
            assert (lo, hi) == (0.0, 1.0)
            assert tuple(item.lut[-1][:3]) == QColor(nv.CLASS_COLORS[k]).getRgb()[:3]
        else:
            assert lo == -hi == -np.abs(pictures.layers[layer][k]).max()  # symmetric: 0 in the middle colour
    # a picture sits on its node's square
    x, y = view._node_xy[20]
    rect = view.node_pictures.items[20].mapRectToParent(view.node_pictures.items[20].boundingRect())
    assert rect.center().x() == pytest.approx(x) and rect.center().y() == pytest.approx(y)
    assert not view.set_pictures(_pictures([2, 8, 2]))  # another architecture: refused


def test_inputs_alone_and_a_new_architecture_clear_the_pictures(view):
    from visualizer.core.model.neurons import NeuronPictures

    full = _pictures([2, 16, 16, 2])
    assert view.set_pictures(NeuronPictures(full.xs, full.ys, full.layers[:1]))
    assert [item.isVisible() for item in view.node_pictures.items[:3]] == [True, True, False]
    view.set_architecture([3, 4, 2], ["relu"], ["a", "b", "c"], ["0", "1"])
    assert not view.has_pictures and len(view.node_pictures.items) == 9


def test_clicking_a_neuron_opens_its_large_view_with_a_value_scale(view, qtbot):
    assert view.open_neuron(1, 0) is None  # no picture yet
    pictures = _pictures([2, 16, 16, 2])
    view.set_pictures(pictures)
    points = view.nodes.points()
    view._on_node_clicked(view.nodes, [points[2 + 16 + 3]])  # layer 2, neuron 4
    detail = view.detail
    assert detail is not None and detail.isVisible() and detail.node == (2, 3)
    qtbot.addWidget(detail)
    assert detail.windowTitle() == "layer 2 (tanh): neuron 4"
    np.testing.assert_array_equal(detail.image.image, pictures.layers[2][3])
    top = float(np.abs(pictures.layers[2][3]).max())
    assert detail.colorbar.levels() == pytest.approx((-top, top))
    newer = _pictures([2, 16, 16, 2], seed=1)
    view.set_pictures(newer)  # the open view follows the live pictures
    np.testing.assert_array_equal(detail.image.image, newer.layers[2][3])
    view.open_neuron(3, 1)
    assert detail.windowTitle() == "output: class 1" and detail.colorbar.levels() == (0.0, 1.0)


def test_feature_map_columns_are_squares_that_take_no_neuron_pictures(view):
    """A conv network's drawing (an image set: no plane) names its maps and refuses pictures; a dense drawing after
    it takes them again."""
    sizes = [1, 4, 8, 2]
    view.set_architecture(sizes, ["maps relu", ""], ["image 8×8"], ["0", "1"], [True, True, False, False])
    tips = [p.data() for p in view.nodes.points()]
    assert tips[:3] == ["input, feature map 1", "layer 1, feature map 1", "layer 1, feature map 2"]
    assert tips[5] == "layer 2, neuron 1"
    assert [p.symbol() for p in view.nodes.points()] == ["s"] * 5 + ["o"] * 10
    assert view._titles[1] == "layer 1 (maps relu): feature map 1" and view._titles[5] == "layer 2: neuron 1"
    assert not view.set_pictures(_pictures(sizes)) and not view.has_pictures
    assert view.open_neuron(1, 0) is None
    view.set_architecture([2, 4, 2], ["tanh"], ["x1", "x2"], ["0", "1"])
    assert view.set_pictures(_pictures([2, 4, 2])) and view.has_pictures
