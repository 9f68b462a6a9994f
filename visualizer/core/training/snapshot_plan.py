"""How many snapshots a run may take, decided before it starts: every snapshot holds all the network's parameters
(the path on the landscape, the replay's weights), so a wide network at the usual rate would fill a disk —
``hidden = [4096] * 8`` (117 million parameters, 470 MB a snapshot) at 200 snapshots projects ~94 GB. The run
file's size is estimated from snapshots x parameters; above MAX_RUN_FILE_BYTES the snapshots are spaced out so
that it fits (the first and the last are always taken), and the run says so once."""

from __future__ import annotations

import math
from dataclasses import dataclass

#: the most a run file should grow to: beyond it a run takes fewer snapshots
MAX_RUN_FILE_BYTES = 2 * 1024**3
#: a step's row in the run file (nine numbers and SQLite's own bytes), measured at about 60: rounded up
STEP_ROW_BYTES = 80
#: one layer's histograms in a snapshot: edges and counts of weights and gradients, four .npy blobs
HISTOGRAM_BYTES = 4 * 128 + 2 * (41 + 40) * 8
#: a snapshot's own row and its .npy headers
SNAPSHOT_OVERHEAD_BYTES = 1024
PARAMETER_BYTES = 4  # float32
MIN_SNAPSHOTS = 2  # the first and the last: a path needs both ends


@dataclass(frozen=True)
class SnapshotPlan:
    """The spacing a run's snapshots get: at least ``every_steps`` steps apart (1: as the session likes), about
    ``snapshots`` of them, a run file of about ``estimate_bytes``, and ``note`` for the user when they were spaced
    out ('' otherwise)."""

    every_steps: int
    snapshots: int
    estimate_bytes: int
    note: str = ""


def snapshot_bytes(n_params: int, n_layers: int, picture_values: int = 0) -> int:
    """The bytes one snapshot adds to a run file: the parameters, the layers' histograms and the prediction's
    picture (``picture_values`` numbers: a decision boundary's grid of probabilities, a confusion matrix)."""
    return (PARAMETER_BYTES * n_params + HISTOGRAM_BYTES * n_layers + 8 * picture_values
            + SNAPSHOT_OVERHEAD_BYTES)


def _size(value: float) -> str:
    return f"{value / 1024**3:.1f} GB" if value >= 1024**3 else f"{value / 1024**2:.0f} MB"


def plan_snapshots(n_params: int, n_layers: int, total_steps: int, wanted: int, picture_values: int = 0,
                   limit: int | None = None) -> SnapshotPlan:
    """The snapshots of a run of ``total_steps`` steps that would take up to ``wanted`` of them, within ``limit``
    bytes of run file (default MAX_RUN_FILE_BYTES; its steps and final weights counted too)."""
    limit = MAX_RUN_FILE_BYTES if limit is None else limit
    each = snapshot_bytes(n_params, n_layers, picture_values)
    fixed = STEP_ROW_BYTES * (total_steps + 1) + PARAMETER_BYTES * n_params
    wanted = max(MIN_SNAPSHOTS, wanted)
    estimate = fixed + wanted * each
    if estimate <= limit:
        return SnapshotPlan(1, wanted, estimate)
    fits = max(MIN_SNAPSHOTS, (limit - fixed) // each)
    every = max(1, math.ceil(total_steps / max(1, fits - 1)))
    snapshots = min(wanted, total_steps // every + 1 + (total_steps % every != 0))
    planned = fixed + snapshots * each
    note = (f"The run file would grow to about {_size(estimate)} ({wanted:,} snapshots of {n_params:,} parameters, "
            f"{_size(each)} each); to stay under {_size(limit)} it takes {snapshots:,} snapshots, one every "
            f"{every:,} steps at most.")
    if planned > limit:
        note += f" Even so it will be about {_size(planned)}: a network this large fills a disk fast."
    return SnapshotPlan(every, snapshots, planned, note)
