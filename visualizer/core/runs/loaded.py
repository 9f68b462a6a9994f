"""A trained run loaded back, as compression and the landscape command see it: the resolved experiment, its data,
the trained network (CPU, eval mode) and its loss.

``load_run`` takes the run file or the folder holding it. A folder from an older version without a run file still
loads from its experiment.toml and model.safetensors (and trajectory.npz for the path), never a pickle.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from visualizer.core import experiment as experiment_file
from visualizer.core.data.images import dataset_image_shape
from visualizer.core.data.sets import Dataset, load_dataset
from visualizer.core.data.tensors import as_inputs, as_targets
from visualizer.core.errors import VisualizerError
from visualizer.core.experiment import Experiment
from visualizer.core.model.losses import LOSSES, LossInfo
from visualizer.core.model.nets import Network, build_model_for, output_size, spec_work
from visualizer.core.model.weights import load_into, load_weights
from visualizer.core.runs.reader import RunReader, Trajectory, open_run
from visualizer.core.runs.schema import RUN_FILE, SUFFIX

WEIGHTS_FILE = "model.safetensors"
EXPERIMENT_FILE = "experiment.toml"
#: the trajectory an older `visualizer landscape` wrote beside the run's files (now the run file holds it)
TRAJECTORY_FILE = "trajectory.npz"


@dataclass(frozen=True, eq=False)
class LoadedRun:
    """A run read back: where from (its run file, or an older run folder), the resolved experiment, its data, the
    trained model (eval mode, CPU), its loss."""

    path: Path
    experiment: Experiment
    dataset: Dataset
    model: Network
    loss_info: LossInfo

    @classmethod
    def from_reader(cls, reader: RunReader, dataset: Dataset | None = None) -> LoadedRun:
        """The run of an open run file; ``dataset`` saves loading it again when the caller has it."""
        ds = reader.dataset() if dataset is None else dataset
        exp = experiment_file.resolve(reader.experiment, ds)
        return cls(reader.path, exp, ds, reader.model(ds), LOSSES[exp.train.loss])

    @property
    def task(self) -> str:
        return self.dataset.task

    @property
    def metric_name(self) -> str:
        """'accuracy' for classification, 'r2' for regression: the key used in reports."""
        return "accuracy" if self.task == "classification" else "r2"

    @property
    def eval_set_name(self) -> str:
        """Which set the reports measure: 'validation', or 'training' when the run holds none out."""
        return "validation" if len(self.dataset.X_val) else "training"

    def eval_tensors(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The validation set (the training set if there is none) as tensors."""
        return self.tensors("validation" if len(self.dataset.X_val) else "training")

    def tensors(self, which: str) -> tuple[torch.Tensor, torch.Tensor]:
        ds = self.dataset
        X, y = (ds.X_val, ds.y_val) if which == "validation" else (ds.X_train, ds.y_train)
        return as_inputs(X), as_targets(y, ds.task)

    def n_outputs(self) -> int:
        return output_size(self.loss_info, self.dataset)

    def widths(self) -> list[int]:
        """The network's layer widths: inputs, hidden layers, outputs (what its work per sample is made of); for a
        layer list, two widths whose product is its multiply-adds per sample."""
        n_in = self.dataset.n_features
        if self.experiment.model.layers:
            work = spec_work(self.experiment.model, n_in, self.n_outputs(), dataset_image_shape(self.dataset))
            return [n_in, max(1, work // n_in)]
        return [n_in, *self.experiment.model.hidden, self.n_outputs()]

    def trajectory(self, n: int | None = None) -> Trajectory:
        """The recorded path of the weights (see RunReader.trajectory); an older run folder's trajectory.npz;
        empty when the run recorded none."""
        n_params = sum(p.numel() for p in self.model.parameters())
        if self.path.is_dir():
            return _folder_trajectory(self.path, n_params)
        with RunReader(self.path) as reader:
            path = reader.trajectory(n)
        if len(path) and path.params.shape[1] != n_params:
            raise VisualizerError(f"{self.path}: the snapshots hold {path.params.shape[1]} parameters; the network "
                                  f"has {n_params}")
        return path


def load_run(path: str | Path, base_dir: str | Path | None = None) -> LoadedRun:
    """Read a run given as its run file or the folder holding it; ``base_dir`` resolves the relative CSV path of
    an older run (default: the run's folder).

    Raises VisualizerError with a one-line message when the run, its experiment or its weights are missing or
    do not fit together.
    """
    path = Path(path)
    try:
        older = path.is_dir() and not any(path.glob(f"run*{SUFFIX}"))
    except (OSError, ValueError):  # a name the system refuses: open_run says so in one line
        older = False
    if older:
        if not (path / EXPERIMENT_FILE).exists():
            raise VisualizerError(f"{path} holds no run: it has no {RUN_FILE} (a run file) and has no "
                                  f"{EXPERIMENT_FILE} (an older run folder); give a run file (.sqlite) or the "
                                  "folder holding one (what `visualizer run` writes)")
        return _load_folder(path, base_dir)
    with open_run(path) as reader:
        ds = reader.dataset(base_dir)
        return LoadedRun.from_reader(reader, ds)


def _load_folder(run_dir: Path, base_dir: str | Path | None) -> LoadedRun:
    """An older run folder without a run file: experiment.toml and model.safetensors."""
    exp_path, weights_path = run_dir / EXPERIMENT_FILE, run_dir / WEIGHTS_FILE
    if not weights_path.is_file():
        raise VisualizerError(f"{run_dir} has no {WEIGHTS_FILE}: train it with `visualizer run` first")
    exp = experiment_file.load(exp_path)
    dataset = load_dataset(exp.data, Path(base_dir) if base_dir is not None else run_dir)
    exp = experiment_file.resolve(exp, dataset)
    loss = LOSSES[exp.train.loss]
    model = build_model_for(exp.model, dataset, loss)
    load_into(model, load_weights(weights_path), f"{weights_path}: the weights do not fit the network of "
              f"{exp_path.name}")
    model.eval()
    return LoadedRun(run_dir, exp, dataset, model, loss)


def _folder_trajectory(run_dir: Path, n_params: int) -> Trajectory:
    path = run_dir / TRAJECTORY_FILE
    if not path.is_file():
        return Trajectory(np.zeros(0, np.int64), np.zeros((0, n_params), np.float32))
    arrays = read_npz(path, ("params", "steps"), "trajectory")
    if "params" not in arrays:
        raise VisualizerError(f"{path}: not a readable trajectory (it holds no 'params')")
    params = arrays["params"].astype(np.float32)
    steps = arrays["steps"].astype(np.int64) if "steps" in arrays else np.arange(len(params))
    if params.ndim != 2 or params.shape[1] != n_params or steps.shape != (len(params),):
        raise VisualizerError(f"{path}: the trajectory has shape {params.shape}; the network has {n_params} "
                              "parameters")
    return Trajectory(steps, params)


#: the largest .npz member read (an older run's trajectory: a few hundred snapshots of the network's parameters)
MAX_NPZ_MEMBER_BYTES = 1024**3


def read_npz(path: Path, names: tuple[str, ...], what: str) -> dict[str, np.ndarray]:
    """The arrays ``names`` of an .npz file (those it holds), read bounded and never unpickled: each member's size is
    checked before it is read and its .npy header against its bytes (see ``schema.array``)."""
    import zipfile

    from visualizer.core.files import open_regular
    from visualizer.core.runs.schema import RecordError, array

    out = {}
    try:
        with open_regular(path, what) as (fd, _size), open(fd, "rb", closefd=False) as fh, zipfile.ZipFile(fh) as z:
            for name in names:
                try:
                    info = z.getinfo(f"{name}.npy")
                except KeyError:
                    continue
                if info.file_size > MAX_NPZ_MEMBER_BYTES:
                    raise VisualizerError(f"{path}: its '{name}' is {info.file_size:,} bytes; at most "
                                          f"{MAX_NPZ_MEMBER_BYTES:,} are read")
                with z.open(info) as member:
                    out[name] = array(member.read(MAX_NPZ_MEMBER_BYTES + 1))
    except (OSError, zipfile.BadZipFile, RecordError, EOFError, RuntimeError, ValueError) as exc:
        raise VisualizerError(f"{path}: not a readable {what} ({str(exc).splitlines()[0] if str(exc) else exc!r})"
                              ) from None
    return out
