"""Model weights on disk as safetensors: writing is atomic, reading never unpickles and trusts nothing in the file.

A weights file (or a run file's stored weights) is checked before safetensors parses it: its header length, its
JSON, every tensor's dtype, shape and byte range; then ``load_into`` checks the names, shapes and kinds of number
against the network. Whatever the bytes, the result is the tensors or a one-line VisualizerError.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

from visualizer.core.errors import VisualizerError, shown
from visualizer.core.files import atomic_write_bytes, read_bytes_bounded

#: the largest weights file read (the largest network an experiment allows has ~135 M parameters: 540 MB in float32)
MAX_WEIGHTS_BYTES = 2 * 1024**3
#: safetensors' own limit on the JSON header
MAX_HEADER_BYTES = 100_000_000
#: bytes per element of the dtypes a weights file may hold (the ones torch and the network can take)
DTYPE_BYTES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1, "BOOL": 1}


def save_weights(model: torch.nn.Module, path: str | Path, metadata: dict[str, str] | None = None) -> Path:
    """Write the model's state_dict (parameters and batch-norm buffers) as safetensors."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return atomic_write_bytes(Path(path), save_bytes(tensors, metadata=metadata))


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a safetensors file into a dict of tensors; a bad file (or a FIFO, a device, a folder) raises
    VisualizerError."""
    path = Path(path)
    data = read_bytes_bounded(path, MAX_WEIGHTS_BYTES, "weights file")
    return weights_from_bytes(data, f"{path}: not a readable safetensors file")


def header_problem(head: bytes, total: int) -> str:
    """What is wrong with safetensors bytes of length ``total`` that start with ``head`` (at least their length
    field and JSON header), '' when nothing is: the header must describe tensors that the bytes after it hold."""
    if total < 8:
        return f"{total} bytes, shorter than a header"
    n = int.from_bytes(head[:8], "little")
    if n > min(MAX_HEADER_BYTES, total - 8) or len(head) < 8 + n:
        return f"the header claims {n:,} bytes; {total - 8:,} follow"
    try:
        header = json.loads(head[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return "the header is not JSON"
    if not isinstance(header, dict):
        return "the header is not a JSON object"
    size = total - 8 - n
    for name, entry in header.items():
        if name == "__metadata__":
            if not isinstance(entry, dict) or not all(isinstance(v, str) for v in entry.values()):
                return "its metadata is not a table of texts"
            continue
        if not isinstance(entry, dict) or set(entry) != {"dtype", "shape", "data_offsets"}:
            return f"the entry of {shown(name)} is not a tensor's"
        dtype, shape, offsets = entry["dtype"], entry["shape"], entry["data_offsets"]
        if not isinstance(dtype, str) or dtype not in DTYPE_BYTES:
            return f"{shown(name)} holds {shown(dtype)}; allowed: {', '.join(DTYPE_BYTES)}"
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                  for d in shape):
            return f"{shown(name)} has the shape {shown(shape)}"
        if (not isinstance(offsets, list) or len(offsets) != 2
                or not all(isinstance(o, int) and not isinstance(o, bool) for o in offsets)
                or not 0 <= offsets[0] <= offsets[1] <= size
                or offsets[1] - offsets[0] != math.prod(shape) * DTYPE_BYTES[dtype]):
            return f"{shown(name)}'s bytes {shown(offsets)} do not hold a {dtype} tensor of shape {shape}"
    return ""


def weights_from_bytes(data: bytes, where: str) -> dict[str, torch.Tensor]:
    """The tensors of safetensors bytes; anything else raises VisualizerError ``where (what is wrong)``."""
    problem = header_problem(data, len(data))
    if not problem:
        try:
            return load_bytes(data)
        except Exception as exc:  # noqa: BLE001  (checked above; whatever safetensors still refuses is a bad file)
            problem = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    raise VisualizerError(f"{where} ({problem})")


def load_into(model: torch.nn.Module, weights: dict[str, torch.Tensor], where: str) -> torch.nn.Module:
    """Load ``weights`` into ``model`` after checking that they are its tensors: the same names, shapes and kind of
    number (reals for parameters, whole numbers for counters); otherwise VisualizerError ``where (what differs)``."""
    wanted = model.state_dict()
    missing = [k for k in wanted if k not in weights]
    extra = [k for k in weights if k not in wanted]
    problem = ""
    if missing or extra:
        problem = (f"missing {shown(missing[0])}" if missing else f"unexpected {shown(extra[0])}") + \
            f"; {len(missing)} missing, {len(extra)} unexpected"
    else:
        for name, tensor in wanted.items():
            got = weights[name]
            if tuple(got.shape) != tuple(tensor.shape):
                problem = f"{name} has shape {tuple(got.shape)}; the network's is {tuple(tensor.shape)}"
            elif got.dtype.is_floating_point != tensor.dtype.is_floating_point or got.dtype == torch.bool:
                problem = f"{name} holds {str(got.dtype).removeprefix('torch.')}; the network's holds " \
                          f"{str(tensor.dtype).removeprefix('torch.')}"
            if problem:
                break
    if not problem:
        try:
            model.load_state_dict(weights, strict=True)
            return model
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            problem = first.rstrip(":")
    raise VisualizerError(f"{where} ({problem})")
