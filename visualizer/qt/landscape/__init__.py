"""The live loss landscape tab: the surface around the weights, the path on it, how far to trust it."""
