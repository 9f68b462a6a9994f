"""ExportDialog writes the views chosen as PNG (size, DPI), SVG or CSV; a dashboard is a grid of figures, each drawn
at its cell's size (not a grab of widgets); a widget that is not a figure is refused."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QCheckBox, QDialogButtonBox, QHBoxLayout, QWidget

from visualizer.qt.plots import HistogramPlot, LossPlot
from visualizer.qt.plots.export import figure_image
from visualizer.qt.plots.figure_grid import FigureGrid
from visualizer.qt.runs.export_dialog import ExportDialog, file_stem


def _plots() -> dict[str, QWidget]:
    loss = LossPlot()
    steps = np.arange(50.0)
    loss.set_history(steps, np.exp(-steps / 20), np.array([0.0, 25.0, 49.0]), np.array([1.0, 0.4, 0.2]),
                     np.array([0.5, 0.8, 0.9]), np.array([0.5, 0.7, 0.85]), train_metric_at_eval=True)
    hist = HistogramPlot()
    hist.set_histograms([("layer 1 (2→4)", np.linspace(-1, 1, 6), np.array([1, 3, 5, 2, 0])),
                         ("output (4→2)", np.linspace(-2, 2, 5), np.array([2, 0, 4, 1]))], "weights")
    return {"Loss": loss, "Weight histograms": hist}


@pytest.fixture
def views(qtbot):
    plots = _plots()
    for w in plots.values():
        qtbot.addWidget(w)
    return plots


def _dialog(qtbot, views, tmp_path) -> ExportDialog:
    dialog = ExportDialog(views, folder=tmp_path)
    qtbot.addWidget(dialog)
    return dialog


def test_png_has_the_size_and_dpi_chosen(qtbot, views, tmp_path):
    dialog = _dialog(qtbot, views, tmp_path)
    dialog.set_options(fmt="png", width=500, height=320, dpi=200)
    dialog.buttons.button(QDialogButtonBox.StandardButton.Cancel)  # exists
    dialog.export_button.click()
    assert dialog.result() == ExportDialog.DialogCode.Accepted
    assert [p.name for p in dialog.written] == ["loss.png", "weight_histograms.png"]
    for path in dialog.written:
        image = QImage(str(path))
        assert (image.width(), image.height()) == (500, 320)
        assert round(image.dotsPerMeterX() * 0.0254) == 200


def test_svg_and_only_the_views_ticked(qtbot, views, tmp_path):
    dialog = _dialog(qtbot, views, tmp_path)
    dialog.set_selected_views(["Weight histograms"])
    dialog.set_options(fmt="svg", width=400, height=300)
    assert not dialog.dpi_box.isEnabled()
    written = dialog.export()
    assert [p.name for p in written] == ["weight_histograms.svg"]
    root = ET.parse(written[0]).getroot()
    assert root.tag.endswith("svg") and root.get("viewBox").split() == ["0", "0", "400", "300"]
    assert not (tmp_path / "loss.svg").exists()


def test_csv_holds_the_data_shown(qtbot, views, tmp_path):
    dialog = _dialog(qtbot, views, tmp_path)
    dialog.set_options(fmt="csv")
    assert not dialog.width_box.isEnabled()
    dialog.export()
    with open(tmp_path / "weight_histograms.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    layer1 = [r for r in rows if r["plot"] == "layer 1 (2→4)"]
    assert [float(r["y"]) for r in layer1] == [1, 3, 5, 2, 0]
    np.testing.assert_allclose([float(r["x"]) for r in layer1], np.linspace(-1, 1, 6)[:-1])
    np.testing.assert_allclose([float(r["x_right"]) for r in layer1], np.linspace(-1, 1, 6)[1:])
    with open(tmp_path / "loss.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    raw = [r for r in rows if r["series"] == "train (per step)"]
    assert len(raw) == 50 and float(raw[0]["y"]) == 1.0
    assert len([r for r in rows if r["series"] == "validation" and r["plot"] == "Loss"]) == 3


def test_export_needs_a_view_and_a_folder(qtbot, views, tmp_path):
    dialog = _dialog(qtbot, views, tmp_path)
    assert dialog.export_button.isEnabled()
    dialog.set_selected_views([])
    assert not dialog.export_button.isEnabled()
    dialog.set_selected_views(["Loss"])
    dialog.set_options(folder="")
    assert not dialog.export_button.isEnabled()


def test_an_unwritable_folder_keeps_the_dialog_open_with_a_message(qtbot, views, tmp_path):
    (tmp_path / "file").write_text("x")
    dialog = _dialog(qtbot, views, tmp_path / "file" / "sub")
    dialog.export_button.click()
    assert dialog.result() != ExportDialog.DialogCode.Accepted
    assert dialog.message.text().startswith("Could not export")


def _grey(image: QImage) -> np.ndarray:
    grey = image.convertToFormat(QImage.Format.Format_Grayscale8)
    raw = np.frombuffer(grey.constBits(), np.uint8, count=grey.bytesPerLine() * grey.height())
    return raw.reshape(grey.height(), grey.bytesPerLine())[:, : grey.width()].astype(int)


def test_a_dashboard_is_its_plots_each_drawn_at_its_cell_size(qtbot, views, tmp_path):
    loss, hist = views["Loss"], views["Weight histograms"]
    grid = FigureGrid([loss, hist, "no landscape: the run diverged"], columns=2, caption="moons: step 50")
    caption, cells = grid.layout(800, 600)
    assert caption is not None and caption.bottom() < cells[0].top()
    assert cells[0].width() == cells[1].width() and cells[0].right() < cells[1].left()  # side by side, a gap between
    assert cells[2].top() > cells[0].bottom() and cells[1].right() <= 800 and cells[2].bottom() <= 600
    image = figure_image(grid, 800, 600)
    assert (image.width(), image.height()) == (800, 600)
    # each cell holds the plot drawn as a figure at the cell's size: the same pixels as exporting the plot alone
    rect = cells[0]
    alone = _grey(figure_image(loss, rect.width(), rect.height()))
    cell = _grey(image)[rect.top(): rect.bottom() + 1, rect.left(): rect.right() + 1]
    assert np.abs(cell - alone).mean() < 1.0
    assert _grey(image)[cells[2].top():cells[2].bottom(), cells[2].left():cells[2].right()].std() > 3  # the note

    dialog = _dialog(qtbot, {"dashboard": grid, **views}, tmp_path)
    dialog.set_options(fmt="png", width=900, height=700, dpi=150)
    assert [p.name for p in dialog.export()] == ["dashboard.png", "loss.png", "weight_histograms.png"]
    png = QImage(str(tmp_path / "dashboard.png"))
    assert (png.width(), png.height()) == (900, 700) and round(png.dotsPerMeterX() * 0.0254) == 150
    dialog.set_options(fmt="svg")
    dialog.set_selected_views(["dashboard"])
    root = ET.parse(dialog.export()[0]).getroot()
    nested = [child for child in root if child.tag.endswith("svg")]
    assert root.get("viewBox") == "0 0 900 700" and len(nested) == 2  # each plot's own vector drawing, in place
    texts = ["".join(t.itertext()) for t in root.iter() if t.tag.endswith("text")]
    assert "moons: step 50" in texts and "no landscape: the run diverged" in texts


def test_a_widget_with_controls_is_not_a_figure(qtbot, tmp_path):
    host = QWidget()
    row = QHBoxLayout(host)
    row.addWidget(_plots()["Loss"])
    row.addWidget(QCheckBox("Log scale"))
    qtbot.addWidget(host)
    dialog = _dialog(qtbot, {"window": host}, tmp_path)
    dialog.export_button.click()
    assert dialog.result() != ExportDialog.DialogCode.Accepted
    assert "not a widget with controls" in dialog.message.text() and not (tmp_path / "window.png").exists()
    with pytest.raises(TypeError):
        FigureGrid([host])


def test_file_stem():
    assert file_stem("Loss landscape (3-D)") == "loss_landscape_3_d"
    assert file_stem("***") == "view"
