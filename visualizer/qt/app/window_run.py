"""The window's run: Train/Pause, Step, Stop, Reset and the live learning rate, and what the run's events do to the
session model and the views (a mixin of MainWindow; the run itself trains in the training process, a child that the
job runner keeps warm: qt/training/bridge.py)."""

from __future__ import annotations

from collections import deque

from visualizer.core.session_model import FINISHED, IDLE, PAUSED, RUNNING

BOUNDARY_RESOLUTION = 80
#: snapshots (histograms, prediction, network weights) every 0.5 s on a slow run, and by progress on a fast one:
#: at least PROGRESS_SNAPSHOTS per run, so the landscape's path and the histograms over time are smooth at any speed
#: (the views draw the latest snapshot once per frame, whatever arrived)
SNAPSHOT_INTERVAL_S = 0.5
PROGRESS_SNAPSHOTS = 100
#: grid points a side of each neuron's picture in the network drawing (core.model.neurons)
NEURON_RESOLUTION = 40


def session_options() -> dict:
    """The TrainingSession options of a run in the window (its snapshots and pictures); `bench gui` times the
    headless session with the same ones."""
    return {"boundary_resolution": BOUNDARY_RESOLUTION, "snapshot_interval_s": SNAPSHOT_INTERVAL_S,
            "snapshot_progress": PROGRESS_SNAPSHOTS, "neuron_resolution": NEURON_RESOLUTION}


class RunControls:
    """Drives the current experiment's run from the toolbar; its state lives in ``self.session``."""

    _rates: deque

    def _on_learning_rate(self, lr: float) -> None:
        if self.run_state in (RUNNING, PAUSED) and self.bridge.control is not None:
            self.bridge.control.set_lr(lr)
            self.show_message(f"Learning rate {lr:g} from the next step.")

    def _set_run_state(self, state: str) -> None:
        self.session.set_run_state(state)

    def _on_run_state(self, state: str) -> None:
        """The session's run state changed: the toolbar follows, and the window's signal tells the tools."""
        running = state == RUNNING
        self.acts.train.setText("Pause" if running else ("Resume" if state == PAUSED else "Train"))
        self.acts.stop.setEnabled(state in (RUNNING, PAUSED))
        self.run_state_changed.emit(state)

    def _set_run_actions_enabled(self, on: bool) -> None:
        for action in (self.acts.train, self.acts.step, self.acts.reset, self.acts.new, self.acts.open,
                       self.acts.save, self.acts.save_as):
            action.setEnabled(on)
        self.acts.stop.setEnabled(on and self.run_state in (RUNNING, PAUSED))

    def _start_run(self, paused: bool) -> bool:
        from visualizer.core.errors import VisualizerError
        from visualizer.core.training.child import SessionRecipe

        if self.dataset is None:
            self.show_message("The data set is not loaded yet.", error=True)
            return False
        try:
            exp = self.session.resolved()
        except VisualizerError as exc:
            self.show_message(str(exc), error=True)
            return False
        self._reset_run()
        self.views.set_experiment(exp)  # the landscape rebuilds the network the session trains
        recipe = SessionRecipe(exp, self.base_dir, self.dataset, paused=paused,
                               options=session_options())
        self.session.begin_run()
        self._rates.clear()
        self.message_bar.hide()
        from visualizer.qt.app.settings import runs_dir

        # the run trains (and is recorded as a run file) in the training process: a crash there is a message here
        if not self.bridge.start_in_child(recipe, record_to=runs_dir()):
            self.show_message(f"Training cannot start yet: {self.bridge.refusal}.", error=True)
            return False
        self._set_run_state(PAUSED if paused else RUNNING)
        return True

    def _on_train(self) -> None:
        if self.run_state in (IDLE, FINISHED):
            self._start_run(paused=False)
        elif self.run_state == RUNNING:
            self.bridge.control.pause()
            self._set_run_state(PAUSED)
        else:
            self.bridge.control.resume()
            self._set_run_state(RUNNING)

    def _on_step(self) -> None:
        if self.run_state in (IDLE, FINISHED) and not self._start_run(paused=True):
            return
        self.bridge.control.step(1)
        self._set_run_state(PAUSED)

    def _on_stop(self) -> None:
        if self.run_state in (RUNNING, PAUSED):
            self.bridge.control.stop()

    def _on_reset(self) -> None:
        self.after_run = None  # a lesson's next step belongs to the run it started
        self._reset_run()
        self.show_message("Reset: the next Train starts from new initial weights.")

    def _weighted_layers(self) -> int:
        """The weighted layers of the experiment's network (0 before an experiment is open)."""
        from visualizer.core.model.nets import spec_weighted_layers  # (torch: not before the window's first paint)

        return spec_weighted_layers(self.experiment.model) if self.experiment is not None else 0

    def _reset_run(self) -> None:
        self.bridge.shutdown()
        self.session.reset_run()
        self.views.show_data(self.dataset, self._weighted_layers())
        for key in self.status_labels:
            self.status_labels[key].setText(f"{key}: –")

    def _on_run_started(self, started) -> None:
        self.session.run_started(started)
        self.views.begin(started)
        self._clear_weight_edits()
        self.acts.device.setText(f" Device: {started.device} ")
        self.status_labels["device"].setText(f"device: {started.device}")
        if started.threads:
            self.status_labels["threads"].setText(f"threads: {started.threads}")
            self.status_labels["threads"].setToolTip(f"torch threads of this run: {started.threads_note}")
        self.show_message(f"{started.device_message} {started.n_params:,} parameters, "
                          f"{started.total_steps:,} steps.")

    def _on_frame(self, frame) -> None:
        self.session.add_steps(frame.steps)
        # in parts, a turn of the event loop each; the pictures spaced out as the frames are
        self.views.show_frame(self.history, frame, spread=True, frame_ms=self.bridge.frame_ms)
        if frame.edits:
            self._on_weight_edits(frame.edits)
        if frame.steps:
            last = frame.steps[-1]
            self._rates.append((last.wall_s, last.step))
            wall0, step0 = self._rates[0]
            rate = (last.step - step0) / (last.wall_s - wall0) if last.wall_s > wall0 else 0.0
            self.status_labels["step"].setText(f"step: {last.step:,}")
            self.status_labels["epoch"].setText(f"epoch: {last.epoch}")
            self.status_labels["speed"].setText(f"steps/s: {rate:,.0f}")

    def _draw_network_weights(self, snap) -> None:
        from visualizer.core.data.images import dataset_image_shape
        from visualizer.core.model.columns import column_weights

        m, ds = self.experiment.model, self.dataset
        self.network_view.set_weights(column_weights(snap.params, m, ds.n_features, self.session.output_size(),
                                                     dataset_image_shape(ds)))
        pictured = self.views.pictured  # the latest snapshot with pictures (those by progress carry weights only)
        shown = getattr(self, "_neurons_shown", None)
        if pictured is not None and pictured.neurons is not None and pictured is not shown:
            self._neurons_shown = pictured  # computed on the worker, one forward pass per snapshot (2-D sets only)
            self.network_view.set_pictures(pictured.neurons, ds.task)

    def _on_run_ended(self, ended) -> None:
        self.views.flush()
        self.session.run_ended(ended, self.bridge.run_file)  # the worker has ended: its run file is written
        if ended.reason == "diverged":
            self.show_message(f"Training diverged. {ended.message}", error=True)
        elif ended.reason == "failed":
            self.show_message(f"Training failed: {ended.message}", error=True)
        else:
            self.show_message(ended.message + (f" Recorded in {self.recorded}." if self.recorded else ""))
        if self.bridge.record_error:
            self.show_message(f"The run was not recorded: {self.bridge.record_error}", error=True)
        self._run_after_hook()
