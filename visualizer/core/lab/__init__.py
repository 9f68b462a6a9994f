"""The optimization lab: measurements of how and why the optimizer goes where it goes (learning-rate range test,
loss between two runs, curvature)."""
