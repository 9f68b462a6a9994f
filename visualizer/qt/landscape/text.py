"""What the landscape tab writes in words and files: axis titles, the honesty panel, the CSV of a surface."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np

from visualizer.core.landscape.plane import project

EXPLANATION = ("A 2-D slice of a space with one dimension per weight: a point off the plane is drawn at its "
               "projection, coloured by the slice's loss there, not by its own.")


def honesty_line(h: dict) -> str:
    """The panel's gist in one line, for a tab too narrow for the panel."""
    if not h:
        return ""
    true = "…" if h["true_loss"] is None else f"{h['true_loss']:.4g}"
    surf = "off the grid" if not np.isfinite(h["surface_loss"]) else f"{h['surface_loss']:.4g}"
    return (f"How far to trust it: θ is {h['distance']:.3g} ({100 * h['relative_distance']:.1f}% of |θ|) off the "
            f"plane; true loss {true}, surface {surf}.")


def honesty_html(h: dict, r, start_distance: float | None, start_loss: float | None) -> str:
    """The "How far to trust it" panel: ``h`` as LandscapeView.honesty_numbers gives it (empty before a surface),
    the surface result ``r``, and the start of the path's distance from the plane and true loss (None: unknown)."""
    rows = ["<b>How far to trust it</b>"]
    if not h:
        rows.append("Waiting for the first surface.")
    else:
        true = "…" if h["true_loss"] is None else f"{h['true_loss']:.4g}"
        surf = "off the grid" if not np.isfinite(h["surface_loss"]) else f"{h['surface_loss']:.4g}"
        rows += [f"<u>Current weights</u> (step {h['step']:,})",
                 f"distance from the plane: {h['distance']:.3g} = {100 * h['relative_distance']:.1f}% of |θ|",
                 f"true loss: {true}", f"surface at its projection: {surf}"]
        if start_distance is not None:
            rows += ["<u>Start of the path</u>", f"distance from the plane: {start_distance:.3g}"]
            if start_loss is not None:
                rows.append(f"true loss: {start_loss:.4g}")
        if r.explained_variance is not None:
            rows.append(f"<u>PCA</u>: the plane holds {100 * float(np.sum(r.explained_variance)):.1f}% of "
                        "the path's variance")
        if r.eigenvalues is not None:
            rows.append(f"<u>Hessian</u> eigenvalues: {r.eigenvalues[0]:.3g}, {r.eigenvalues[1]:.3g}")
    rows.append(f"<i>{EXPLANATION}</i>")
    return "<br>".join(rows)


def write_surface_csv(path, r, steps, params, plane) -> None:
    """``r``'s grid as CSV (alpha, beta, loss[, accuracy], row-major over beta then alpha) at ``path``, and the
    path (``params``, one flat vector per step of ``steps``) on ``plane`` as <stem>_trajectory.csv."""
    path = Path(path)
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["alpha", "beta", "loss"] + (["accuracy"] if r is not None and r.accuracy is not None else []))
        if r is not None:
            for i, beta in enumerate(r.betas):
                for j, alpha in enumerate(r.alphas):
                    row = [repr(float(alpha)), repr(float(beta)), repr(float(r.loss[i, j]))]
                    if r.accuracy is not None:
                        row.append(repr(float(r.accuracy[i, j])))
                    w.writerow(row)
    with open(path.with_name(f"{path.stem}_trajectory.csv"), "w", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["step", "alpha", "beta", "distance"])
        if plane is not None and len(params):
            a, b, dist = project(np.stack(params), *plane)
            w.writerows([s, repr(float(x)), repr(float(y)), repr(float(d))] for s, x, y, d in zip(steps, a, b, dist))
