"""Projection of weights onto a plane center + α·d1 + β·d2: numpy only, so that the window can draw a path on a
plane without importing torch (the window paints before torch is loaded)."""

from __future__ import annotations

import numpy as np


def project(theta, center, d1, d2):
    """Least-squares coordinates of weights on the plane center + α·d1 + β·d2: (alpha, beta, distance).

    ``theta`` is one vector (P,) — scalars come back — or a trajectory (T, P) — arrays of T come back. The
    distance is the Euclidean norm of what the plane cannot show.
    """
    theta = np.asarray(theta, dtype=np.float64)
    A = np.stack([np.asarray(d1, np.float64), np.asarray(d2, np.float64)], axis=1)  # (P, 2)
    r = (theta - np.asarray(center, np.float64)).T  # (P,) or (P, T)
    coef, *_ = np.linalg.lstsq(A, r, rcond=None)
    dist = np.linalg.norm(r - A @ coef, axis=0)
    if theta.ndim == 1:
        return float(coef[0]), float(coef[1]), float(dist)
    return coef[0], coef[1], dist
