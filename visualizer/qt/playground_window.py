"""The optimizer playground window (the code lives in the ``playground`` package)."""

from .playground import PlaygroundWindow

__all__ = ["PlaygroundWindow"]
