"""Registries carry what varies: a loss, a schedule or a prediction view is one entry, and no code asks for a name."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.metrics import confusion_matrix as sk_confusion

from visualizer.core import experiment
from visualizer.core.data.sets import load_dataset
from visualizer.core.data.tensors import as_targets, dataset_tensors, target_dtype
from visualizer.core.errors import ExperimentError
from visualizer.core.landscape.surface import loss_surface, loss_surface_reference
from visualizer.core.model import predict
from visualizer.core.model.losses import BINARY, LOSSES, LossInfo, losses_for
from visualizer.core.model.nets import build_model, flat_parameters
from visualizer.core.model.schedules import SCHEDULE_FIELDS, SCHEDULES, ScheduleInfo
from visualizer.core.training.events import Snapshot, StepEvent
from visualizer.core.training.session import TrainingSession

PACKAGE = Path(__file__).parents[2] / "visualizer"


# --- losses -------------------------------------------------------------------------------------------------------


def test_no_code_branches_on_a_loss_name():
    """Comparing with a loss's name (``loss.name == 'log_loss'``, ``name in ('cross_entropy', ...)``) anywhere in
    the package means a new loss would need code beside its entry; each loss carries what it does instead."""
    names = "|".join(re.escape(name) for name in LOSSES)
    quoted = rf"['\"]({names})['\"]"
    patterns = [rf"(==|!=)\s*{quoted}", rf"{quoted}\s*(==|!=)", rf"\bin\s*[\(\[\{{][^\)\]\}}]*{quoted}",
                r"loss\w*\.name\s*(==|!=|in\b)"]
    found = []
    for path in PACKAGE.rglob("*.py"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if any(re.search(p, line) for p in patterns):
                found.append(f"{path.relative_to(PACKAGE.parent)}:{number}: {line.strip()}")
    assert not found, "code branches on a loss name:\n" + "\n".join(found)


def _hinge(outputs: torch.Tensor, targets: torch.Tensor, task: str) -> torch.Tensor:
    sign = 2.0 * targets.to(outputs.dtype) - 1.0
    return torch.clamp(1.0 - sign * outputs[:, 0], min=0.0).mean()


def _sigmoid_columns(outputs: torch.Tensor) -> torch.Tensor:
    p = torch.sigmoid(outputs[..., 0])
    return torch.stack([1.0 - p, p], dim=-1)


#: a loss the package has never seen: one output, its own loss, probabilities and predictions; the grid form is
#: the registry's default (the batch loss at each grid point)
TOY_HINGE = LossInfo("toy_hinge", "Hinge (toy)", "L = (1/n) Σᵢ max(0, 1 − sᵢ zᵢ),  sᵢ = 2yᵢ − 1",
                     "A margin loss on one output, registered by a test.", frozenset({BINARY}),
                     output_size=lambda task, n_classes: 1, batch_loss=_hinge,
                     probabilities=_sigmoid_columns, predict_classes=lambda out: (out[..., 0] > 0).long())

TOY_EXPERIMENT = """
[data]
name = "moons"
samples = 200
seed = 1
[model]
hidden = [8]
activation = "tanh"
[train]
optimizer = "adam"
lr = 0.05
batch_size = 32
epochs = 15
loss = "toy_hinge"
seed = 2
"""


def test_a_registered_toy_loss_trains_end_to_end(monkeypatch):
    monkeypatch.setitem(LOSSES, "toy_hinge", TOY_HINGE)  # removed again when the test ends
    exp = experiment.loads(TOY_EXPERIMENT)
    dataset = load_dataset(exp.data)
    assert "toy_hinge" in losses_for(dataset.task, dataset.n_classes)
    assert "toy_hinge" not in losses_for("classification", 3)  # it says it fits two classes only
    session = TrainingSession(experiment.resolve(exp, dataset), dataset=dataset, boundary_resolution=12)
    events = list(session.run())
    assert events[-1].reason == "completed", events[-1].message
    assert session.model[-1].out_features == 1  # its own output size
    boundary = [e for e in events if isinstance(e, Snapshot)][-1].boundary
    assert boundary is not None and boundary.probs.shape == (12, 12, 2)
    np.testing.assert_allclose(boundary.probs.sum(axis=2), 1.0, rtol=1e-6)

    # the last evaluation is the hinge and the accuracy of the final network, computed here by hand
    last = [e for e in events if isinstance(e, StepEvent) and e.val_loss is not None][-1]
    with torch.no_grad():
        z = session.model.eval()(torch.as_tensor(dataset.X_val))[:, 0].double().numpy()
    sign = 2.0 * dataset.y_val - 1.0
    assert last.val_loss == pytest.approx(np.maximum(0.0, 1.0 - sign * z).mean(), rel=1e-5)
    assert last.val_metric == pytest.approx(np.mean((z > 0) == (dataset.y_val == 1)))
    first = [e for e in events if isinstance(e, StepEvent)][0]
    assert last.val_loss < first.val_loss

    # the loss surface: the batched path with the registry's default grid form equals the per-point loop
    center = flat_parameters(session.model).numpy()
    g = torch.Generator().manual_seed(0)
    d1, d2 = (torch.randn(center.size, generator=g).numpy() * 0.3 for _ in range(2))
    grid = np.linspace(-1.0, 1.0, 5)
    args = (TOY_HINGE, dataset.X_train, dataset.y_train, center, d1, d2, grid, grid)
    fast = loss_surface(session.model, *args, metric=True)
    slow = loss_surface_reference(session.model, *args, metric=True)
    np.testing.assert_allclose(fast.loss, slow.loss, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(fast.accuracy, slow.accuracy)


@pytest.mark.parametrize("name", list(LOSSES))
def test_grid_form_is_the_batch_loss_at_each_grid_point(name):
    info = LOSSES[name]
    g = torch.Generator().manual_seed(3)
    task, k = ("classification", 1 if info.output_size("classification", 2) == 1 else 3)
    if not (info.fits("binary") or info.fits("multiclass")):
        task = "regression"
    y = torch.randint(0, 2 if k == 1 else k, (9,), generator=g)
    y = y.float() if task == "regression" else y
    out = torch.randn(4, 9, info.output_size(task, 2 if k == 1 else k), generator=g)
    one_by_one = torch.stack([info(o, y, task) for o in out])
    torch.testing.assert_close(info.grid_loss(out, y, task), one_by_one, rtol=1e-6, atol=1e-7)
    if task == "classification":  # probabilities and predictions work per grid point too
        torch.testing.assert_close(info.probabilities(out), torch.stack([info.probabilities(o) for o in out]))
        assert torch.equal(info.predict_classes(out), torch.stack([info.predict_classes(o) for o in out]))


def test_output_sizes_come_from_each_entry():
    assert [LOSSES[n].output_size("classification", 3) for n in ("cross_entropy", "mse")] == [3, 3]
    assert LOSSES["log_loss"].output_size("classification", 2) == 1
    assert all(info.output_size("regression", 0) == 1 for info in LOSSES.values() if info.fits("regression"))


# --- schedules ----------------------------------------------------------------------------------------------------


def test_schedule_fields_are_declared_with_their_users():
    assert set(SCHEDULE_FIELDS) == {"step_size", "gamma"}
    assert SCHEDULES["step"].fields == ("step_size", "gamma")
    assert not SCHEDULES["constant"].fields and not SCHEDULES["cosine"].fields
    for name, field in SCHEDULE_FIELDS.items():
        assert getattr(experiment.TrainSpec(), name) == field.default and field.label and field.tooltip
    assert not hasattr(experiment, "SCHEDULE_NAMES")


@pytest.mark.parametrize("text, key, words", [
    ("[train]\nschedule = 'warmup'", "train.schedule", ["'warmup'", "'constant'", "'step'", "'cosine'"]),
    ("[train]\ngamma = 0", "train.gamma", ["0", "above 0"]),
    ("[train]\ngamma = 1.5", "train.gamma", ["1.5"]),
    ("[train]\nstep_size = -1", "train.step_size", ["-1"]),
    ("[train]\nstep_size = 2.5", "train.step_size", ["2.5", "integer"]),
])
def test_schedule_settings_are_checked_from_the_registry(text, key, words):
    with pytest.raises(ExperimentError) as info:
        experiment.loads(text)
    assert info.value.key == key
    for word in words:
        assert word in str(info.value)


def test_a_registered_toy_schedule_is_accepted_and_trained(monkeypatch):
    halving = ScheduleInfo("halving", "Halving each epoch", "α(t) = α · ½^epoch",
                           lambda step, spe, total, step_size, gamma: 0.5 ** ((max(step, 1) - 1) // spe))
    monkeypatch.setitem(SCHEDULES, "halving", halving)
    exp = experiment.loads("[data]\nname = 'moons'\nsamples = 100\n[train]\noptimizer = 'sgd'\nlr = 0.4\n"
                           "batch_size = 40\nepochs = 3\nloss = 'cross_entropy'\nschedule = 'halving'\n")
    assert experiment.loads(experiment.dumps(exp)) == exp
    events = [e for e in TrainingSession(exp).run() if isinstance(e, StepEvent) and e.step > 0]
    assert {e.epoch: e.lr for e in events} == {1: 0.4, 2: 0.2, 3: 0.1}


# --- prediction views ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("task, n_features, view", [
    ("classification", 2, "boundary"), ("regression", 1, "curve"), ("classification", 4, "confusion"),
    ("classification", 1, "confusion"), ("regression", 2, None), ("regression", 13, None),
])
def test_one_function_picks_the_prediction_view(task, n_features, view):
    picked = predict.prediction_view(task, n_features)
    assert (picked.name if picked else None) == view
    if picked:
        assert picked is predict.PREDICTION_VIEWS[view] and picked.label and picked.fits_text


@pytest.mark.parametrize("name, view", [("moons", "boundary"), ("sine", "curve"), ("iris", "confusion"),
                                        ("plane", None)])
def test_snapshots_carry_the_view_the_registry_picks(name, view):
    exp = experiment.loads(f"[data]\nname = '{name}'\nsamples = 120\n[train]\nepochs = 1\n")
    dataset = load_dataset(exp.data)
    session = TrainingSession(experiment.resolve(exp, dataset), dataset=dataset, boundary_resolution=8)
    snap = next(e for e in session.run() if isinstance(e, Snapshot))
    carried = [field for field in predict.PREDICTION_VIEWS if getattr(snap, field) is not None]
    assert carried == ([view] if view else [])


def test_the_confusion_view_counts_as_scikit_learn_does():
    exp = experiment.loads("[data]\nname = 'iris'\n[train]\nepochs = 2\nloss = 'cross_entropy'\n")
    dataset = load_dataset(exp.data)
    torch.manual_seed(0)
    model = build_model(exp.model, dataset.n_features, 3)
    counts = predict.PREDICTION_VIEWS["confusion"].compute(model, LOSSES["cross_entropy"], dataset, 0)
    with torch.no_grad():
        pred = model.eval()(torch.as_tensor(dataset.X_val)).argmax(dim=1).numpy()
    np.testing.assert_array_equal(counts, sk_confusion(dataset.y_val, pred, labels=[0, 1, 2]))
    assert predict.evaluation_set(dataset)[2] == "validation"


# --- dataset tensors ----------------------------------------------------------------------------------------------


def test_dataset_tensors_have_the_types_the_losses_take():
    assert target_dtype("classification") == torch.long and target_dtype("regression") == torch.float32
    for name in ("moons", "sine"):
        dataset = load_dataset(experiment.DataSpec(name=name, samples=50))
        t = dataset_tensors(dataset, "cpu")
        assert t.X_train.dtype == t.X_val.dtype == torch.float32
        assert t.y_train.dtype == t.y_val.dtype == target_dtype(dataset.task)
        np.testing.assert_array_equal(t.y_val.numpy(), dataset.y_val)
        assert torch.equal(as_targets(dataset.y_train, dataset.task), t.y_train)
