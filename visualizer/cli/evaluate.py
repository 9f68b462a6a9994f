"""`visualizer evaluate`: cross-validation without a screen; folds.csv, summary.json and two plots."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

#: the names of visualizer.core.evaluation.folds.METHODS, here so that building the parser does not import torch
METHODS = ("holdout", "kfold", "stratified", "loo", "shuffle")


def add_parser(sub) -> None:
    p = sub.add_parser(
        "evaluate", help="cross-validate an experiment: hold-out, k-fold, stratified, leave-one-out, shuffle",
        description="Train a fresh network on every fold of a scikit-learn split of the experiment's data (all "
                    "samples, shuffled with data.seed) and write DIR/folds.csv (fold, n_train, n_val, then the "
                    "metrics), DIR/summary.json (mean and std of each metric, pooled metrics, method, k, seed), "
                    "DIR/cv_indices.png (which samples each fold trains and validates on) and DIR/folds.png.")
    p.add_argument("experiment", type=Path, help="experiment file (.toml or .json)")
    p.add_argument("--out", type=Path, required=True, help="output folder (created if missing)")
    p.add_argument("--method", choices=list(METHODS), default="kfold", help="how to split (default kfold)")
    p.add_argument("--k", type=int, default=5, help="folds for kfold and stratified, 2 to 20 (default 5)")
    p.add_argument("--repeats", type=int, default=1,
                   help="repeats of kfold/stratified, or splits of shuffle (default 1)")
    p.add_argument("--val-fraction", type=float, default=None,
                   help="held-out fraction for holdout and shuffle (default: the experiment's data.val_fraction)")
    p.add_argument("--yes", action="store_true", help="run leave-one-out even on many samples")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_evaluate)


def cmd_evaluate(args: argparse.Namespace) -> int:
    from visualizer.core import experiment
    from visualizer.core.data.sets import raw_arrays
    from visualizer.core.evaluation.folds import (
        EvalSpec,
        FoldProgress,
        FoldResult,
        folds_csv,
        make_splits,
        run_folds,
        summarize,
    )

    exp = experiment.load(args.experiment)
    spec = EvalSpec(method=args.method, k=args.k, repeats=args.repeats, seed=exp.data.seed,
                    val_fraction=args.val_fraction if args.val_fraction is not None else exp.data.val_fraction)
    base = args.experiment.parent
    results: list[FoldResult] = []
    bar = None
    for event in run_folds(exp, spec, base, confirm=args.yes):
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
    experiment.atomic_write_text(args.out / "folds.csv", folds_csv(results, raw.task))
    experiment.atomic_write_text(args.out / "summary.json", json.dumps(summary, indent=2) + "\n")
    if not args.no_plots:
        from visualizer.qt.plots.figures import write_evaluation_plots

        write_evaluation_plots(args.out, raw, make_splits(spec, raw), results)
    shown = ", ".join(f"{name} {v['mean']:.4f} ± {v['std']:.4f}" for name, v in summary["metrics"].items()
                      if v["mean"] is not None)
    print(f"{len(results)} folds ({spec.method}): {shown}; files in {args.out}", file=sys.stderr)
    return 0
