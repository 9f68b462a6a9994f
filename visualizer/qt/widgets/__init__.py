"""Widgets that are not plots: drawings and controls shared by the window's panels."""

from visualizer.qt.widgets.network_view import NetworkView

__all__ = ["NetworkView"]
