"""`visualizer bench train`: the session's steps/s against a plain torch loop doing the same work."""

from __future__ import annotations

import statistics
import time

import torch

from .data import load_dataset
from .events import Snapshot, StepEvent
from .experiment import DataSpec, Experiment, ModelSpec, TrainSpec
from .history import History
from .losses import LOSSES
from .nets import build_model
from .optim import make_optimizer
from .train import TrainingSession, hyper_values


def digits_experiment(epochs: int = 8) -> Experiment:
    """The benchmark's network: digits, 64-128-128-10 ReLU, batch 32, Adam."""
    return Experiment(
        data=DataSpec(name="digits", val_fraction=0.2, seed=0),
        model=ModelSpec(hidden=(128, 128), activation=("relu", "relu")),
        train=TrainSpec(optimizer="adam", lr=1e-3, batch_size=32, epochs=epochs, loss="cross_entropy", seed=0),
    )


def plain_loop(exp: Experiment, dataset) -> tuple[int, float]:
    """The baseline: the same model, batches, optimizer and loss, with loss.item() per step; (steps, seconds)."""
    tr = exp.train
    torch.manual_seed(tr.seed)
    loss_fn = LOSSES[tr.loss]
    model = build_model(exp.model, dataset.n_features, loss_fn.output_size(dataset.task, dataset.n_classes))
    opt = make_optimizer(tr.optimizer, model.parameters(), hyper_values(tr))
    X = torch.as_tensor(dataset.X_train, dtype=torch.float32)
    y = torch.as_tensor(dataset.y_train, dtype=torch.long)
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
    return steps, time.perf_counter() - t0


def session_loop(exp: Experiment, dataset) -> tuple[int, float]:
    """The session as the window runs it: every step event kept, snapshots at the window's default rate."""
    session = TrainingSession(exp, dataset=dataset)
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


def bench_train(repeats: int = 9, epochs: int = 20, threads: int | None = None) -> dict:
    """Alternate plain loop and session ``repeats`` times after a warm-up; medians and their ratio."""
    if threads:
        torch.set_num_threads(threads)
    exp = digits_experiment(epochs)
    dataset = load_dataset(exp.data)
    plain_loop(exp, dataset)
    session_loop(exp, dataset)
    plain, sess = [], []
    for i in range(repeats):  # alternated, and in ABBA order so that neither side always goes first
        for which in ((plain_loop, session_loop) if i % 2 == 0 else (session_loop, plain_loop)):
            n, s = which(exp, dataset)
            (plain if which is plain_loop else sess).append(n / s)
    p, q = statistics.median(plain), statistics.median(sess)
    return {
        "model": "digits MLP 64-128-128-10 relu, batch 32, adam",
        "steps_per_repeat": n,
        "repeats": repeats,
        "torch_threads": torch.get_num_threads(),
        "plain_steps_per_s": p,
        "session_steps_per_s": q,
        "plain_runs": plain,
        "session_runs": sess,
        "ratio": q / p,
    }
