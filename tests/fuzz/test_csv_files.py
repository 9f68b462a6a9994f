"""CSV data files: any table, damaged or hostile, either loads as a data set whose standardised features and targets
are finite (so training cannot overflow at step 1) or is refused with a one-line message naming the file and the
line, column or field."""

from __future__ import annotations

import csv
import io
import os
import time

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.fuzz.conftest import COUNTS, FUZZ, HOSTILE, counted, make_hostile, one_line
from tests.fuzz.strategies import HUGE_NUMBERS, damaged_bytes
from visualizer.core.data import csv_file
from visualizer.core.data.sets import load_dataset, validate_data_spec
from visualizer.core.errors import ExperimentError, VisualizerError
from visualizer.core.experiment import DataSpec
from visualizer.core.resources import resources_dir

pytestmark = pytest.mark.timeout(120)

FRUIT = (resources_dir() / "data" / "fruit.csv").read_bytes()

cells = st.one_of(
    st.floats(-1e3, 1e3).map(lambda v: f"{v:.4g}"), st.integers(-5, 5).map(str),
    st.sampled_from(HUGE_NUMBERS).map(repr), st.floats().map(repr),
    st.sampled_from(["", " ", "a", "cat", "dog", '"', '"x', "1e308", "-1e308", "9" * 400, "1,5", "nan", "\n",
                     "\ufeff1", "０", "1_000"]),
    st.text(max_size=8),
)


@st.composite
def tables(draw) -> str:
    """A CSV table: a header (mostly plain names; now and then empty, repeated or odd ones), then rows of cells of
    the column's kind (numbers, classes, huge values) with, in a dirty table, cells of any kind here and there,
    written with a chosen delimiter (cells quoted as the csv module does)."""
    n_cols = draw(st.sampled_from([2, 3, 4, 5, 2, 3, 1]))
    header = [f"c{i}" for i in range(n_cols - 1)] + ["y"]
    if draw(st.integers(0, 4)) == 0:
        header = draw(st.lists(st.one_of(st.sampled_from(["x", "y", "z", "target", ""]), st.text(max_size=6)),
                               min_size=n_cols, max_size=n_cols))
    n_rows = draw(st.sampled_from([40, 25, 12, 11, 10, 5, 1, 0]))
    numeric = st.floats(-100, 100).map(lambda v: f"{v:.3f}")
    huge = st.sampled_from([1e308, -1e308, 1e200, 3e153, 1e20, 1e-300]).map(repr)
    columns = [draw(st.sampled_from(["numeric", "numeric", "numeric", "classes", "classes", "huge", "anything"]))
               for _ in range(n_cols)]
    kind = {"numeric": numeric, "classes": st.sampled_from(["0", "1", "2"]), "huge": huge, "anything": cells}
    dirt = draw(st.sampled_from([0, 0, 0, 100, 5]))  # one cell in `dirt` is of any kind (0: none)
    rows = [[draw(cells) if dirt and draw(st.integers(1, dirt)) == 1 else draw(kind[c]) for c in columns]
            for _ in range(n_rows)]
    buf = io.StringIO()
    csv.writer(buf, delimiter=draw(st.sampled_from([",", ";", "\t"])), lineterminator="\n").writerows([header, *rows])
    return buf.getvalue()


def check_csv(path, target: str) -> None:
    """Load the CSV as the app does: a data set with finite standardised features (and finite targets), or one
    ExperimentError line naming the field."""
    spec = DataSpec(name="csv", path=str(path), target=target, val_fraction=0.2)
    try:
        validate_data_spec(spec)
        ds = load_dataset(spec)
    except ExperimentError as exc:
        assert one_line(exc).startswith(("data.path: ", "data.target: ", "data.val_fraction: "))
        return
    for X in (ds.X_train, ds.X_val):
        assert X.dtype == np.float32 and np.all(np.isfinite(X))
    y = np.concatenate([ds.y_train, ds.y_val])
    if ds.task == "regression":
        assert np.all(np.isfinite(y)) and np.isfinite(np.sum(y.astype(np.float32) ** 2))
    else:
        assert y.min() >= 0 and y.max() < ds.n_classes and ds.n_classes >= 2


@settings(FUZZ, max_examples=200)
@given(text=tables(), target=st.sampled_from(["", "y", "target", "x", "nope"]))
@counted("csv: generated tables")
def test_generated_tables(text, target, tmp_path_factory):
    path = tmp_path_factory.mktemp("csv") / "t.csv"
    path.write_text(text, encoding="utf-8")
    check_csv(path, target)


@FUZZ
@given(data=st.data())
@counted("csv: damaged bytes")
def test_damaged_fruit_bytes(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("csv") / "fruit.csv"
    path.write_bytes(data.draw(damaged_bytes(FRUIT)))
    check_csv(path, data.draw(st.sampled_from(["fruit", "", "weight_g"])))


def test_a_wide_header_is_checked_in_linear_time(tmp_path):
    """200,000 columns took `validate` 146 s (names.index per column); now the whole check is linear."""
    COUNTS["hand-made"] += 1
    n = 200_000
    header = ",".join(f"c{i}" for i in range(n))
    row = ",".join("1" for _ in range(n))
    (tmp_path / "wide.csv").write_text(header + "\n" + (row + "\n") * 11)
    t0 = time.perf_counter()
    names, rows = csv_file._read_table(tmp_path / "wide.csv", (tmp_path / "wide.csv").read_text())
    assert len(names) == n and len(rows) == 11
    assert time.perf_counter() - t0 < 10  # ~0.5 s; the quadratic check needed minutes
    (tmp_path / "twice.csv").write_text(header + ",c7\n" + (row + ",1\n") * 11)
    with pytest.raises(ExperimentError, match=r"column 'c7' appears twice") as info:
        csv_file._read_table(tmp_path / "twice.csv", (tmp_path / "twice.csv").read_text())
    one_line(info.value)


@pytest.mark.parametrize(("values", "column"), [([1e308, -1e308], "big"), ([1e200, 1.0], "big"), ([0.0, 1e160], "big")])
def test_values_whose_standardisation_overflows_name_their_column(tmp_path, values, column):
    """A column near 1e308 loaded and then diverged at step 1 ('try a smaller learning rate'); now it is refused at
    load, naming the column."""
    COUNTS["hand-made"] += 1
    rows = "".join(f"{i},{values[i % len(values)]!r},{i % 2}\n" for i in range(40))
    (tmp_path / "big.csv").write_text("small,big,y\n" + rows)
    with pytest.raises(ExperimentError, match=rf"column '{column}': values as large as .* overflow") as info:
        load_dataset(DataSpec(name="csv", path=str(tmp_path / "big.csv")))
    one_line(info.value)
    # values within the bound load, and stay finite once standardised
    rows = "".join(f"{i},{1e150 * (i % 3)!r},{i % 2}\n" for i in range(40))
    (tmp_path / "ok.csv").write_text("small,big,y\n" + rows)
    ds = load_dataset(DataSpec(name="csv", path=str(tmp_path / "ok.csv")))
    assert np.all(np.isfinite(ds.X_train)) and np.allclose(ds.X_train.mean(axis=0), 0, atol=0.5)


def test_a_regression_target_too_large_for_the_loss(tmp_path):
    COUNTS["hand-made"] += 1
    rows = "".join(f"{i},{1e30 * (i + 0.5)!r}\n" for i in range(40))
    (tmp_path / "t.csv").write_text("x,y\n" + rows)
    with pytest.raises(ExperimentError, match=r"data.target: t.csv column 'y': target values as large as") as info:
        load_dataset(DataSpec(name="csv", path=str(tmp_path / "t.csv")))
    one_line(info.value)


def test_an_unbalanced_quote_names_the_line_and_column(tmp_path):
    COUNTS["hand-made"] += 2
    rows = ["a,b,y"] + [f"{i},{i * 2},{i % 2}" for i in range(20)]
    rows[3] = '3,"6,1'
    (tmp_path / "q.csv").write_text("\n".join(rows) + "\n")
    with pytest.raises(ExperimentError, match=r"q.csv line 4, column 2: a quoted cell runs on to line 21") as info:
        load_dataset(DataSpec(name="csv", path=str(tmp_path / "q.csv")))
    one_line(info.value)
    (tmp_path / "h.csv").write_text('a,"b\n' + "".join(f"{i},{i}\n" for i in range(20)))
    with pytest.raises(ExperimentError, match=r"h.csv line 1, column 2") as info:
        load_dataset(DataSpec(name="csv", path=str(tmp_path / "h.csv")))
    one_line(info.value)


def test_text_in_a_numeric_column_is_still_named(tmp_path):
    COUNTS["hand-made"] += 1
    rows = "".join(f"{i},{i % 2}\n" for i in range(20)).replace("7,1", "seven,1")
    (tmp_path / "t.csv").write_text("x,y\n" + rows)
    with pytest.raises(ExperimentError, match=r"t.csv line 9, column 'x': 'seven' is not a number") as info:
        load_dataset(DataSpec(name="csv", path=str(tmp_path / "t.csv")))
    one_line(info.value)


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files_are_refused_at_once(kind, tmp_path):
    COUNTS["hand-made"] += 1
    path = make_hostile(tmp_path, "data.csv", kind)
    t0 = time.monotonic()
    with pytest.raises(VisualizerError) as info:
        load_dataset(DataSpec(name="csv", path=str(path)))
    assert one_line(info.value).startswith("data.path: ")
    assert time.monotonic() - t0 < 10


def test_a_file_over_the_limit_is_refused_unread(tmp_path, monkeypatch):
    COUNTS["hand-made"] += 1
    monkeypatch.setattr(csv_file, "MAX_CSV_BYTES", 1000)
    (tmp_path / "big.csv").write_text("x,y\n" + "1,2\n" * 1000)
    with pytest.raises(ExperimentError, match="too large for a CSV file") as info:
        load_dataset(DataSpec(name="csv", path=str(tmp_path / "big.csv")))
    one_line(info.value)
    assert os.path.getsize(tmp_path / "big.csv") == 4004  # nothing already saved is changed
