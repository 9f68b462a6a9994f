"""Input features (data.features): parsed and refused with one-line messages, computed before standardisation,
mapped the same way for the plane's grid points, and seen alike by training, the run file, cross-validation."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from sklearn.preprocessing import StandardScaler

from tests.helpers import one_torch_thread  # noqa: F401
from visualizer.core import experiment
from visualizer.core.data.features import FEATURES, feature_columns
from visualizer.core.data.sets import load_dataset, raw_arrays
from visualizer.core.errors import ExperimentError
from visualizer.core.evaluation.folds import EvalSpec, make_splits
from visualizer.core.model import predict
from visualizer.core.model.losses import LOSSES
from visualizer.core.model.nets import build_model
from visualizer.core.training.events import StepEvent
from visualizer.core.training.session import TrainingSession

PRESETS = Path(__file__).resolve().parents[2] / "resources" / "experiments"
SQUARES = ("x1", "x2", "x1^2", "x2^2")


def _exp(features: str = "", name: str = "circles", extra: str = "") -> experiment.Experiment:
    line = f"features = {features}\n" if features else ""
    return experiment.loads(f'[data]\nname = "{name}"\n{line}{extra}')


def test_default_is_the_two_coordinates_and_files_without_features_stay_as_they_were():
    exp = _exp()
    assert exp.data.features == ("x1", "x2")
    assert "features" not in experiment.dumps(exp)
    ds = load_dataset(exp.data)
    assert ds.n_features == 2 and ds.n_plane == 2 and ds.plane_train is None


def test_features_round_trip_through_toml_and_json():
    exp = _exp('["x1", "sin x2", "x1*x2"]')
    assert exp.data.features == ("x1", "sin x2", "x1*x2")
    assert experiment.loads(experiment.dumps(exp)) == exp
    assert experiment.loads(experiment.dumps(exp, "json"), "json") == exp


@pytest.mark.parametrize(("value", "needle"), [
    ('["x3"]', "'x3' is not known"),
    ('["x1", 2]', "2 is not known"),
    ("[]", "is not a list of features"),
    ('"x1"', "is not a list of features"),
    ('["x1", "x1"]', "names a feature twice"),
])
def test_bad_features_are_refused_naming_the_field_and_the_allowed_names(value, needle):
    with pytest.raises(ExperimentError) as info:
        _exp(value)
    message = str(info.value)
    assert message.startswith("data.features: ") and needle in message and "\n" not in message
    if "known" in needle or "list" in needle:
        assert all(f"'{name}'" in message for name in FEATURES)


@pytest.mark.parametrize(("name", "width"), [("iris", 4), ("sine", 1), ("digits", 64)])
def test_features_are_only_for_two_feature_sets(name, width):
    with pytest.raises(ExperimentError, match=rf"^data\.features: .*'{name}' has {width}"):
        _exp('["x1^2"]', name)
    assert _exp('["x1^2", "x1*x2"]', "plane").data.features == ("x1^2", "x1*x2")  # 2-D regression: allowed


def test_features_are_computed_from_the_coordinates_before_standardisation():
    exp = _exp('["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin x1", "sin x2"]')
    plain = load_dataset(replace(exp.data, features=("x1", "x2")))
    ds = load_dataset(exp.data)
    assert ds.n_features == 7 and ds.feature_names == exp.data.features and ds.n_plane == 2
    # the same split; the plain set's standardised coordinates are the plane
    np.testing.assert_array_equal(ds.plane_train, plain.X_train)
    np.testing.assert_array_equal(ds.plane_val, plain.X_val)
    # by hand: raw coordinates of the training rows, the seven features, scikit-learn's scaler fitted on training
    raw = raw_arrays(replace(exp.data, features=("x1", "x2"))).X
    x_train = plain.X_train.astype(np.float64) * plain.std + plain.mean
    rows = [int(np.argmin(np.abs(raw - p).sum(1))) for p in x_train]
    a, b = raw[rows, 0], raw[rows, 1]
    hand = np.stack([a, b, a * a, b * b, a * b, np.sin(a), np.sin(b)], 1)
    np.testing.assert_allclose(ds.X_train, StandardScaler().fit_transform(hand), rtol=1e-5, atol=1e-5)


def test_plane_points_map_to_the_samples_inputs():
    ds = load_dataset(_exp('["x1^2", "x2^2", "x1*x2"]').data)
    np.testing.assert_allclose(ds.plane_inputs(ds.plane_train), ds.X_train, atol=2e-6)
    np.testing.assert_allclose(ds.plane_inputs(ds.plane_val), ds.X_val, atol=2e-6)


def test_the_boundary_grid_goes_through_the_same_features():
    exp = _exp(str(list(SQUARES)).replace("'", '"'))
    ds = load_dataset(exp.data)
    assert predict.prediction_view(ds.task, ds.n_plane).name == "boundary"
    torch.manual_seed(0)
    model = build_model(replace(exp.model, hidden=(5,), activation=("tanh",)), ds.n_features, 2)
    grid = predict.decision_grid(model, LOSSES["cross_entropy"], ds, resolution=7)
    lo, hi = predict.feature_bounds(ds)
    P_train, P_val = ds.plane_points()
    all_points = np.concatenate([P_train, P_val])
    assert lo[0] < all_points[:, 0].min() and hi[1] > all_points[:, 1].max()
    gx, gy = np.meshgrid(grid.xs, grid.ys)
    raw = np.stack([gx.ravel(), gy.ravel()], 1) * ds.plane_std + ds.plane_mean  # by hand, from the raw statistics
    inputs = (feature_columns(raw, SQUARES) - ds.mean) / ds.std
    with torch.no_grad():
        probs = torch.softmax(model(torch.as_tensor(inputs, dtype=torch.float32)), 1).numpy()
    np.testing.assert_allclose(grid.probs.reshape(-1, 2), probs, atol=1e-6)


def test_cross_validation_folds_see_the_same_inputs():
    exp = _exp('["x1", "x1*x2"]')
    raw = raw_arrays(exp.data)
    assert raw.feature_names == ("x1", "x1*x2") and raw.plane.shape == (raw.X.shape[0], 2)
    np.testing.assert_array_equal(raw.X, feature_columns(raw.plane, ("x1", "x1*x2")))
    from visualizer.core.data.sets import dataset_from_split

    tr, va = make_splits(EvalSpec(method="kfold", k=3), raw)[0]
    fold = dataset_from_split("circles", raw, tr, va)
    assert fold.feature_names == ("x1", "x1*x2") and fold.plane_train.shape == (len(tr), 2)
    np.testing.assert_allclose(fold.X_train, StandardScaler().fit_transform(raw.X[tr]), atol=1e-5)


def test_the_run_file_records_the_features_and_replays_the_same_inputs(tmp_path, one_torch_thread):  # noqa: F811
    from tests.helpers import train_run
    from visualizer.core.runs.reader import open_run

    raw = {"data": {"name": "circles", "samples": 100, "features": list(SQUARES)},
           "model": {"hidden": [3]}, "train": {"epochs": 2}}
    train_run(tmp_path / "run", raw)
    with open_run(tmp_path / "run") as run:
        assert run.experiment.data.features == SQUARES
        assert run.started.n_features == 4 and run.started.feature_names == SQUARES
        ds = run.dataset()
        np.testing.assert_array_equal(ds.X_train, load_dataset(experiment.from_dict(raw).data).X_train)
        assert next(run.model(ds).parameters()).shape[1] == 4


def _val_accuracy(exp: experiment.Experiment) -> float:
    ds = load_dataset(exp.data)
    last = None
    for event in TrainingSession(experiment.resolve(exp, ds), dataset=ds).run():
        if isinstance(event, StepEvent) and event.val_metric is not None:
            last = event
    return last.val_metric


def test_playground_classic_logistic_regression_on_circles_needs_the_squares(one_torch_thread):  # noqa: F811
    """Circles with no hidden layer: a straight line cannot separate a ring (near chance); x1² and x2² make the
    ring's radius a linear function of the inputs, and logistic regression then separates it."""
    preset = experiment.load(PRESETS / "circles.toml")
    linear = replace(preset, model=replace(preset.model, hidden=(), activation=()))
    assert experiment.loads(experiment.dumps(linear)).model.hidden == ()  # hidden = [] is allowed
    assert _val_accuracy(linear) < 0.7
    assert _val_accuracy(replace(linear, data=replace(linear.data, features=SQUARES))) >= 0.98
