"""A sweep's folder as someone else left it: damaged or hostile sweep.json and sweep.csv are one message, never a
traceback."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from visualizer.core.errors import VisualizerError
from visualizer.core.sweeps.runner import plan_of_spec
from visualizer.core.sweeps.table import read_spec, read_table

JSON = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
                    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                    max_leaves=20)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(spec=st.dictionaries(st.sampled_from(["params", "experiment", "seeds", "version", "x"]), JSON, max_size=5))
def test_any_sweep_json_is_a_plan_or_a_message(spec, tmp_path):
    (tmp_path / "sweep.json").write_text(json.dumps(spec))
    try:
        loaded = read_spec(tmp_path)
        if loaded is not None:
            plan_of_spec(loaded)
    except VisualizerError as exc:
        assert "\n" not in str(exc)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=200))
def test_any_sweep_csv_is_rows_or_a_message(text, tmp_path):
    (tmp_path / "sweep.csv").write_text(text)
    try:
        header, rows = read_table(tmp_path)
    except VisualizerError:
        return
    assert all(set(r) <= set(header) for r in rows)


@pytest.mark.parametrize("text", ["{", "[]", '{"params": 3}', "\u0000"])
def test_a_damaged_sweep_json_names_the_file(tmp_path, text):
    (tmp_path / "sweep.json").write_text(text)
    with pytest.raises(VisualizerError, match="sweep.json"):
        plan_of_spec(read_spec(tmp_path))
