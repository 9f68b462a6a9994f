"""The Filters tab of a convolutional network: the first conv layer's filters as images, and for a chosen validation
sample its picture and the feature maps those filters make of it, live from the snapshots."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from visualizer.qt.plots.filter_plot import FilterPlot


@dataclass(frozen=True, eq=False)
class FilterSource:
    """What the tab draws from: the filters (and one sample's maps) cut from snapshot parameters (numpy only),
    the samples to choose from (flat rows), their labels and the image shape (channels, height, width)."""

    filters_of: Callable[[np.ndarray], np.ndarray | None]
    maps_of: Callable[[np.ndarray, np.ndarray], np.ndarray | None]
    samples: np.ndarray
    labels: tuple[str, ...]
    image: tuple[int, int, int]


class FiltersTab(QWidget):
    """Filters above; below, the chosen sample and its feature maps after the first conv layer's activation."""

    def __init__(self, theme: str = "light", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("filtersTab")
        self.filters = FilterPlot(theme=theme)
        self.sample_spin = QSpinBox()
        self.sample_spin.setObjectName("featureSampleSpin")
        self.sample_spin.setToolTip("Which validation sample's feature maps are shown (its picture on the left)")
        self.sample_spin.valueChanged.connect(self._redraw)
        self.sample_label = QLabel()
        self.input = FilterPlot(theme=theme, kind="maps", label="input")
        self.input.setObjectName("featureInputPlot")
        self.maps = FilterPlot(theme=theme, kind="maps", label="activation")
        row = QHBoxLayout()
        row.setContentsMargins(6, 0, 6, 0)
        row.addWidget(QLabel("Feature maps of validation sample"))
        row.addWidget(self.sample_spin)
        row.addWidget(self.sample_label)
        row.addStretch(1)
        pictures = QHBoxLayout()
        pictures.addWidget(self.input, 1)
        pictures.addWidget(self.maps, 2)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.filters, 3)
        layout.addLayout(row)
        layout.addLayout(pictures, 2)
        self.source: FilterSource | None = None
        self._params: np.ndarray | None = None

    def set_theme(self, theme: str) -> None:
        for plot in (self.filters, self.input, self.maps):
            plot.set_theme(theme)

    def set_source(self, source: FilterSource | None) -> None:
        """A network and data to draw from (None: not a convolutional network); clears the pictures."""
        self.source, self._params = source, None
        self.clear()
        if source is not None:
            self.sample_spin.blockSignals(True)
            self.sample_spin.setRange(0, max(len(source.samples) - 1, 0))
            self.sample_spin.blockSignals(False)
            self._redraw()

    def show_params(self, params: np.ndarray) -> None:
        """Redraw from a snapshot's flat parameters."""
        self._params = params
        self._redraw()

    def clear(self) -> None:
        self._params = None
        self.filters.clear("Filters of the first conv layer (after the first snapshot)")
        self.maps.clear("Feature maps (after the first snapshot)")
        self._redraw()

    def _redraw(self, *_args) -> None:
        src = self.source
        if src is None or not len(src.samples):
            return
        i = min(self.sample_spin.value(), len(src.samples) - 1)
        x = src.samples[i]
        self.sample_label.setText(f"(class {src.labels[i]})" if src.labels else "")
        c, h, w = src.image
        self.input.set_tiles(np.asarray(x, dtype=float).reshape(c, h, w).mean(axis=0, keepdims=True),
                             f"sample {i} ({h}×{w})")
        if self._params is None:
            return
        filters = src.filters_of(self._params)
        if filters is not None:
            self.filters.set_filters(filters)
        maps = src.maps_of(self._params, x)
        if maps is not None:
            n, mh, mw = maps.shape
            self.maps.set_tiles(maps, f"{n} feature maps {mh}×{mw}")


def filter_source(model_spec, dataset, n_out: int) -> FilterSource | None:
    """The Filters tab's source for a network on a data set (its validation rows to choose from); None unless the
    network starts with a convolution on an image set."""
    from visualizer.core.data.images import dataset_image_shape
    from visualizer.core.errors import VisualizerError
    from visualizer.core.model.columns import first_conv_filters, first_feature_maps, network_columns

    image = dataset_image_shape(dataset)
    n_in = dataset.n_features
    try:
        if image is None or not any(network_columns(model_spec, n_in, n_out, image).maps[1:]):
            return None
    except VisualizerError:  # the layers do not fit this data set
        return None
    labels = tuple(dataset.class_names[int(k)] for k in dataset.y_val) if dataset.task == "classification" else ()
    return FilterSource(lambda p: first_conv_filters(p, model_spec, n_in, n_out, image),
                        lambda p, x: first_feature_maps(p, model_spec, n_in, n_out, image, x),
                        dataset.X_val, labels, image)
