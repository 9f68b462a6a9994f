"""`visualizer distill RUN --out DIR`: train a smaller student from a run's softened outputs; compare with scratch."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from visualizer.cli.common import EXIT_OK, RUN_HELP, add_threads_option, check_out

DISTILL_DESCRIPTION = """Knowledge distillation (Hinton et al. 2015): train a smaller student network from the
run's model (the teacher) with the loss α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1−α)·(the run's loss), and the
same student from scratch (same seed, epochs and optimizer). Writes DIR/distill.json (teacher, distilled student and
student from scratch: parameters, validation loss and accuracy or R²), DIR/model.safetensors and DIR/experiment.toml
(the distilled student) and DIR/metrics.csv (its training curve)."""


def add_parser(sub) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    d = sub.add_parser("distill", help="distil a trained run into a smaller student; compare with scratch",
                       description=DISTILL_DESCRIPTION, formatter_class=fmt)
    d.add_argument("run", type=Path, metavar="RUN", help=f"the teacher: {RUN_HELP}")
    d.add_argument("--hidden", type=int, action="append", required=True, metavar="WIDTH",
                   help="a hidden layer of the student; repeat for more layers (--hidden 8 --hidden 4)")
    d.add_argument("--temperature", type=float, default=4.0, help="softmax temperature T (default 4)")
    d.add_argument("--alpha", type=float, default=0.7, help="weight α of the teacher's soft targets, 0-1 (default 0.7)")
    d.add_argument("--epochs", type=int, help="epochs of both students (default: the run's train.epochs)")
    d.add_argument("--seed", type=int, help="seed of both students (default: the run's train.seed)")
    d.add_argument("--activation", help="the student's activation (default: the teacher's first)")
    d.add_argument("--out", type=Path, required=True, help="output folder (created if missing; not the run's folder)")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    add_threads_option(d)
    d.set_defaults(func=cmd_distill)


def cmd_distill(args) -> int:
    from visualizer.core import experiment, strict_json
    from visualizer.core.compression.distill import check_settings, compare
    from visualizer.core.model.weights import save_weights
    from visualizer.core.runs.folder import metrics_csv
    from visualizer.core.runs.loaded import load_run
    from visualizer.core.training.events import RunStarted, StepEvent
    from visualizer.core.training.history import History

    hidden = check_settings(args.hidden, args.temperature, args.alpha, args.epochs)
    check_out(args.run, args.out)
    run = load_run(args.run)
    history, bars = History(), []

    def progress(which: str, event) -> None:
        if isinstance(event, StepEvent):
            if which == "distilled":
                history.append(event)
            if bars and event.step:
                bars[0].update(1)
        elif isinstance(event, RunStarted) and not args.quiet and not bars:
            from tqdm import tqdm

            bars.append(tqdm(total=2 * event.total_steps, unit="step", file=sys.stderr, mininterval=0.5,
                             dynamic_ncols=True, desc="distilled student, then from scratch"))

    try:
        table, session = compare(run, hidden, temperature=args.temperature, alpha=args.alpha, epochs=args.epochs,
                                 seed=args.seed, activation=args.activation, progress=progress)
    finally:
        for bar in bars:
            bar.close()
    args.out.mkdir(parents=True, exist_ok=True)
    info = {"teacher_run": str(args.run), **table.to_dict()}
    text = strict_json.dumps(info, indent=2, ensure_ascii=False) + "\n"
    experiment.atomic_write_text(args.out / "distill.json", text)
    experiment.save(session.experiment, args.out / "experiment.toml")
    save_weights(session.model, args.out / "model.safetensors",
                 metadata={"experiment": experiment.dumps(session.experiment, "json")})
    experiment.atomic_write_text(args.out / "metrics.csv", metrics_csv(history, run.task))
    teacher, student, scratch = table.rows
    m = table.metric
    print(f"{m}: teacher {teacher.metric:.4f} ({teacher.parameters:,} parameters), distilled student "
          f"{student.metric:.4f}, student from scratch {scratch.metric:.4f} ({student.parameters:,} parameters); "
          f"files in {args.out}", file=sys.stderr)
    return EXIT_OK
