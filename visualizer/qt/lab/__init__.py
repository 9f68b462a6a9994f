"""The optimization lab's views: sharpness against its threshold, per-layer training health, the Hessian spectrum."""
