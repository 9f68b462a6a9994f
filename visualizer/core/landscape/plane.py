"""Projection of weights onto a plane center + α·d1 + β·d2: numpy only, so that the window can draw a path on a
plane without importing torch (the window paints before torch is loaded)."""

from __future__ import annotations

import numpy as np

#: snapshots projected at a time: a long path of a big network (T x P) is never copied in float64 whole
ROWS_PER_CHUNK = 64


def project(theta, center, d1, d2):
    """Least-squares coordinates of weights on the plane center + α·d1 + β·d2: (alpha, beta, distance).

    ``theta`` is one vector (P,) — scalars come back — or a trajectory (T, P) — arrays of T come back. The
    distance is the Euclidean norm of what the plane cannot show.
    """
    theta = np.asarray(theta)
    A = np.stack([np.asarray(d1, np.float64), np.asarray(d2, np.float64)], axis=1)  # (P, 2)
    # (2, P): the least-squares solution, once for every row. pinv(A) = pinv(AᵀA)·Aᵀ: a 2 x 2 pseudo-inverse (as
    # safe for parallel directions) instead of an SVD of the P x 2 matrix, which took 5 ms for 26k weights
    solve = np.linalg.pinv(A.T @ A) @ A.T
    center = np.asarray(center, np.float64)
    if theta.ndim == 1:
        r = theta.astype(np.float64) - center
        coef = solve @ r
        return float(coef[0]), float(coef[1]), float(np.linalg.norm(r - A @ coef))
    coefs, dists = [np.zeros((0, 2))], [np.zeros(0)]
    for start in range(0, len(theta), ROWS_PER_CHUNK):
        r = theta[start:start + ROWS_PER_CHUNK].astype(np.float64) - center  # (t, P)
        coef = r @ solve.T  # (t, 2)
        coefs.append(coef)
        dists.append(np.linalg.norm(r - coef @ A.T, axis=1))
    coef, dist = np.concatenate(coefs), np.concatenate(dists)
    return coef[:, 0], coef[:, 1], dist
