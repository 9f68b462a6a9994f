"""Model weights on disk as safetensors: writing is atomic, reading never unpickles."""

from __future__ import annotations

from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_bytes
from safetensors.torch import save as save_bytes

from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import atomic_write_bytes


def save_weights(model: torch.nn.Module, path: str | Path, metadata: dict[str, str] | None = None) -> Path:
    """Write the model's state_dict (parameters and batch-norm buffers) as safetensors."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    return atomic_write_bytes(Path(path), save_bytes(tensors, metadata=metadata))


def load_weights(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a safetensors file into a dict of tensors; a bad file raises VisualizerError."""
    path = Path(path)
    try:
        return load_bytes(path.read_bytes())
    except FileNotFoundError:
        raise VisualizerError(f"{path}: no such weights file") from None
    except (SafetensorError, OSError, ValueError) as exc:
        raise VisualizerError(f"{path}: not a readable safetensors file ({exc})") from None
