"""`bench train`'s loops run in turn epoch by epoch and count what they ran."""

import pytest

from visualizer.core.data.sets import load_dataset
from visualizer.core.training import bench


@pytest.fixture(scope="module")
def digits():
    exp = bench.digits_experiment(epochs=3)
    return exp, load_dataset(exp.data)


def test_sides_in_turn_count_every_step_and_go_first_in_rotation(digits):
    exp, ds = digits
    order = []

    def traced(name, epochs):
        for steps in epochs:
            order.append(name)
            yield steps

    counts = {}
    sides = {"plain": traced("plain", bench.plain_epochs(exp, ds)),
             "session": traced("session", bench.session_epochs(exp, ds, 1, counts=counts)),
             "bare": traced("bare", bench.plain_epochs(exp, ds, validate=False))}
    result = bench.interleaved(sides, first=1)
    steps_per_epoch = -(-int(len(ds.X_train)) // exp.train.batch_size)
    assert {name: steps for name, (steps, _) in result.items()} == {name: 3 * steps_per_epoch for name in sides}
    assert all(seconds > 0 for _, seconds in result.values())
    assert counts["snapshots"] >= 2  # step 0 and the last
    rounds = [order[3 + 3 * i: 6 + 3 * i] for i in range(3)]  # (after the three set-ups)
    assert rounds == [["session", "bare", "plain"], ["bare", "plain", "session"], ["plain", "session", "bare"]]


def test_bench_train_reports_the_median_of_the_rounds_ratios(digits, monkeypatch):
    monkeypatch.setattr(bench, "digits_experiment", lambda epochs: digits[0])
    r = bench.bench_train(repeats=3, threads=1)
    pairs = sorted(s / p for s, p in zip(r["session_runs"], r["plain_runs"]))
    assert r["ratio"] == pytest.approx(pairs[1])
    assert r["steps_per_repeat"] == 3 * 45 and r["torch_threads"] == 1
    assert r["session_snapshots_alone"] >= 2 and r["session_snapshots_in_turn"] >= 2
