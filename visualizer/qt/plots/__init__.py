"""Plot widgets shared by the main window and the command line's PNG/SVG export."""

from visualizer.qt.plots.boundary_plot import ConfusionMatrixPlot, DecisionBoundaryPlot
from visualizer.qt.plots.compare_histogram_plot import CompareHistogramPlot, HistogramPair, histogram_pair
from visualizer.qt.plots.export import ensure_app, export_widget
from visualizer.qt.plots.fold_curves_plot import FoldCurve, FoldCurvesPlot
from visualizer.qt.plots.fold_map_plot import FoldMapPlot
from visualizer.qt.plots.fold_metrics_plot import FoldMetricsPlot
from visualizer.qt.plots.histogram_plot import HistogramPlot
from visualizer.qt.plots.histogram_time_plot import HistogramTimePlot
from visualizer.qt.plots.landscape_plot import LandscapePlot
from visualizer.qt.plots.loss_plot import LossPlot
from visualizer.qt.plots.sweep_plot import SweepPlot

__all__ = [
    "CompareHistogramPlot",
    "ConfusionMatrixPlot",
    "DecisionBoundaryPlot",
    "FoldCurve",
    "FoldCurvesPlot",
    "FoldMapPlot",
    "FoldMetricsPlot",
    "HistogramPair",
    "HistogramPlot",
    "HistogramTimePlot",
    "LandscapePlot",
    "LossPlot",
    "SweepPlot",
    "ensure_app",
    "export_widget",
    "histogram_pair",
]
