"""The sweep map drawn from rows: cells in the right place, the best cell the lowest mean loss, diverged cells
hatched, one panel per value of a third field, clicks mapped to cells, every theme."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import numpy as np
from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QGraphicsRectItem

from visualizer.core.sweeps.grid import parse_param
from visualizer.core.sweeps.sweep_map import SweepMap
from visualizer.core.sweeps.table import cell
from visualizer.qt.sweeps.map_plot import SweepMapPlot

PARAMS = [parse_param("train.lr=0.01,0.1,1"), parse_param("train.momentum=0,0.9"), parse_param("model.hidden=4,8")]


def _rows(seeds=2):
    rng = np.random.default_rng(0)
    rows = []
    for lr in PARAMS[0].values:
        for mom in PARAMS[1].values:
            for hidden in PARAMS[2].values:
                for seed in range(seeds):
                    diverged = lr == 1 and mom == 0.9
                    rows.append({"train.lr": cell(lr), "train.momentum": cell(mom), "model.hidden": cell(hidden),
                                 "seed": str(seed), "status": "diverged" if diverged else "done",
                                 "final_val_loss": "" if diverged else repr(float(rng.uniform(0.2, 1.0))),
                                 "final_val_metric": repr(float(rng.uniform(0.5, 1.0))),
                                 "run": f"trials/{len(rows):04d}/run.sqlite"})
    return rows


def test_the_map_averages_seeds_and_finds_the_best_cell():
    m = SweepMap(PARAMS, "loss")
    rows = _rows()
    for row in rows:
        m.add(row)
    grid = m.grid()
    assert grid.shape == (3, 2, 2)
    values = [float(r["final_val_loss"]) for r in rows if r["train.lr"] == "0.1" and r["train.momentum"] == "0.9"
              and r["model.hidden"] == "8"]
    assert grid[1, 1, 1] == np.mean(values)  # mean over the two seeds
    assert m.status((2, 1, 0)) == "diverged" and np.isnan(grid[2, 1, 0])
    finite = np.where(np.isnan(grid), np.inf, grid)
    assert m.best() == np.unravel_index(np.argmin(finite), grid.shape)
    assert len(m.runs((0, 0, 0))) == 2
    accuracy = SweepMap(PARAMS, "accuracy")
    for row in rows:
        accuracy.add(row)
    ok = np.where([[[accuracy.status((i, j, k)) == "done" for k in range(2)] for j in range(2)] for i in range(3)],
                  accuracy.grid(), -np.inf)
    assert accuracy.best() == np.unravel_index(np.argmax(ok), ok.shape)  # the highest accuracy, not the lowest


def test_three_fields_draw_one_heatmap_per_value_and_clicks_find_cells(qtbot):
    m = SweepMap(PARAMS, "loss")
    for row in _rows():
        m.add(row)
    plot = SweepMapPlot()
    qtbot.addWidget(plot)
    plot.resize(1200, 500)
    plot.show()
    plot.set_map(m)
    assert len(plot.panels) == 2
    hatched = [i for i in plot.cell_items[(2, 1, 0)] if isinstance(i, QGraphicsRectItem)]
    assert hatched and hatched[0].brush().style().name == "BDiagPattern"
    assert plot.best_outline is not None and plot.best_outline in plot.cell_items[m.best()]
    for panel in (0, 1):
        centre = plot.panels[panel].vb.mapViewToScene(QPointF(1, 0))
        assert plot.cell_at(centre) == (1, 0, panel)
    for theme in ("dark", "contrast", "light"):
        plot.set_theme(theme)
        assert plot.theme == theme and len(plot.cell_items) == 12


def test_one_field_draws_the_mean_with_min_max_bars(qtbot):
    params = PARAMS[:1]
    m = SweepMap(params, "loss")
    rows = [{"train.lr": cell(lr), "status": "done", "final_val_loss": repr(v), "run": "r"}
            for lr in params[0].values for v in (0.3 + lr, 0.5 + lr)]
    for row in rows:
        m.add(row)
    assert np.allclose(m.grid("min"), [0.31, 0.4, 1.3]) and np.allclose(m.grid("max"), [0.51, 0.6, 1.5])
    plot = SweepMapPlot()
    qtbot.addWidget(plot)
    plot.set_map(m)
    bars = [i for i in plot.panels[0].items if type(i).__name__ == "ErrorBarItem"]
    assert len(bars) == 1 and np.allclose(bars[0].opts["top"] + bars[0].opts["y"], [0.51, 0.6, 1.5])
