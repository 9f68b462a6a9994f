"""The analytic playground: race optimizers on two-parameter test functions with exact surfaces."""

from visualizer.qt.playground.window import PlaygroundWindow

__all__ = ["PlaygroundWindow"]
