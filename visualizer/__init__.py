"""Optimization Visualizer: watch neural-network optimization happen."""

__version__ = "0.1.0"
