"""Which torch device a run uses, and a message when the requested one is missing."""

from __future__ import annotations

import torch

from visualizer.core.experiment import DEVICES  # noqa: F401  (re-exported: the names a user may ask for)


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend and backend.is_available())


def available_devices() -> list[str]:
    """The devices present on this machine, CPU first."""
    found = ["cpu"]
    if torch.cuda.is_available():
        found.append("cuda")
    if _mps_available():
        found.append("mps")
    return found


def resolve_device(requested: str) -> tuple[torch.device, str]:
    """The device to use for ``requested`` (auto, cpu, cuda, mps) and a sentence saying what was chosen."""
    present = available_devices()
    if requested == "auto":
        if "cuda" in present:
            return torch.device("cuda"), f"Using CUDA ({torch.cuda.get_device_name(0)}), found by device = 'auto'."
        if "mps" in present:
            return torch.device("mps"), "Using Apple MPS, found by device = 'auto'."
        return torch.device("cpu"), "Using the CPU (no GPU found for device = 'auto')."
    if requested in present:
        return torch.device(requested), f"Using {requested.upper()}."
    return torch.device("cpu"), f"Device '{requested}' is not available here; falling back to the CPU."
