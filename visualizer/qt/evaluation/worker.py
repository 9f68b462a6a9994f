"""Runs core.evaluate.run_folds as a job on a plain thread (see visualizer.qt.jobs)."""

from __future__ import annotations

from pathlib import Path

from visualizer.qt.jobs import JobEnded, JobWorker

THREAD_NAME = "evaluation-worker"
EvaluationEnded = JobEnded


def EvaluationWorker(experiment, spec, base_dir: Path | None, boundary_resolution: int = 0,  # noqa: N802
                     confirm: bool = False, threads: int = 1) -> JobWorker:
    """A worker whose job yields run_folds' FoldProgress and FoldResult records, then a JobEnded."""

    def job(put, control) -> None:
        from visualizer.core.evaluation.folds import run_folds

        for event in run_folds(experiment, spec, base_dir, control=control, boundary_resolution=boundary_resolution,
                               confirm=confirm):
            put(event)

    return JobWorker("evaluation", job, THREAD_NAME, threads)
