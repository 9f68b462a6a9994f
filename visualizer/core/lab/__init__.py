"""The optimization lab: measurements of how and why the optimizer goes where it goes: the curvature of the loss
(sharpness, spectrum) and the health of training, measured during and after training on the same engine and recorded
in the same run file; the learning-rate range test; the loss between two runs."""
