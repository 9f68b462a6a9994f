"""Dockable panels that edit one part of the experiment spec each and emit the edited part."""

from .data_panel import DataPanel
from .network_panel import NetworkPanel
from .train_panel import TrainPanel

__all__ = ["DataPanel", "NetworkPanel", "TrainPanel"]
