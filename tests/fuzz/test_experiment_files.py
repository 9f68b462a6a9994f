"""Experiment files (TOML and JSON): ``load``, ``loads`` and ``from_dict`` either give a valid Experiment (one that
saves and reads back equal) or raise a one-line VisualizerError; hostile files are refused at once."""

from __future__ import annotations

import json
import os
import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import COUNTS, FUZZ, HOSTILE, counted, make_hostile, one_line
from tests.fuzz.strategies import damaged_text, nested, values
from visualizer.cli.parser import main as cli_main
from visualizer.core import experiment
from visualizer.core.data.sets import validate_data_spec
from visualizer.core.errors import VisualizerError
from visualizer.core.resources import resources_dir

pytestmark = pytest.mark.timeout(120)

PRESETS = sorted((resources_dir() / "experiments").glob("*.toml")) + [resources_dir() / "lessons" / "diverging_lr.toml"]
PRESET_TEXTS = [p.read_text(encoding="utf-8") for p in PRESETS]
#: the paths a data.path may name that must never be read as data: devices, folders, the process's own memory
HOSTILE_PATHS = ("/dev/zero", "/dev/null", "/dev/stdin", ".", "/", "/proc/self/mem", "~", "x" * 300, "a/" * 2000)


def check(make):
    """``make()`` gives a valid Experiment or raises a one-line VisualizerError; returns the Experiment or None."""
    try:
        exp = make()
    except VisualizerError as exc:
        one_line(exc)
        return None
    assert isinstance(exp, experiment.Experiment)
    for fmt in ("toml", "json"):  # a valid experiment saves and reads back equal
        assert experiment.loads(experiment.dumps(exp, fmt), fmt) == exp
    return exp


def check_data(exp) -> None:
    """What `validate` does next: the data spec is checked (a CSV file read) with a one-line message at worst."""
    if exp is None:
        return
    try:
        validate_data_spec(exp.data)
    except VisualizerError as exc:
        one_line(exc)


@st.composite
def edited_dicts(draw):
    """A preset's mapping with a few keys set to values of any type, removed, or added."""
    raw = experiment.to_dict(experiment.load(draw(st.sampled_from(PRESETS))))
    for _ in range(draw(st.integers(1, 4))):
        section = draw(st.sampled_from(["", "data", "model", "train"]))
        table = raw if not section else raw.setdefault(section, {})
        if not isinstance(table, dict):
            continue
        key = draw(st.one_of(st.sampled_from(sorted(table) or ["x"]), st.text(max_size=10)))
        action = draw(st.sampled_from(["set", "set", "path", "drop"]))
        if action == "drop":
            table.pop(key, None)
        elif action == "path" and isinstance(raw.get("data"), dict):
            raw["data"].update(name="csv", path=draw(st.sampled_from(HOSTILE_PATHS)))
        else:
            table[key] = draw(values)
    if draw(st.integers(0, 9)) == 0:
        raw = draw(values)
    return raw


@FUZZ
@given(raw=edited_dicts())
@counted("experiment: from_dict")
def test_from_dict_of_any_mapping(raw):
    check_data(check(lambda: experiment.from_dict(raw)))


@FUZZ
@given(data=st.data())
@counted("experiment: TOML text")
def test_damaged_toml_text(data):
    text = data.draw(damaged_text(data.draw(st.sampled_from(PRESET_TEXTS))))
    check_data(check(lambda: experiment.loads(text, "toml", "fuzz.toml")))


@FUZZ
@given(data=st.data())
@counted("experiment: JSON text")
def test_damaged_json_text(data):
    source = experiment.to_dict(experiment.load(data.draw(st.sampled_from(PRESETS))))
    text = data.draw(damaged_text(json.dumps(source, indent=1)))
    check(lambda: experiment.loads(text, "json", "fuzz.json"))


@FUZZ
@given(data=st.data())
@counted("experiment: file bytes")
def test_damaged_file_bytes(data, tmp_path_factory):
    from tests.fuzz.strategies import damaged_bytes

    folder = tmp_path_factory.mktemp("exp", numbered=True)
    suffix = data.draw(st.sampled_from([".toml", ".json"]))
    source = data.draw(st.sampled_from(PRESETS)).read_bytes()
    if suffix == ".json":
        source = experiment.dumps(experiment.load(PRESETS[0]), "json").encode()
    path = folder / f"e{suffix}"
    path.write_bytes(data.draw(damaged_bytes(source)))
    check(lambda: experiment.load(path))


#: the issue's cases, each a file `validate` refused with a traceback, a MemoryError or a hang
KNOWN = {
    "5000-digit integer": "[data]\nsamples = " + "9" * 5000 + "\n",
    "400-digit integer": "[train]\nlr = 1" + "0" * 400 + "\n",
    "100,000-deep nesting (TOML)": "title = " + "[" * 100_000 + "]" * 100_000 + "\n",
    "deep nesting in a value": "title = " + "[" * 50 + "]" * 50 + "\n",
    "10,000-character data.path": "[data]\nname = 'csv'\npath = '" + "a" * 10_000 + "'\n",
    "300-character file name": "[data]\nname = 'csv'\npath = '" + "a" * 300 + ".csv'\n",
    "unbalanced quote": "[data]\nname = \"moons\n[model]\nhidden = [4]\n",
    "key with a line break": "\"da\\nta\" = 1\n",
}


@pytest.mark.parametrize("case", sorted(KNOWN))
def test_known_bad_files_are_one_line_and_exit_2(case, tmp_path, capsys):
    COUNTS["hand-made"] += 1
    path = tmp_path / "bad.toml"
    path.write_text(KNOWN[case], encoding="utf-8")
    with pytest.raises(VisualizerError) as info:
        exp = experiment.load(path)
        validate_data_spec(exp.data, path.parent)
    one_line(info.value)
    assert cli_main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")


def test_deep_json_and_a_byte_order_mark(tmp_path):
    COUNTS["hand-made"] += 2
    deep = tmp_path / "deep.json"
    deep.write_text('{"title": ' + "[" * 100_000 + "]" * 100_000 + "}")
    with pytest.raises(VisualizerError, match="nested too deeply") as info:
        experiment.load(deep)
    one_line(info.value)
    bom = tmp_path / "bom.toml"
    bom.write_bytes("\ufeff[data]\nname = 'iris'\n".encode())
    assert experiment.load(bom).data.name == "iris"
    assert experiment.loads("\ufefftitle = 'x'\n").title == "x"


@pytest.mark.parametrize(("text", "where"), [
    ("[data]\nname = \"moons\n[model]\n" + "hidden = [4]\n" * 20, "line 2, column 14"),
    ("# it's a comment\n[data]\nname = 'moons\n[model]\n" + "hidden = [4]\n" * 20, "quote at line 3, column 8"),
    ("title = 'a'\ndescription = \"\"\"text\n" + "x = 1\n" * 20, "quote at line 2, column 15"),
    ('title = "a \\" b"\nname = "x', "quote at line 2, column 8"),
])
def test_an_unbalanced_quote_names_its_line_and_column(tmp_path, text, where):
    COUNTS["hand-made"] += 1
    path = tmp_path / "quote.toml"
    path.write_text(text)
    with pytest.raises(VisualizerError, match=where) as info:
        experiment.load(path)
    one_line(info.value)


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_files_are_refused_at_once(kind, tmp_path, capsys):
    COUNTS["hand-made"] += 1
    path = make_hostile(tmp_path, "e.toml", kind)
    t0 = time.monotonic()
    if kind == "empty":  # every key has a default: an empty file is the default experiment
        assert experiment.load(path) == experiment.Experiment()
        return
    with pytest.raises(VisualizerError) as info:
        experiment.load(path)
    one_line(info.value)
    assert cli_main(["validate", str(path)]) == 2
    assert capsys.readouterr().err.count("\n") == 1
    assert time.monotonic() - t0 < 10


@pytest.mark.parametrize("target", ["/dev/zero", "fifo", "folder", "long"])
def test_hostile_data_paths_are_refused_at_once(target, tmp_path, capsys):
    COUNTS["hand-made"] += 1
    if target == "fifo":
        os.mkfifo(tmp_path / "data.csv")
        target = str(tmp_path / "data.csv")
    elif target == "folder":
        target = str(tmp_path)
    elif target == "long":
        target = "d" * 300 + ".csv"
    path = tmp_path / "e.toml"
    path.write_text(f"[data]\nname = 'csv'\npath = '{target}'\n")
    assert cli_main(["validate", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "data.path" in err


def test_nesting_built_without_recursion():
    assert nested(3) == [[[0]]]
