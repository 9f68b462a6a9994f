"""`visualizer evaluate`: cross-validation without a screen; folds.csv, summary.json and two plots."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from visualizer.cli.common import add_threads_option

#: the names of visualizer.core.evaluation.folds.METHODS, here so that building the parser does not import torch
METHODS = ("holdout", "kfold", "stratified", "loo", "shuffle")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="cross-validate an experiment: hold-out, k-fold, stratified, leave-one-out, shuffle",
        description="Train a fresh network on every fold of a scikit-learn split of the experiment's data (all "
                    "samples, shuffled with data.seed) and write DIR/folds.csv (fold, n_train, n_val, then the "
                    "metrics), DIR/summary.json (mean and std of each metric over the folds, the metrics of all "
                    "the folds' predictions pooled, the method and the settings it uses), DIR/cv_indices.png "
                    "(which samples each fold trains and validates on) and DIR/folds.png. Leave-one-out's folds "
                    "hold one sample each: per fold only the loss and accuracy (or squared error) mean something, "
                    "so precision, recall, F1 and R² are reported pooled.")
    p.add_argument("experiment", type=Path, help="experiment file (.toml or .json)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    p.add_argument("--method", choices=list(METHODS), default="kfold", help="how to split (default kfold)")
    p.add_argument("--k", type=int, default=None, help="folds for kfold and stratified, 2 to 20 (default 5)")
    p.add_argument("--repeats", type=int, default=None,
                   help="repeats of kfold/stratified, or splits of shuffle (default 1)")
    p.add_argument("--val-fraction", type=float, default=None,
                   help="held-out fraction for holdout and shuffle (default: the experiment's data.val_fraction)")
    p.add_argument("--yes", action="store_true", help="run leave-one-out even on many samples")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--backend", choices=("serial", "local", "ray"), default="serial",
                   help="serial: the folds one after another here (default); local: in parallel in worker "
                        "processes; ray: as Ray tasks (pip install \".[cluster]\"); the same fold table")
    p.add_argument("--address", default=None, metavar="ADDR", help="the Ray cluster to join (default: a local Ray)")
    p.add_argument("--workers", type=int, default=0, metavar="N",
                   help="folds at once with --backend local or a local Ray (default: one per core)")
    add_threads_option(p)
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from visualizer.core import experiment, strict_json
    from visualizer.core.data.sets import raw_arrays
    from visualizer.core.evaluation.folds import (
        METHOD_SETTINGS,
        EvalSpec,
        FoldProgress,
        FoldResult,
        fold_metric_names,
        folds_csv,
        make_splits,
        run_folds,
        summarize,
    )

    exp = experiment.load(args.experiment)
    spec = EvalSpec(method=args.method, k=5 if args.k is None else args.k,
                    repeats=1 if args.repeats is None else args.repeats, seed=exp.data.seed,
                    val_fraction=args.val_fraction if args.val_fraction is not None else exp.data.val_fraction)
    unused = [f"--{name.replace('_', '-')}" for name in ("k", "repeats", "val_fraction")
              if getattr(args, name) is not None and name not in METHOD_SETTINGS[spec.method]]
    if unused:
        print(f"note: {spec.method} does not use {' or '.join(unused)}; ignored", file=sys.stderr)
    base = args.experiment.parent
    results: list[FoldResult] = []
    bar = None
    if args.backend != "serial":
        results = _parallel_folds(args, exp, spec, base)
    for event in run_folds(exp, spec, base, confirm=args.yes) if args.backend == "serial" else ():
        if isinstance(event, FoldProgress) and not args.quiet:
            if bar is None:
                from tqdm import tqdm

                bar = tqdm(total=event.n_folds, unit="fold", file=sys.stderr, mininterval=0.5)
            bar.set_postfix_str(f"fold {event.fold}/{event.n_folds}, step {event.step}/{event.total_steps}",
                                refresh=False)
        elif isinstance(event, FoldResult):
            results.append(event)
            if bar is not None:
                bar.update(1)
    if bar is not None:
        bar.close()
    raw = raw_arrays(exp.data, base)
    n_classes = len(raw.class_names)
    summary = summarize(results, spec, raw.task, n_classes)
    summary["experiment"] = exp.title or args.experiment.name
    args.out.mkdir(parents=True, exist_ok=True)
    experiment.atomic_write_text(args.out / "folds.csv", folds_csv(results, raw.task, spec.method))
    experiment.atomic_write_text(args.out / "summary.json", strict_json.dumps(summary, indent=2) + "\n")
    if not args.no_plots:
        from visualizer.qt.plots.figures import write_evaluation_plots

        write_evaluation_plots(args.out, raw, make_splits(spec, raw), results, method=spec.method)
    print(_result_line(summary, fold_metric_names(raw.task, spec.method), args.out), file=sys.stderr)
    return 0


def _parallel_folds(args, exp, spec, base: Path) -> list:
    """The folds trained in parallel on the backend asked for, in fold order."""
    from visualizer.core.evaluation.folds import fold_tasks, run_fold
    from visualizer.core.sweeps.backends import run_tasks

    tasks = fold_tasks(exp, spec, base, args.yes, threads=1)
    bar = None
    if not args.quiet:
        from tqdm import tqdm

        bar = tqdm(total=len(tasks), unit="fold", file=sys.stderr, mininterval=0.5)
    results = []
    try:
        for _task, result in run_tasks(run_fold, tasks, args.backend, args.workers, args.address):
            results.append(result)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return sorted(results, key=lambda r: r.fold)


def _result_line(summary: dict, per_fold: tuple[str, ...], out: Path) -> str:
    """The one line a cross-validation ends with: mean ± std over the folds (leave-one-out: the pooled
    figures), and which folds diverged."""
    n, method = summary["folds"], summary["method"]
    if method == "loo":
        pooled = ", ".join(f"{k} {v:.4f}" for k, v in summary["pooled"].items() if v is not None)
        line = f"{n} folds (loo), one validation sample each; pooled over all of them: {pooled}"
    else:
        shown = ", ".join(f"{name} {summary['metrics'][name]['mean']:.4f} ± {summary['metrics'][name]['std']:.4f}"
                          for name in per_fold if summary["metrics"][name]["mean"] is not None)
        line = f"{n} folds ({method}): {shown}"
    diverged = summary.get("diverged_folds", [])
    if diverged:
        line += f"; {len(diverged)} fold(s) diverged ({', '.join(map(str, diverged))}): their figures are not finite"
    return f"{line}; files in {out}"
