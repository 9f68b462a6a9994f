"""`visualizer bench sweep`: the 16-trial moons sweep (train.lr x train.momentum, 4 x 4) run one trial after another,
on the local backend and on a local Ray, side by side in one run: times, ratios against serial, same tables."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from visualizer.core.sweeps.grid import parse_param
from visualizer.core.sweeps.runner import SweepPlan, run_sweep
from visualizer.core.sweeps.table import read_table

#: the sweep of the issue's done-when: moons (the preset), the momentum optimizer, 4 learning rates x 4 momenta
PARAMS = ("train.lr=0.001:1:log:4", "train.momentum=0,0.5,0.9,0.99", "train.optimizer=momentum")
#: the figures two backends must give alike (wall_s is the time a trial took)
SAME = ("status", "final_train_loss", "final_val_loss", "final_val_metric", "best_val_loss", "diverged_step", "steps")


def moons_plan(epochs: int | None = None) -> SweepPlan:
    from visualizer.core import experiment
    from visualizer.core.resources import resources_dir

    params = PARAMS + ((f"train.epochs={epochs}",) if epochs else ())
    exp = experiment.load(resources_dir() / "experiments" / "moons.toml")
    return SweepPlan(exp, tuple(parse_param(p) for p in params))


def _timed(plan: SweepPlan, backend: str, workers: int) -> tuple[float, list[dict]]:
    with tempfile.TemporaryDirectory(prefix="visualizer-bench-sweep-") as tmp:
        t0 = time.perf_counter()
        for _event in run_sweep(plan, Path(tmp), backend, workers):
            pass
        seconds = time.perf_counter() - t0
        return seconds, read_table(Path(tmp))[1]


def bench_sweep(epochs: int | None = None, workers: int = 0, ray: bool = True) -> dict:
    """Times of the 16-trial moons sweep: serial, local (``workers``: default one per core) and, when Ray is
    installed, a local Ray of as many CPUs (started before the clock starts, as a cluster would be up), timed twice:
    its workers import torch on their first trial; a second sweep on the same Ray finds them warm."""
    from visualizer.core.sweeps.backends import default_workers
    from visualizer.core.threads import cores

    workers = workers or default_workers()
    plan = moons_plan(epochs)
    result: dict = {"trials": len(plan.trials()), "epochs": plan.trials()[0].experiment["train"]["epochs"],
                    "cores": cores(), "workers": workers}
    _timed(moons_plan(1), "serial", 1)  # warm-up: torch's one-time imports (its compiler stub: ~2 s) before any clock
    serial_s, serial_rows = _timed(plan, "serial", 1)
    local_s, local_rows = _timed(plan, "local", workers)
    same = lambda rows: [{k: r[k] for k in SAME} for r in rows] == [{k: r[k] for k in SAME} for r in serial_rows]
    result.update(serial_s=serial_s, local_s=local_s, local_ratio=local_s / serial_s, local_same=same(local_rows))
    try:
        import ray as ray_module
    except ImportError:
        ray_module = None
    if ray and ray_module is not None:
        started = not ray_module.is_initialized()
        t0 = time.perf_counter()
        if started:
            ray_module.init(num_cpus=workers, include_dashboard=False, log_to_driver=False, configure_logging=False)
        result["ray_start_s"] = time.perf_counter() - t0
        try:
            ray_s, ray_rows = _timed(plan, "ray", workers)  # its workers import torch on their first trial
            warm_s, warm_rows = _timed(plan, "ray", workers)  # a second sweep on the same cluster: workers warm
        finally:
            if started:
                ray_module.shutdown()
        result.update(ray_s=ray_s, ray_ratio=ray_s / serial_s, ray_same=same(ray_rows), ray_warm_s=warm_s,
                      ray_warm_ratio=warm_s / serial_s, ray_warm_same=same(warm_rows))
    return result


def format_report(r: dict) -> str:
    lines = [f"moons sweep: {r['trials']} trials (train.lr x train.momentum, 4 x 4), {r['epochs']} epochs each; "
             f"{r['cores']} cores, {r['workers']} workers, one torch thread each",
             f"serial (one after another)  : {r['serial_s']:7.2f} s",
             f"local backend               : {r['local_s']:7.2f} s  ratio {r['local_ratio']:.2f} (goal <= 0.6); "
             f"same table: {r['local_same']}"]
    if "ray_s" in r:
        lines.append(f"ray, local {r['workers']} CPUs, cold    : {r['ray_s']:7.2f} s  ratio {r['ray_ratio']:.2f} "
                     f"(goal <= 0.7); same table: {r['ray_same']}; starting Ray took {r['ray_start_s']:.1f} s "
                     "before the clock")
        lines.append(f"ray, the same Ray, warm     : {r['ray_warm_s']:7.2f} s  ratio {r['ray_warm_ratio']:.2f} "
                     f"(workers warm); same table: {r['ray_warm_same']}")
    else:
        lines.append("ray                        : not installed (pip install \".[cluster]\")")
    return "\n".join(lines)
