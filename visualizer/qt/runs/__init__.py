"""Recorded runs in the window: the library, replay, and exports (still and animated)."""
