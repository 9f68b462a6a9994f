"""Lessons in the Presets menu: each sets up its demonstration (window, file, run) and explains it."""

from __future__ import annotations

import pytest

from visualizer.core.session_model import FINISHED
from visualizer.qt.app.lessons import LESSONS


@pytest.fixture
def window(main_window):
    return main_window


def lesson_action(window, key):
    found = [a for a in window.acts.presets_menu.actions() if a.objectName() == f"lesson_{key}"]
    assert len(found) == 1, key
    return found[0]


def test_the_presets_menu_lists_the_lessons_then_the_playground_then_the_experiments(window):
    texts = [a.text() for a in window.acts.presets_menu.actions()]
    assert texts[0] == "Lessons"
    assert texts[1:1 + len(LESSONS)] == [lesson.title for lesson in LESSONS]
    assert all(lesson.path.is_file() for lesson in LESSONS)
    playground = window.acts.presets_menu.actions()[1 + len(LESSONS)].menu()
    assert playground is not None and len(playground.actions()) >= 2
    assert "Experiments" in texts and "Two moons" in texts
    assert all(a.toolTip() for a in window.acts.presets_menu.actions() if a.objectName().startswith("lesson_"))


def test_momentum_lesson_opens_the_playground_on_rosenbrock(window):
    lesson_action(window, "momentum_rosenbrock").trigger()
    playground = window.playground
    assert playground is not None and playground.isVisible()
    assert playground.race.fn.key == "rosenbrock"
    optimizers = {lane.racer.optimizer for lane in playground.race.lanes}
    assert {"sgd", "momentum"} <= optimizers
    assert window.lesson_bar.isVisible() and "Rosenbrock" in window.lesson_bar.text()


def test_kfold_lesson_runs_stratified_five_fold_on_iris(window, qtbot):
    lesson_action(window, "kfold_iris").trigger()
    evaluation = window.evaluation
    assert evaluation is not None and window.experiment.data.name == "iris"
    assert evaluation.v.method_combo.currentData() == "stratified" and evaluation.v.k_spin.value() == 5
    qtbot.waitUntil(lambda: not evaluation.running and len(evaluation.results) == 5, timeout=120000)


def test_diverging_lesson_trains_until_the_loss_is_infinite(window, qtbot):
    lesson_action(window, "diverging_lr").trigger()
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=60000)
    assert window.session.ended.reason == "diverged"
    assert "diverged" in window.message_bar.text().lower()
    assert "learning rate" in window.lesson_bar.text() and window.lesson_bar.isVisible()
    window.open_experiment(window.example_path())  # another experiment: the lesson's explanation goes
    assert not window.lesson_bar.isVisible()


def test_a_reset_drops_the_lessons_next_step(window, qtbot):
    lesson_action(window, "prune_digits").trigger()
    assert window.after_run is not None
    window.acts.reset.trigger()
    assert window.after_run is None
    window.acts.train.trigger()
    window.acts.stop.trigger()
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=60000)
    assert window.compression is None  # the compression window belonged to the lesson's run


def test_pruning_lesson_trains_digits_then_prunes_ninety_percent(window, qtbot):
    lesson_action(window, "prune_digits").trigger()
    assert window.experiment.data.name == "digits"
    qtbot.waitUntil(lambda: window.compression is not None, timeout=120000)
    tab = window.compression.prune_tab
    # the window previews its default amount first; the lesson's 90 % follows
    qtbot.waitUntil(lambda: tab.outcome is not None and tab.outcome.report.amount == pytest.approx(0.9),
                    timeout=60000)
    assert tab.outcome.report.sparsity == pytest.approx(0.9, abs=0.01)
    assert tab.amount_spin.value() == 90


def test_the_diverging_lesson_shows_the_growth_on_a_log_axis_over_the_steps_that_ran(window, qtbot):
    lesson_action(window, "diverging_lr").trigger()
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=60000)
    ended, loss = window.session.ended, window.views.loss
    assert ended.reason == "diverged" and ended.step < window.session.started.total_steps // 4
    assert window.views.log_check.isChecked() and window.acts.log_scale.isChecked()
    x0, x1 = loss.loss_plot.viewRange()[0]
    assert x0 < 1 and ended.step <= x1 <= 1.05 * ended.step + 1  # the axis ends where the run did
