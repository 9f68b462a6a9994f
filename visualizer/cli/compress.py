"""The `compress` and `distill` commands: `add_parsers` adds them to the `visualizer` command's subparsers.

Each command returns an exit status; bad input raises VisualizerError, which the command line prints as one line
with exit status 2. Imports the core only (lazily, so `visualizer --help` stays fast).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

EXIT_OK, EXIT_BAD_INPUT = 0, 2

COMPRESS_DESCRIPTION = """Prune and/or quantize the model of a run folder (written by `visualizer run`) and write
DIR/compression.json (per layer and total: sparsity, bits, size in bytes, quantization error; loss and accuracy or
R² before and after; latency before and after), DIR/model.safetensors (the compressed weights as float32: pruned
weights exactly zero, quantized weights exactly on their grid; int8: the dequantized weights) and DIR/experiment.toml
(the network of the saved weights). With both options it prunes first, then quantizes.

pruning (torch.nn.utils.prune), AMOUNT a fraction 0-0.99 or a percentage 0%-99%:
  l1:AMOUNT          the smallest weights of every Linear layer
  global:AMOUNT      the smallest weights of all Linear layers together
  random:AMOUNT      random weights of every Linear layer (seeded by --seed)
  structured:AMOUNT  whole hidden neurons with the smallest L2 norm (--shrink removes them for real)
quantization:
  pow2:K             the survey article's rule θq = round(θ / 2^K), θ ≈ θq·2^K (K = -4: steps of 1/16)
  bits:B             symmetric uniform B-bit, B from 2 to 8 (per output neuron with --per-channel)
  int8               PyTorch dynamic int8 quantization of the Linear layers (real int8 kernels)"""

DISTILL_DESCRIPTION = """Knowledge distillation (Hinton et al. 2015): train a smaller student network from the
run's model (the teacher) with the loss α·T²·KL(softmax(z_t/T) ‖ softmax(z_s/T)) + (1−α)·(the run's loss), and the
same student from scratch (same seed, epochs and optimizer). Writes DIR/distill.json (teacher, distilled student and
student from scratch: parameters, validation loss and accuracy or R²), DIR/model.safetensors and DIR/experiment.toml
(the distilled student) and DIR/metrics.csv (its training curve)."""


def add_parsers(sub, parser_class=None) -> None:
    """Add `compress` and `distill` to ``sub`` (argparse subparsers); each sets ``func`` to its command.

    ``parser_class`` is accepted for nested subcommands; these two have none, so the subparsers' own class is used.
    """
    fmt = argparse.RawDescriptionHelpFormatter
    c = sub.add_parser("compress", help="prune and/or quantize a trained run; write compression.json and weights",
                       description=COMPRESS_DESCRIPTION, formatter_class=fmt)
    c.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="a folder written by `visualizer run`")
    c.add_argument("--out", type=Path, required=True, help="output folder (created if missing; not RUN_DIR)")
    c.add_argument("--prune", metavar="METHOD:AMOUNT", help="l1, global, random or structured, e.g. l1:0.5 or l1:50%%")
    c.add_argument("--quantize", metavar="SPEC", help="pow2:K, bits:B or int8")
    c.add_argument("--per-channel", action="store_true", help="one scale per output neuron (bits:B and int8)")
    c.add_argument("--shrink", action="store_true",
                   help="remove pruned neurons for real (with --prune structured:AMOUNT); saves the smaller network")
    c.add_argument("--seed", type=int, help="seed of random pruning (default: the run's train.seed)")
    c.add_argument("--repeats", type=int, default=30, help="latency repeats, medians reported (default 30)")
    c.set_defaults(func=cmd_compress)

    d = sub.add_parser("distill", help="distil a trained run into a smaller student; compare with scratch",
                       description=DISTILL_DESCRIPTION, formatter_class=fmt)
    d.add_argument("run_dir", type=Path, metavar="RUN_DIR", help="the teacher: a folder written by `visualizer run`")
    d.add_argument("--hidden", type=int, action="append", required=True, metavar="WIDTH",
                   help="a hidden layer of the student; repeat for more layers (--hidden 8 --hidden 4)")
    d.add_argument("--temperature", type=float, default=4.0, help="softmax temperature T (default 4)")
    d.add_argument("--alpha", type=float, default=0.7, help="weight α of the teacher's soft targets, 0-1 (default 0.7)")
    d.add_argument("--epochs", type=int, help="epochs of both students (default: the run's train.epochs)")
    d.add_argument("--seed", type=int, help="seed of both students (default: the run's train.seed)")
    d.add_argument("--activation", help="the student's activation (default: the teacher's first)")
    d.add_argument("--out", type=Path, required=True, help="output folder (created if missing; not RUN_DIR)")
    d.add_argument("--quiet", action="store_true", help="no progress bar")
    d.set_defaults(func=cmd_distill)


def _check_out(run_dir: Path, out: Path) -> None:
    from visualizer.core.errors import VisualizerError

    if out.resolve() == run_dir.resolve():
        raise VisualizerError(f"--out {out}: is the run folder itself; its model.safetensors would be overwritten, "
                              "choose another folder")


def cmd_compress(args) -> int:
    from visualizer.core import experiment
    from visualizer.core.compression.compress import compress, parse_prune, parse_quantize
    from visualizer.core.errors import VisualizerError
    from visualizer.core.model.weights import save_weights
    from visualizer.core.runs.loaded import load_run

    prune_request = parse_prune(args.prune) if args.prune is not None else None
    quant_request = parse_quantize(args.quantize) if args.quantize is not None else None
    if args.repeats < 1:
        raise VisualizerError(f"--repeats: {args.repeats} is out of range; allowed: 1 or more")
    _check_out(args.run_dir, args.out)
    run = load_run(args.run_dir)
    result = compress(run, prune_request, quant_request, per_channel=args.per_channel, shrink=args.shrink,
                      seed=args.seed, latency_repeats=args.repeats)
    args.out.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result.report, indent=2, ensure_ascii=False) + "\n"
    experiment.atomic_write_text(args.out / "compression.json", text)
    experiment.save(result.experiment, args.out / "experiment.toml")
    save_weights(result.model, args.out / "model.safetensors",
                 metadata={"experiment": experiment.dumps(result.experiment, "json")})
    r = result.report
    metric = r["metric"]
    print(f"{metric} {r['before'][metric]:.4f} -> {r['after'][metric]:.4f}; sparsity {r['total']['sparsity']:.1%}; "
          f"{r['total']['float_bytes']:,} -> {r['total']['bytes']:,} bytes; latency "
          f"{r['latency_s']['before'] * 1e3:.3f} -> {r['latency_s']['after'] * 1e3:.3f} ms; files in {args.out}",
          file=sys.stderr)
    return EXIT_OK


def cmd_distill(args) -> int:
    from visualizer.core import experiment
    from visualizer.core.compression.distill import check_settings, compare
    from visualizer.core.model.weights import save_weights
    from visualizer.core.runs.folder import metrics_csv
    from visualizer.core.runs.loaded import load_run
    from visualizer.core.training.events import RunStarted, StepEvent
    from visualizer.core.training.history import History

    hidden = check_settings(args.hidden, args.temperature, args.alpha, args.epochs)
    _check_out(args.run_dir, args.out)
    run = load_run(args.run_dir)
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
    info = {"teacher_run": str(args.run_dir), **table.to_dict()}
    experiment.atomic_write_text(args.out / "distill.json", json.dumps(info, indent=2, ensure_ascii=False) + "\n")
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


COMMANDS = {"compress": cmd_compress, "distill": cmd_distill}


def main(argv: list[str]) -> int:
    """Run `compress` or `distill` alone (as `visualizer compress …` does once wired into visualizer.cli.parser)."""
    from visualizer.cli.parser import _fail, _Parser
    from visualizer.core.errors import VisualizerError

    parser = _Parser(prog="visualizer")
    add_parsers(parser.add_subparsers(dest="command", required=True, parser_class=_Parser), _Parser)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    try:
        return args.func(args)
    except VisualizerError as exc:
        return _fail(str(exc), EXIT_BAD_INPUT)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
