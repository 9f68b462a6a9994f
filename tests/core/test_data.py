"""The data-set registry: shapes, determinism, the split, standardisation, CSV files and bad input."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from sklearn import datasets as skd
from sklearn.model_selection import train_test_split

from visualizer.core.data.sets import DATASETS, Dataset, load_dataset, raw_arrays, validate_data_spec
from visualizer.core.errors import ExperimentError
from visualizer.core.experiment import DataSpec

BUILT_IN = [name for name in DATASETS if name != "csv"]
BUNDLED = {
    "iris": skd.load_iris,
    "wine": skd.load_wine,
    "breast_cancer": skd.load_breast_cancer,
    "digits": skd.load_digits,
}


def write(tmp_path: Path, text: str, name: str = "table.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def classes_csv(tmp_path: Path, rows: int = 30) -> Path:
    lines = ["width,height,kind"]
    for i in range(rows):
        kind = ("cat", "dog", "bird")[i % 3]
        lines.append(f"{i * 0.5:.2f},{(i % 7) - 3},{kind}")
    return write(tmp_path, "\n".join(lines) + "\n")


def test_registry_keys_and_metadata() -> None:
    assert list(DATASETS) == [
        "moons", "circles", "xor", "gauss", "spiral", "blobs", "sine", "plane",
        "iris", "wine", "breast_cancer", "digits", "csv",
    ]  # fmt: skip
    for name, info in DATASETS.items():
        assert info.name == name and info.label and info.description
        assert info.family in {"synthetic2d", "regression", "bundled", "csv"}
        assert info.task in {"classification", "regression", "auto"}
        assert set(info.uses) <= {"samples", "noise", "classes", "path", "target"}
    assert DATASETS["csv"].task == "auto"
    assert "classes" in DATASETS["spiral"].uses and "classes" not in DATASETS["moons"].uses


@pytest.mark.parametrize("name", BUILT_IN)
def test_every_set_loads_with_shapes_and_dtypes(name: str) -> None:
    info = DATASETS[name]
    data = load_dataset(DataSpec(name=name, samples=200))
    assert isinstance(data, Dataset) and data.name == name and data.task == info.task
    assert data.X_train.dtype == np.float32 and data.X_val.dtype == np.float32
    assert data.X_train.ndim == 2 and data.X_val.shape[1] == data.n_features == len(data.feature_names)
    assert data.mean.shape == data.std.shape == (data.n_features,) and data.mean.dtype == np.float64
    n_train, n_val = len(data.y_train), len(data.y_val)
    assert data.X_train.shape[0] == n_train and data.X_val.shape[0] == n_val and data.n_samples == n_train + n_val
    if info.family == "bundled":
        assert data.n_samples == BUNDLED[name]().data.shape[0]
    else:
        assert data.n_samples == 200 and n_val == 40
    if data.task == "classification":
        assert data.y_train.dtype == np.int64 and data.y_val.dtype == np.int64
        assert data.n_classes == len(data.class_names) >= 2
        assert set(np.unique(data.y_train)) == set(range(data.n_classes))
    else:
        assert data.y_train.dtype == np.float32 and data.class_names == () and data.n_classes == 0
    varying = np.asarray(data.std) != 1.0
    assert np.allclose(data.X_train.mean(axis=0), 0.0, atol=1e-5)
    assert np.allclose(data.X_train.std(axis=0)[varying], 1.0, atol=1e-4)


@pytest.mark.parametrize("name", list(BUNDLED))
def test_bundled_sets_match_scikit_learn(name: str) -> None:
    bunch = BUNDLED[name]()
    X, y, features, classes, task, plane = raw_arrays(DataSpec(name=name, samples=10, noise=4.0))
    assert task == "classification" and X.dtype == np.float64 and plane is None
    np.testing.assert_array_equal(X, bunch.data)
    np.testing.assert_array_equal(y, bunch.target)
    assert features == tuple(str(f) for f in bunch.feature_names)
    assert classes == tuple(str(c) for c in bunch.target_names)


def test_same_spec_gives_identical_arrays_and_seed_changes_them() -> None:
    for name in ("moons", "xor", "spiral", "blobs", "sine", "iris"):
        spec = DataSpec(name=name, samples=300, noise=0.3, seed=7)
        a, b = load_dataset(spec), load_dataset(spec)
        for field in ("X_train", "y_train", "X_val", "y_val", "mean", "std"):
            left, right = getattr(a, field), getattr(b, field)
            assert left.dtype == right.dtype and left.tobytes() == right.tobytes(), (name, field)
        other = load_dataset(DataSpec(name=name, samples=300, noise=0.3, seed=8))
        assert not np.array_equal(a.X_train, other.X_train), name


def test_standardisation_uses_training_statistics_only() -> None:
    spec = DataSpec(name="wine", val_fraction=0.3, seed=3)
    data = load_dataset(spec)
    X, y, *_ = raw_arrays(spec)
    X_train, X_val, y_train, y_val = train_test_split(
        X, y, test_size=math.ceil(0.3 * len(y)), random_state=3, stratify=y
    )
    mean, std = X_train.mean(axis=0), X_train.std(axis=0)
    np.testing.assert_allclose(data.mean, mean)
    np.testing.assert_allclose(data.std, std)
    np.testing.assert_allclose(data.X_train, (X_train - mean) / std, atol=1e-5)
    np.testing.assert_allclose(data.X_val, (X_val - mean) / std, atol=1e-5)
    np.testing.assert_array_equal(data.y_val, y_val)
    assert not np.allclose(X_val.mean(axis=0), mean)  # so the val statistics really differ


def test_stratified_split_keeps_class_proportions() -> None:
    data = load_dataset(DataSpec(name="iris", val_fraction=0.2, seed=5))
    assert np.bincount(data.y_val).tolist() == [10, 10, 10]
    assert np.bincount(data.y_train).tolist() == [40, 40, 40]
    cancer = load_dataset(DataSpec(name="breast_cancer", val_fraction=0.25, seed=1))
    whole = np.bincount(skd.load_breast_cancer().target) / 569
    assert np.allclose(np.bincount(cancer.y_val) / len(cancer.y_val), whole, atol=0.01)


def test_zero_validation_fraction_gives_empty_arrays() -> None:
    data = load_dataset(DataSpec(name="plane", samples=50, val_fraction=0.0))
    assert data.X_train.shape == (50, 2) and data.X_val.shape == (0, 2) and data.y_val.shape == (0,)
    assert data.X_val.dtype == np.float32 and data.y_val.dtype == np.float32
    iris = load_dataset(DataSpec(name="iris", val_fraction=0.0))
    assert iris.X_val.shape == (0, 4) and iris.y_val.dtype == np.int64


@pytest.mark.parametrize("name", ["blobs", "spiral"])
@pytest.mark.parametrize("classes", [2, 5, 10])
def test_blobs_and_spiral_honour_classes(name: str, classes: int) -> None:
    data = load_dataset(DataSpec(name=name, samples=400, classes=classes))
    assert data.n_classes == classes
    assert set(np.unique(data.y_train)) == set(range(classes)) == set(np.unique(data.y_val))


def test_synthetic_sets_follow_their_definitions_without_noise() -> None:
    X, y, *_ = raw_arrays(DataSpec(name="xor", samples=400, noise=0.0))
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] > 0).astype(np.int64))
    assert np.abs(X).min() >= 0.06 and np.bincount(y).tolist() == [200, 200]
    X, y, *_ = raw_arrays(DataSpec(name="gauss", samples=400, noise=0.0))
    assert np.allclose(X[y == 0].mean(axis=0), [1, 1], atol=0.1)
    assert np.allclose(X[y == 1].mean(axis=0), [-1, -1], atol=0.1)
    X, y, *_ = raw_arrays(DataSpec(name="sine", samples=100, noise=0.0))
    np.testing.assert_allclose(y, np.sin(X[:, 0]))
    assert X.min() >= -np.pi and X.max() <= np.pi
    X, y, *_ = raw_arrays(DataSpec(name="plane", samples=100, noise=0.0))
    np.testing.assert_allclose(y, X[:, 0] - 2 * X[:, 1])
    X, y, *_ = raw_arrays(DataSpec(name="moons", samples=100, noise=0.1, seed=4))
    X_ref, y_ref = skd.make_moons(100, noise=0.1, random_state=4)
    np.testing.assert_array_equal(X, X_ref)
    np.testing.assert_array_equal(y, y_ref)


def test_noise_spreads_the_points() -> None:
    def spread(noise: float) -> float:
        X, y, *_ = raw_arrays(DataSpec(name="gauss", samples=500, noise=noise))
        return float(X[y == 0].std())

    assert spread(0.0) < spread(0.5) < spread(2.0)


def test_csv_with_string_classes(tmp_path: Path) -> None:
    classes_csv(tmp_path)
    spec = DataSpec(name="csv", path="table.csv", val_fraction=0.2)
    validate_data_spec(spec, base_dir=tmp_path)
    data = load_dataset(spec, base_dir=tmp_path)
    assert data.task == "classification" and data.class_names == ("bird", "cat", "dog")
    assert data.feature_names == ("width", "height") and data.n_samples == 30
    assert np.bincount(data.y_val).tolist() == [2, 2, 2]  # stratified
    X, y, *_ = raw_arrays(spec, base_dir=tmp_path)
    assert X[1].tolist() == [0.5, -2.0] and y[:3].tolist() == [1, 2, 0]  # cat, dog, bird


def test_csv_regression_named_target_and_absolute_path(tmp_path: Path) -> None:
    lines = ["price,rooms,constant,area"] + [f"{100.5 + i * 3.25},{i % 4},7,{20 + i}" for i in range(25)]
    path = write(tmp_path, "\n".join(lines) + "\n\n", name="houses.csv")
    data = load_dataset(DataSpec(name="csv", path=str(path), target="price", val_fraction=0.2), base_dir=Path("/"))
    assert data.task == "regression" and data.class_names == ()
    assert data.feature_names == ("rooms", "constant", "area") and data.y_train.dtype == np.float32
    assert data.std[1] == 1.0 and np.all(data.X_train[:, 1] == 0) and np.all(np.isfinite(data.X_val))
    prices = np.concatenate([data.y_train, data.y_val])
    assert set(np.round(prices, 2)) == {round(100.5 + i * 3.25, 2) for i in range(25)}


def test_csv_integer_target_is_classification_sorted_numerically(tmp_path: Path) -> None:
    lines = ["a;b;label"] + [f"{i};{i * i};{(2, 10, 1)[i % 3]}" for i in range(15)]
    write(tmp_path, "\n".join(lines))
    X, y, features, classes, task, plane = raw_arrays(DataSpec(name="csv", path="table.csv"), base_dir=tmp_path)
    assert plane is None
    assert task == "classification" and classes == ("1", "2", "10") and features == ("a", "b")
    assert y[:3].tolist() == [1, 2, 0]


def bad_csv(tmp_path: Path, text: str) -> DataSpec:
    write(tmp_path, text, name="bad.csv")
    return DataSpec(name="csv", path="bad.csv")


GOOD_ROWS = "".join(f"{i},{i % 2}\n" for i in range(12))

BAD_SPECS = [
    (dict(name="mooons"), "data.name", "'mooons'"),
    (dict(samples=5), "data.samples", "5"),
    (dict(samples=200_000), "data.samples", "200000"),
    (dict(samples="many"), "data.samples", "'many'"),
    (dict(noise=-0.5), "data.noise", "-0.5"),
    (dict(noise=float("nan")), "data.noise", "nan"),
    (dict(name="spiral", classes=11), "data.classes", "11"),
    (dict(name="blobs", classes=1), "data.classes", "1"),
    (dict(val_fraction=0.95), "data.val_fraction", "0.95"),
    (dict(seed=-1), "data.seed", "-1"),
    (dict(seed=1.5), "data.seed", "1.5"),
    (dict(name="spiral", samples=10, classes=5, val_fraction=0.9), "data.val_fraction", "0.9"),
]


@pytest.mark.parametrize(("fields", "key", "value"), BAD_SPECS)
def test_bad_fields_name_key_and_value(fields: dict, key: str, value: str) -> None:
    spec = DataSpec(**fields)
    for check in (validate_data_spec, load_dataset):
        with pytest.raises(ExperimentError) as caught:
            check(spec)
        message = str(caught.value)
        assert message.startswith(f"{key}: ") and value in message and "\n" not in message


def test_unused_fields_are_not_checked() -> None:
    validate_data_spec(DataSpec(name="moons", classes=99))
    validate_data_spec(DataSpec(name="iris", samples=1, noise=-1.0))


BAD_CSVS = [
    ("x,y\n" + "1,2\n" * 5 + "abc,1\n" + "1,2\n" * 6, "data.path", "'abc'", "line 7"),
    ("x,y\n" + "".join(f"1,{i}.5\n" for i in range(30)) + "1,n/a\n", "data.path", "'n/a'", "line 32"),
    ("x,z,y\n" + "1,2,0\n" * 5 + "1,,1\n" + "1,2,1\n" * 6, "data.path", "'z'", "line 7"),
    ("x,y\n" + "1,2\n" * 5 + "1,2,3\n" + "1,2\n" * 6, "data.path", "bad.csv", "line 7"),
    ("x,y\n" + "1,a\n" * 12, "data.target", "'a'", "at least 2"),
    ("x,y\n" + "1,0\n1,1\n" * 3, "data.path", "6 data rows", "at least 10"),
    ("", "data.path", "bad.csv", "empty"),
    ("x,y\n", "data.path", "bad.csv", "no data rows"),
    ("x,x\n" + GOOD_ROWS, "data.path", "'x'", "twice"),
    ("y\n" + "1\n" * 12, "data.path", "bad.csv", "feature"),
    ("x,y\n" + "1,inf\n" * 12, "data.path", "'inf'", "finite"),
]


@pytest.mark.parametrize(("text", "key", "value", "detail"), BAD_CSVS)
def test_bad_csv_files_get_clear_messages(tmp_path: Path, text: str, key: str, value: str, detail: str) -> None:
    spec = bad_csv(tmp_path, text)
    for check in (validate_data_spec, load_dataset):
        with pytest.raises(ExperimentError) as caught:
            check(spec, base_dir=tmp_path)
        message = str(caught.value)
        assert message.startswith(f"{key}: ") and value in message and detail in message, message


def test_csv_path_problems(tmp_path: Path) -> None:
    with pytest.raises(ExperimentError, match=r"^data\.path: required when data\.name is 'csv'$"):
        validate_data_spec(DataSpec(name="csv"))
    with pytest.raises(ExperimentError) as caught:
        load_dataset(DataSpec(name="csv", path="sub/missing.csv"), base_dir=tmp_path)
    assert str(caught.value) == f"data.path: file not found: {tmp_path / 'sub' / 'missing.csv'}"
    write(tmp_path, "a,b,c\n" + "1,2,3\n" * 12, name="three.csv")
    with pytest.raises(ExperimentError) as caught:
        validate_data_spec(DataSpec(name="csv", path="three.csv", target="d"), base_dir=tmp_path)
    assert str(caught.value).startswith("data.target: 'd' is not a column") and "'a', 'b' or 'c'" in str(caught.value)


def test_validation_that_could_starve_a_class_is_refused(tmp_path: Path) -> None:
    rows = "".join(f"{i},{'rare' if i == 0 else 'common'}\n" for i in range(20))
    write(tmp_path, "x,kind\n" + rows)
    expected = r"^data\.val_fraction: 0\.5 could leave class 'rare' \(samples: 1\)"
    for seed in range(5):  # refused whatever the seed, by validation and by loading alike
        spec = DataSpec(name="csv", path="table.csv", val_fraction=0.5, seed=seed)
        for check in (validate_data_spec, load_dataset):
            with pytest.raises(ExperimentError, match=expected):
                check(spec, base_dir=tmp_path)
    data = load_dataset(DataSpec(name="csv", path="table.csv", val_fraction=0.0), base_dir=tmp_path)
    assert data.n_classes == 2 and data.X_val.shape == (0, 1)
    spiral = DataSpec(name="spiral", samples=20, classes=10, val_fraction=0.2)  # 4 validation samples < 10 classes
    for check in (validate_data_spec, load_dataset):
        with pytest.raises(ExperimentError, match=r"^data\.val_fraction: 0\.2 could leave class"):
            check(spiral)


def test_small_sets_split_without_stratifying() -> None:
    data = load_dataset(DataSpec(name="moons", samples=10, val_fraction=0.1))  # 1 validation sample < 2 classes
    assert data.X_val.shape == (1, 2) and set(data.y_train.tolist()) == {0, 1}
