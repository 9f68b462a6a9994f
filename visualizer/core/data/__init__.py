"""Data sets: synthetic 2-D sets, regression sets, scikit-learn's bundled sets and CSV files."""
