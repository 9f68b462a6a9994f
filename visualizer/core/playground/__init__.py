"""Races of optimizers: on analytic two-parameter test functions, and on a real network."""
