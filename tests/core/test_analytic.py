"""The playground's test functions, their exact surfaces, the race engine and the presets."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from visualizer.core.model.optimizers import ArticleMomentum
from visualizer.core.playground.functions import (
    MAX_RACERS,
    PRESETS_DIR,
    TEST_FUNCTIONS,
    PlaygroundError,
    Race,
    Racer,
    function_info,
    load_preset,
    parse_preset,
    preset_paths,
    surface,
)


@pytest.mark.parametrize("key", [k for k, fn in TEST_FUNCTIONS.items() if fn.minima])
def test_value_and_gradient_vanish_at_each_minimum(key):
    fn = TEST_FUNCTIONS[key]
    for minimum in fn.minima:
        p = torch.tensor(minimum, dtype=torch.float64, requires_grad=True)
        value = fn.f(p)
        value.backward()
        assert float(value.detach()) == pytest.approx(0.0, abs=1e-10), minimum
        np.testing.assert_allclose(p.grad.numpy(), 0.0, atol=1e-6)


def test_saddle_has_no_minimum_and_a_zero_gradient_at_the_origin():
    fn = function_info("saddle")
    assert fn.minima == () and fn.distance_to_minimum((1.0, 1.0)) is None
    p = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    fn.f(p).backward()
    assert p.grad.tolist() == [0.0, 0.0]
    assert fn.value(1.0, 2.0) == -3.0


@pytest.mark.parametrize("key", list(TEST_FUNCTIONS))
def test_surface_is_f_point_by_point(key):
    fn = TEST_FUNCTIONS[key]
    xs, ys, z = surface(key, 17)
    assert z.shape == (17, 17)
    assert (xs[0], xs[-1]) == fn.x_range and (ys[0], ys[-1]) == fn.y_range
    for i in (0, 5, 16):
        for j in (0, 7, 16):
            assert z[i, j] == pytest.approx(fn.value(xs[j], ys[i]), rel=1e-12, abs=1e-12)


def test_unknown_function_names_the_allowed_ones():
    with pytest.raises(PlaygroundError, match=r"^function: unknown function 'nope'; allowed: 'rosenbrock'"):
        surface("nope")


def test_sgd_follows_the_hand_computed_update_exactly():
    lr, kappa = 0.03, 50.0
    race = Race("ill_conditioned", (-3.5, 1.5), [Racer("sgd", {"lr": lr})])
    race.step(20)
    expected = [np.array([-3.5, 1.5])]
    for _ in range(20):
        x, y = expected[-1]
        expected.append(np.array([x - lr * x, y - lr * kappa * y]))  # grad of ½(x² + κy²) is (x, κy)
    np.testing.assert_allclose(race.lanes[0].path, np.array(expected), rtol=1e-14, atol=0)
    fn = function_info("ill_conditioned")
    np.testing.assert_allclose(race.lanes[0].losses, [fn.value(*p) for p in expected], rtol=1e-14)
    assert race.steps == 20 and race.lanes[0].status.startswith("step 20 · f = ")


def test_racers_use_the_apps_optimizers():
    race = Race("rosenbrock", (0, 0), [Racer("article_momentum", {"lr": 0.001, "momentum": 0.5}), Racer("adam")])
    assert isinstance(race.lanes[0].optimizer, ArticleMomentum)
    assert race.lanes[0].optimizer.param_groups[0]["momentum"] == 0.5
    assert isinstance(race.lanes[1].optimizer, torch.optim.Adam)
    assert race.racers[1].label == "Adam, α=0.001"


def test_momentum_beats_sgd_on_the_rosenbrock_preset():
    preset = load_preset(PRESETS_DIR / "momentum_vs_sgd_rosenbrock.toml")
    assert preset.function == "rosenbrock" and preset.description
    race = preset.race()
    race.step(preset.steps)
    by_name = {lane.racer.optimizer: lane for lane in race.lanes}
    fn = race.fn
    sgd, momentum = by_name["sgd"], by_name["momentum"]
    assert sgd.racer.values()["lr"] == momentum.racer.values()["lr"]
    assert fn.distance_to_minimum(momentum.path[-1]) < 0.01 < 0.5 < fn.distance_to_minimum(sgd.path[-1])
    assert len(sgd.path) == len(momentum.path) == preset.steps + 1


def test_a_diverging_racer_stops_alone():
    race = Race("rosenbrock", (-1.5, 2.0), [Racer("sgd", {"lr": 0.001}), Racer("sgd", {"lr": 0.1})])
    race.step(50)
    ok, bad = race.lanes
    assert ok.running and ok.steps == 50 and len(ok.path) == 51
    assert not bad.running and bad.diverged_at is not None and bad.diverged_at < 50
    assert bad.status == f"diverged at step {bad.diverged_at}"
    assert bad.steps == bad.diverged_at
    assert np.all(np.isfinite(bad.path)) and len(bad.path) <= bad.diverged_at + 1
    assert not race.finished
    race.step(1)
    assert bad.steps == bad.diverged_at and ok.steps == 51


def test_leaving_the_saddle_ends_the_race_there():
    race = Race("saddle", (1.8, 0.01), [Racer("adam", {"lr": 0.05})])
    race.step(500)
    lane = race.lanes[0]
    assert lane.diverged_at is not None and abs(lane.path[-1, 1]) > race.fn.bound
    assert race.finished


def test_at_most_six_racers():
    Race("beale", (1, 1), [Racer("sgd")] * MAX_RACERS)
    with pytest.raises(PlaygroundError, match=r"^racers: 7 racers; allowed: at most 6$"):
        Race("beale", (1, 1), [Racer("sgd")] * 7)


def test_bad_racer_hyperparameters_are_named():
    with pytest.raises(PlaygroundError, match=r"^racers\[1\]\.lr: 20\.0 is out of range; allowed: \(0, 10\]$"):
        Race("beale", (1, 1), [Racer("sgd"), Racer("adam", {"lr": 20.0})])
    with pytest.raises(PlaygroundError, match=r"^racers\[0\]\.beta1: SGD has no such hyper-parameter; allowed: "):
        Race("beale", (1, 1), [Racer("sgd", {"beta1": 0.5})])
    with pytest.raises(PlaygroundError, match=r"^start: "):
        Race("beale", (1, float("nan")), [Racer("sgd")])


def test_every_shipped_preset_loads_and_races():
    paths = preset_paths()
    names = {p.name for p in paths}
    assert {"momentum_vs_sgd_rosenbrock.toml", "adam_ill_conditioned.toml"} <= names
    for path in paths:
        preset = load_preset(path)
        assert preset.description.endswith(".") and preset.title
        assert 1 <= len(preset.racers) <= MAX_RACERS
        race = preset.race()
        race.step(5)
        assert all(lane.steps == 5 for lane in race.lanes)


def test_adam_preset_races_three_optimizers_on_the_quadratic():
    preset = load_preset(PRESETS_DIR / "adam_ill_conditioned.toml")
    assert preset.function == "ill_conditioned"
    assert [r.optimizer for r in preset.racers] == ["sgd", "momentum", "adam"]


GOOD = {"function": "rosenbrock", "start": [-1.5, 2.0], "steps": 10, "racers": [{"optimizer": "sgd", "lr": 0.001}]}


@pytest.mark.parametrize(("change", "message"), [
    ({"function": "banana"}, r"^function: unknown function 'banana'; allowed: 'rosenbrock', "),
    ({"start": [1.0]}, r"^start: expected \[x, y\], got \[1\.0\]; allowed: two finite numbers$"),
    ({"steps": 0}, r"^steps: expected a whole number, got 0; allowed: 1 to 100000$"),
    ({"speed": 5000}, r"^speed: expected steps per second, got 5000; allowed: 1 to 1000$"),
    ({"colour": "red"}, r"^colour: unknown key; allowed: 'title', "),
    ({"racers": []}, r"^racers: expected \[\[racers\]\] tables; allowed: 1 to 6 tables$"),
    ({"racers": [{"optimizer": "sgd"}] * 7}, r"^racers: 7 racers; allowed: at most 6$"),
    ({"racers": [{"lr": 0.1}]}, r"^racers\[0\]\.optimizer: missing; allowed: 'gd', 'sgd', "),
    ({"racers": [{"optimizer": "lbfgs"}]}, r"^racers\[0\]\.optimizer: unknown optimizer 'lbfgs'; allowed: 'gd', "),
    ({"racers": [{"optimizer": "sgd", "momentum": 0.9}]},
     r"^racers\[0\]\.momentum: unknown key for SGD; allowed: 'optimizer', 'lr' or 'weight_decay'$"),
    ({"racers": [{"optimizer": "sgd", "lr": "fast"}]}, r"^racers\[0\]\.lr: expected a number, got 'fast'; allowed: "),
    ({"racers": [{"optimizer": "momentum", "momentum": 1.5}]},
     r"^racers\[0\]\.momentum: 1\.5 is out of range; allowed: \[0, 1\)$"),
])
def test_bad_presets_give_one_line_errors(change, message):
    with pytest.raises(PlaygroundError, match=message) as info:
        parse_preset({**GOOD, **change})
    assert "\n" not in str(info.value)


def test_missing_key_and_broken_file(tmp_path):
    with pytest.raises(PlaygroundError, match=r"^racers: missing; allowed: 1 to 6 \[\[racers\]\] tables$"):
        parse_preset({"function": "beale", "start": [0, 0]})
    broken = tmp_path / "broken.toml"
    broken.write_text("function = [", encoding="utf-8")
    with pytest.raises(PlaygroundError, match=r"^file: broken\.toml is not valid TOML"):
        load_preset(broken)
    with pytest.raises(PlaygroundError, match=r"^file: cannot read "):
        load_preset(tmp_path / "absent.toml")
    good = tmp_path / "my_race.toml"
    good.write_text('function = "himmelblau"\nstart = [0, 0]\n[[racers]]\noptimizer = "adam"\nlr = 0.1\n',
                    encoding="utf-8")
    preset = load_preset(good)
    assert preset.title == "my race" and preset.steps == 1000 and preset.racers[0].values()["lr"] == 0.1


def test_the_ill_conditioned_preset_does_what_its_text_says():
    """Its description is checked against the race: SGD crawls along x, momentum swings above SGD's loss early on,
    all three reach the minimum within the preset's steps."""
    from visualizer.core.playground.functions import load_preset, preset_paths

    preset = load_preset(next(p for p in preset_paths() if p.name == "adam_ill_conditioned.toml"))
    race = preset.race()
    race.step(20)
    sgd, momentum, adam = (float(loss[-1]) for loss in race.losses)
    assert momentum > 2 * sgd  # momentum overshoots and swings
    race.step(40)
    x = [abs(float(path[-1][0])) for path in race.paths]
    assert x[0] > 0.3 and x[0] > 10 * x[1]  # SGD still crawls along x at step 60 ("x = -0.34")
    assert "-0.34" in preset.description
    race.step(preset.steps - 60)
    assert all(float(loss[-1]) < 1e-4 for loss in race.losses)  # all three arrive within 200 steps
