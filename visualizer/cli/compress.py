"""`visualizer compress RUN --out DIR`: prune and/or quantize a trained run; compression.json and the weights.

Bad input raises VisualizerError, which the command line prints as one line with exit status 2. Imports the core
only (lazily, so `visualizer --help` stays fast).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from visualizer.cli.common import EXIT_OK, RUN_HELP, add_threads_option, apply_threads_for, check_out

COMPRESS_DESCRIPTION = """Prune and/or quantize the model of a run (its run file or the folder holding it) and write
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


def add_parser(sub) -> None:
    fmt = argparse.RawDescriptionHelpFormatter
    c = sub.add_parser("compress", help="prune and/or quantize a trained run; write compression.json and weights",
                       description=COMPRESS_DESCRIPTION, formatter_class=fmt)
    c.add_argument("run", type=Path, metavar="RUN", help=RUN_HELP)
    c.add_argument("--out", type=Path, required=True, help="output folder (created if missing; not the run's folder)")
    c.add_argument("--prune", metavar="METHOD:AMOUNT", help="l1, global, random or structured, e.g. l1:0.5 or l1:50%%")
    c.add_argument("--quantize", metavar="SPEC", help="pow2:K, bits:B or int8")
    c.add_argument("--per-channel", action="store_true", help="one scale per output neuron (bits:B and int8)")
    c.add_argument("--shrink", action="store_true",
                   help="remove pruned neurons for real (with --prune structured:AMOUNT); saves the smaller network")
    c.add_argument("--seed", type=int, help="seed of random pruning (default: the run's train.seed)")
    c.add_argument("--repeats", type=int, default=30, help="latency repeats, medians reported (default 30)")
    add_threads_option(c)
    c.set_defaults(func=cmd_compress)


def cmd_compress(args) -> int:
    from visualizer.core import experiment, strict_json
    from visualizer.core.compression.compress import compress, parse_prune, parse_quantize
    from visualizer.core.errors import VisualizerError
    from visualizer.core.model.weights import save_weights
    from visualizer.core.runs.loaded import load_run

    prune_request = parse_prune(args.prune) if args.prune is not None else None
    quant_request = parse_quantize(args.quantize) if args.quantize is not None else None
    if args.repeats < 1:
        raise VisualizerError(f"--repeats: {args.repeats} is out of range; allowed: 1 or more")
    check_out(args.run, args.out)
    run = load_run(args.run)
    apply_threads_for(run.widths(), len(run.eval_tensors()[0]))  # the latencies are measured at these threads
    result = compress(run, prune_request, quant_request, per_channel=args.per_channel, shrink=args.shrink,
                      seed=args.seed, latency_repeats=args.repeats)
    args.out.mkdir(parents=True, exist_ok=True)
    text = strict_json.dumps(result.report, indent=2, ensure_ascii=False) + "\n"
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
