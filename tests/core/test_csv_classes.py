"""A CSV target may have at most MAX_CSV_CLASSES classes: more is refused at load with one message, before any
network with thousands of outputs (or a confusion matrix of millions of cells) is built."""

from __future__ import annotations

from pathlib import Path

import pytest

from visualizer.core.data.csv_file import MAX_CSV_CLASSES
from visualizer.core.data.sets import load_dataset, validate_data_spec
from visualizer.core.errors import ExperimentError
from visualizer.core.experiment import DataSpec


def _write(tmp_path: Path, n_classes: int, rows: int) -> DataSpec:
    lines = ["width,height,species"] + [f"{i * 0.5},{i % 7},kind{i % n_classes}" for i in range(rows)]
    (tmp_path / "table.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return DataSpec(name="csv", path="table.csv", target="species")


def test_a_target_with_too_many_text_classes_is_refused_at_load(tmp_path: Path) -> None:
    spec = _write(tmp_path, 1500, 1500)
    for check in (validate_data_spec, load_dataset):
        with pytest.raises(ExperimentError) as caught:
            check(spec, base_dir=tmp_path)
        message = str(caught.value)
        assert message.startswith("data.target: ") and "\n" not in message
        assert "'species'" in message and "1,500 distinct values" in message and str(MAX_CSV_CLASSES) in message
        assert "regression" in message


def test_the_limit_itself_is_allowed(tmp_path: Path) -> None:
    spec = _write(tmp_path, MAX_CSV_CLASSES, 10 * MAX_CSV_CLASSES)
    data = load_dataset(spec, base_dir=tmp_path)
    assert data.task == "classification" and data.n_classes == MAX_CSV_CLASSES
    with pytest.raises(ExperimentError, match=f"{MAX_CSV_CLASSES + 1} distinct values"):
        load_dataset(_write(tmp_path, MAX_CSV_CLASSES + 1, 10 * MAX_CSV_CLASSES), base_dir=tmp_path)
