"""`visualizer validate EXPERIMENT`: check an experiment file and the data it names, without training."""

from __future__ import annotations

from pathlib import Path

from visualizer.cli.common import EXIT_OK, load_experiment


def add_parser(sub) -> None:
    p = sub.add_parser("validate", help="check an experiment file and its data",
                         description="Check an experiment file: every key, value and the data it names.")
    p.add_argument("experiment", type=Path)
    p.set_defaults(func=cmd_validate)


def cmd_validate(args) -> int:
    exp, ds = load_experiment(args.experiment)
    print(f"{args.experiment}: ok ({exp.data.name}: {len(ds.X_train)} train / {len(ds.X_val)} validation samples, "
          f"{ds.n_features} features, {ds.task}; {exp.train.optimizer}, {exp.train.loss})")
    return EXIT_OK
