"""`visualizer bench train`: the session's steps/s against a plain torch loop doing the same work."""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterator

import torch

from visualizer.core.data.sets import load_dataset
from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec, hyper_values
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import build_model
from visualizer.core.model.optimizers import make_optimizer
from visualizer.core.training.events import Snapshot, StepEvent
from visualizer.core.training.history import History
from visualizer.core.training.session import SNAPSHOT_INTERVAL_S, TrainingSession


def digits_experiment(epochs: int = 8) -> Experiment:
    """The benchmark's network: digits, 64-128-128-10 ReLU, batch 32, Adam."""
    return Experiment(
        data=DataSpec(name="digits", val_fraction=0.2, seed=0),
        model=ModelSpec(hidden=(128, 128), activation=("relu", "relu")),
        train=TrainSpec(optimizer="adam", lr=1e-3, batch_size=32, epochs=epochs, loss="cross_entropy", seed=0),
    )


def plain_epochs(exp: Experiment, dataset, validate: bool = True) -> Iterator[int]:
    """The baseline, a textbook loop, one epoch per ``next``: the same model, batches, optimizer and loss,
    loss.item() per step, and the validation set evaluated once per epoch (as the session does by default). Yields
    0 once set up, then the steps of each epoch when it is done."""
    tr = exp.train
    torch.manual_seed(tr.seed)
    loss_fn = LOSSES[tr.loss]
    model = build_model(exp.model, dataset.n_features, loss_fn.output_size(dataset.task, dataset.n_classes))
    opt = make_optimizer(tr.optimizer, model.parameters(), hyper_values(tr))
    X = torch.as_tensor(dataset.X_train, dtype=torch.float32)
    y = torch.as_tensor(dataset.y_train, dtype=torch.long)
    Xv = torch.as_tensor(dataset.X_val, dtype=torch.float32)
    yv = torch.as_tensor(dataset.y_val, dtype=torch.long)
    val_losses, val_accs = [], []
    gen = torch.Generator().manual_seed(tr.seed)
    n, bs, losses = len(X), tr.batch_size, []
    model.train()
    yield 0
    for _ in range(tr.epochs):
        order, steps = torch.randperm(n, generator=gen), 0
        for start in range(0, n, bs):
            idx = order[start:start + bs]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(X[idx]), y[idx], "classification")
            loss.backward()
            opt.step()
            losses.append(loss.item())
            steps += 1
        if validate:
            model.eval()
            with torch.no_grad():
                out = model(Xv)
                val_losses.append(loss_fn(out, yv, "classification").item())
                val_accs.append((out.argmax(1) == yv).float().mean().item())
            model.train()
        yield steps


def session_epochs(exp: Experiment, dataset, threads: int | None = None,
                   options: dict | None = None, counts: dict | None = None) -> Iterator[int]:
    """The session iterated as a consumer does, one epoch per ``next``: every step event kept in a History;
    snapshots at the session's default rate, or as ``options`` (TrainingSession's keyword arguments: the window's,
    for `bench gui`) ask. Yields 0 once set up (the evaluation and snapshot of step 0 taken), then the steps of
    each epoch when its last step event has come; the run's last events (snapshot, RunEnded) count in the last.
    ``counts["snapshots"]`` (when given) is the number of snapshots the run took."""
    session = TrainingSession(exp, dataset=dataset, threads=threads, **(options or {}))
    session.prepare()
    history, per_epoch = History(), session.steps_per_epoch
    events = session.run()
    next(events)  # RunStarted
    history.append(next(events))  # step 0: the evaluation before training
    next(events)  # the snapshot at step 0
    yield 0
    done = last = snapshots = 0
    for event in events:
        if type(event) is StepEvent:
            history.append(event)
            last = event.step
            if last % per_epoch == 0 and last < session.total_steps:
                yield last - done
                done = last
        elif type(event) is Snapshot:
            snapshots += 1
    if counts is not None:
        counts["snapshots"] = snapshots + 1  # (and the one at step 0)
    yield last - done


def _timed(epochs: Iterator[int]) -> tuple[int, float]:
    next(epochs)  # set up: not timed
    t0 = time.perf_counter()
    steps = sum(epochs)
    return steps, time.perf_counter() - t0


def plain_loop(exp: Experiment, dataset, validate: bool = True) -> tuple[int, float]:
    """The plain loop run alone: (steps, seconds)."""
    return _timed(plain_epochs(exp, dataset, validate))


def session_loop(exp: Experiment, dataset, threads: int | None = None,
                 options: dict | None = None) -> tuple[int, float]:
    """The session run alone, from its first training step: (steps, seconds)."""
    return _timed(session_epochs(exp, dataset, threads, options))


def interleaved(sides: dict[str, Iterator[int]], first: int = 0) -> dict[str, tuple[int, float]]:
    """Run the sides' epochs in turn, one epoch of each per round (the side that goes first rotated every round,
    starting at ``first``): (steps, seconds) of each side. Every side sees the same machine: on a shared host whose
    speed changes from one second to the next, runs of whole loops one after the other measured the same code at
    ratios of 0.83 to 1.01; epochs in turn hold the ratio within a few percent."""
    for epochs in sides.values():
        next(epochs)  # set up: not timed
    names, live = list(sides), set(sides)
    totals = {name: [0, 0.0] for name in names}
    clock = time.perf_counter
    rnd = first
    while live:
        k = rnd % len(names)
        for name in names[k:] + names[:k]:
            if name not in live:
                continue
            t0 = clock()
            try:
                steps = next(sides[name])
            except StopIteration:
                live.discard(name)
                steps = 0
            totals[name][1] += clock() - t0
            totals[name][0] += steps
        rnd += 1
    return {name: (steps, seconds) for name, (steps, seconds) in totals.items()}


def bench_train(repeats: int = 9, epochs: int = 20, threads: int | None = None) -> dict:
    """``repeats`` rounds after a warm-up; in each, the plain loop, the session and the loop without validation
    run their epochs in turn (``interleaved``). Medians of the steps/s, and the median of each round's ratio.

    ``ratio`` compares with the textbook loop (validation once per epoch, as the session does);
    ``ratio_vs_no_validation`` with the same loop that never evaluates, for transparency.
    """
    from visualizer.core.threads import choose_threads, forward_work

    choice = choose_threads(forward_work([64, 128, 128, 10], 32), threads)  # the policy, as every command uses it
    torch.set_num_threads(choice.threads)
    exp = digits_experiment(epochs)
    dataset = load_dataset(exp.data)

    counts: dict[str, int] = {}
    # The session times its snapshots by the clock (one at most every SNAPSHOT_INTERVAL_S): in turn with two other
    # loops, its own time is a third of the clock's, so it is given three times the interval to take as many
    # snapshots per step as it takes alone (both counted below).
    interval = {"snapshot_interval_s": SNAPSHOT_INTERVAL_S * 3}

    def sides() -> dict[str, Iterator[int]]:
        return {"plain": plain_epochs(exp, dataset),
                "session": session_epochs(exp, dataset, choice.threads, interval, counts),
                "plain_no_validation": plain_epochs(exp, dataset, validate=False)}

    alone: dict[str, int] = {}
    _timed(session_epochs(exp, dataset, choice.threads, counts=alone))  # warm-up, and its snapshots alone
    interleaved(sides())
    rates: dict[str, list[float]] = {name: [] for name in sides()}
    snapshots = []
    for i in range(repeats):
        ran = interleaved(sides(), first=i)
        for name, (steps, seconds) in ran.items():
            rates[name].append(steps / seconds)
        snapshots.append(counts["snapshots"])
    med = {name: statistics.median(values) for name, values in rates.items()}
    return {
        "model": "digits MLP 64-128-128-10 relu, batch 32, adam",
        "steps_per_repeat": ran["plain"][0],
        "repeats": repeats,
        "torch_threads": choice.threads,
        "threads_note": choice.reason,
        "plain_steps_per_s": med["plain"],
        "session_steps_per_s": med["session"],
        "plain_no_validation_steps_per_s": med["plain_no_validation"],
        "plain_runs": rates["plain"],
        "session_runs": rates["session"],
        "plain_no_validation_runs": rates["plain_no_validation"],
        "session_snapshots_alone": alone["snapshots"],
        "session_snapshots_in_turn": statistics.median(snapshots),
        "ratio": statistics.median(s / p for s, p in zip(rates["session"], rates["plain"])),
        "ratio_vs_no_validation": statistics.median(
            s / p for s, p in zip(rates["session"], rates["plain_no_validation"])),
    }
