"""The live training views and the bridge that brings a run's events to them."""
