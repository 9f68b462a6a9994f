"""Layer lists: the experiment's ``[model] layers = ["conv 8 3x3", "relu", "maxpool 2", "flatten", "dense 32"]``.

Each entry is one layer written as text: ``conv C KxK`` (C output channels, a K×K kernel, stride 1, no padding),
``maxpool K`` / ``avgpool K`` (a K×K window, stride K), ``flatten``, ``dense N`` (N neurons) or an activation name.
The output layer (a dense layer as wide as the loss needs) is added after the list, with a flatten before it when
the list ends on feature maps. Convolution and pooling need an image data set (``core.data.images``); the shape of
every layer's output is worked out here, so that a kernel bigger than its input is an error naming the layer.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from torch import nn

from visualizer.core.errors import ExperimentError, choices, shown

MAX_CHANNELS = 512
MAX_LIST = 32
KEY = "model.layers"
SYNTAX = ("conv C KxK", "maxpool K", "avgpool K", "flatten", "dense N")


@dataclass(frozen=True)
class Layer:
    """One parsed layer: ``kind`` is conv, maxpool, avgpool, flatten, dense or act; ``size`` the channels (conv),
    neurons (dense) or window (pooling); ``kernel`` (height, width) for conv; ``name`` the activation's."""

    kind: str
    size: int = 0
    kernel: tuple[int, int] = (0, 0)
    name: str = ""

    @property
    def text(self) -> str:
        """The layer as the experiment file writes it (the canonical form)."""
        if self.kind == "conv":
            return f"conv {self.size} {self.kernel[0]}x{self.kernel[1]}"
        if self.kind in ("maxpool", "avgpool", "dense"):
            return f"{self.kind} {self.size}"
        return self.name if self.kind == "act" else self.kind


def _allowed() -> str:
    from visualizer.core.model.activations import ACTIVATIONS

    return choices([*SYNTAX, *ACTIVATIONS])


def _int(key: str, text: str, word: str, what: str, hi: int) -> int:
    if not word.isdigit() or not 1 <= int(word) <= hi:
        raise ExperimentError(key, f"{shown(text)}: {what} {shown(word)} is not a whole number from 1 to {hi}")
    return int(word)


def parse_layer(text, key: str) -> Layer:
    """One entry of a layer list; anything else raises ExperimentError naming ``key`` and the allowed forms."""
    from visualizer.core.model.activations import ACTIVATIONS, MAX_WIDTH

    if not isinstance(text, str):
        raise ExperimentError(key, f"{shown(text)} is not a layer; expected text such as 'conv 8 3x3'; allowed: "
                              f"{_allowed()}")
    words = text.lower().split()
    if len(words) == 1 and words[0] in ACTIVATIONS:
        return Layer("act", name=words[0])
    if words == ["flatten"]:
        return Layer("flatten")
    if len(words) == 2 and words[0] in ("maxpool", "avgpool"):
        return Layer(words[0], _int(key, text, words[1], "the window", 64))
    if len(words) == 2 and words[0] == "dense":
        return Layer("dense", _int(key, text, words[1], "the width", MAX_WIDTH))
    if len(words) == 3 and words[0] == "conv":
        channels = _int(key, text, words[1], "the channel count", MAX_CHANNELS)
        sides = words[2].split("x")
        if len(sides) > 2:
            raise ExperimentError(key, f"{shown(text)}: the kernel {shown(words[2])} is not KxK (as 3x3) or K")
        kh, kw = (_int(key, text, s, "the kernel side", 64) for s in (sides * 2)[:2])
        return Layer("conv", channels, (kh, kw))
    raise ExperimentError(key, f"{shown(text)} is not a layer; allowed: {_allowed()}")


def parse_layers(raw, key: str = KEY) -> tuple[Layer, ...]:
    """A whole list of layer texts (the experiment file's value)."""
    if not isinstance(raw, list):
        raise ExperimentError(key, f"{shown(raw)} is not a list; expected layers such as [\"conv 8 3x3\", \"relu\", "
                              "\"maxpool 2\", \"flatten\", \"dense 32\", \"relu\"]")
    if len(raw) > MAX_LIST:
        raise ExperimentError(key, f"{len(raw)} layers; allowed: at most {MAX_LIST}")
    return tuple(parse_layer(t, f"{key}[{i}]") for i, t in enumerate(raw))


def shapes(layers, n_in: int | None, image: tuple[int, int, int] | None, data_name: str = "",
           key: str = KEY) -> list[tuple[int, ...] | None]:
    """The output shape of every layer, (C, H, W) for feature maps or (N,) flat, the input first (None where a flat
    width is not known before the data is loaded). Raises ExperimentError for a layer that cannot follow the one
    before: convolution without an image data set or after a flat layer, a kernel or window bigger than its input."""
    from visualizer.core.data.images import IMAGE_SHAPES

    convolves = any(layer.kind in ("conv", "maxpool", "avgpool", "flatten") for layer in layers)
    shape: tuple[int, ...] | None = image if (convolves and image is not None) else \
        ((n_in,) if n_in is not None else None)
    out = [shape]
    for i, layer in enumerate(layers):
        where = f"{key}[{i}]"
        if layer.kind in ("conv", "maxpool", "avgpool", "flatten"):
            if image is None:
                raise ExperimentError(where, f"'{layer.text}' needs an image data set; "
                                      f"{shown(data_name) if data_name else 'this data set'} is not one (image sets: "
                                      f"{choices(IMAGE_SHAPES)}); use 'dense N' layers or hidden = [...]")
            if shape is None or len(shape) != 3:
                raise ExperimentError(where, f"'{layer.text}' follows a flat layer; convolution, pooling and "
                                      "'flatten' come before the first 'dense' or 'flatten'")
            c, h, w = shape
            if layer.kind == "conv":
                kh, kw = layer.kernel
                if kh > h or kw > w:
                    raise ExperimentError(where, f"'{layer.text}': the kernel {kh}x{kw} is bigger than its {h}x{w} "
                                          f"input; allowed: kernels up to {h}x{w}")
                shape = (layer.size, h - kh + 1, w - kw + 1)
            elif layer.kind == "flatten":
                shape = (c * h * w,)
            else:
                k = layer.size
                if k > h or k > w:
                    raise ExperimentError(where, f"'{layer.text}': the window {k}x{k} is bigger than its {h}x{w} "
                                          f"input; allowed: windows up to {min(h, w)}")
                shape = (c, h // k, w // k)
        elif layer.kind == "dense":
            shape = (layer.size,)
        out.append(shape)
    return out


def flat_width(shape) -> int | None:
    """The width a shape has once flattened (None when unknown)."""
    return None if shape is None else math.prod(shape)


def build_layers(layers, n_in: int, n_out: int, image: tuple[int, int, int] | None) -> list[nn.Module]:
    """The modules of a layer list and its output layer, the input reshaped to the image first when it convolves."""
    from visualizer.core.model.activations import ACTIVATIONS

    out_shapes = shapes(layers, n_in, image)
    modules: list[nn.Module] = []
    if len(out_shapes[0]) == 3:
        modules.append(nn.Unflatten(1, out_shapes[0]))
    for layer, before in zip(layers, out_shapes[:-1]):
        if layer.kind == "conv":
            modules.append(nn.Conv2d(before[0], layer.size, layer.kernel))
        elif layer.kind == "maxpool":
            modules.append(nn.MaxPool2d(layer.size))
        elif layer.kind == "avgpool":
            modules.append(nn.AvgPool2d(layer.size))
        elif layer.kind == "flatten":
            modules.append(nn.Flatten())
        elif layer.kind == "dense":
            modules.append(nn.Linear(flat_width(before), layer.size))
        else:
            modules.append(ACTIVATIONS[layer.name]())
    last = out_shapes[-1]
    if len(last) == 3:
        modules.append(nn.Flatten())
    modules.append(nn.Linear(flat_width(last), n_out))
    return modules


def weighted_shapes(layers, n_in: int, n_out: int, image) -> list[tuple[str, tuple[int, ...], tuple[int, ...]]]:
    """(kind, parameter shape of the weight, of the bias) of each conv and dense layer and the output layer, in
    order: what a flat parameter vector of the network holds, without building it."""
    out_shapes = shapes(layers, n_in, image)
    found = []
    for layer, before in zip(layers, out_shapes[:-1]):
        if layer.kind == "conv":
            found.append(("conv", (layer.size, before[0], *layer.kernel), (layer.size,)))
        elif layer.kind == "dense":
            found.append(("dense", (layer.size, flat_width(before)), (layer.size,)))
    found.append(("dense", (n_out, flat_width(out_shapes[-1])), (n_out,)))
    return found


def count_parameters(layers, n_in: int, n_out: int, image) -> int:
    """Trainable scalars of the network a layer list describes."""
    return sum(math.prod(w) + math.prod(b) for _, w, b in weighted_shapes(layers, n_in, n_out, image))


def multiply_adds(layers, n_in: int, n_out: int, image) -> int:
    """Multiply-adds of one sample's forward pass (convolutions: kernel × input channels × output positions)."""
    out_shapes = shapes(layers, n_in, image)
    total = 0
    for layer, before, after in zip(layers, out_shapes[:-1], out_shapes[1:]):
        if layer.kind == "conv":
            total += math.prod(layer.kernel) * before[0] * math.prod(after)
        elif layer.kind == "dense":
            total += flat_width(before) * layer.size
    return total + flat_width(out_shapes[-1]) * n_out


def layers_of_table(t: dict, data_name: str) -> tuple[str, ...]:
    """The ``[model]`` table's layer list in canonical text, checked against the data set's image shape; () when it
    sets none. A layer list replaces ``hidden``/``activation`` and the MLP's ``dropout``/``batch_norm``."""
    from visualizer.core.data.images import image_shape

    if "layers" not in t:
        return ()
    for other in ("hidden", "activation", "dropout", "batch_norm"):
        if other in t:
            raise ExperimentError(f"model.{other}", "applies to hidden = [...] networks; with layers = [...] write "
                                  "the whole network in the list (activations included); allowed: one of the two")
    layers = parse_layers(t["layers"])
    if not layers:
        raise ExperimentError(KEY, "an empty list; write at least one layer, or hidden = [] for a network without "
                              "hidden layers")
    shapes(layers, None, image_shape(data_name), data_name)
    return tuple(layer.text for layer in layers)


def with_widths(texts, widths) -> tuple[str, ...]:
    """A layer list (texts) with its conv channel counts and dense widths replaced, in order, by ``widths`` (what a
    shrunk network has)."""
    layers, widths = list(parse_layers(list(texts))), list(widths)
    for k, layer in enumerate(layers):
        if layer.kind in ("conv", "dense"):
            layers[k] = Layer(layer.kind, widths.pop(0), layer.kernel)
    return tuple(layer.text for layer in layers)
