"""`visualizer bench train --sharpness-every N`: what the lab's measurements cost training, on the moons preset: the
session with the lab off against the same session measuring, alternated, medians of the repeats."""

from __future__ import annotations

import statistics
import time
from dataclasses import replace

from visualizer.core import experiment as experiment_file
from visualizer.core.resources import resources_dir
from visualizer.core.training.events import Measured, StepEvent
from visualizer.core.training.session import TrainingSession


def _steps_per_s(exp, dataset, threads) -> tuple[float, int]:
    session = TrainingSession(exp, dataset=dataset, threads=threads)
    session.prepare()
    events = session.run()
    next(events)  # RunStarted
    t0, steps, measured = time.perf_counter(), 0, 0
    for event in events:
        if isinstance(event, StepEvent):
            steps = event.step
        elif isinstance(event, Measured):
            measured += 1
    return steps / (time.perf_counter() - t0), measured


def bench_lab(sharpness_every: int = 50, health_every: int = 0, repeats: int = 7, epochs: int = 60,
              threads: int | None = None) -> dict:
    """Steps/s of the moons preset (Adam, batch 32) without and with the lab's measurements; ``ratio`` = with /
    without (1.0: free; 0.9: 10 % slower)."""
    from visualizer.core.data.sets import load_dataset

    exp = experiment_file.load(resources_dir() / "experiments" / "moons.toml")
    exp = replace(exp, train=replace(exp.train, epochs=epochs))
    dataset = load_dataset(exp.data)
    sides = {"off": exp, "on": replace(exp, lab=replace(exp.lab, sharpness_every=sharpness_every,
                                                         health_every=health_every))}
    rates: dict[str, list[float]] = {name: [] for name in sides}
    measured = 0
    for e in sides.values():  # warm-up
        _steps_per_s(e, dataset, threads)
    if sharpness_every:  # the lab's measuring process up, as in the window's warm training process
        from visualizer.core.lab import worker
        from visualizer.core.training.device import resolve_device

        if worker.wanted(resolve_device(exp.train.device)[0]):
            worker.warm()
    for i in range(repeats):  # alternated, the order swapped every repeat
        for name in (("off", "on") if i % 2 == 0 else ("on", "off")):
            rate, n = _steps_per_s(sides[name], dataset, threads)
            rates[name].append(rate)
            measured = max(measured, n)
    med = {name: statistics.median(values) for name, values in rates.items()}
    # each repeat's on/off pair ran back to back: their ratio does not see the machine's speed drift between
    # repeats (on a shared host: 2,000-4,300 steps/s within one minute), the ratio of the medians does
    pairs = [on / off for on, off in zip(rates["on"], rates["off"])]
    return {"model": f"moons preset (2-16-16-2 tanh, Adam, batch 32), {epochs} epochs",
            "sharpness_every": sharpness_every, "health_every": health_every, "repeats": repeats,
            "measurements_per_run": measured, "off_steps_per_s": med["off"], "on_steps_per_s": med["on"],
            "off_runs": rates["off"], "on_runs": rates["on"], "ratio": med["on"] / med["off"],
            "pair_ratio": statistics.median(pairs)}
