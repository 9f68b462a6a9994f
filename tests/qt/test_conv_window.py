"""The digits CNN preset in the window: the drawing's feature-map columns, their live edges, the read-only layer list,
and the histograms of the conv layers while training."""

from __future__ import annotations

import numpy as np
import torch
from PySide6.QtWidgets import QAbstractButton, QComboBox, QLabel

from tests.qt.test_main_window import PRESETS, choose, find, last_step, make_window
from visualizer.core.model.columns import column_weights
from visualizer.core.model.nets import build_model, flat_parameters
from visualizer.core.session_model import FINISHED


def test_digits_cnn_preset_draws_feature_map_columns_and_trains(qtbot):
    window = make_window(qtbot, PRESETS / "digits_cnn.toml")
    try:
        view = window.network_view
        assert view.layer_sizes == [1, 32, 64, 10]  # the image, 32 maps, 64 neurons, 10 outputs
        assert view._maps == [True, True, False, False]
        titles = [t.textItem.toPlainText() for t in view.texts if t.anchor.y() == 1.0]
        assert titles[:2] == ["input image", "32 maps relu"]
        assert find(window, QLabel, "layerText_0").text() == "conv 32 3x3"
        assert not find(window, QAbstractButton, "addLayerButton").isEnabled()
        assert window.network_panel.paramCountLabel.text() == "Parameters: 19,466"
        window.acts.step.trigger()
        qtbot.waitUntil(lambda: last_step(window) >= 1, timeout=20000)
        qtbot.waitUntil(lambda: view._has_weights, timeout=20000)
        assert not view.has_pictures  # an image set has no plane: its nodes have no pictures
        # the Filters tab: every first-layer filter as a 3x3 tile, the snapshot's own weights
        tabs = window.views.right_tabs
        assert tabs.isTabVisible(2) and tabs.tabText(2) == "Filters"
        window.views.flush()
        tab = window.views.filters
        plot = tab.filters
        assert plot.shape == (32, 1, 3, 3)
        rows, cols = plot.grid
        snap = window.views._snapshot
        first = snap.params[:32 * 9].reshape(32, 3, 3)
        image = plot.image.image
        k = 5
        r, c = divmod(k, cols)
        np.testing.assert_array_equal(image[r * 4:r * 4 + 3, c * 4:c * 4 + 3], first[k])
        assert np.isnan(image[3, 0]) and rows * cols >= 32
        # the chosen validation sample's feature maps: 32 of 6x6, what the network computes for it
        tab.sample_spin.setValue(7)
        assert tab.maps.shape == (32, 6, 6) and tab.input.shape == (1, 8, 8)
        x = window.dataset.X_val[7]
        model = build_model(window.experiment.model, 64, 10, (1, 8, 8))
        torch.nn.utils.vector_to_parameters(torch.as_tensor(snap.params), model.parameters())
        with torch.no_grad():
            want = model[2](model[1](model[0](torch.as_tensor(x)[None])))[0].numpy()
        rows, cols = tab.maps.grid
        r, c = divmod(9, cols)
        np.testing.assert_allclose(tab.maps.image.image[r * 7:r * 7 + 6, c * 7:c * 7 + 6], want[9], rtol=1e-4,
                                   atol=1e-5)
    finally:
        window.close()


def test_a_cnn_on_a_data_set_without_images_is_a_message_not_a_crash(qtbot):
    from visualizer.core.session_model import FINISHED

    window = make_window(qtbot, PRESETS / "digits_cnn.toml")
    try:
        choose(find(window, QComboBox, "datasetCombo"), "moons")
        qtbot.waitUntil(lambda: window.dataset.name == "moons", timeout=15000)
        assert window.network_panel.paramCountLabel.text() == "Parameters: – (the layers do not fit this data)"
        assert "needs an image data set" in window.network_panel.paramCountLabel.toolTip()
        window.acts.train.trigger()
        qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=20000)
        text = window.message_bar.text()
        assert window.message_bar.isVisible() and "model.layers[0]" in text and "needs an image data set" in text
    finally:
        window.close()


def test_mlp_presets_hide_the_filters_tab(qtbot):
    window = make_window(qtbot, PRESETS / "digits.toml")
    try:
        assert not window.views.right_tabs.isTabVisible(2)
        assert window.network_view._maps == [False] * 4
    finally:
        window.close()


def test_column_weights_sum_kernels_and_map_positions():
    from visualizer.core import experiment

    exp = experiment.load(PRESETS / "digits_cnn.toml")
    torch.manual_seed(0)
    model = build_model(exp.model, 64, 10, (1, 8, 8))
    mats = column_weights(flat_parameters(model).numpy(), exp.model, 64, 10, (1, 8, 8))
    conv, dense, out = model[1].weight.detach().numpy(), model[5].weight.detach().numpy(), model[7].weight.detach()
    assert [m.shape for m in mats] == [(32, 1), (64, 32), (10, 64)]
    np.testing.assert_allclose(mats[0][:, 0], conv[:, 0].sum(axis=(1, 2)), rtol=1e-6)
    # a dense neuron's edge from map c: its weights over that map's 3x3 positions (C-order after flatten)
    for o, c in ((0, 0), (5, 17), (63, 31)):
        np.testing.assert_allclose(mats[1][o, c], dense[o, c * 9:(c + 1) * 9].sum(), rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(mats[2], out.numpy())


def test_compression_window_prunes_conv_channels_of_a_cnn_run(qtbot, tmp_path):
    from tests.helpers import train_run
    from visualizer.qt.compression.window import CompressionWindow

    raw = {"data": {"name": "digits"},
           "model": {"layers": ["conv 6 3x3", "relu", "maxpool 2", "flatten", "dense 16", "relu"]},
           "train": {"epochs": 1, "batch_size": 128}}
    w = CompressionWindow(train_run(tmp_path / "cnn", raw))
    qtbot.addWidget(w)
    w.show()
    try:
        qtbot.waitUntil(lambda: w.prune_tab.outcome is not None and w.quantize_tab.outcome is not None,
                        timeout=30000)
        assert "conv 6 3x3 → relu" in w.header.text()
        tab = w.prune_tab
        tab.method_combo.setCurrentIndex(tab.method_combo.findData("structured"))
        tab.slider.setValue(50)
        qtbot.waitUntil(lambda: tab.outcome.report.method == "structured" and tab.outcome.report.amount == 0.5
                        and not w.busy, timeout=30000)
        report = tab.outcome.report
        assert report.layers[0].name == "conv 1 (1→6, 3×3)" and report.layers[0].zeros == 3 * 9
    finally:
        w.close()


def test_replaying_a_cnn_run_shows_its_filters_at_each_snapshot(qtbot, tmp_path):
    from tests.qt.test_replay import record_run
    from visualizer.core import experiment
    from visualizer.core.data.sets import load_dataset
    from visualizer.core.training.events import Snapshot
    from visualizer.qt.runs.replay_window import ReplayWindow

    exp = experiment.from_dict({"data": {"name": "digits"},
                                "model": {"layers": ["conv 4 3x3", "tanh", "flatten", "dense 8", "relu"]},
                                "train": {"epochs": 1, "batch_size": 128, "loss": "cross_entropy"}})
    exp = experiment.resolve(exp, load_dataset(exp.data))
    events = record_run(tmp_path / "cnn.sqlite", exp, snapshot_every_steps=3, snapshot_interval_s=0.0)
    snaps = [e for e in events if isinstance(e, Snapshot)]
    w = ReplayWindow(tmp_path / "cnn.sqlite")
    qtbot.addWidget(w)
    try:
        assert w.views.right_tabs.isTabVisible(2)
        for snap in (snaps[1], snaps[-1]):
            w.go_to(snap.step)
            w.views.flush()
            plot = w.views.filters.filters
            assert plot.shape == (4, 1, 3, 3)
            rows, cols = plot.grid
            first = snap.params[:4 * 9].reshape(4, 3, 3)
            np.testing.assert_array_equal(plot.image.image[0:3, 4:7], first[1])  # tile 1: row 0, column 1
    finally:
        w.close()


def test_a_dense_layer_list_on_a_2d_set_shows_its_features_and_neuron_pictures(qtbot, tmp_path):
    """The input features name the drawing's inputs and every neuron of a layer list shows its live picture."""
    path = tmp_path / "circles.toml"
    path.write_text('[data]\nname = "circles"\nsamples = 300\nfeatures = ["x1", "x2", "x1^2"]\n'
                    '[model]\nlayers = ["dense 4", "tanh", "dense 3", "relu"]\n'
                    '[train]\nepochs = 200\nregularization = "l2"\n')
    window = make_window(qtbot, path)
    try:
        view = window.network_view
        assert view.layer_sizes == [3, 4, 3, 2] and not any(view._maps)
        assert [t.textItem.toPlainText() for t in view._left] == ["x₁", "x₂", "x₁²"]
        assert view.has_pictures and len(view.node_pictures.pictures.layers) == 1  # the inputs, before a run
        window.acts.train.trigger()
        qtbot.waitUntil(lambda: view._has_weights and len(view.node_pictures.pictures.layers) == 4, timeout=30000)
        assert [layer.shape[0] for layer in view.node_pictures.pictures.layers] == [3, 4, 3, 2]
        assert all(item.isVisible() for item in view.node_pictures.items)
        qtbot.waitUntil(lambda: len(window.history.steps) > 1, timeout=20000)
        window.acts.stop.trigger()
        qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=20000)
        assert window.history.penalty is not None and np.nanmax(window.history.penalty) > 0
    finally:
        window.close()
