"""A new export format, view or landscape direction is one registry entry: it appears in the window's File >
Export… dialog, in `visualizer export`'s choices and help, in the replay window's animation menu and in the files
written, with no other file changed (issue 11's "done when")."""

from __future__ import annotations

import csv
import subprocess
import sys

import numpy as np
import pyqtgraph as pg
import pytest
import torch
from PySide6.QtGui import QImage

from visualizer.cli import parser as cli
from visualizer.cli.common import EXIT_BAD_INPUT
from visualizer.core import experiment
from visualizer.core.landscape import planes
from visualizer.core.landscape.planes import DIRECTIONS
from visualizer.core.runs.export_registry import EXPORT_FORMATS, EXPORT_VIEWS, ExportFormat, ExportView
from visualizer.core.runs.writer import record
from visualizer.core.training.session import TrainingSession

MOONS = {"title": "tiny moons", "data": {"name": "moons", "samples": 120, "seed": 0},
         "model": {"hidden": [6], "activation": "tanh"},
         "train": {"optimizer": "adam", "lr": 0.05, "batch_size": 40, "epochs": 4, "loss": "cross_entropy",
                   "seed": 0}}

#: a still format written by Qt's image writer: the writer the registry's PNG uses serves any suffix Qt knows
TOY_BMP = ExportFormat("bmp", "BMP", "still", ".bmp", "a Windows bitmap", "visualizer.qt.runs.export_files:write_image",
                       raster=True)


def lr_widget(run, step=None, plot=None):
    """The toy view: the learning rate per step, up to ``step``."""
    plot = plot or pg.PlotWidget(title="learning rate")
    h = run.history
    n = len(h) if step is None else int(np.searchsorted(h.steps, step, "right"))
    plot.getPlotItem().clear()
    plot.plot(h.steps[:n], h.lr[:n])
    return plot


def lr_csv(run, out):
    path = out / "learning_rate.csv"
    h = run.history
    path.write_text("step,lr\n" + "".join(f"{int(s)},{float(lr)!r}\n" for s, lr in zip(h.steps, h.lr)))
    return [path]


TOY_VIEW = ExportView("learning_rate", "Learning rate", "the learning rate per step (CSV: step,lr)",
                      frozenset({"still", "data", "animation"}), widget=lr_widget, data={"csv": lr_csv})


@pytest.fixture(scope="module")
def run_file(tmp_path_factory):
    folder = tmp_path_factory.mktemp("registry")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        session = TrainingSession(experiment.from_dict(MOONS), folder, snapshot_every_steps=3, snapshot_interval_s=0)
        record(session, folder / "run.sqlite").close()
    finally:
        torch.set_num_threads(threads)
    return folder / "run.sqlite"


def test_the_registries_load_without_qt_or_torch():
    code = ("import sys, visualizer.core.runs.export_registry; "
            "print(sorted(m for m in ('torch', 'PySide6', 'pyqtgraph') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_toy_still_format_is_one_registry_entry(main_window, run_file, tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(EXPORT_FORMATS, "bmp", TOY_BMP)  # the one entry; removed again when the test ends
    # the window's File > Export…
    main_window.acts.export_dialog.trigger()
    dialog = main_window.export_dialog
    assert "bmp" in dialog.format_names()
    assert [dialog.format_box.itemText(i) for i in range(dialog.format_box.count())][-1] == "BMP"
    dialog.set_selected_views(["loss"])
    dialog.set_options("bmp", 320, 200, 150, str(tmp_path / "dialog"))
    assert dialog.dpi_box.isEnabled() and dialog.width_box.isEnabled()
    [written] = dialog.export()
    image = QImage(str(written))
    assert written.name == "loss.bmp" and (image.width(), image.height()) == (320, 200)
    assert round(image.dotsPerMeterX() * 0.0254) == 150
    # the command line's help and choices
    assert cli.main(["export", "--help"]) == 0
    help_text = " ".join(capsys.readouterr().out.split())
    assert "from png,svg,csv,gif,mp4,bmp" in help_text and "bmp: a Windows bitmap" in help_text
    assert cli.main(["export", str(run_file), "--out", str(tmp_path / "no"), "--formats", "tiff"]) == EXIT_BAD_INPUT
    assert "allowed: png, svg, csv, gif, mp4, bmp" in capsys.readouterr().err
    # the files `visualizer export` writes
    out = tmp_path / "out"
    assert cli.main(["export", str(run_file), "--out", str(out), "--views", "loss,landscape,dashboard",
                     "--formats", "bmp,png", "--width", "300", "--height", "200"]) == 0
    for name in ("loss", "landscape", "dashboard"):
        bmp, png = QImage(str(out / f"{name}.bmp")), QImage(str(out / f"{name}.png"))
        assert (bmp.width(), bmp.height()) == (300, 200) and bmp.format() != QImage.Format.Format_Invalid
        assert bmp.convertToFormat(QImage.Format.Format_RGB32) == png.convertToFormat(QImage.Format.Format_RGB32)


def test_a_toy_view_is_one_registry_entry(run_file, tmp_path, monkeypatch, qtbot, capsys):
    from visualizer.core.runs.reader import RunReader
    from visualizer.qt.runs.replay_window import ReplayWindow

    monkeypatch.setitem(EXPORT_VIEWS, "learning_rate", TOY_VIEW)
    assert cli.main(["export", "--help"]) == 0
    assert "learning_rate: the learning rate per step" in " ".join(capsys.readouterr().out.split())
    out = tmp_path / "out"
    assert cli.main(["export", str(run_file), "--out", str(out), "--views", "learning_rate",
                     "--formats", "png,csv,gif", "--frames", "3", "--width", "200", "--height", "150"]) == 0
    assert QImage(str(out / "learning_rate.png")).width() == 200
    with RunReader(run_file) as reader:
        lrs = reader.history().lr
    with open(out / "learning_rate.csv", newline="") as fh:
        assert [float(r["lr"]) for r in csv.DictReader(fh)] == lrs.tolist()
    import imageio.v3 as iio

    assert iio.imread(out / "learning_rate.gif").shape == (3, 150, 200, 3)
    window = ReplayWindow(run_file)  # the replay window's File > Export animation offers it
    qtbot.addWidget(window)
    assert "learning_rate" in window.animation_views()
    assert window.animation_actions["learning_rate"].text() == "Learning rate"
    window.close()


def test_a_toy_direction_draws_the_exported_landscape(run_file, tmp_path, monkeypatch):
    def axes(inputs):
        n = inputs.center.size
        return np.eye(n, dtype=np.float32)[0], np.eye(n, dtype=np.float32)[n - 1], {}

    toy = planes.DirectionInfo("first_last", "First and last weight", "The first and the last weight as axes",
                               axes, lambda plane: ("α (first)", "β (last)"), fits_path=False)
    monkeypatch.setitem(DIRECTIONS, "first_last", toy)
    out = tmp_path / "out"
    assert cli.main(["export", str(run_file), "--out", str(out), "--views", "landscape", "--formats", "csv",
                     "--directions", "first_last", "--resolution", "5"]) == 0
    with open(out / "landscape.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert sorted({float(r["alpha"]) for r in rows}) == [-1.0, -0.5, 0.0, 0.5, 1.0]  # ±1: it does not fit the path
