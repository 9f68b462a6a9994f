"""The lab inside training: the experiment's [lab] options, the measurements the session yields (checked against
the dense Hessian and against per-layer sums done by hand), the run file's measures table (also absent: a file
from before) and measures.csv."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

import numpy as np
import pytest
import torch

from visualizer.core import experiment
from visualizer.core.errors import ExperimentError, VisualizerError
from visualizer.core.experiment import DataSpec, Experiment, LabSpec, ModelSpec, TrainSpec
from visualizer.core.lab.hessian import dense_hessian
from visualizer.core.runs.reader import RunReader
from visualizer.core.runs.writer import record
from visualizer.core.training.events import Measured, StepEvent
from visualizer.core.training.session import TrainingSession


def _exp(**lab) -> Experiment:
    return Experiment(data=DataSpec(name="moons", samples=200, seed=0),
                      model=ModelSpec(hidden=(8,), activation=("relu",)),
                      train=TrainSpec(optimizer="gd", lr=0.1, batch_size=0, epochs=30, loss="cross_entropy"),
                      lab=LabSpec(**lab))


def test_lab_options_round_trip_and_bad_values_name_the_field():
    exp = _exp(sharpness_every=5, health_every=3)
    assert experiment.loads(experiment.dumps(exp)) == exp
    assert "[lab]" not in experiment.dumps(_exp())  # off: the file stays as it was before the lab
    with pytest.raises(ExperimentError, match=r"lab\.sharpness_every.*allowed: 0 to 1000000"):
        experiment.loads("[lab]\nsharpness_every = -1\n")
    with pytest.raises(ExperimentError, match=r"lab\.sharpness.*unknown key; allowed: 'sharpness_every'"):
        experiment.loads("[lab]\nsharpness = 5\n")
    with pytest.raises(ExperimentError, match=r"lab\.health_every.*expected an integer"):
        experiment.loads("[lab]\nhealth_every = 'often'\n")


def test_the_session_measures_sharpness_at_the_steps_asked_and_it_matches_the_dense_hessian():
    session = TrainingSession(_exp(sharpness_every=10))
    seen = []
    for event in session.run():
        if isinstance(event, Measured):
            rows = dict((name, value) for name, _layer, value in event.rows)
            seen.append((event.step, rows["sharpness"], rows["sharpness_threshold"]))
    assert [s for s, _, _ in seen] == list(range(0, 31, 10))
    assert all(t == pytest.approx(20.0) for _, _, t in seen)  # 2/η at η = 0.1
    # the last reading is of the final weights: compare with the dense Hessian of the whole training set
    H = dense_hessian(session.model, session.loss, session._X, session._y)
    reference = np.linalg.eigvalsh(H)[-1]
    assert abs(seen[-1][1] - reference) <= 1e-4 * abs(reference)


def test_off_the_session_yields_no_measurements_and_the_same_steps():
    on = [e for e in TrainingSession(_exp(sharpness_every=7, health_every=4)).run() if isinstance(e, StepEvent)]
    off_events = list(TrainingSession(_exp()).run())
    off = [e for e in off_events if isinstance(e, StepEvent)]
    assert not any(isinstance(e, Measured) for e in off_events)
    assert [e.train_loss for e in on] == [e.train_loss for e in off]  # measuring changes nothing in training


def test_health_numbers_match_a_hand_computation():
    exp = _exp(health_every=1)
    session = TrainingSession(exp)
    events = session.run()
    before = None
    for event in events:
        if isinstance(event, StepEvent) and event.step == 4:
            before = [p.detach().clone() for p in session.model.parameters()]
        if isinstance(event, Measured) and event.step == 5:
            rows = {(name, layer): value for name, layer, value in event.rows}
            break
    model = session.model
    w1, b1, w2, b2 = [p.detach() for p in model.parameters()]
    first, out = "layer 1 (2→8)", "output (8→2)"
    assert rows[("weight_norm", first)] == pytest.approx(float(torch.cat([w1.flatten(), b1]).norm()), rel=1e-6)
    grad = torch.cat([model[0].weight.grad.flatten(), model[0].bias.grad])
    assert rows[("grad_norm", first)] == pytest.approx(float(grad.norm()), rel=1e-6)
    step = torch.cat([(w2 - before[2]).flatten(), b2 - before[3]])
    assert rows[("update_ratio", out)] == pytest.approx(float(step.norm() / torch.cat([w2.flatten(), b2]).norm()),
                                                        rel=1e-5)
    hidden = torch.relu(session._X[:256] @ w1.T + b1)
    assert rows[("dead_relu_fraction", first)] == pytest.approx(float((hidden <= 0).all(0).float().mean()))
    assert ("dead_relu_fraction", out) not in rows  # the output layer has no activation


def test_tanh_and_sigmoid_units_report_their_saturated_share():
    from visualizer.core.lab.health import HealthMeter
    from visualizer.core.model.nets import MLP

    torch.manual_seed(0)
    model = MLP(2, [4, 4], ["tanh", "sigmoid"], 1)
    X = torch.randn(50, 2) * 10
    rows = {(n, layer): v for n, layer, v in HealthMeter(model, X).measure(model)}
    h1 = torch.tanh(model[0](X))
    h2 = torch.sigmoid(model[2](h1))
    assert rows[("saturated_fraction", "layer 1 (2→4)")] == pytest.approx(float((h1.abs() > 0.99).float().mean()))
    assert rows[("saturated_fraction", "layer 2 (4→4)")] == pytest.approx(
        float(((h2 < 0.01) | (h2 > 0.99)).float().mean()))


def test_the_run_file_records_the_measures_and_a_file_from_before_has_none(tmp_path):
    session = TrainingSession(_exp(sharpness_every=10, health_every=10))
    live = []
    for event in TrainingSession(_exp(sharpness_every=10, health_every=10)).run():
        if isinstance(event, Measured):
            live.extend((event.step, *row) for row in event.rows)
    with record(session, tmp_path / "run.sqlite") as reader:
        recorded = reader.measures().table()
    assert sorted(recorded, key=lambda r: (r[0], r[1], r[2])) == sorted(live, key=lambda r: (r[0], r[1], r[2]))
    with sqlite3.connect(tmp_path / "run.sqlite") as db:  # a run file written before the measures table
        db.execute("DROP TABLE measures")
    db.close()
    with RunReader(tmp_path / "run.sqlite") as reader:
        assert len(reader.measures()) == 0 and len(reader.history()) == 31


def test_a_damaged_measure_row_is_one_message(tmp_path):
    with record(TrainingSession(_exp(sharpness_every=10)), tmp_path / "run.sqlite"):
        pass
    db = sqlite3.connect(tmp_path / "run.sqlite")
    with db:
        db.execute("INSERT INTO measures VALUES ('x', 'sharpness', '', 1.0)")
    db.close()
    with RunReader(tmp_path / "run.sqlite") as reader, pytest.raises(VisualizerError, match="damaged.*measure row"):
        reader.measures()


def test_visualizer_run_writes_measures_csv(tmp_path):
    from visualizer.cli.parser import main

    path = tmp_path / "exp.toml"
    experiment.save(replace(_exp(), train=replace(_exp().train, epochs=20)), path)
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--sharpness-every", "10", "--no-plots",
                 "--quiet"]) == 0
    lines = (tmp_path / "out" / "measures.csv").read_text().splitlines()
    assert lines[0] == "step,name,layer,value"
    assert [line.split(",")[:2] for line in lines[1:3]] == [["0", "sharpness"], ["0", "sharpness_threshold"]]
    assert len(lines) == 1 + 3 * 2
    assert main(["run", str(path), "--out", str(tmp_path / "bad"), "--sharpness-every", "-2"]) != 0


def test_a_replay_of_a_run_with_a_damaged_measure_row_is_refused_at_open(tmp_path):
    from visualizer.core.runs.replay import ReplayRun

    with record(TrainingSession(_exp(sharpness_every=10)), tmp_path / "run.sqlite"):
        pass
    replay = ReplayRun(tmp_path / "run.sqlite")
    assert list(replay.measures_up_to(15).series("sharpness")[0]) == [0, 10]
    replay.close()
    db = sqlite3.connect(tmp_path / "run.sqlite")
    with db:
        db.execute("UPDATE measures SET value = 'many' WHERE rowid = 1")
    db.close()
    with pytest.raises(VisualizerError, match="measure row 1"):
        ReplayRun(tmp_path / "run.sqlite")


def test_the_sharpness_is_measured_on_a_fixed_subset_of_a_larger_training_set():
    from visualizer.core.lab.tracking import LabTracker

    exp = replace(_exp(sharpness_every=5), data=DataSpec(name="moons", samples=1000, seed=0))
    session = TrainingSession(exp)
    session.prepare()
    meter = LabTracker(session).sharpness
    assert len(session._X) == 800 and len(meter.X) == 512
    rows = {tuple(r) for r in meter.X.tolist()}
    assert rows <= {tuple(r) for r in session._X.tolist()}  # a subset of the training samples, fixed by the seed
    assert torch.equal(LabTracker(session).sharpness.X, meter.X)
    whole = TrainingSession(replace(exp, lab=replace(exp.lab, sharpness_samples=0)))
    whole.prepare()
    assert len(LabTracker(whole).sharpness.X) == 800
