"""The run library: every recorded run in a folder, to open, compare, rename or delete."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QInputDialog,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from visualizer.core.errors import VisualizerError
from visualizer.core.runs.library import RunListing, delete_run, list_runs, rename_run
from visualizer.core.runs.schema import SUFFIX
from visualizer.qt.widgets.controls import resize_within_screen

COLUMNS = ("Name", "Experiment", "Date", "Steps", "Final loss", "Final metric", "Status")
STATUS = {"unfinished": "incomplete"}
METRIC_SHORT = {"accuracy": "acc", "r2": "R²"}


def resolve_run_path(path: str | Path) -> Path:
    """A run file itself, or the run file in a folder (``visualizer run``'s run.sqlite, else its newest one)."""
    path = Path(path)
    if path.is_dir():
        if (path / f"run{SUFFIX}").is_file():
            return path / f"run{SUFFIX}"
        files = sorted(path.glob(f"*{SUFFIX}"), key=lambda p: p.stat().st_mtime, reverse=True)
        if not files:
            raise VisualizerError(f"{path} holds no run file (*{SUFFIX})")
        return files[0]
    return path


def choose_run_file(parent: QWidget | None, folder: str | Path = "") -> Path | None:
    """Ask for a run file (or, after cancelling, nothing); a run folder's run.sqlite can be picked directly."""
    name, _ = QFileDialog.getOpenFileName(parent, "Open a run", str(folder), f"Run files (*{SUFFIX});;All files (*)")
    return Path(name) if name else None


def _fmt(value: float | None) -> str:
    return "–" if value is None else f"{value:.4g}"


def _date(listing: RunListing) -> str:
    """When the run was recorded (its file's time when the run does not say, or says something unreadable)."""
    created = (listing.summary or {}).get("created", "")
    for when in (lambda: datetime.fromisoformat(created).astimezone(),
                 lambda: datetime.fromtimestamp(listing.modified)):
        try:
            return when().strftime("%Y-%m-%d %H:%M")
        except (ValueError, OverflowError, OSError):  # not a date, or one beyond what the system can show
            continue
    return ""


def row_texts(listing: RunListing) -> tuple[str, ...]:
    """The cells of one row of the library; a damaged file's row says what is wrong (its path is the row's name)."""
    name = listing.path.stem
    if listing.summary is None:
        problem = listing.error.removeprefix(str(listing.path)).lstrip(" :") or listing.error
        return (name, problem, _date(listing), "", "", "", "damaged")
    s = listing.summary
    final = s["final"]
    metric = s.get("metric")
    value = final["val_metric"] if final["val_metric"] is not None else final["train_metric"]
    loss = final["val_loss"] if final["val_loss"] is not None else final["train_loss"]
    total = f" / {s['total_steps']}" if s.get("total_steps") and s["total_steps"] != s["steps"] else ""
    return (name, f"{s['title']} — {s.get('data', '')} / {s.get('optimizer', '')}", _date(listing),
            f"{s['steps']}{total}", _fmt(loss), f"{METRIC_SHORT.get(metric, metric or '')} {_fmt(value)}".strip(),
            STATUS.get(s["status"], s["status"]))


class RunLibraryDialog(QDialog):
    """Lists the run files in ``folder``, newest first; emits ``open_requested`` / ``compare_requested``."""

    #: the controls kept between sessions (qt/app/window_memory.py)
    REMEMBERED = ()

    open_requested = Signal(Path)
    compare_requested = Signal(Path)

    def __init__(self, folder: str | Path, parent: QWidget | None = None, theme: str = "light") -> None:
        super().__init__(parent)
        self.folder = Path(folder)
        self.theme = theme
        self.setObjectName("runLibrary")
        self.setWindowTitle("Run library")
        resize_within_screen(self, 1000, 480)
        self.listings: list[RunListing] = []

        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setObjectName("runTable")
        self.table.setHorizontalHeaderLabels(list(COLUMNS))
        for c, tip in ((4, "The last validation loss (the training loss without a validation set)"),
                       (5, "The last validation accuracy or R² (training's without a validation set)"),
                       (6, "completed, stopped, diverged, failed, or incomplete: no end was recorded (killed, "
                           "or still being written)")):
            self.table.horizontalHeaderItem(c).setToolTip(tip)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.table.itemSelectionChanged.connect(self._on_selection_changed)
        self.table.itemDoubleClicked.connect(lambda *_: self.open_selected())

        self.folder_label = QLabel(f"Folder: {self.folder}")
        self.folder_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.message = QLabel()
        self.message.setObjectName("libraryMessage")
        self.message.setWordWrap(True)

        self.open_button = self._button("Open", "Replay the selected run", self.open_selected)
        self.compare_button = self._button("Open to compare", "Overlay the selected run's curves on the "
                                           "replay that is open", self.compare_selected)
        self.rename_button = self._button("Rename…", "Rename the selected run file", self._on_rename_clicked)
        self.delete_button = self._button("Delete…", "Delete the selected run file", self.delete_selected)
        file_button = self._button("Open file…", "Open a run file or a run folder from anywhere",
                                   self._on_open_file_clicked)
        folder_button = self._button("Open folder…", "Open the run.sqlite of a folder `visualizer run` wrote",
                                     self._on_open_folder_clicked)
        reveal = self._button("Show folder", "Open the folder in the file manager", self._on_reveal_clicked)
        refresh = self._button("Refresh", "Read the folder again", self.refresh)
        close = self._button("Close", "Close the library (the runs stay where they are)", self.reject)

        top = QHBoxLayout()
        top.addWidget(self.folder_label, 1)
        top.addWidget(reveal)
        top.addWidget(refresh)
        buttons = QHBoxLayout()
        for b in (self.open_button, self.compare_button, self.rename_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(file_button)
        buttons.addWidget(folder_button)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.refresh()

    def _button(self, text: str, tip: str, slot) -> QPushButton:
        b = QPushButton(text)
        b.setToolTip(tip)
        b.setAutoDefault(False)
        b.clicked.connect(slot)
        return b

    # -- the list -------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Read the folder again (keeps the selected file selected when it is still there)."""
        selected = self.selected_path()
        self.listings = list_runs(self.folder)
        self.table.setRowCount(len(self.listings))
        for r, listing in enumerate(self.listings):
            for c, text in enumerate(row_texts(listing)):
                item = QTableWidgetItem(text)
                item.setToolTip(listing.error or str(listing.path))
                if c in (3, 4, 5):
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                self.table.setItem(r, c, item)
        if not self.listings:
            self.message.setText(f"No runs in {self.folder} yet: every run the window trains is recorded here.")
        self.select(selected if selected is not None else (self.listings[0].path if self.listings else None))
        self._on_selection_changed()

    def select(self, path: Path | None) -> None:
        rows = [i for i, listing in enumerate(self.listings) if listing.path == path]
        if rows:
            self.table.selectRow(rows[0])
        else:
            self.table.clearSelection()

    def selected(self) -> RunListing | None:
        rows = self.table.selectionModel().selectedRows()
        return self.listings[rows[0].row()] if rows else None

    def selected_path(self) -> Path | None:
        listing = self.selected() if self.table.rowCount() else None
        return listing.path if listing else None

    def _on_selection_changed(self) -> None:
        listing = self.selected()
        readable = listing is not None and listing.summary is not None
        self.open_button.setEnabled(readable)
        self.compare_button.setEnabled(readable)
        self.rename_button.setEnabled(listing is not None)
        self.delete_button.setEnabled(listing is not None)

    # -- actions --------------------------------------------------------------------------------------
    def open_selected(self) -> None:
        listing = self.selected()
        if listing is not None and listing.summary is not None:
            self.open_requested.emit(listing.path)

    def compare_selected(self) -> None:
        listing = self.selected()
        if listing is not None and listing.summary is not None:
            self.compare_requested.emit(listing.path)

    def rename(self, path: Path, name: str) -> Path | None:
        """Rename a run file; an existing name is refused with a message (nothing is overwritten)."""
        try:
            new = rename_run(path, name)
        except (VisualizerError, OSError) as exc:
            self.message.setText(f"Not renamed: {exc}")
            return None
        self.message.setText(f"Renamed {path.name} to {new.name}.")
        self.refresh()
        self.select(new)
        return new

    def delete(self, path: Path) -> bool:
        """Delete a run file (and its -wal/-shm files) after ``confirm`` says yes."""
        if not self.confirm("Delete run", f"Delete the run file {path.name}?\nThis cannot be undone."):
            return False
        try:
            delete_run(path)
        except OSError as exc:
            self.message.setText(f"Not deleted: {exc}")
            return False
        self.message.setText(f"Deleted {path.name}.")
        self.refresh()
        return True

    def delete_selected(self) -> None:
        path = self.selected_path()
        if path is not None:
            self.delete(path)

    def confirm(self, title: str, text: str) -> bool:
        """Ask yes or no (tests replace this)."""
        answer = QMessageBox.question(self, title, text, QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                      QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def ask_name(self, current: str) -> str | None:
        """Ask for a new name (tests replace this)."""
        name, ok = QInputDialog.getText(self, "Rename run", "New name:", text=current)
        return name if ok and name.strip() else None

    def _on_rename_clicked(self) -> None:
        path = self.selected_path()
        if path is not None and (name := self.ask_name(path.stem)) is not None:
            self.rename(path, name)

    def open_path(self, path: str | Path) -> bool:
        """Emit ``open_requested`` for a run file or a run folder picked from anywhere."""
        try:
            run = resolve_run_path(path)
        except VisualizerError as exc:
            self.message.setText(str(exc))
            return False
        self.open_requested.emit(run)
        return True

    def _on_open_file_clicked(self) -> None:
        picked = choose_run_file(self, self.folder)
        if picked is not None:
            self.open_path(picked)

    def _on_open_folder_clicked(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Open a run folder", str(self.folder))
        if folder:
            self.open_path(folder)

    def _on_reveal_clicked(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.folder)))
