"""File > Export…: the window's views in a still or data format of the export registry (PNG with its size and DPI,
SVG, CSV…), each view to FOLDER/<view>.<suffix>. A view is a figure (a plot alone, or a grid of plots: see
``qt.plots.export.is_figure``) drawn at the size chosen, never a grab of the widgets on screen."""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from visualizer.core.errors import VisualizerError
from visualizer.core.runs.export_registry import ExportFormat, formats_of_kind, writer_of
from visualizer.qt.widgets.controls import button, spin

MIN_SIZE, MAX_SIZE = 64, 8000
MIN_DPI, MAX_DPI = 10, 2400


def file_stem(name: str) -> str:
    """A view's name as a file name: "Loss landscape" -> "loss_landscape"."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "view"


def dialog_formats() -> list[ExportFormat]:
    """The formats the dialog offers: the registry's still and data formats (a widget on screen is not animated)."""
    return formats_of_kind("still", "data")


def export_view(figure, path: Path, width: int, height: int, dpi: float,
                fmt: ExportFormat | None = None, data=None) -> Path:
    """One view to ``path`` in ``fmt`` (default: the registered format of the path's suffix): a still of the figure
    at width x height px (``dpi`` in a raster image's metadata), or the data it shows (that of ``data`` when
    given: the object that holds the numbers behind a plot, e.g. the landscape tab's surface and path)."""
    path = Path(path)
    if fmt is None:
        fmt = next((f for f in dialog_formats() if f.suffix == path.suffix.lower()), None)
        if fmt is None:
            raise ValueError(f"{path.name}: no export format writes {path.suffix or 'files without a suffix'}")
    write = writer_of(fmt.writer)
    if fmt.kind == "data":
        return write(figure if data is None else data, path)
    return write(figure, path, width, height, dpi)


class ExportDialog(QDialog):
    """Pick views, a format (the registry's still and data formats: PNG, SVG, CSV…), the size in pixels and the
    DPI, and a folder; Export writes FOLDER/<view>.<suffix> for each view chosen and keeps the dialog open on an
    error, with the message shown. ``views`` maps a name to a figure; ``data`` a name to what writes its data
    (a view not named there writes the data its plot shows)."""

    #: the controls kept between sessions (qt/app/window_memory.py)
    REMEMBERED = ("exportFormat", "exportFolder")

    def __init__(self, views: dict[str, object], parent: QWidget | None = None,
                 folder: str | Path | None = None, data: dict[str, object] | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.setObjectName("exportDialog")
        self._views = dict(views)
        self._data = dict(data or {})
        self.written: list[Path] = []

        self.view_list = QListWidget()
        self.view_list.setObjectName("exportViews")
        for name in self._views:
            item = QListWidgetItem(name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked)
            self.view_list.addItem(item)
        self.view_list.setMaximumHeight(22 * max(3, min(len(self._views), 8)) + 8)
        self.view_list.itemChanged.connect(self._on_choice_changed)

        self.format_box = QComboBox()
        self._formats = {fmt.name: fmt for fmt in dialog_formats()}
        for k, fmt in enumerate(self._formats.values()):
            self.format_box.addItem(fmt.label, fmt.name)
            self.format_box.setItemData(k, f"{fmt.label}: {fmt.description}", Qt.ItemDataRole.ToolTipRole)
        self.format_box.setObjectName("exportFormat")
        self.format_box.setToolTip("; ".join(f"{fmt.label}: {fmt.description}" for fmt in self._formats.values()))
        self.format_box.currentIndexChanged.connect(self._on_choice_changed)
        self.width_box = spin("exportWidth", MIN_SIZE, MAX_SIZE, 1000, "image width in pixels", " px")
        self.height_box = spin("exportHeight", MIN_SIZE, MAX_SIZE, 700, "image height in pixels", " px")
        self.dpi_box = spin("exportDpi", MIN_DPI, MAX_DPI, 100, "resolution written into the PNG's metadata "
                            "(the pixel size stays width x height)", " dpi")
        self.folder_edit = QLineEdit(str(folder) if folder else str(Path.home()))
        self.folder_edit.setObjectName("exportFolder")
        self.folder_edit.setToolTip("The folder the files are written into (created if missing)")
        self.folder_edit.textChanged.connect(self._on_choice_changed)
        browse = button("Browse…", "exportBrowse", "choose the folder to write into")
        browse.clicked.connect(self._on_browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)

        form = QFormLayout()
        form.addRow("Views", self.view_list)
        form.addRow("Format", self.format_box)
        form.addRow("Width", self.width_box)
        form.addRow("Height", self.height_box)
        form.addRow("DPI", self.dpi_box)
        form.addRow("Folder", folder_row)
        self.message = QLabel()
        self.message.setObjectName("exportMessage")
        self.message.setWordWrap(True)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.export_button = self.buttons.addButton("Export", QDialogButtonBox.ButtonRole.AcceptRole)
        self.export_button.setToolTip("Write the chosen views into the folder (files of the same name are replaced)")
        self.buttons.button(QDialogButtonBox.StandardButton.Cancel).setToolTip("Close without writing anything")
        self.buttons.accepted.connect(self._on_export)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self._on_choice_changed()

    # --- public API ----------------------------------------------------------------------------------
    def selected_views(self) -> list[str]:
        """Names of the views ticked, in order."""
        return [self.view_list.item(i).text() for i in range(self.view_list.count())
                if self.view_list.item(i).checkState() == Qt.CheckState.Checked]

    def set_selected_views(self, names: list[str]) -> None:
        for i in range(self.view_list.count()):
            item = self.view_list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.text() in names else Qt.CheckState.Unchecked)

    def set_options(self, fmt: str | None = None, width: int | None = None, height: int | None = None,
                    dpi: int | None = None, folder: str | Path | None = None) -> None:
        """Set any of the choices (as the user would)."""
        if fmt is not None:
            index = self.format_box.findData(fmt.lower())
            if index < 0:
                raise ValueError(f"{fmt}: not a format of this dialog; allowed: {', '.join(self._formats)}")
            self.format_box.setCurrentIndex(index)
        for box, value in ((self.width_box, width), (self.height_box, height), (self.dpi_box, dpi)):
            if value is not None:
                box.setValue(value)
        if folder is not None:
            self.folder_edit.setText(str(folder))

    def format_names(self) -> list[str]:
        """The names of the formats offered, in order (the registry's still and data formats)."""
        return [self.format_box.itemData(i) for i in range(self.format_box.count())]

    def current_format(self) -> ExportFormat:
        return self._formats[self.format_box.currentData()]

    def export(self) -> list[Path]:
        """Write the chosen views in the chosen format into the folder; returns the files written."""
        fmt = self.current_format()
        folder = Path(self.folder_edit.text()).expanduser()
        folder.mkdir(parents=True, exist_ok=True)
        written = []
        for name in self.selected_views():
            data = self._data.get(name)
            if hasattr(data, "wait_ready") and not data.wait_ready():  # e.g. a landscape tab never shown
                raise VisualizerError(f"the {name} has nothing to show yet; train a few steps first")
            written.append(export_view(self._views[name], folder / f"{file_stem(name)}{fmt.suffix}",
                                       self.width_box.value(), self.height_box.value(), self.dpi_box.value(), fmt,
                                       self._data.get(name)))
        self.written = written
        return written

    # --- slots -----------------------------------------------------------------------------------------
    def _on_choice_changed(self, *_args) -> None:
        fmt = self.current_format()
        self.width_box.setEnabled(fmt.sized)
        self.height_box.setEnabled(fmt.sized)
        self.dpi_box.setEnabled(fmt.raster)
        self.export_button.setEnabled(bool(self.selected_views()) and bool(self.folder_edit.text().strip()))

    def _on_browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Export to folder", self.folder_edit.text())
        if folder:
            self.folder_edit.setText(folder)

    def _on_export(self) -> None:
        try:
            written = self.export()
        except (OSError, ValueError, TypeError, VisualizerError) as exc:
            self.message.setText(f"Could not export: {exc}")
            return
        self.message.setText(f"Wrote {len(written)} file{'s' if len(written) != 1 else ''}.")
        self.accept()
