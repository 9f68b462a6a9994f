"""The compression window's parts: jobs on a worker thread, and one tab each for prune, sensitivity, quantize and
distill."""
