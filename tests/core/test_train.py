"""The training session: events, control at its yields, divergence, failures, schedules, determinism."""

from __future__ import annotations

import queue
import threading
from dataclasses import replace

import numpy as np
import pytest
import torch

from visualizer.core.data.sets import load_dataset
from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec
from visualizer.core.model.nets import flat_parameters
from visualizer.core.model.schedules import SCHEDULES
from visualizer.core.training import bench
from visualizer.core.training.device import resolve_device
from visualizer.core.training.events import RunEnded, RunStarted, Snapshot, StepEvent
from visualizer.core.training.history import History
from visualizer.core.training.session import RunControl, TrainingSession

SMALL = Experiment(
    data=DataSpec(name="moons", samples=200, noise=0.2, seed=1),
    model=ModelSpec(hidden=(8,), activation=("tanh",)),
    train=TrainSpec(optimizer="adam", lr=0.02, batch_size=32, epochs=3, loss="cross_entropy", seed=5),
)


def collect(exp: Experiment, **kwargs):
    session = TrainingSession(exp, **kwargs)
    events = list(session.run())
    return session, events


def test_event_stream_shape():
    session, events = collect(SMALL, snapshot_every_steps=1, snapshot_interval_s=0.0, boundary_resolution=20)
    assert isinstance(events[0], RunStarted) and isinstance(events[-1], RunEnded)
    started, ended = events[0], events[-1]
    steps = [e for e in events if isinstance(e, StepEvent)]
    assert started.steps_per_epoch == 5 and started.total_steps == 15  # 160 training samples, batches of 32
    assert [e.step for e in steps] == list(range(16))
    assert ended.reason == "completed" and ended.step == 15 and ended.ok
    # evaluation at step 0 and once per epoch
    assert [e.step for e in steps if e.val_loss is not None] == [0, 5, 10, 15]
    assert all(0.0 <= e.val_metric <= 1.0 for e in steps if e.val_metric is not None)
    snaps = [e for e in events if isinstance(e, Snapshot)]
    assert snaps[0].step == 0 and snaps[-1].step == 15 and len(snaps) == 16
    last = snaps[-1]
    assert [layer.name for layer in last.layers] == list(started.layer_names)
    for layer in last.layers:
        assert len(layer.weight_edges) == len(layer.weight_counts) + 1
    w = session.model[0].weight.detach().numpy()
    assert last.layers[0].weight_counts.sum() == w.size
    assert np.array_equal(np.histogram(w, bins=last.layers[0].weight_edges)[0], last.layers[0].weight_counts)
    assert np.allclose(last.params, flat_parameters(session.model).numpy())
    assert last.boundary.probs.shape == (20, 20, 2)


def test_same_experiment_and_seed_give_the_same_numbers():
    def numbers():
        _, events = collect(SMALL)
        return [(e.train_loss, e.val_loss) for e in events if isinstance(e, StepEvent)]

    assert numbers() == numbers()
    other = replace(SMALL, train=replace(SMALL.train, seed=6))
    _, events = collect(other)
    assert [(e.train_loss, e.val_loss) for e in events if isinstance(e, StepEvent)] != numbers()


def test_session_trains_exactly_like_a_plain_torch_loop():
    """The benchmark's baseline does the same work: same init, batches and updates give the same weights."""
    exp = replace(SMALL, train=replace(SMALL.train, epochs=2))
    ds = load_dataset(exp.data)
    session, _ = collect(exp, dataset=ds)
    torch.manual_seed(exp.train.seed)
    # rebuild the plain loop's model and run it, then compare parameters
    captured = {}
    original = bench.build_model

    def capture(*args, **kwargs):
        captured["model"] = original(*args, **kwargs)
        return captured["model"]

    bench.build_model = capture
    try:
        bench.plain_loop(exp, ds)
    finally:
        bench.build_model = original
    assert torch.allclose(flat_parameters(captured["model"]), flat_parameters(session.model), atol=1e-6)


def test_training_reduces_loss():
    exp = replace(SMALL, train=replace(SMALL.train, epochs=20))
    _, events = collect(exp)
    vals = [e.val_loss for e in events if isinstance(e, StepEvent) and e.val_loss is not None]
    assert vals[-1] < 0.6 * vals[0]


def _consume_in_thread(session):
    q: queue.Queue = queue.Queue()

    def work():
        for event in session.run():
            q.put(event)
        q.put(None)

    t = threading.Thread(target=work, daemon=True)
    t.start()
    return q, t


def _next_step(q) -> StepEvent | RunEnded:
    while True:
        e = q.get(timeout=20)
        if isinstance(e, (StepEvent, RunEnded)):
            return e


def test_pause_step_resume_stop_and_live_learning_rate():
    control = RunControl()
    control.pause()
    exp = replace(SMALL, train=replace(SMALL.train, epochs=200))
    session = TrainingSession(exp, control=control)
    q, thread = _consume_in_thread(session)
    assert _next_step(q).step == 0
    with pytest.raises(queue.Empty):  # paused before step 1
        _next_step_nowait(q)
    control.step()
    assert _next_step(q).step == 1
    with pytest.raises(queue.Empty):  # exactly one step
        _next_step_nowait(q)
    control.set_lr(0.5)
    control.step(2)
    e2, e3 = _next_step(q), _next_step(q)
    assert (e2.step, e3.step) == (2, 3) and e2.lr == 0.5 and e3.lr == 0.5
    assert session.optimizer.param_groups[0]["lr"] == 0.5
    with pytest.raises(queue.Empty):
        _next_step_nowait(q)
    control.resume()
    assert _next_step(q).step == 4
    control.stop()
    while not isinstance(e := _next_step(q), RunEnded):
        pass
    assert e.reason == "stopped" and e.ok and e.step < exp.train.epochs * 5
    thread.join(5)
    assert not thread.is_alive()


def _next_step_nowait(q, wait: float = 0.3):
    while True:
        e = q.get(timeout=wait)
        if isinstance(e, (StepEvent, RunEnded)):
            return e


def test_stop_while_paused_ends_the_run():
    control = RunControl()
    control.pause()
    q, thread = _consume_in_thread(TrainingSession(SMALL, control=control))
    assert _next_step(q).step == 0
    control.stop()
    ended = _next_step(q)
    assert isinstance(ended, RunEnded) and ended.reason == "stopped" and ended.step == 0
    thread.join(5)
    assert not thread.is_alive()


def test_divergence_stops_with_the_step_and_advice():
    exp = Experiment(data=DataSpec(name="sine", samples=200, seed=0),
                     model=ModelSpec(hidden=(16,), activation=("relu",)),
                     train=TrainSpec(optimizer="sgd", lr=9.0, batch_size=16, epochs=50, loss="mse"))
    _, events = collect(exp)
    ended = events[-1]
    assert ended.reason == "diverged" and not ended.ok
    last = [e for e in events if isinstance(e, StepEvent)][-1]
    assert last.step == ended.step and not np.isfinite(last.train_loss)
    assert f"at step {ended.step}" in ended.message and "smaller learning rate" in ended.message


def test_a_failure_becomes_an_event(monkeypatch):
    session = TrainingSession(SMALL)
    session.prepare()

    def broken(*args):
        raise RuntimeError("kaput")

    monkeypatch.setattr(session.model, "forward", broken)
    events = list(session.run())
    assert events[-1].reason == "failed" and "kaput" in events[-1].message


def test_an_unresolved_loss_is_chosen_for_the_data_and_a_loss_that_does_not_fit_is_named():
    """The window and the commands resolve an experiment before they build a session; the Python API need not: the
    'auto' loss is the data's default (it ended in "KeyError: 'auto'"), and a misfit names the field."""
    session = TrainingSession(replace(SMALL, train=replace(SMALL.train, loss="auto")))
    events = list(session.run())
    assert isinstance(events[-1], RunEnded) and events[-1].reason == "completed"
    assert session.experiment.train.loss == "cross_entropy"
    sine = replace(SMALL, data=DataSpec(name="sine", samples=100))
    ended = list(TrainingSession(sine).run())[-1]
    assert ended.reason == "failed" and ended.message.startswith("train.loss: 'cross_entropy' does not fit")
    assert "allowed: 'mse'" in ended.message


def test_full_batch_gradient_descent_takes_one_step_per_epoch():
    exp = replace(SMALL, train=replace(SMALL.train, optimizer="gd", lr=0.5, batch_size=32, epochs=4))
    _, events = collect(exp)
    assert events[0].steps_per_epoch == 1 and events[-1].step == 4


@pytest.mark.parametrize("name", ["step", "cosine"])
def test_schedules_match_torch(name):
    spe, epochs, base = 4, 9, 0.1
    total = spe * epochs
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    if name == "step":
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=3, gamma=0.5)
    else:
        sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
    expected = []
    for step in range(1, total + 1):
        expected.append(opt.param_groups[0]["lr"])
        opt.step()
        if name == "cosine" or step % spe == 0:
            sched.step()
    got = [base * SCHEDULES[name].factor(step, spe, total, 3, 0.5) for step in range(1, total + 1)]
    assert np.allclose(got, expected, rtol=1e-12)


def test_schedule_reaches_the_optimizer():
    exp = replace(SMALL, train=replace(SMALL.train, schedule="step", step_size=1, gamma=0.5, epochs=3))
    _, events = collect(exp)
    lrs = {e.epoch: e.lr for e in events if isinstance(e, StepEvent) and e.step > 0}
    assert lrs == {1: 0.02, 2: 0.01, 3: 0.005}


def test_history_keeps_every_step():
    _, events = collect(SMALL)
    h = History()
    h.extend(e for e in events if isinstance(e, StepEvent))
    assert len(h) == 16 and list(h.eval_steps) == [0, 5, 10, 15]
    assert h.eval_at(10) == 2 and h.eval_at(11) is None


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the fallback on a machine without CUDA")
def test_missing_device_falls_back_to_cpu_with_a_message():
    device, message = resolve_device("cuda")
    assert device.type == "cpu" and "not available" in message
    device, message = resolve_device("auto")
    assert device.type == "cpu" and "CPU" in message


def test_snapshots_carry_the_view_of_each_task():
    sine = Experiment(data=DataSpec(name="sine", samples=100), train=TrainSpec(epochs=1, loss="mse"))
    _, events = collect(sine, boundary_resolution=30)
    snap = [e for e in events if isinstance(e, Snapshot)][-1]
    x, y = snap.curve
    assert x.shape == y.shape and snap.boundary is None and snap.confusion is None
    iris = Experiment(data=DataSpec(name="iris"), train=TrainSpec(epochs=1, loss="cross_entropy"))
    session, events = collect(iris, boundary_resolution=30)
    snap = [e for e in events if isinstance(e, Snapshot)][-1]
    assert snap.confusion.shape == (3, 3) and snap.confusion.sum() == len(session.dataset.X_val)
    from sklearn.metrics import confusion_matrix

    session.model.eval()
    with torch.no_grad():
        pred = session.loss.predict_classes(session.model(torch.as_tensor(session.dataset.X_val))).numpy()
    assert np.array_equal(snap.confusion, confusion_matrix(session.dataset.y_val, pred, labels=[0, 1, 2]))


def test_a_pause_shows_the_weights_it_stops_on():
    control = RunControl()
    control.pause()
    session = TrainingSession(replace(SMALL, train=replace(SMALL.train, epochs=50)), control=control,
                              snapshot_interval_s=60.0)
    q, thread = _consume_in_thread(session)
    control.step(3)
    seen = []
    while not (seen and isinstance(seen[-1], Snapshot) and seen[-1].step == 3):
        seen.append(q.get(timeout=20))
    assert np.allclose(seen[-1].params, flat_parameters(session.model).numpy())
    control.stop()
    thread.join(5)
    assert not thread.is_alive()


def test_a_snapshot_target_spaces_snapshots_evenly_in_steps_whatever_the_speed():
    exp = replace(SMALL, train=replace(SMALL.train, epochs=10))  # 5 batches x 10 epochs = 50 steps
    session, events = collect(exp, snapshot_target=10, snapshot_interval_s=60.0)
    steps = [e.step for e in events if isinstance(e, Snapshot)]
    assert session.total_steps == 50
    assert steps == list(range(0, 51, 5))  # every 50 // 10 steps, the 60 s interval ignored, the end included


def test_snapshots_by_progress_however_fast_the_run():
    """snapshot_progress=N: a snapshot at least every 1/N of the run even when the time-based rate would take none."""
    from visualizer.core import experiment as experiment_file
    from visualizer.core.data.sets import load_dataset

    exp = experiment_file.from_dict({"data": {"name": "moons", "samples": 200},
                                     "train": {"epochs": 40, "batch_size": 16, "lr": 0.01}})
    exp = experiment_file.resolve(exp, load_dataset(exp.data))
    session = TrainingSession(exp, snapshot_every_steps=10**6, snapshot_interval_s=3600.0, snapshot_progress=50)
    session.prepare()
    steps = [e.step for e in session.run() if type(e).__name__ == "Snapshot"]
    gap = session.total_steps // 50
    assert 50 <= len(steps) <= 52 and steps[0] == 0 and steps[-1] == session.total_steps
    assert max(b - a for a, b in zip(steps, steps[1:])) <= gap
    none = TrainingSession(exp, snapshot_every_steps=10**6, snapshot_interval_s=3600.0)
    assert [e.step for e in none.run() if type(e).__name__ == "Snapshot"] == [0, session.total_steps]
