"""Dockable panels that edit one part of the experiment spec each and emit the edited part."""

from visualizer.qt.panels.data_panel import DataPanel
from visualizer.qt.panels.network_panel import NetworkPanel
from visualizer.qt.panels.train_panel import TrainPanel

__all__ = ["DataPanel", "NetworkPanel", "TrainPanel"]
