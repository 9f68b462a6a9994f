"""The sweep's grid: parsing --param, checking fields and values by the experiment file's own rules."""

from __future__ import annotations

import math

import pytest

from visualizer.core import experiment
from visualizer.core.errors import VisualizerError
from visualizer.core.sweeps.grid import build_trials, parse_param, sweepable_fields

from .conftest import TINY


def test_ranges_lists_and_kinds():
    lr = parse_param("train.lr=0.001:1:log:4")
    assert lr.values == (0.001, 0.01, 0.1, 1.0) and lr.log
    assert all(math.isclose(a, b) for a, b in zip(parse_param("train.momentum=0:0.9:lin:4").values,
                                                   (0.0, 0.3, 0.6, 0.9)))
    assert not parse_param("train.momentum=0:0.9:lin:4").log
    assert parse_param("train.batch_size=8:64:log:4").values == (8, 16, 32, 64)
    assert parse_param("train.optimizer=sgd,adam").values == ("sgd", "adam")
    assert parse_param("model.hidden=8,16x16").values == ((8,), (16, 16))
    assert parse_param("model.batch_norm=true,false").values == (True, False)
    assert parse_param("train.lr=0.01,0.1").log  # a field the registry shows on a log scale


@pytest.mark.parametrize(("text", "words"), [
    ("train.foo=1,2", ["'train.foo' is not a field one can sweep", "train.lr"]),
    ("data.path=a.csv", ["not a field one can sweep"]),
    ("train.lr", ["expected FIELD=V1,V2"]),
    ("train.lr=0:1:log:4", ["log range needs LOW and HIGH above 0"]),
    ("train.lr=0.1:1:cubic:4", ["LOW:HIGH:lin|log:N"]),
    ("train.batch_size=8.5,16", ["not a whole number"]),
    ("train.optimizer=0.1:1:lin:3", ["not numeric"]),
    ("train.lr=a,b", ["'a' is not a number"]),
])
def test_bad_params_name_the_problem(text, words):
    with pytest.raises(VisualizerError) as err:
        parse_param(text)
    assert all(w in str(err.value) for w in words), str(err.value)


def test_values_are_checked_by_the_experiment_rules():
    exp = experiment.loads(TINY)
    with pytest.raises(VisualizerError, match=r"train\.optimizer: 'nope' is not known; allowed: .*'sgd'"):
        build_trials(exp, [parse_param("train.optimizer=sgd,nope")], 1)
    with pytest.raises(VisualizerError, match=r"train\.momentum: .*out of range"):
        build_trials(exp, [parse_param("train.momentum=0.5,7")], 1)
    adam = experiment.loads(TINY.replace('"momentum"', '"adam"'))
    with pytest.raises(VisualizerError, match=r"train\.momentum: the optimizer 'adam' does not use it.*'momentum'"):
        build_trials(adam, [parse_param("train.momentum=0,0.9")], 1)
    with pytest.raises(VisualizerError, match="allowed: 1 to 3"):
        build_trials(exp, [parse_param(t) for t in ("train.lr=0.1,1", "train.momentum=0,0.5", "train.seed=1,2",
                                                    "model.hidden=4,8")], 1)
    with pytest.raises(VisualizerError, match="train.seed is swept"):
        build_trials(exp, [parse_param("train.seed=1,2")], 2)


def test_trials_cover_the_grid_times_seeds():
    exp = experiment.loads(TINY)
    params = [parse_param("train.lr=0.01,0.1"), parse_param("model.hidden=4,8x8"), parse_param("train.epochs=2")]
    trials = build_trials(exp, params, 2)
    assert len(trials) == 2 * 2 * 2
    assert len({t.id for t in trials}) == 8
    combos = {(t.values["train.lr"], t.values["model.hidden"], t.seed) for t in trials}
    assert combos == {(lr, h, s) for lr in (0.01, 0.1) for h in ((4,), (8, 8)) for s in (0, 1)}
    for t in trials:
        e = experiment.from_dict(t.experiment)
        assert e.train.lr == t.values["train.lr"] and e.model.hidden == t.values["model.hidden"]
        assert e.train.seed == t.seed and e.train.epochs == 2


def test_sweepable_fields_include_the_numeric_and_choice_fields():
    known = sweepable_fields()
    for name in ("train.lr", "train.momentum", "train.batch_size", "model.hidden", "train.optimizer", "train.seed",
                 "data.noise", "model.dropout", "train.beta1"):
        assert name in known
    assert "data.path" not in known and "model.layers" not in known


def test_suggested_values_parse_and_pass_the_experiment_rules():
    from visualizer.core.sweeps.grid import suggested_values

    exp = experiment.loads(TINY)
    for name in sweepable_fields():
        text = suggested_values(name, exp)
        if not text or name in ("data.name", "train.device", "train.loss", "train.regularization"):
            continue
        param = parse_param(f"{name}={text}")
        assert param.values, name
        if name.startswith("train.") and name.split(".")[1] in ("lr", "momentum", "batch_size", "epochs", "seed"):
            assert len(build_trials(exp, [param], 1)) == len(param.values), name
    assert parse_param("train.lr=" + suggested_values("train.lr", exp)).values == (0.001, 0.01, 0.1, 1.0)
    assert parse_param("train.batch_size=" + suggested_values("train.batch_size", exp)).values == (16, 32, 64)
