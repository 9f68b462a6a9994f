"""Playground presets and lessons: a damaged or hostile preset or lesson file gives a valid Preset (whose race runs)
or Experiment, or one line naming the key or the file; the readers a lesson starts with are the ones fuzzed here."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzz.conftest import COUNTS, FUZZ, HOSTILE, counted, make_hostile, one_line
from tests.fuzz.strategies import damaged_bytes, damaged_text, values
from visualizer.core import experiment
from visualizer.core.errors import VisualizerError
from visualizer.core.playground.functions import PRESETS_DIR, Preset, load_preset, parse_preset

pytestmark = pytest.mark.timeout(120)

PRESETS = sorted(PRESETS_DIR.glob("*.toml"))
PRESET_TEXTS = [p.read_text(encoding="utf-8") for p in PRESETS]


def lessons():
    """The lessons' files and the reader each starts with (see qt.app.lessons.start_lesson)."""
    from visualizer.qt.app.lessons import LESSONS

    return [(lesson.path, load_preset if lesson.kind == "playground" else experiment.load) for lesson in LESSONS]


def check_preset(make) -> None:
    try:
        preset = make()
    except VisualizerError as exc:
        one_line(exc)
        return
    assert isinstance(preset, Preset)
    race = preset.race()
    race.step(3)  # a valid preset races
    assert all(len(path) >= 1 for path in race.paths)


@FUZZ
@given(data=st.data())
@counted("preset: TOML text")
def test_damaged_preset_text(data, tmp_path_factory):
    path = tmp_path_factory.mktemp("preset") / "p.toml"
    path.write_text(data.draw(damaged_text(data.draw(st.sampled_from(PRESET_TEXTS)))), encoding="utf-8")
    check_preset(lambda: load_preset(path))


@st.composite
def edited_presets(draw):
    import tomllib

    raw = tomllib.loads(draw(st.sampled_from(PRESET_TEXTS)))
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from(["top", "racer"]))
        table = raw if where == "top" or not isinstance(raw.get("racers"), list) or not raw["racers"] else \
            draw(st.sampled_from(raw["racers"]))
        if not isinstance(table, dict):
            continue
        key = draw(st.one_of(st.sampled_from(sorted(table) + ["lr", "optimizer", "momentum"]), st.text(max_size=6)))
        if draw(st.integers(0, 3)) == 0:
            table.pop(key, None)
        else:
            table[key] = draw(values)
    return raw


@FUZZ
@given(raw=edited_presets())
@counted("preset: tables")
def test_preset_tables_of_any_values(raw):
    check_preset(lambda: parse_preset(raw))


@FUZZ
@given(data=st.data())
@counted("lesson: files")
def test_damaged_lesson_files(data, tmp_path_factory):
    source, read = data.draw(st.sampled_from(lessons()))
    path = tmp_path_factory.mktemp("lesson") / source.name
    path.write_bytes(data.draw(damaged_bytes(source.read_bytes())))
    try:
        result = read(path)
    except VisualizerError as exc:
        one_line(exc)
        return
    assert isinstance(result, (Preset, experiment.Experiment))


def test_every_shipped_preset_and_lesson_reads():
    for path, read in lessons():
        read(path)
    for path in PRESETS:
        load_preset(path).race().step(2)


@pytest.mark.parametrize("kind", HOSTILE)
def test_hostile_preset_files_are_refused_at_once(kind, tmp_path):
    COUNTS["hand-made"] += 1
    path = make_hostile(tmp_path, "p.toml", kind)
    t0 = time.monotonic()
    with pytest.raises(VisualizerError) as info:
        load_preset(path)
    one_line(info.value)
    assert time.monotonic() - t0 < 10


@pytest.mark.parametrize("text", ["function = 'rosenbrock'\nstart = [1, 1]\n[[racers]]\noptimizer = ['sgd']\n",
                                  "function = 'rosenbrock'\nstart = [1" + "0" * 400 + ", 1]\n[[racers]]\n"
                                  "optimizer = 'sgd'\n",
                                  "function = \"rosen\\nbrock\"\nstart = [1, 1]\n[[racers]]\noptimizer = 'sgd'\n",
                                  "function = 'rosenbrock'\nstart = [1, 1]\n[[racers]]\noptimizer = 'sgd'\n"
                                  "lr = 1" + "0" * 400 + "\n",
                                  "title = " + "[" * 100_000 + "]" * 100_000 + "\n"])
def test_known_bad_presets(text, tmp_path):
    COUNTS["hand-made"] += 1
    path = tmp_path / "p.toml"
    path.write_text(text)
    with pytest.raises(VisualizerError) as info:
        load_preset(path)
    one_line(info.value)
