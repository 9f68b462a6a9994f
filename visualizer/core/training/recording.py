"""Recording a training run into its run file while it trains, wherever the run trains (the window's worker, its
training process): one piece, so that a run recorded in a child process and one recorded in a thread are the same."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RunRecorded:
    """Where the run file was written (None: it was not), and why not."""

    path: Path | None
    error: str = ""


@dataclass(frozen=True)
class RunFileOpened:
    """The run file was created and is being written (so a run that dies still says where its file is)."""

    path: Path


class RunRecording:
    """Records ``session``'s events into a new run file in ``folder`` (None: not recorded). A failure to record
    never stops training: it becomes ``error``, and recording stops."""

    def __init__(self, session, folder: Path | None) -> None:
        self.session, self.writer, self.path, self.error = session, None, None, ""
        if folder is None:
            return
        from visualizer.core.runs.writer import create_run_file, run_file_name

        exp = session.experiment
        name = run_file_name(exp.title or exp.data.name, time.strftime("%Y%m%d-%H%M%S"))
        try:
            self.writer = create_run_file(folder, name, exp, base_dir=self.session.base_dir)
        except Exception as exc:  # noqa: BLE001 - any failure: train anyway, say why it was not recorded
            self.error = str(exc)
            return
        self.path = self.writer.path

    def add(self, event) -> None:
        if self.writer is not None:
            self._guard(lambda: self.writer.add(event))

    def close(self) -> RunRecorded:
        """The run is over: store the weights, close the file, and say where it is."""
        if self.writer is not None and self.session.model is not None:
            self._guard(lambda: self.writer.add_weights(self.session.model))
        if self.writer is not None:
            self._guard(self.writer.close)
            self.writer = None
        return RunRecorded(self.path if not self.error else None, self.error)

    def _guard(self, write) -> None:
        try:
            write()
        except Exception as exc:  # noqa: BLE001
            self.error = f"the run file {self.path} could not be written: {exc}"
            writer, self.writer = self.writer, None
            try:
                writer.close()
            except Exception:  # noqa: BLE001
                pass
