"""A recorded run's lab views as plot widgets (the window's own Sharpness and Health plots), for `visualizer export`
and the export registry (``core.runs.export_registry``)."""

from __future__ import annotations

from visualizer.core.errors import VisualizerError
from visualizer.qt.lab.health_plot import HealthPlot
from visualizer.qt.lab.sharpness_plot import SharpnessPlot


def _measures(run, step: int | None):
    measures = run.reader.measures()
    return measures if step is None else measures.up_to(step)


def sharpness_widget(run, step: int | None = None, plot: SharpnessPlot | None = None) -> SharpnessPlot:
    """The sharpness and its threshold up to ``step`` (default: the whole run)."""
    measures = _measures(run, step)
    if not (measures.has("sharpness") or measures.has("preconditioned_sharpness")):
        raise VisualizerError(f"{run.path}: the run measured no sharpness ([lab] sharpness_every)")
    plot = plot or SharpnessPlot(theme="light")
    plot.set_measures(measures)
    return plot


def health_widget(run, step: int | None = None, plot: HealthPlot | None = None) -> HealthPlot:
    """Every layer's health up to ``step`` (default: the whole run)."""
    measures = _measures(run, step)
    if not (measures.has("grad_norm") or measures.has("weight_norm")):
        raise VisualizerError(f"{run.path}: the run measured no training health ([lab] health_every)")
    plot = plot or HealthPlot(theme="light")
    plot.set_measures(measures)
    return plot
