"""Loss landscapes: directions through the weights, batched surfaces, projection onto a plane."""
