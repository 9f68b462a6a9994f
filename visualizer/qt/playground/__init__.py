"""The analytic playground: race optimizers on two-parameter test functions with exact surfaces."""

from .window import PlaygroundWindow

__all__ = ["PlaygroundWindow"]
