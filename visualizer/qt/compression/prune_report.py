"""What the Prune tab's tables and explanation say, from a PruneOutcome, the baseline and measured latencies."""

from __future__ import annotations

from visualizer.qt.compression.widgets import fmt_bytes, fmt_seconds, percent

#: a pruned/dense latency ratio above 1 / this reads as "no faster"
NO_FASTER_WITHIN = 1.15


def summary_rows(outcome, baseline, latency, metric: str, stage_titles: dict[str, str]) -> tuple[list, list]:
    """Headers and rows of original against pruned (and shrunk, once measured): loss, metric, parameters stored,
    non-zero, size as float32, latency."""
    r, b = outcome.report, baseline
    shrunk = latency.shrunk if latency is not None else None
    headers = ["", "original", stage_titles[outcome.stage]] + (["shrunk"] if shrunk else [])
    rows = [["loss", r.before.loss, r.after.loss], [metric, r.before.metric, r.after.metric],
            ["parameters stored", b.parameters, r.parameters], ["non-zero", b.nonzero, r.nonzero_parameters],
            ["size (float32)", fmt_bytes(b.bytes), fmt_bytes(r.bytes_dense)],
            ["latency", fmt_seconds(latency.dense_s) if latency else "not measured",
             fmt_seconds(latency.pruned_s) if latency else "–"]]
    if shrunk:
        for values, extra in zip(rows, (shrunk.after.loss, shrunk.after.metric, shrunk.parameters, "–",
                                        fmt_bytes(shrunk.bytes), fmt_seconds(shrunk.latency_s))):
            values.append(extra)
    return headers, rows


def layer_rows(report) -> list[list]:
    """layer, weights, zeros, sparsity per Linear layer, then the total."""
    rows = [[s.name, s.total, s.zeros, percent(s.sparsity)] for s in report.layers]
    rows.append(["total", report.total, report.zeros, percent(report.sparsity)])
    return rows


def latency_text(lat) -> str:
    """Why a pruned model is no faster, with the measured numbers (or how to measure them)."""
    if lat is None:
        return ("Pruned weights are zeros inside dense matrices: the model keeps its size and a dense matmul "
                "multiplies the zeros too. Measure latency to see it; structured pruning + Shrink removes whole "
                "neurons and makes the network smaller and faster.")
    ratio = lat.pruned_s / lat.dense_s if lat.dense_s else float("nan")
    verdict = ": no faster, the zeros are still stored and multiplied" if ratio > 1 / NO_FASTER_WITHIN else ""
    text = (f"Measured (median of {lat.repeats} alternated repeats, {lat.samples} samples): dense "
            f"{fmt_seconds(lat.dense_s)}, pruned {fmt_seconds(lat.pruned_s)} ({ratio:.2f}× the dense time{verdict})")
    s = lat.shrunk
    if s is None:
        return text + "."
    speedup = lat.dense_s / s.latency_s if s.latency_s else float("nan")
    widths = "-".join(str(w) for w in s.hidden) or "none"
    return (text + f"; shrunk to hidden widths {widths}: {s.parameters:,} parameters instead of "
            f"{lat.dense_parameters:,}, {fmt_bytes(s.bytes)}, {fmt_seconds(s.latency_s)} ({speedup:.2f}× "
            "faster than dense).")
