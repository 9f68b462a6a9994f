"""The window on bad files: `gui FILE` with a hostile or damaged experiment still builds its panels (on the example)
and says why in one line; the run library opens beside damaged run files and lists them; opening a damaged run or
a damaged lesson is a message, and the window keeps working."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402

from tests.fuzz.conftest import COUNTS, one_line  # noqa: E402
from tests.fuzz.runs_base import open_for_damage, record_run  # noqa: E402
from visualizer.qt.app import settings as settings_module  # noqa: E402

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def config(tmp_path, monkeypatch):
    monkeypatch.setenv("VISUALIZER_CONFIG_DIR", str(tmp_path / "config"))
    monkeypatch.setattr(settings_module, "_fallback", None)
    return tmp_path / "config"


def bad_experiments(folder):
    deep = folder / "deep.toml"
    deep.write_text("title = " + "[" * 100_000 + "]" * 100_000 + "\n")
    big = folder / "big.json"
    big.write_text('{"data": {"samples": ' + "9" * 5000 + "}}")
    fifo = folder / "fifo.toml"
    os.mkfifo(fifo)
    zero = folder / "zero.toml"
    os.symlink("/dev/zero", zero)
    return [deep, big, fifo, zero]


@pytest.mark.parametrize("which", range(4))
def test_gui_file_with_a_bad_experiment_builds_the_panels(which, qtbot, tmp_path, config):
    from visualizer.qt.app.main_window import MainWindow

    COUNTS["hand-made"] += 1
    path = bad_experiments(tmp_path)[which]
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    try:
        w.finish_setup(path)
        qtbot.waitUntil(lambda: w.dataset is not None, timeout=15000)
        assert w.data_panel is not None and w.train_panel is not None
        assert w.experiment.data.name == "moons"  # the example, ready to train
        message = w.message_bar.text()
        one_line(message)
        assert str(path) in message
    finally:
        w.close()


def test_damaged_runs_and_lessons_are_messages(qtbot, tmp_path, config):
    from visualizer.qt.app.lessons import Lesson, start_lesson
    from visualizer.qt.app.main_window import MainWindow
    from visualizer.qt.runs.library import RunLibraryDialog, row_texts

    COUNTS["hand-made"] += 4
    runs = settings_module.runs_dir()
    runs.mkdir(parents=True)
    good = record_run(runs / "good.sqlite", "moons")
    bad = runs / "bad.sqlite"
    bad.write_bytes(good.read_bytes())
    db = open_for_damage(bad)
    db.execute("UPDATE meta SET value = json_set(value, '$.n_params', 'x') WHERE key = 'started'")
    db.close()
    newer = runs / "newer.sqlite"
    newer.write_bytes(good.read_bytes())
    db = open_for_damage(newer)
    db.execute("UPDATE meta SET value = json_set(value, '$.added_later', 1) WHERE key = 'started'")
    db.close()
    w = MainWindow()
    qtbot.addWidget(w)
    w.show()
    try:
        w.finish_setup()
        qtbot.waitUntil(lambda: w.dataset is not None, timeout=15000)
        dialog = w.open_run_library()
        assert isinstance(dialog, RunLibraryDialog)
        rows = {item.path.name: row_texts(item) for item in dialog.listings}
        assert rows["bad.sqlite"][-1] == "damaged" and "n_params" in rows["bad.sqlite"][1]
        assert rows["good.sqlite"][-1] != "damaged" and rows["newer.sqlite"][-1] != "damaged"
        dialog.close()
        assert w.open_replay(bad) is None
        assert "could not be opened" in w.message_bar.text() and "n_params" in w.message_bar.text()
        broken = tmp_path / "lesson.toml"
        broken.write_text("function = 'rosenbrock'\nstart = [1, 2]\n[[racers]]\noptimizer = ['sgd']\n")
        start_lesson(w, Lesson("broken", "A broken lesson", "", "playground", str(broken)))
        assert "A broken lesson" in w.message_bar.text() and "racers[0].optimizer" in w.message_bar.text()
        one_line(w.message_bar.text())
        start_lesson(w, Lesson("missing", "A missing lesson", "", "train", str(tmp_path / "missing.toml")))
        assert "no such experiment file" in w.message_bar.text()
        assert w.experiment.data.name == "moons" and not w.lesson_bar.isVisible()
    finally:
        w.close()


def test_a_row_of_the_library_for_any_date_and_error(tmp_path):
    from visualizer.core.runs.library import RunListing
    from visualizer.qt.runs.library import row_texts

    COUNTS["hand-made"] += 1
    path = tmp_path / "x.sqlite"
    summary = {"title": "t", "data": "moons", "optimizer": "sgd", "status": "completed", "steps": 3,
               "total_steps": 3, "metric": "accuracy", "final": {"train_loss": None, "val_loss": None,
                                                                "train_metric": None, "val_metric": None}}
    for created, modified in (("9999-12-31T23:59:59-14:00", 0.0), ("garbage", 1e300), ("", float("nan"))):
        row = row_texts(RunListing(path, modified, {**summary, "created": created}))
        assert row[0] == "x" and row[-1] == "completed"
    damaged = row_texts(RunListing(path, 0.0, None, f"{path} is a damaged run file: its steps are text"))
    assert damaged[1] == "is a damaged run file: its steps are text" and damaged[-1] == "damaged"
