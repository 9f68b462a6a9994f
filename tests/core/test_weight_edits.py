"""Weights set by hand: an edit asked for between two steps is applied before the next one (its loss is the loss of
the edited weights, computed here by an independent forward pass), recorded in the run file and read back by replay;
an edit while paused shows in the single step that follows; the optimizer's state is left alone."""

from __future__ import annotations

import sqlite3

import numpy as np
import pytest
import torch

from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec
from visualizer.core.runs.reader import RunReader
from visualizer.core.runs.replay import ReplayRun
from visualizer.core.runs.writer import RunWriter
from visualizer.core.training.edits import WeightEdit, apply_edit
from visualizer.core.training.events import RunEnded, Snapshot, StepEvent, WeightEdited
from visualizer.core.training.session import RunControl, TrainingSession

#: full-batch steps: each step's loss is the loss of the whole training set at the weights before the step
FULL = Experiment(
    title="edits",
    data=DataSpec(name="moons", samples=120, noise=0.2, seed=3),
    model=ModelSpec(hidden=(5,), activation=("tanh",)),
    train=TrainSpec(optimizer="sgd", lr=0.1, batch_size=0, epochs=8, loss="cross_entropy", seed=2),
)
EVERY_STEP = {"snapshot_every_steps": 1, "snapshot_interval_s": 0.0}


def loss_by_hand(params: np.ndarray, X: np.ndarray, y: np.ndarray, n_in: int, hidden: int, n_out: int) -> float:
    """Cross-entropy of a tanh MLP with one hidden layer, from its flat parameters (W1, b1, W2, b2), in float64."""
    p, at = params.astype(np.float64), 0

    def take(*shape):
        nonlocal at
        n = int(np.prod(shape))
        at += n
        return p[at - n:at].reshape(shape)

    w1, b1, w2, b2 = take(hidden, n_in), take(hidden), take(n_out, hidden), take(n_out)
    logits = np.tanh(X @ w1.T + b1) @ w2.T + b2
    top = logits.max(axis=1, keepdims=True)
    log_z = top[:, 0] + np.log(np.exp(logits - top).sum(axis=1))
    return float(np.mean(log_z - logits[np.arange(len(y)), y]))


def run_with_edits(edits_after: dict[int, list[WeightEdit]], writer_path=None):
    """The FULL run, with ``edits_after[s]`` asked for once step s has been yielded; (session, events)."""
    control = RunControl()
    session = TrainingSession(FULL, control=control, **EVERY_STEP)
    writer = RunWriter(writer_path, FULL) if writer_path is not None else None
    events = []
    for event in session.run():
        events.append(event)
        if writer is not None:
            writer.add(event)
        if isinstance(event, StepEvent):
            for edit in edits_after.get(event.step, []):
                control.edit_weight(edit)
    if writer is not None:
        writer.add_weights(session.model)
        writer.close()
    return session, events


def test_an_edited_weight_shows_in_the_next_steps_loss_and_in_the_run_file_and_replay(tmp_path):
    edit, bias = WeightEdit(0, 1, 0, 2.5), WeightEdit(1, 0, None, -1.25)
    session, events = run_with_edits({3: [edit, bias]}, tmp_path / "run.sqlite")
    assert isinstance(events[-1], RunEnded) and events[-1].reason == "completed"
    edited = [e for e in events if isinstance(e, WeightEdited)]
    assert [(e.step, e.layer, e.target, e.source, e.new, e.undo) for e in edited] == [
        (3, 0, 1, 0, 2.5, False), (3, 1, 0, None, -1.25, False)]
    # between step 3 (and its snapshot) and step 4, in the order asked
    kinds = [(type(e).__name__, e.step) for e in events if not isinstance(e, (RunEnded,)) and hasattr(e, "step")]
    at = kinds.index(("WeightEdited", 3))
    assert kinds[at - 2:at] == [("StepEvent", 3), ("Snapshot", 3)] and kinds[at + 2] == ("StepEvent", 4)

    snaps = {e.step: e for e in events if isinstance(e, Snapshot)}
    steps = {e.step: e for e in events if isinstance(e, StepEvent)}
    ds = session.dataset
    n_in, n_out = ds.n_features, 2
    before = snaps[3].params.copy()  # the weights after step 3, before the edit
    # flat order: W1 (5x2), b1 (5), W2 (2x5), b2 (2)
    assert edited[0].old == pytest.approx(before[1 * n_in + 0]) and edited[1].old == pytest.approx(before[10 + 5 + 10])
    after = before.copy()
    after[1 * n_in + 0] = 2.5
    after[10 + 5 + 10 + 0] = -1.25
    by_hand = loss_by_hand(after, ds.X_train, ds.y_train, n_in, 5, n_out)
    unedited = loss_by_hand(before, ds.X_train, ds.y_train, n_in, 5, n_out)
    assert steps[4].train_loss == pytest.approx(by_hand, rel=1e-5)  # the edit is in the next step's numbers
    assert abs(by_hand - unedited) > 1e-2  # and it made a difference there
    # the step's own update started from the edited weights: step 4's snapshot is one SGD step away from `after`
    assert abs(snaps[4].params[1 * n_in] - 2.5) < 0.1 * 2.5

    with RunReader(tmp_path / "run.sqlite") as reader:
        assert reader.edits() == edited
    replay = ReplayRun(tmp_path / "run.sqlite")
    try:
        assert replay.edits == edited and replay.edits_up_to(2) == [] and replay.edits_up_to(3) == edited
        assert np.array_equal(replay.snapshots[4].params, snaps[4].params)  # later snapshots carry the edit
    finally:
        replay.close()


def test_without_edits_the_run_is_the_same_as_before():
    _, plain = run_with_edits({})
    assert not [e for e in plain if isinstance(e, WeightEdited)]
    _, again = run_with_edits({})
    strip = lambda events: [e._replace(wall_s=0.0) for e in events if isinstance(e, StepEvent)]  # noqa: E731
    assert strip(plain) == strip(again)


def test_an_edit_while_paused_is_applied_by_the_single_step_that_follows():
    control = RunControl()
    control.pause()
    session = TrainingSession(FULL, control=control, **EVERY_STEP)
    events = session.run()
    seen = []
    for event in events:
        seen.append(event)
        if isinstance(event, Snapshot) and event.step == 0:
            break
    # paused before step 1: the edit waits for the step
    control.edit_weight(WeightEdit(0, 0, 1, -3.0))
    control.step(1)
    for event in events:
        seen.append(event)
        if isinstance(event, Snapshot) and event.step == 1:
            break
    edited = [e for e in seen if isinstance(e, WeightEdited)]
    assert len(edited) == 1 and edited[0].step == 0 and edited[0].new == -3.0
    params0 = next(e for e in seen if isinstance(e, Snapshot)).params.copy()
    assert edited[0].old == pytest.approx(params0[1])
    params0[1] = -3.0
    ds = session.dataset
    step1 = next(e for e in seen if isinstance(e, StepEvent) and e.step == 1)
    assert step1.train_loss == pytest.approx(loss_by_hand(params0, ds.X_train, ds.y_train, 2, 5, 2), rel=1e-5)
    control.stop()
    assert isinstance(list(events)[-1], RunEnded)


def test_an_edit_leaves_the_optimizers_state_alone():
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 2))
    from visualizer.core.model.nets import Network

    model = Network(*model)
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    model(torch.randn(8, 3)).square().mean().backward()
    opt.step()
    state = {k: v.clone() for k, v in opt.state[model[0].weight].items()}
    event = apply_edit(model, model.linear_layers(), WeightEdit(0, 2, 1, 0.75), step=1)
    assert model[0].weight[2, 1].item() == 0.75 and event.new == 0.75
    assert all(torch.equal(state[k], opt.state[model[0].weight][k]) for k in state)
    assert not model[0].weight.requires_grad or model[0].weight.grad_fn is None  # still a leaf


def test_impossible_edits_are_clear_errors():
    model = TrainingSession(FULL)
    model.prepare()
    net, layers = model.model, model.model.linear_layers()
    for edit, words in ((WeightEdit(2, 0, 0, 1.0), "layer 3"), (WeightEdit(0, 5, 0, 1.0), "no such weight"),
                        (WeightEdit(0, 0, 2, 1.0), "no such weight"), (WeightEdit(0, 0, 0, float("nan")), "nan")):
        with pytest.raises(VisualizerError, match=words):
            apply_edit(net, layers, edit, 0)
    conv = Experiment(data=DataSpec(name="digits"), model=ModelSpec(layers=("conv 4 3x3", "relu", "flatten")),
                      train=TrainSpec(epochs=1, loss="cross_entropy"))
    session = TrainingSession(conv)
    session.prepare()
    with pytest.raises(VisualizerError, match="dense layers"):
        apply_edit(session.model, session.model.linear_layers(), WeightEdit(0, 0, 0, 1.0), 0)


def test_a_run_file_from_before_edits_reads_as_none_and_a_damaged_edit_is_refused(tmp_path):
    path = tmp_path / "run.sqlite"
    run_with_edits({2: [WeightEdit(0, 0, 0, 1.0)]}, path)
    old = tmp_path / "old.sqlite"
    old.write_bytes(path.read_bytes())
    with sqlite3.connect(old) as db:
        db.execute("DROP TABLE edits")
    with RunReader(old) as reader:
        assert reader.edits() == [] and len(reader.history()) == 9
    with sqlite3.connect(path) as db:
        db.execute("UPDATE edits SET new = 'lots'")
    with RunReader(path) as reader, pytest.raises(VisualizerError, match="damaged run file.*new value"):
        reader.edits()
