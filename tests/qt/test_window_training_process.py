"""The window trains in its training process: warmed after the first paint, a process that dies (SIGKILL mid-run)
leaves the window alive with a message, its views and a readable run file, and Train starts a fresh process;
closing the window mid-run leaves no process and no thread."""

from __future__ import annotations

import os
import signal
import threading
from dataclasses import replace

import pytest

from tests.qt.test_training_process import WAIT_MS, alive
from visualizer.core.runs.reader import RunReader
from visualizer.core.session_model import FINISHED, RUNNING
from visualizer.qt.app.main_window import MainWindow


def long_run(window: MainWindow) -> None:
    """The example, long enough that it is still training when the test acts."""
    window.experiment = replace(window.experiment, train=replace(window.experiment.train, epochs=100000))


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="SIGKILL is POSIX")
def test_a_killed_training_process_leaves_the_window_its_views_a_message_and_a_working_train(main_window, qtbot):
    window = main_window
    qtbot.waitUntil(lambda: window.bridge.child_pid is not None, timeout=WAIT_MS)  # warmed after the first paint
    pid = window.bridge.child_pid
    long_run(window)
    window.acts.train.trigger()
    qtbot.waitUntil(lambda: len(window.history) > 30 and window.bridge.run_file is not None, timeout=WAIT_MS)
    assert window.bridge.child_pid == pid and window.run_state == RUNNING  # the warm process trains
    os.kill(pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=WAIT_MS)
    last = int(window.history.steps[-1])
    assert window.message_bar.isVisible()
    text = window.message_bar.text()
    assert "killed by SIGKILL" in text and f"at step {last:,}" in text and "\n" not in text
    assert window.isVisible() and len(window.history) == last + 1  # every step it showed is still there
    assert window.views.loss.train_loss_raw.xData[-1] == last  # the loss curve keeps them too
    with RunReader(window.recorded) as reader:  # the run file, up to its last commit
        recorded = list(reader.history().steps)
    assert recorded and recorded == list(range(len(recorded))) and recorded[-1] <= last
    qtbot.waitUntil(lambda: window.bridge.child_pid not in (None, pid), timeout=WAIT_MS)  # a fresh one, warm
    assert not alive(pid)
    window.acts.train.trigger()  # Train works again, in the fresh process
    qtbot.waitUntil(lambda: window.run_state == RUNNING and len(window.history) > 5, timeout=WAIT_MS)
    assert not window.message_bar.isVisible()
    window.acts.stop.trigger()
    qtbot.waitUntil(lambda: window.run_state == FINISHED, timeout=WAIT_MS)
    assert "Stopped at step" in window.statusBar().currentMessage()


def test_closing_the_window_mid_run_ends_the_training_process(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.finish_setup(MainWindow.example_path())
    qtbot.waitUntil(lambda: window.dataset is not None, timeout=WAIT_MS)
    long_run(window)
    window.acts.train.trigger()
    qtbot.waitUntil(lambda: len(window.history) > 20, timeout=WAIT_MS)
    pid = window.bridge.child_pid
    assert pid is not None and window.run_state == RUNNING
    window.close()
    assert not alive(pid) and window.bridge.child_pid is None
    assert not [t for t in threading.enumerate() if t.name.startswith("training-")]
    with RunReader(window.bridge.run_file) as reader:  # the run was stopped and recorded before the process ended
        assert reader.ended is not None and reader.ended.reason == "stopped" and reader.weights() is not None
