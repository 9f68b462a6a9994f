"""Plot widgets shared by the main window and the command line's PNG/SVG export."""

from .boundary_plot import ConfusionMatrixPlot, DecisionBoundaryPlot
from .export import ensure_app, export_widget
from .fold_curves_plot import FoldCurve, FoldCurvesPlot
from .fold_map_plot import FoldMapPlot
from .fold_metrics_plot import FoldMetricsPlot
from .histogram_plot import HistogramPlot
from .histogram_time_plot import HistogramTimePlot
from .loss_plot import LossPlot

__all__ = [
    "ConfusionMatrixPlot",
    "DecisionBoundaryPlot",
    "FoldCurve",
    "FoldCurvesPlot",
    "FoldMapPlot",
    "FoldMetricsPlot",
    "HistogramPlot",
    "HistogramTimePlot",
    "LossPlot",
    "ensure_app",
    "export_widget",
]
