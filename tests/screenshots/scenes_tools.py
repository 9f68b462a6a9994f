"""The tool windows' scenes of the screenshot suite, each opened from the main window as its menu opens it:
cross-validation, compression, the optimizer playground, the race on the network, and the run library with replay
and the export dialog."""

from __future__ import annotations

from dataclasses import replace

from tests.screenshots.stage import ROOT

PLAYGROUND_PRESET = ROOT / "resources" / "playground" / "momentum_vs_sgd_rosenbrock.toml"


def evaluation_scene(stage) -> None:
    """Cross-validation (Ctrl+K): 5-fold on moons, replayed mid-way through fold 3, then all folds overlaid."""
    from visualizer.qt.evaluation.replay import OVERLAY

    w = stage.main_window("moons", epochs=15)
    window = w.open_evaluation(method="kfold", k=5, start=True)
    stage.place(window)
    stage.wait_until(lambda: not window.running and len(window.results) == 5, "five folds")
    replay = window.v.replay
    replay.set_position(2, 0)
    replay.set_position(2, replay.step_slider.maximum() // 2)
    replay.play()
    stage.settle(600)
    stage.shot("replay", "cross-validation, 5-fold, mid-replay of fold 3", window)
    replay.pause()
    replay.mode_combo.setCurrentText(OVERLAY)
    replay.set_position(0, replay.step_slider.maximum() * 2 // 3)
    stage.shot("overlay", "cross-validation, all folds overlaid, two thirds through", window)


def compression_scene(stage) -> None:
    """Compression (Ctrl+M) of a finished moons run: prune 80 % and fine-tune, the sensitivity sweep, 4-bit
    quantization with its sweep, distillation into 8 hidden units, and structured pruning shrunk."""
    w = stage.main_window("moons", epochs=30)
    stage.run_to_end(w)
    window = w.open_compression(prune=("l1", 0.8))
    stage.place(window)
    prune = window.prune_tab

    def idle() -> bool:
        return window.run is not None and not window.busy

    stage.wait_until(lambda: idle() and prune.outcome is not None, "the pruning preview")
    prune.epochs_spin.setValue(5)
    prune.fine_tune()
    stage.wait_until(idle, "fine-tuning")
    stage.shot("prune", "compression: magnitude pruning at 80 %, fine-tuned 5 epochs", window)

    window.tabs.setCurrentWidget(window.sensitivity_tab)
    window.sensitivity_tab.run_sweep()
    stage.wait_until(idle, "the sensitivity sweep")
    stage.shot("sensitivity", "compression: sensitivity to pruning, each layer and global", window)

    quantize = window.quantize_tab
    window.tabs.setCurrentWidget(quantize)
    quantize.request("bits", 4)
    stage.wait_until(idle, "4-bit quantization")
    quantize.run_sweep()
    stage.wait_until(idle, "the quantization sweep")
    stage.shot("quantize", "compression: symmetric 4-bit quantization, with the bit-width sweep", window)

    window.tabs.setCurrentWidget(window.distill_tab)
    window.distill_tab.request("8", 4.0, 0.5, 10)
    stage.wait_until(idle, "distillation")
    stage.shot("distill", "compression: distillation into an 8-unit student against one trained alone", window)

    window.tabs.setCurrentWidget(prune)
    prune.method_combo.setCurrentIndex(prune.method_combo.findData("structured"))
    prune.request("structured", 0.5)
    stage.wait_until(lambda: idle() and prune.outcome is not None and prune.outcome.report.method == "structured",
                     "the structured pruning preview")
    prune.measure(True)
    stage.wait_until(idle, "shrinking")
    stage.shot("shrink", "compression: half the neurons removed (structured), shrunk and timed", window)


def playground_scene(stage) -> None:
    """The optimizer playground (Ctrl+G): momentum, SGD and the article's momentum racing on Rosenbrock."""
    w = stage.main_window("moons")
    window = w.open_playground(PLAYGROUND_PRESET)
    stage.place(window)
    window.play()
    stage.settle(2500)
    stage.shot("racing", "optimizer playground: Rosenbrock, racing", window)
    window.pause()


def race_scene(stage) -> None:
    """The optimizer race on the network (Ctrl+Shift+R) on moons: running, then finished."""
    w = stage.main_window("moons")
    window = w.open_race()
    stage.place(window)
    window.epochs_spin.setValue(20)
    window.run()
    stage.wait_until(lambda: window.progress.value() >= 400 or not window.running, "the race to get going")
    stage.settle(200)
    stage.shot("running", "optimizer race on the network (moons), running", window)
    stage.wait_until(lambda: not window.running, "the race to finish")
    stage.settle(800)
    stage.shot("finished", "optimizer race on the network (moons), finished", window)


def runs_scene(stage) -> None:
    """The run library (Ctrl+L) with two recorded runs, a replay mid-way, the replay compared with the other run,
    and the export dialog (Ctrl+Shift+X)."""
    w = stage.main_window("moons", epochs=20)
    stage.run_to_end(w)
    adam = w.recorded
    w.experiment = replace(w.experiment, title="Two moons, SGD",
                           train=replace(w.experiment.train, optimizer="sgd", lr=0.1))
    stage.run_to_end(w)
    sgd = w.recorded
    library = stage.place(w.open_run_library())
    library.refresh()
    library.select(adam)
    stage.shot("library", "run library with two recorded runs", library)
    library.close()

    replay = stage.place(w.open_replay(adam))
    replay.go_to(replay.last // 2)
    stage.settle(800)
    stage.shot("replay", "replay of the Adam run, half-way", replay)
    replay.compare_with(sgd)
    stage.settle(800)
    stage.shot("replay-compare", "replay compared with the SGD run (dashed)", replay)
    replay.close()

    dialog = stage.place(w.open_export_dialog())
    stage.shot("export-dialog", "export dialog (File > Export…)", dialog)


def sweep_scene(stage) -> None:
    """The sweep window (Ctrl+Shift+W) on moons: learning rate x batch size, the map filling in, then finished and
    in the dark theme."""
    w = stage.main_window("moons", epochs=20)
    window = w.open_sweep()
    stage.place(window)
    window.field_combos[1].setCurrentText("train.batch_size")
    window.value_edits[1].setText("16,32,64,128")
    window.start(stage.work_dir / "sweep")
    stage.wait_until(lambda: 3 <= len(window._rows) or not window.runner.running, "the first cells")
    stage.shot("running", "sweep: learning rate x batch size on moons, the map filling in", window)
    stage.wait_until(lambda: not window.runner.running, "the sweep to finish")
    stage.shot("finished", "sweep: finished, the best cell outlined", window)
    w.set_theme("dark")
    stage.shot("dark", "sweep: finished, dark theme", window)


TOOL_SCENES = {
    "evaluation": evaluation_scene,
    "sweep": sweep_scene,
    "compression": compression_scene,
    "playground": playground_scene,
    "race": race_scene,
    "runs": runs_scene,
}
