"""Network spec -> nn.Module, optimizers, losses, schedules and predictions: registries with metadata."""
