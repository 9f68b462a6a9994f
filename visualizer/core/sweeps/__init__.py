"""Sweeps: many runs of one experiment over a grid of its fields (train.lr x train.momentum ...) and seeds, run in
worker processes or on a Ray cluster, recorded as they finish (sweep.csv) and drawn as a map."""
