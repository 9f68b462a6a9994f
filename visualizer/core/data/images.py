"""Which data sets are images, and their shape (channels, height, width): what convolution layers need.

The arrays stay flat (one row of pixels per sample, as every other data set); a network that convolves reshapes
them itself (``nn.Unflatten``), so data, splits, standardisation and every capability see the same rows.
"""

from __future__ import annotations

import math

#: the image data sets by registry name: (channels, height, width); rows are the pixels in C-order
IMAGE_SHAPES: dict[str, tuple[int, int, int]] = {
    "digits": (1, 8, 8),
}


def image_shape(name: str, n_features: int | None = None) -> tuple[int, int, int] | None:
    """The (channels, height, width) of data set ``name``, or None when it is not an image set (or when its rows
    no longer hold exactly the image's pixels, ``n_features`` given)."""
    shape = IMAGE_SHAPES.get(name)
    if shape is None or (n_features is not None and n_features != math.prod(shape)):
        return None
    return shape


def dataset_image_shape(dataset) -> tuple[int, int, int] | None:
    """The image shape of a loaded Dataset (None when it is not an image set)."""
    return image_shape(dataset.name, dataset.n_features)
