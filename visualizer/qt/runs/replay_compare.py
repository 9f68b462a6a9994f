"""The replay window's comparison: another run's loss (and metric) dashed on the loss plot, its path on the
landscape's plane."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtWidgets import QFileDialog

from visualizer.core.errors import VisualizerError
from visualizer.core.runs.reader import RunReader
from visualizer.qt.plots.figures import METRIC_LABELS


def run_label(path: Path) -> str:
    """The name a run goes by in a legend: its file name, or its folder's for `visualizer run`'s run.sqlite."""
    path = Path(path)
    stem = path.stem
    return path.parent.name if (stem == "run" or stem.startswith("run-")) and path.parent.name else stem


class ReplayComparison:
    """Mixin of ReplayWindow (its ``run``, ``views``, ``path``, ``show_message`` and ``_set_x_range``)."""

    _compare_last = 0  # the compared run's last step (the loss plot's x range holds it)

    def compare_with(self, path: str | Path) -> bool:
        """Overlay another run's loss (and metric, when it measures the same one) dashed on the loss plot."""
        path = Path(path)
        try:
            with RunReader(path) as other:
                h, started = other.history(), other.started
                path_params = [snap.params for snap in other.snapshots()]
                name = other.experiment.title if other.experiment.title and other.experiment.title != \
                    self.run.experiment.title else run_label(path)
        except VisualizerError as exc:
            self.show_message(f"Cannot compare: {exc}")
            return False
        ours = self.run.started.metric if self.run.started else None
        same = started is not None and started.metric == ours
        metric = (h.train_metric, h.val_metric) if same else (None, None)
        self.views.loss.set_overlay(name, h.steps, h.train_loss, h.eval_steps, h.val_loss, *metric)
        landscape = getattr(self.views, "landscape", None)
        if landscape is not None and path_params:
            landscape.set_compared_path(name, np.stack(path_params))
        self._compare_last = int(h.steps[-1]) if len(h) else 0
        self._set_x_range()
        if same or started is None:
            self.show_message(f"Compared with {name} (dashed).")
        else:
            theirs = METRIC_LABELS.get(started.metric, started.metric)
            self.show_message(f"Compared with {name} (dashed): it measures {theirs} and this run "
                              f"{METRIC_LABELS.get(ours, ours)}, so only its loss is shown.")
        return True

    def clear_comparison(self) -> None:
        self.views.loss.set_overlay(None)
        landscape = getattr(self.views, "landscape", None)
        if landscape is not None:
            landscape.set_compared_path("", None)
        self._compare_last = 0
        self._set_x_range()
        self.show_message("")

    def _on_compare_chosen(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Open a run to compare", str(self.path.parent),
                                              "Run files (*.sqlite)")
        if name:
            self.compare_with(name)
