"""`visualizer bench train`: the session's steps/s against a plain torch loop doing the same work."""

from __future__ import annotations

import statistics
import time

import torch

from visualizer.core.data.sets import load_dataset
from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec, hyper_values
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import build_model
from visualizer.core.model.optimizers import make_optimizer
from visualizer.core.training.events import Snapshot, StepEvent
from visualizer.core.training.history import History
from visualizer.core.training.session import TrainingSession


def digits_experiment(epochs: int = 8) -> Experiment:
    """The benchmark's network: digits, 64-128-128-10 ReLU, batch 32, Adam."""
    return Experiment(
        data=DataSpec(name="digits", val_fraction=0.2, seed=0),
        model=ModelSpec(hidden=(128, 128), activation=("relu", "relu")),
        train=TrainSpec(optimizer="adam", lr=1e-3, batch_size=32, epochs=epochs, loss="cross_entropy", seed=0),
    )


def plain_loop(exp: Experiment, dataset, validate: bool = True) -> tuple[int, float]:
    """The baseline, a textbook loop: the same model, batches, optimizer and loss, loss.item() per step, and the
    validation set evaluated once per epoch (as the session does by default); (steps, seconds)."""
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
    n, bs, steps, losses = len(X), tr.batch_size, 0, []
    model.train()
    t0 = time.perf_counter()
    for _ in range(tr.epochs):
        order = torch.randperm(n, generator=gen)
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
    return steps, time.perf_counter() - t0


def session_loop(exp: Experiment, dataset, threads: int | None = None,
                 options: dict | None = None) -> tuple[int, float]:
    """The session iterated as a consumer does: every step event kept; snapshots at the session's default rate, or
    as ``options`` (TrainingSession's keyword arguments: the window's, for `bench gui`) ask."""
    session = TrainingSession(exp, dataset=dataset, threads=threads, **(options or {}))
    session.prepare()
    history, snapshots, steps = History(), 0, 0
    events = session.run()
    next(events)  # RunStarted
    history.append(next(events))  # step 0: the evaluation before training
    next(events)  # the snapshot at step 0
    t0 = time.perf_counter()  # from here on: the training steps, as the plain loop times them
    for event in events:
        if isinstance(event, StepEvent):
            history.append(event)
            steps = event.step
        elif isinstance(event, Snapshot):
            snapshots += 1
    return steps, time.perf_counter() - t0


def _plain_without_validation(exp: Experiment, dataset) -> tuple[int, float]:
    return plain_loop(exp, dataset, validate=False)


def bench_train(repeats: int = 9, epochs: int = 20, threads: int | None = None) -> dict:
    """Alternate the plain loop and the session ``repeats`` times after a warm-up; medians and their ratio.

    ``ratio`` compares with the textbook loop (validation once per epoch, as the session does);
    ``ratio_vs_no_validation`` with the same loop that never evaluates, for transparency.
    """
    from visualizer.core.threads import choose_threads, forward_work

    choice = choose_threads(forward_work([64, 128, 128, 10], 32), threads)  # the policy, as every command uses it
    torch.set_num_threads(choice.threads)
    exp = digits_experiment(epochs)
    dataset = load_dataset(exp.data)
    runners = {"plain": plain_loop, "session": lambda e, d: session_loop(e, d, choice.threads),
               "plain_no_validation": _plain_without_validation}
    rates: dict[str, list[float]] = {name: [] for name in runners}
    for run in runners.values():  # warm-up
        run(exp, dataset)
    order = list(runners)
    for i in range(repeats):  # alternated, each repeat in a rotated order so that no side always goes first
        for name in order[i % 3:] + order[:i % 3]:
            n, s = runners[name](exp, dataset)
            rates[name].append(n / s)
    med = {name: statistics.median(values) for name, values in rates.items()}
    return {
        "model": "digits MLP 64-128-128-10 relu, batch 32, adam",
        "steps_per_repeat": n,
        "repeats": repeats,
        "torch_threads": choice.threads,
        "threads_note": choice.reason,
        "plain_steps_per_s": med["plain"],
        "session_steps_per_s": med["session"],
        "plain_no_validation_steps_per_s": med["plain_no_validation"],
        "plain_runs": rates["plain"],
        "session_runs": rates["session"],
        "ratio": med["session"] / med["plain"],
        "ratio_vs_no_validation": med["session"] / med["plain_no_validation"],
    }
