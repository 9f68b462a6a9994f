"""The optimization lab's tool windows: the learning-rate finder, the loss between two runs."""
