"""Plot widgets shared by the main window and the command line's PNG/SVG export."""

from .boundary_plot import ConfusionMatrixPlot, DecisionBoundaryPlot
from .compare_histogram_plot import CompareHistogramPlot, HistogramPair, histogram_pair
from .export import ensure_app, export_widget
from .fold_curves_plot import FoldCurve, FoldCurvesPlot
from .fold_map_plot import FoldMapPlot
from .fold_metrics_plot import FoldMetricsPlot
from .histogram_plot import HistogramPlot
from .histogram_time_plot import HistogramTimePlot
from .landscape_plot import LandscapePlot
from .loss_plot import LossPlot
from .sweep_plot import SweepPlot

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
