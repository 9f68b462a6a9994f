"""The network as the drawing shows it: one column per weighted layer, a node per neuron or per feature map, and
one signed weight per edge, cut out of a flat parameter vector (numpy only: it runs on the GUI thread).

An MLP's columns are its widths and its edges are its weights. In a layer list with convolutions a node of a conv
column is one feature map (an output channel), so the edge from map i to map o carries the sum of the kernel
W[o, i] (its response to a constant input), and the edge from a map to a dense neuron the sum of that neuron's
weights over the map's positions once flattened.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class NetworkColumns:
    """Nodes per column (input first), the title after each hidden column's width (its activation; 'maps relu' for
    a column of feature maps: short, so that titles of neighbouring columns never collide), which columns are
    feature maps, and the input's names (None: the data set's features; 'image 8×8' for an image)."""

    sizes: tuple[int, ...]
    titles: tuple[str, ...]
    maps: tuple[bool, ...]
    input_names: tuple[str, ...] | None = None  # None: the data set's feature names


def _plan(model_spec, n_in: int, n_out: int, image):
    """(columns, weighted parameter shapes, per weighted layer the maps its input holds (0: flat))."""
    from visualizer.core.model.layers import parse_layers, shapes, weighted_shapes

    if not model_spec.layers:
        widths = [n_in, *model_spec.hidden, n_out]
        cols = NetworkColumns(tuple(widths), tuple(model_spec.activation), (False,) * len(widths))
        return cols, None, None
    layers = parse_layers(list(model_spec.layers))
    outs = shapes(layers, n_in, image)
    first_map = len(outs[0]) == 3
    sizes, titles, maps, fed = [outs[0][0] if first_map else n_in], [], [first_map], []
    current = None  # the title words of the column being built
    prev_maps = outs[0][0] if first_map else 0  # feature maps in the column before (0: flat neurons)
    for layer in layers:
        if layer.kind in ("conv", "dense"):
            fed.append(prev_maps)
            prev_maps = layer.size if layer.kind == "conv" else 0
            if current is not None:
                titles.append(" ".join(current))
            sizes.append(layer.size)
            maps.append(layer.kind == "conv")
            current = ["maps"] if layer.kind == "conv" else []
        elif layer.kind == "act" and current is not None:
            current.append(layer.text)
    if current is not None:
        titles.append(" ".join(current))
    fed.append(prev_maps)
    sizes.append(n_out)
    maps.append(False)
    names = (f"image {outs[0][1]}×{outs[0][2]}",) if first_map and outs[0][0] == 1 else None
    if first_map and names is None:
        names = tuple(f"channel {c + 1}" for c in range(outs[0][0]))
    cols = NetworkColumns(tuple(sizes), tuple(titles), tuple(maps), names)
    return cols, weighted_shapes(layers, n_in, n_out, image), fed


def network_columns(model_spec, n_in: int, n_out: int, image=None) -> NetworkColumns:
    """The drawing's columns of a ModelSpec's network on data of ``n_in`` features (``image``: its shape)."""
    return _plan(model_spec, n_in, n_out, image)[0]


def column_weights(flat, model_spec, n_in: int, n_out: int, image=None) -> list[np.ndarray]:
    """One (out nodes, in nodes) matrix per pair of columns, from a flat parameter vector in model.parameters()
    order: the weights themselves for dense layers on flat inputs, sums over kernels and map positions else."""
    flat = np.asarray(flat)
    cols, found, fed = _plan(model_spec, n_in, n_out, image)
    if found is None:
        from visualizer.core.model.nets import linear_weights

        return linear_weights(flat, n_in, model_spec.hidden, n_out, model_spec.batch_norm)
    out, offset = [], 0
    for (kind, wshape, bshape), maps_in in zip(found, fed):
        w = flat[offset:offset + math.prod(wshape)].reshape(wshape)
        offset += math.prod(wshape) + math.prod(bshape)
        if kind == "conv":
            out.append(w.sum(axis=(2, 3)))
        elif maps_in:
            out.append(w.reshape(w.shape[0], maps_in, -1).sum(axis=2))
        else:
            out.append(w)
    return out


def first_conv_filters(flat, model_spec, n_in: int, n_out: int, image=None) -> np.ndarray | None:
    """The first conv layer's filters (out channels, in channels, kh, kw) cut out of a flat parameter vector; None
    when the network has no convolution (the filter view shows them as small images)."""
    if not model_spec.layers:
        return None
    from visualizer.core.model.layers import parse_layers, weighted_shapes

    kind, wshape, _ = weighted_shapes(parse_layers(list(model_spec.layers)), n_in, n_out, image)[0]
    if kind != "conv":
        return None
    return np.asarray(flat)[:math.prod(wshape)].reshape(wshape)


def _activate(name: str, z: np.ndarray) -> np.ndarray:
    """The registry's activations in numpy (as torch computes them)."""
    if name == "relu":
        return np.maximum(z, 0.0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-z))
    if name == "leaky_relu":
        return np.where(z >= 0, z, 0.01 * z)
    if name == "gelu":
        from scipy.special import erf

        return 0.5 * z * (1.0 + erf(z / math.sqrt(2.0)))
    return z


def first_feature_maps(flat, model_spec, n_in: int, n_out: int, image, x) -> np.ndarray | None:
    """The first conv layer's feature maps (channels, h, w) for one sample ``x`` (a flat row of the data), after the
    activations that follow it: what the network sees in that picture. numpy only (the GUI thread draws it);
    None when the network does not start with a convolution."""
    from visualizer.core.model.layers import parse_layers

    layers = parse_layers(list(model_spec.layers)) if model_spec.layers else ()
    filters = first_conv_filters(flat, model_spec, n_in, n_out, image) if layers and layers[0].kind == "conv" else None
    if filters is None:
        return None
    out_c, in_c, kh, kw = filters.shape
    bias = np.asarray(flat)[filters.size:filters.size + out_c]
    img = np.asarray(x, dtype=np.float64).reshape(image)
    windows = np.lib.stride_tricks.sliding_window_view(img, (kh, kw), axis=(1, 2))  # (in, h, w, kh, kw)
    maps = np.einsum("chwij,ocij->ohw", windows, filters.astype(np.float64)) + bias[:, None, None]
    for layer in layers[1:]:
        if layer.kind != "act":
            break
        maps = _activate(layer.name, maps)
    return maps
