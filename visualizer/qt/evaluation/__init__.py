"""Parts of the cross-validation window: the worker that runs the folds, the replay timeline, the tables."""
