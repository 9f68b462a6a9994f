"""Cross-validation: scikit-learn's splits with the same seed, sklearn's metrics, refusals, summaries."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn import metrics as skm
from sklearn import model_selection as ms

from visualizer.core.data.sets import raw_arrays
from visualizer.core.errors import VisualizerError
from visualizer.core.evaluation.folds import (
    EvalSpec,
    FoldProgress,
    FoldResult,
    check_request,
    folds_csv,
    make_splits,
    paired_differences,
    run_folds,
    summarize,
)
from visualizer.core.experiment import DataSpec, Experiment, ModelSpec, TrainSpec
from visualizer.core.training.session import RunControl

IRIS = Experiment(data=DataSpec(name="iris", seed=3), model=ModelSpec(hidden=(8,), activation=("relu",)),
                  train=TrainSpec(optimizer="adam", lr=0.02, batch_size=16, epochs=8, loss="cross_entropy"))
SINE = Experiment(data=DataSpec(name="sine", samples=120, seed=1), model=ModelSpec(hidden=(8,), activation=("tanh",)),
                  train=TrainSpec(optimizer="adam", lr=0.02, batch_size=16, epochs=5, loss="mse"))


def _same(ours, theirs):
    assert len(ours) == len(theirs)
    for (a_tr, a_va), (b_tr, b_va) in zip(ours, theirs):
        assert np.array_equal(a_tr, b_tr) and np.array_equal(a_va, b_va)


@pytest.mark.parametrize("spec, reference", [
    (EvalSpec("kfold", k=5, seed=7), ms.KFold(5, shuffle=True, random_state=7)),
    (EvalSpec("stratified", k=4, seed=2), ms.StratifiedKFold(4, shuffle=True, random_state=2)),
    (EvalSpec("kfold", k=3, repeats=2, seed=1), ms.RepeatedKFold(n_splits=3, n_repeats=2, random_state=1)),
    (EvalSpec("stratified", k=3, repeats=2, seed=1),
     ms.RepeatedStratifiedKFold(n_splits=3, n_repeats=2, random_state=1)),
    (EvalSpec("loo"), ms.LeaveOneOut()),
    (EvalSpec("shuffle", repeats=6, val_fraction=0.3, seed=5), ms.ShuffleSplit(6, test_size=0.3, random_state=5)),
    (EvalSpec("holdout", val_fraction=0.25, seed=9), ms.StratifiedShuffleSplit(1, test_size=0.25, random_state=9)),
])
def test_splits_are_scikit_learns(spec, reference):
    raw = raw_arrays(IRIS.data)
    _same(make_splits(spec, raw), list(reference.split(raw.X, raw.y)))


def test_holdout_on_regression_is_a_plain_shuffle_split():
    raw = raw_arrays(SINE.data)
    _same(make_splits(EvalSpec("holdout", val_fraction=0.2, seed=4), raw),
          list(ms.ShuffleSplit(1, test_size=0.2, random_state=4).split(raw.X, raw.y)))


def test_folds_are_trained_and_measured_with_sklearns_metrics():
    events = list(run_folds(IRIS, EvalSpec("stratified", k=3, seed=0)))
    results = [e for e in events if isinstance(e, FoldResult)]
    assert [r.fold for r in results] == [1, 2, 3]
    assert any(isinstance(e, FoldProgress) and e.n_folds == 3 for e in events)
    raw = raw_arrays(IRIS.data)
    for r in results:
        assert np.array_equal(r.y_true, raw.y[r.val_idx])
        assert r.metrics["accuracy"] == pytest.approx(np.mean(r.y_true == r.y_pred))
        assert r.metrics["f1"] == pytest.approx(skm.f1_score(r.y_true, r.y_pred, average="macro", zero_division=0))
        assert r.metrics["precision"] == pytest.approx(
            skm.precision_score(r.y_true, r.y_pred, average="macro", zero_division=0))
        assert r.metrics["recall"] == pytest.approx(skm.recall_score(r.y_true, r.y_pred, average="macro"))
        assert np.array_equal(r.confusion, skm.confusion_matrix(r.y_true, r.y_pred, labels=[0, 1, 2]))
        assert r.metrics["accuracy"] > 0.6
        assert r.val_loss[-1] == pytest.approx(r.metrics["loss"], rel=1e-5)
    summary = summarize(results, EvalSpec("stratified", k=3), "classification", 3)
    accs = [r.metrics["accuracy"] for r in results]
    assert summary["metrics"]["accuracy"]["mean"] == pytest.approx(np.mean(accs))
    assert summary["metrics"]["accuracy"]["std"] == pytest.approx(np.std(accs, ddof=1))
    assert np.array_equal(np.array(summary["confusion_summed"]), sum(r.confusion for r in results))
    header = folds_csv(results, "classification").splitlines()[0]
    assert header == "fold,n_train,n_val,loss,accuracy,precision,recall,f1"


def test_regression_folds_report_r2_and_mse():
    results = [e for e in run_folds(SINE, EvalSpec("kfold", k=3, seed=0)) if isinstance(e, FoldResult)]
    for r in results:
        assert r.metrics["r2"] == pytest.approx(skm.r2_score(r.y_true, r.y_pred), rel=1e-6)
        assert r.metrics["mse"] == pytest.approx(skm.mean_squared_error(r.y_true, r.y_pred), rel=1e-6)
        assert r.metrics["mse"] == pytest.approx(r.metrics["loss"], rel=1e-5)  # the loss is the MSE here


def test_paired_differences_on_the_same_folds():
    spec = EvalSpec("kfold", k=3, seed=0)
    from dataclasses import replace

    sgd = replace(IRIS, train=replace(IRIS.train, optimizer="sgd", lr=0.05))
    a = [e for e in run_folds(IRIS, spec) if isinstance(e, FoldResult)]
    b = [e for e in run_folds(sgd, spec) if isinstance(e, FoldResult)]
    diffs = paired_differences(a, b, "classification")
    expected = [y.metrics["accuracy"] - x.metrics["accuracy"] for x, y in zip(a, b)]
    assert diffs["accuracy"]["differences"] == pytest.approx(expected)
    assert diffs["accuracy"]["mean"] == pytest.approx(np.mean(expected))
    other = [e for e in run_folds(IRIS, EvalSpec("kfold", k=3, seed=1)) if isinstance(e, FoldResult)]
    with pytest.raises(VisualizerError, match="same folds"):
        paired_differences(a, other, "classification")


def test_cancel_stops_without_a_result_for_the_unfinished_fold():
    control = RunControl()
    seen = []
    for event in run_folds(IRIS, EvalSpec("kfold", k=5), control=control, progress_every=5):
        seen.append(event)
        if isinstance(event, FoldProgress) and event.fold == 2:
            control.stop()
    assert [e.fold for e in seen if isinstance(e, FoldResult)] == [1]


@pytest.mark.parametrize("spec, task, words", [
    (EvalSpec("kfold", k=1), "classification", ["k:", "2 to 20"]),
    (EvalSpec("kfold", k=21), "classification", ["k:", "2 to 20"]),
    (EvalSpec("stratified", k=6), "classification", ["k:", "smallest class has 5"]),
    (EvalSpec("stratified", k=3), "regression", ["method:", "regression"]),
    (EvalSpec("shuffle", val_fraction=0.0), "classification", ["val_fraction:"]),
    (EvalSpec("foldy"), "classification", ["method:", "'kfold'"]),
])
def test_bad_requests_are_refused_with_a_message(spec, task, words):
    y = np.array([0] * 5 + [1] * 10 + [2] * 10) if task == "classification" else np.linspace(0, 1, 25)
    with pytest.raises(VisualizerError) as info:
        check_request(spec, y, task)
    for word in words:
        assert word in str(info.value)


def test_k_larger_than_the_samples_and_big_leave_one_out_need_care():
    with pytest.raises(VisualizerError, match="8 folds for 6 samples"):
        check_request(EvalSpec("kfold", k=8), np.arange(6.0), "regression")
    y = np.zeros(1000, dtype=np.int64)
    y[::2] = 1
    with pytest.raises(VisualizerError, match="leave-one-out on 1000 samples"):
        check_request(EvalSpec("loo"), y, "classification")
    check_request(EvalSpec("loo"), y, "classification", confirm=True)


# --- leave-one-out reports pooled figures; a summary holds only the settings its method uses -----------------
SMALL_IRIS = Experiment(data=DataSpec(name="iris", seed=3), model=ModelSpec(hidden=(8,), activation=("relu",)),
                        train=TrainSpec(optimizer="adam", lr=0.05, batch_size=0, epochs=15, loss="cross_entropy"))


def _loo_results(exp: Experiment, keep: int):
    """Leave-one-out over the first ``keep`` folds (each fold: all other samples, one held out)."""
    results = []
    for event in run_folds(exp, EvalSpec("loo"), confirm=True):
        if isinstance(event, FoldResult):
            results.append(event)
            if len(results) == keep:
                break
    return results


def test_leave_one_out_pools_precision_recall_and_f1_as_scikit_learn_does():
    """Per fold, macro precision/recall/F1 of one sample are capped at 1/k (0.304 ± 0.094 on iris): meaningless.
    The summary gives them pooled over every fold's prediction, as sklearn computes them on the stacked ones."""
    results = _loo_results(SMALL_IRIS, 30)
    summary = summarize(results, EvalSpec("loo"), "classification", 3)
    y_true = np.concatenate([r.y_true for r in results])
    y_pred = np.concatenate([r.y_pred for r in results])
    pooled = summary["pooled"]
    assert pooled["accuracy"] == pytest.approx(skm.accuracy_score(y_true, y_pred))
    for name, metric in (("precision", skm.precision_score), ("recall", skm.recall_score), ("f1", skm.f1_score)):
        assert pooled[name] == pytest.approx(metric(y_true, y_pred, labels=[0, 1, 2], average="macro",
                                                    zero_division=0))
    # per fold, only what one sample can say: its loss, and whether it was right
    assert list(summary["metrics"]) == ["loss", "accuracy"]
    assert all(r.metrics["accuracy"] in (0.0, 1.0) for r in results)
    assert summary["metrics"]["accuracy"]["mean"] == pytest.approx(pooled["accuracy"])
    assert folds_csv(results, "classification", "loo").splitlines()[0] == "fold,n_train,n_val,loss,accuracy"
    # leave-one-out has no k, no repeats, no held-out fraction and no shuffling seed
    assert not {"k", "repeats", "val_fraction", "seed"} & set(summary)
    assert summary["method"] == "loo" and summary["folds"] == 30


def test_leave_one_out_on_regression_pools_r2():
    results = _loo_results(SINE, 12)
    summary = summarize(results, EvalSpec("loo"), "regression", 0)
    y_true = np.concatenate([r.y_true for r in results])
    y_pred = np.concatenate([r.y_pred for r in results])
    assert summary["pooled"]["r2"] == pytest.approx(skm.r2_score(y_true, y_pred), rel=1e-6)
    assert summary["pooled"]["mse"] == pytest.approx(skm.mean_squared_error(y_true, y_pred), rel=1e-6)
    assert list(summary["metrics"]) == ["loss", "mse"]  # one sample has no R²
    assert folds_csv(results, "regression", "loo").splitlines()[0] == "fold,n_train,n_val,loss,mse"


@pytest.mark.parametrize("spec, fields", [
    (EvalSpec("kfold", k=4, repeats=2, seed=1), {"k": 4, "repeats": 2, "seed": 1}),
    (EvalSpec("stratified", k=3, seed=2), {"k": 3, "repeats": 1, "seed": 2}),
    (EvalSpec("shuffle", repeats=3, val_fraction=0.3, seed=5), {"repeats": 3, "val_fraction": 0.3, "seed": 5}),
    (EvalSpec("holdout", val_fraction=0.25, seed=9), {"val_fraction": 0.25, "seed": 9}),
    (EvalSpec("loo"), {}),
])
def test_a_summary_holds_only_the_settings_its_method_uses(spec, fields):
    result = FoldResult(1, np.arange(3), np.arange(3, 5), np.arange(2), np.ones(2), np.arange(1), np.ones(1),
                        np.ones(1), np.ones(1), np.array([0, 1]), np.array([0, 1]),
                        {"loss": 0.1, "accuracy": 1.0, "precision": 1.0, "recall": 1.0, "f1": 1.0}, "completed",
                        confusion=np.eye(2, dtype=int))
    summary = summarize([result], spec, "classification", 2)
    settings = {k: summary[k] for k in ("k", "repeats", "val_fraction", "seed") if k in summary}
    assert settings == fields


def test_folds_that_diverge_are_reported_not_a_traceback():
    """A learning rate that diverges left NaN predictions, and sklearn's R² raised 'Input contains NaN'."""
    import json

    from visualizer.core import strict_json

    sgd = Experiment(data=DataSpec(name="sine", samples=60, seed=1), model=ModelSpec(hidden=(8,), activation=("relu",)),
                     train=TrainSpec(optimizer="sgd", lr=9.0, batch_size=8, epochs=20, loss="mse"))
    results = [e for e in run_folds(sgd, EvalSpec("kfold", k=2, seed=0)) if isinstance(e, FoldResult)]
    assert [r.status for r in results] == ["diverged", "diverged"]
    assert all(np.isnan(r.metrics["r2"]) and not np.isfinite(r.metrics["mse"]) for r in results)
    summary = summarize(results, EvalSpec("kfold", k=2, seed=0), "regression", 0)
    assert summary["diverged_folds"] == [1, 2]
    written = strict_json.loads_strict(strict_json.dumps(summary))
    assert written["pooled"]["r2"] is None and written["non_finite"]["pooled.r2"] == "nan"
    with pytest.raises(ValueError):
        json.loads(json.dumps(summary), parse_constant=lambda name: (_ for _ in ()).throw(ValueError(name)))
