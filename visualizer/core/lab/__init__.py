"""The optimization lab: the curvature of the loss (sharpness, spectrum) and the health of training, measured
during and after training on the same engine and recorded in the same run file."""
