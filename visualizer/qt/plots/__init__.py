"""Plot widgets shared by the main window and the command line's PNG/SVG export."""

from .boundary_plot import ConfusionMatrixPlot, DecisionBoundaryPlot
from .export import ensure_app, export_widget
from .histogram_plot import HistogramPlot
from .histogram_time_plot import HistogramTimePlot
from .loss_plot import LossPlot

__all__ = [
    "ConfusionMatrixPlot",
    "DecisionBoundaryPlot",
    "HistogramPlot",
    "HistogramTimePlot",
    "LossPlot",
    "ensure_app",
    "export_widget",
]
