"""The sweep's map as files: map.png and map.svg drawn offscreen by the window's own SweepMapPlot."""

from __future__ import annotations

from pathlib import Path


def load_sweep_map(folder: Path, metric: str = "loss"):
    """(plan, SweepMap) of the sweep recorded in ``folder`` (sweep.json and sweep.csv)."""
    from visualizer.core.errors import VisualizerError
    from visualizer.core.sweeps.runner import plan_of_spec
    from visualizer.core.sweeps.sweep_map import SweepMap
    from visualizer.core.sweeps.table import SPEC_FILE, read_spec, read_table

    spec = read_spec(folder)
    if spec is None:
        raise VisualizerError(f"{folder}: no {SPEC_FILE}; not the folder of a sweep")
    plan = plan_of_spec(spec)
    sweep_map = SweepMap(plan.params, metric)
    for row in read_table(folder)[1]:
        sweep_map.add(row)
    return plan, sweep_map


def write_sweep_map(folder: Path, metric: str = "loss", theme: str = "light") -> list[Path]:
    """Write ``folder``/map.png and map.svg; none when the sweep has no field with several values."""
    from visualizer.qt.plots.export import ensure_app, export_widget
    from visualizer.qt.sweeps.map_plot import SweepMapPlot

    plan, sweep_map = load_sweep_map(folder, metric)
    if not sweep_map.axes:
        return []
    ensure_app()
    plot = SweepMapPlot(theme=theme)
    plot.set_map(sweep_map, plan.experiment.title and f"{plan.experiment.title}: {sweep_map.label}")
    panels = len(sweep_map.axes[2].labels) if len(sweep_map.axes) == 3 else 1
    width = 1000 if panels == 1 else 420 * min(panels, 3) + 140
    height = 720 if panels == 1 else 380 * -(-panels // 3) + 60
    return [export_widget(plot, Path(folder) / f"map{suffix}", width, height) for suffix in (".png", ".svg")]
