"""`visualizer bench train|gui|landscape|sweep`: performance, measured side by side in one run."""

from __future__ import annotations

import argparse

from visualizer.cli.common import EXIT_OK, ArgParser

LOADED_HELP = ("measure twice: alone, then beside one busy process (a core at 100 %%, as a user's browser or screen "
               "sharing); print both and loaded / unloaded for the headline speeds")


def add_parser(sub) -> None:
    bench = sub.add_parser("bench", help="benchmarks", description="Benchmarks, measured side by side in one run.")
    bsub = bench.add_subparsers(dest="bench", metavar="WHAT", parser_class=ArgParser, required=True)
    bt = bsub.add_parser("train", help="session steps/s against a plain torch loop (digits MLP, Adam, batch 32)",
                         description="Runs a plain torch loop (the same model, batches and optimizer, "
                                     "validation once per epoch), the training session (step events every step, "
                                     "snapshots at its default rate) and the loop without validation on the "
                                     "digits MLP in turn, one epoch of each at a time, so that all three see the "
                                     "same machine; prints the medians of the repeats' steps/s and of their "
                                     "ratios session / plain loop.")
    bt.add_argument("--repeats", type=int, default=9, help="repeats of the three runs in turn (default 9)")
    bt.add_argument("--epochs", type=int, default=20, help="epochs of 45 steps per repeat (default 20)")
    bt.add_argument("--threads", type=int, default=0, help="torch threads (default: the thread policy)")
    bt.add_argument("--json", action="store_true", help="print one JSON object")
    bt.add_argument("--loaded", action="store_true", help=LOADED_HELP)
    bt.add_argument("--sharpness-every", type=int, default=0, metavar="N",
                    help="instead: the moons preset with and without the sharpness measured every N steps (and "
                         "the health with --health-every); the ratio is what the lab costs training")
    bt.add_argument("--health-every", type=int, default=0, metavar="N",
                    help="with --sharpness-every (or alone): the per-layer health every N steps")
    _add_landscape(bsub)
    bg = bsub.add_parser("gui", help="GUI-thread lateness and steps/s in the window against headless; first paint",
                         description="Runs the window offscreen and trains the digits MLP at full speed: the "
                                     "lateness of a 5 ms timer on the GUI thread (p50, p95, max), the window's "
                                     "steps/s against the headless session, alternated, and the seconds from "
                                     "process start to the first painted window.")
    bg.add_argument("--epochs", type=int, default=150, help="epochs of 45 steps per run (default 150)")
    bg.add_argument("--repeats", type=int, default=3, help="alternated headless/window runs (default 3)")
    bg.add_argument("--json", action="store_true", help="print one JSON object")
    bg.add_argument("--loaded", action="store_true", help=LOADED_HELP)
    bs = bsub.add_parser("sweep", help="the 16-trial moons sweep: serial against the local backend and Ray",
                         description="Runs the moons preset's sweep of train.lr x train.momentum (4 x 4, the "
                                     "momentum optimizer) one trial after another, on the local backend and on a "
                                     "local Ray (when installed; started before the clock), side by side; prints "
                                     "the times, the ratios against serial and whether the tables are the same.")
    bs.add_argument("--epochs", type=int, default=None, help="epochs per trial (default: the preset's 60)")
    bs.add_argument("--workers", type=int, default=0, help="workers and Ray CPUs (default: one per core)")
    bs.add_argument("--no-ray", action="store_true", help="leave Ray out")
    bs.add_argument("--json", action="store_true", help="print one JSON object")
    bsub.add_parser("busy")  # (no help: hidden) the busy process of --loaded: one core at 100 % until killed
    bench.set_defaults(func=cmd_bench)


def _add_landscape(bsub) -> None:
    """`visualizer bench landscape`."""
    b = bsub.add_parser("landscape", help="batched grid evaluation against the per-point loop (moons, digits)",
                        description="Times the batched loss-surface evaluation against the per-point loop of the "
                                    "loss-landscape scripts (same network, directions and values, alternated, "
                                    "medians after a warm-up) on the moons MLP at 61 x 61 and the digits MLP at "
                                    "31 x 31; the first surface of a fresh process; the fraction of the "
                                    "machine's float32 matmul rate reached.")
    b.add_argument("--repeats", type=int, default=5, help="alternated repeats (default 5)")
    b.add_argument("--threads", type=int, default=0, help="torch threads (default: the thread policy)")
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("--loaded", action="store_true", help=LOADED_HELP)
    b.add_argument("--first-surface-probe", action="store_true", help=argparse.SUPPRESS)  # a packaged program's



def cmd_bench(args) -> int:
    from visualizer.core import strict_json
    from visualizer.core.bench_load import loaded_and_unloaded, spin_forever

    if args.bench == "busy":  # the busy process of --loaded
        spin_forever()
    if args.bench == "landscape" and args.first_surface_probe:
        return cmd_bench_landscape(args)
    measure, report = {"train": (_train, _train_report), "gui": (_gui, _gui_report),
                       "landscape": (_landscape, _landscape_report), "sweep": (_sweep, _sweep_report)}[args.bench]
    if getattr(args, "loaded", False):
        result = loaded_and_unloaded(args.bench, lambda: measure(args))
        if args.json:
            print(strict_json.dumps(result))
        else:
            for side in ("unloaded", "loaded"):
                print(f"-- {side}{' (one busy process beside it)' if side == 'loaded' else ''}")
                report(result[side])
            print("-- loaded / unloaded: " + ", ".join(f"{k} {v:.2f}" for k, v in
                                                      result["loaded_over_unloaded"].items()))
        return EXIT_OK
    result = measure(args)
    if args.json:
        print(strict_json.dumps(result))
    else:
        report(result)
    return EXIT_OK


def _sweep(args) -> dict:
    from visualizer.core.sweeps.bench import bench_sweep

    return bench_sweep(epochs=args.epochs, workers=args.workers, ray=not args.no_ray)


def _sweep_report(result: dict) -> None:
    from visualizer.core.sweeps.bench import format_report

    print(format_report(result))


def _gui(args) -> dict:
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from visualizer.qt.app.bench_gui import bench_gui

    return bench_gui(epochs=args.epochs, repeats=args.repeats)


def _gui_report(result: dict) -> None:
    print(f"{result['model']}; {result['repeats']} alternated runs of {result['steps_per_run']} steps; "
          f"{result['worker_threads']} torch thread(s) in the window and headless (the thread policy)")
    print(f"GUI timer (5 ms) lateness : p50 {result['p50_lateness_ms']:.2f} ms, p95 "
          f"{result['p95_lateness_ms']:.2f} ms, max {result['max_lateness_ms']:.1f} ms ({result['timer_ticks']} ticks, "
          f"{result['late_over_1ms_share'] * 100:.1f} % over 1 ms late)")
    print(f"input wait at any moment : p50 {result['p50_wait_ms']:.2f} ms, p95 {result['p95_wait_ms']:.2f} ms, p99 "
          f"{result['p99_wait_ms']:.2f} ms (time-weighted: a stall counts for as long as it lasts)")
    print(f"headless session         : {result['headless_steps_per_s']:8.0f} steps/s; at torch's default of "
          f"{result['headless_default_threads']} threads {result['headless_default_threads_steps_per_s']:.0f}")
    print(f"in the window            : {result['window_steps_per_s']:8.0f} steps/s")
    print(f"steps ratio              : {result['steps_ratio']:.3f} (window / headless, same threads)")
    if result.get("train_to_first_step_s") is not None:
        print(f"Train to the first step  : {result['train_to_first_step_s']:.3f} s (median; the training process "
              f"warm)")
    print(f"first paint              : {result['first_paint_s']:.2f} s (median)")


def _train(args) -> dict:
    from visualizer.core.training.bench import bench_train

    if args.sharpness_every or args.health_every:
        from visualizer.core.lab.bench import bench_lab

        return bench_lab(max(args.sharpness_every, 0), max(args.health_every, 0), repeats=args.repeats,
                         threads=args.threads or None)
    return bench_train(repeats=args.repeats, epochs=args.epochs, threads=args.threads or None)


def _train_report(result: dict) -> None:
    if "sharpness_every" in result:
        print(f"{result['model']}; {result['repeats']} alternated repeats; sharpness every "
              f"{result['sharpness_every']} steps, health every {result['health_every']} steps (0: off); "
              f"{result['measurements_per_run']} measurements a run")
        print(f"lab off : {result['off_steps_per_s']:8.0f} steps/s")
        print(f"lab on  : {result['on_steps_per_s']:8.0f} steps/s")
        print(f"ratio on / off: {result['ratio']:.3f} (cost {100 * (1 - result['ratio']):.1f} %)")
        print(f"median of the repeats' on / off pairs (run back to back): {result['pair_ratio']:.3f} "
              f"(cost {100 * (1 - result['pair_ratio']):.1f} %)")
        return
    print(f"{result['model']}; {result['repeats']} repeats of {result['steps_per_repeat']} steps, each loop an "
          f"epoch at a time in turn; {result['torch_threads']} torch threads ({result['threads_note']})")
    print(f"plain torch loop (validation once per epoch) : {result['plain_steps_per_s']:8.0f} steps/s")
    print(f"training session (events, snapshots)         : {result['session_steps_per_s']:8.0f} steps/s")
    print(f"plain torch loop without validation          : {result['plain_no_validation_steps_per_s']:8.0f} steps/s")
    print(f"ratio session / plain loop                   : {result['ratio']:.3f} (median of the repeats' ratios; "
          f"snapshots per run {result['session_snapshots_in_turn']:.0f}, alone {result['session_snapshots_alone']})")
    print(f"ratio session / plain loop without validation: {result['ratio_vs_no_validation']:.3f}")


def _landscape(args) -> dict:
    from visualizer.core.errors import VisualizerError
    from visualizer.core.landscape.bench import bench_landscape

    if args.repeats < 1:
        raise VisualizerError(f"--repeats: {args.repeats} is out of range; allowed: 1 or more")
    return bench_landscape(repeats=args.repeats, threads=args.threads or None)


def _landscape_report(result: dict) -> None:
    from visualizer.core.landscape.bench import format_report

    print(format_report(result))


def cmd_bench_landscape(args: argparse.Namespace) -> int:
    """The fresh process of the first-surface measurement, in a packaged program."""
    import time

    t_start = time.perf_counter()  # after the program's own start-up: its imports of torch are counted
    from visualizer.core.landscape.bench import first_surface_probe

    print(first_surface_probe(args.threads, t_start))
    return 0
