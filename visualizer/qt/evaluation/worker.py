"""Cross-validation as a job for the runner (visualizer.qt.jobs): core.evaluation.folds.run_folds, iterated on the
worker thread; its FoldProgress records become the progress bar's Progress."""

from __future__ import annotations

from pathlib import Path

from visualizer.qt.jobs import JobEnded, Progress

THREAD_NAME = "evaluation-worker"
EvaluationEnded = JobEnded


def evaluation_job(experiment, spec, base_dir: Path | None, boundary_resolution: int = 0, confirm: bool = False):
    """A job whose records are run_folds' FoldProgress and FoldResult (it stops at the next step once cancelled)."""

    def job(put, control):
        from visualizer.core.evaluation.folds import run_folds

        return run_folds(experiment, spec, base_dir, control=control, boundary_resolution=boundary_resolution,
                         confirm=confirm)

    return job


def fold_progress(prefix: str = ""):
    """Maps a FoldProgress to the progress bar's fraction and text ('fold 2 of 5 — step 40 / 120')."""

    def progress(record) -> Progress | None:
        from visualizer.core.evaluation.folds import FoldProgress

        if not isinstance(record, FoldProgress):
            return None
        p = record
        return Progress((p.fold - 1 + p.step / max(p.total_steps, 1)) / p.n_folds,
                        f"{prefix}fold {p.fold} of {p.n_folds} — step {p.step} / {p.total_steps}")

    return progress
