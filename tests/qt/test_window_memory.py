"""Tool windows keep their place and choices between openings (and sessions), as the main window does."""

from __future__ import annotations


def test_a_tool_window_reopens_with_its_choices(main_window, qtbot):
    window = main_window.open_evaluation()
    v = window.v
    v.method_combo.setCurrentIndex(v.method_combo.findData("stratified"))
    v.k_spin.setValue(7)
    screen = window.screen().availableGeometry()  # a restored window is kept on the screen
    window.resize(min(window.width(), screen.width()) - 37, min(window.height(), screen.height()) - 23)
    size = window.size()
    window.close()
    again = main_window.open_evaluation()
    assert again.v.method_combo.currentData() == "stratified" and again.v.k_spin.value() == 7
    # restored (the offscreen platform may move the frame by a few pixels)
    assert abs(again.width() - size.width()) <= 8 and abs(again.height() - size.height()) <= 8
    again.close()
    assert main_window.settings.value("tools/evaluation/evalKSpin") in (7, "7")


def test_a_stale_or_damaged_choice_is_ignored(main_window):
    s = main_window.settings
    s.setValue("tools/evaluation/evalKSpin", "many")
    s.setValue("tools/evaluation/evalMethodCombo", "a method that went away")
    s.setValue("tools/evaluation/geometry", 12)
    window = main_window.open_evaluation()
    # the window's own defaults: 5 folds, stratified for a classification set
    assert window.v.k_spin.value() == 5 and window.v.method_combo.currentData() == "stratified"
    window.close()


def test_explicit_choices_win_over_remembered_ones(main_window):
    main_window.settings.setValue("tools/evaluation/evalKSpin", 9)
    window = main_window.open_evaluation(method="kfold", k=3)
    assert window.v.k_spin.value() == 3
    window.close()


def test_the_replay_speed_is_remembered(main_window, qtbot, tmp_path):
    from visualizer.core import experiment
    from visualizer.core.runs.writer import record
    from visualizer.core.training.session import TrainingSession

    exp = experiment.from_dict({"data": {"name": "moons", "samples": 100}, "train": {"epochs": 2, "lr": 0.01}})
    record(TrainingSession(exp, snapshot_every_steps=2, snapshot_interval_s=0.0), tmp_path / "r.sqlite").close()
    replay = main_window.open_replay(tmp_path / "r.sqlite")
    replay.timeline.speed_combo.setCurrentText("4x")
    replay.close()
    replay = main_window.open_replay(tmp_path / "r.sqlite")
    assert replay.timeline.speed_combo.currentText() == "4x"
    replay.close()
