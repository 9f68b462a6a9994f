"""Cross-validation: splits, folds, metrics and paired comparison."""
