"""`visualizer bench landscape`: the batched grid evaluation against the per-point loop of the loss-landscape
scripts, same networks, directions and values, alternated in one run."""

from __future__ import annotations

import statistics
import subprocess
import sys
import time

import numpy as np
import torch

from visualizer.core.data.sets import load_dataset
from visualizer.core.experiment import DataSpec
from visualizer.core.landscape.directions import loss_surface, loss_surface_reference, random_plane
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import MLP, flat_parameters

#: (data set, hidden widths, activation, classes, grid resolution): the issue's two benchmark networks
CASES = {
    "moons": ("moons", (16, 16), "tanh", 2, 61),
    "digits": ("digits", (128, 128), "relu", 10, 31),
}

_FIRST_SURFACE = """
import sys, time
t_start = time.perf_counter()
from visualizer.core.landscape.bench import first_surface_probe
print(first_surface_probe(int(sys.argv[1]), t_start))
"""


def first_surface_probe(threads: int, t_start: float) -> str:
    """In a fresh process: "seconds of the first moons surface, seconds since ``t_start``" (the probe's output)."""
    if threads:
        torch.set_num_threads(threads)
    args = problem("moons")
    t0 = time.perf_counter()
    loss_surface(*args)
    t1 = time.perf_counter()
    return f"{t1 - t0} {t1 - t_start}"


def problem(name: str, seed: int = 0) -> tuple:
    """The arguments of ``loss_surface`` for a benchmark case: a freshly initialised network (torch seed ``seed``),
    all the data set's samples (train and validation, standardised), filter-normalised directions, a [-1, 1]² grid."""
    data, hidden, act, n_classes, res = CASES[name]
    ds = load_dataset(DataSpec(name=data, samples=1000, val_fraction=0.2, seed=0))
    X = torch.as_tensor(np.concatenate([ds.X_train, ds.X_val]))
    y = torch.as_tensor(np.concatenate([ds.y_train, ds.y_val]))
    torch.manual_seed(seed)
    model = MLP(ds.n_features, hidden, (act,) * len(hidden), n_classes).eval()
    d1, d2 = random_plane(model, seed)
    grid = np.linspace(-1.0, 1.0, res)
    return model, LOSSES["cross_entropy"], X, y, flat_parameters(model).numpy(), d1, d2, grid, grid


def matmul_rate(n: int = 2048, repeats: int = 5) -> float:
    """The machine's float32 matrix-product rate in FLOP/s: the best of ``repeats`` n×n torch.mm."""
    a, b = torch.randn(n, n), torch.randn(n, n)
    torch.mm(a, b)
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        torch.mm(a, b)
        best = min(best, time.perf_counter() - t0)
    return 2.0 * n ** 3 / best


def _flops(model: MLP, n: int, points: int) -> tuple[float, float]:
    """Matrix-product FLOPs of (the batched evaluation, the per-point loop) for ``points`` grid points on n samples."""
    linears = [m for m in model if isinstance(m, torch.nn.Linear)]
    per_point = sum(2.0 * n * m.in_features * m.out_features for m in linears)
    first = linears[0]
    batched = (3 * 2.0 * n * first.in_features * first.out_features  # the first layer's three products, once
               + points * (per_point - 2.0 * n * first.in_features * first.out_features
                           + 2.0 * 3 * n * first.out_features))  # the rest, and combining the three products
    return batched, points * per_point


def first_surface_s(threads: int = 0, processes: int = 3) -> list[tuple[float, float]]:
    """For each of ``processes`` fresh processes: (seconds of its first moons 61×61 surface, seconds from its
    start to that surface, imports included); ``threads`` torch threads (0: torch's choice)."""
    runs = []
    for _ in range(processes):
        if getattr(sys, "frozen", False):  # a packaged program: itself, with the probe option
            command = [sys.executable, "bench", "landscape", "--first-surface-probe", "--threads", str(threads)]
        else:
            command = [sys.executable, "-c", _FIRST_SURFACE, str(threads)]
        out = subprocess.run(command, capture_output=True, text=True, timeout=300, check=True)
        first, total = out.stdout.split()
        runs.append((float(first), float(total)))
    return runs


def _case(name: str, repeats: int, rate: float) -> dict:
    args = problem(name)
    fast = loss_surface(*args)  # warm-up, and the values must agree
    slow = loss_surface_reference(*args)
    np.testing.assert_allclose(fast.loss, slow.loss, rtol=1e-5)
    times: dict[str, list[float]] = {"batched": [], "loop": []}
    runners = {"batched": loss_surface, "loop": loss_surface_reference}
    for i in range(repeats):  # alternated, the first side swapped every repeat
        for side in (("batched", "loop") if i % 2 == 0 else ("loop", "batched")):
            t0 = time.perf_counter()
            runners[side](*args)
            times[side].append(time.perf_counter() - t0)
    med = {side: statistics.median(t) for side, t in times.items()}
    model, X = args[0], args[2]
    points = len(args[7]) * len(args[8])
    flops_batched, flops_loop = _flops(model, len(X), points)
    return {
        "batched_s": med["batched"], "loop_s": med["loop"], "speedup": med["loop"] / med["batched"],
        "batched_runs": times["batched"], "loop_runs": times["loop"], "grid_points": points, "samples": len(X),
        "peak_fraction": flops_batched / med["batched"] / rate, "loop_peak_fraction": flops_loop / med["loop"] / rate,
        "max_relative_difference": float(np.max(np.abs(fast.loss - slow.loss) / np.abs(slow.loss))),
    }


def bench_landscape(repeats: int = 5, threads: int | None = None, fresh_process: bool = True) -> dict:
    """Medians of ``repeats`` alternated runs after a warm-up, per case, and their ratios; see ``CASES``."""
    from visualizer.core.threads import choose_threads, forward_work

    choice = choose_threads(forward_work([64, 128, 128, 10], 8 * 1797), threads)  # digits' grid: the larger case
    torch.set_num_threads(choice.threads)
    threads = choice.threads
    rate = matmul_rate()
    cases = {name: _case(name, repeats, rate) for name in CASES}
    fresh = first_surface_s(threads or 0) if fresh_process else []
    first = statistics.median(r[0] for r in fresh) if fresh else None
    first_total = statistics.median(r[1] for r in fresh) if fresh else None
    result = {
        "networks": "moons MLP 2-16-16-2 tanh on 1,000 points at 61x61; digits MLP 64-128-128-10 relu on 1,797 "
                    "points at 31x31; freshly initialised (torch seed 0), filter-normalised directions (seed 0), "
                    "grid [-1, 1]^2, cross-entropy",
        "repeats": repeats,
        "torch_threads": choice.threads,
        "threads_note": choice.reason,
        "matmul_gflops": rate / 1e9,
        "moons_speedup": cases["moons"]["speedup"],
        "digits_speedup": cases["digits"]["speedup"],
        "first_surface_s": first,
        "first_surface_from_start_s": first_total,
        "first_surface_runs": [r[0] for r in fresh],
        "peak_fraction": cases["digits"]["peak_fraction"],
        "moons_peak_fraction": cases["moons"]["peak_fraction"],
        "digits_peak_fraction": cases["digits"]["peak_fraction"],
    }
    result.update({f"{name}_{k}": v for name, case in cases.items() for k, v in case.items()
                   if k not in ("speedup", "peak_fraction")})
    return result


def format_report(r: dict) -> str:
    """The human-readable lines `visualizer bench landscape` prints."""
    lines = [r["networks"], f"{r['repeats']} alternated repeats, {r['torch_threads']} torch threads; "
                            f"float32 matmul {r['matmul_gflops']:.1f} GFLOP/s"]
    for name, goal in (("moons", 3.0), ("digits", 1.3)):
        lines.append(f"{name:6s}: batched {r[f'{name}_batched_s'] * 1e3:8.1f} ms, per-point loop "
                     f"{r[f'{name}_loop_s'] * 1e3:8.1f} ms, speed-up {r[f'{name}_speedup']:.2f}x (goal {goal}x); "
                     f"{r[f'{name}_peak_fraction']:.0%} of the matmul rate "
                     f"(loop {r[f'{name}_loop_peak_fraction']:.0%})")
    if r["first_surface_s"] is not None:
        lines.append(f"first surface in a fresh process: {r['first_surface_s']:.3f} s, median of "
                     f"{len(r['first_surface_runs'])} processes (goal < 1 s; "
                     f"{r['first_surface_from_start_s']:.2f} s from process start, imports included)")
    return "\n".join(lines)


if __name__ == "__main__":  # pragma: no cover - a quick way to run it before the CLI is wired
    res = bench_landscape()
    print(format_report(res))
    from visualizer.core import strict_json

    print(strict_json.dumps(res))
