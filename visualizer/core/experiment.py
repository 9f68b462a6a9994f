"""The experiment: the one description of a run, loaded from and saved to TOML (or JSON)."""

from __future__ import annotations

import json
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path

import tomli_w

from visualizer.core.errors import ExperimentError, VisualizerError, choices, shown
from visualizer.core.experiment_checks import (
    as_float,
    check_keys,
    type_name,
    want_bool,
    want_float,
    want_int,
    want_name,
    want_path,
    want_setting,
    want_str,
)
from visualizer.core.files import atomic_write_bytes, atomic_write_text, read_text_bounded  # noqa: F401
from visualizer.core.model.schedules import SCHEDULE_FIELDS, SCHEDULES


@dataclass(frozen=True)
class DataSpec:
    """Which data set, how much of it, and how it is split."""

    name: str = "moons"
    samples: int = 1000
    noise: float = 0.2
    classes: int = 3
    path: str = ""
    target: str = ""
    val_fraction: float = 0.2
    seed: int = 0
    features: tuple[str, ...] = ("x1", "x2")


@dataclass(frozen=True)
class ModelSpec:
    """The network: an MLP (hidden widths, one activation per hidden layer), or a layer list (``layers``, text such
    as "conv 8 3x3": see ``model.layers``) that replaces hidden and activation when it is not empty."""

    hidden: tuple[int, ...] = (16, 16)
    activation: tuple[str, ...] = ("tanh", "tanh")
    dropout: float = 0.0
    batch_norm: bool = False
    layers: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrainSpec:
    """Optimizer, loss, schedule and the length of training.

    The hyper-parameters (``lr``, ``momentum``, ``weight_decay`` and the ``hyper`` pairs) hold only the values the
    experiment chose: None, or a key left out of ``hyper``, means the chosen optimizer's registry default, so that
    a file without ``lr`` trains Adam at Adam's default and AdamW with its weight decay. ``hyper_values`` resolves
    them; saving writes only the chosen ones.
    """

    optimizer: str = "adam"
    lr: float | None = None
    momentum: float | None = None
    weight_decay: float | None = None
    batch_size: int = 32
    epochs: int = 100
    loss: str = "auto"
    schedule: str = "constant"
    step_size: int = int(SCHEDULE_FIELDS["step_size"].default)
    gamma: float = SCHEDULE_FIELDS["gamma"].default
    device: str = "auto"
    seed: int = 0
    eval_every: int = 0
    hyper: tuple[tuple[str, float], ...] = ()
    regularization: str = "none"  # a penalty added to the loss (core.model.regularization), not weight decay
    regularization_rate: float = 0.001


@dataclass(frozen=True)
class LabSpec:
    """What the optimization lab measures while the run trains (0: off): the sharpness every ``sharpness_every``
    steps (core.lab.sharpness) on the training set, or a fixed seeded subset of ``sharpness_samples`` of it when it
    is larger (0: always the whole set), and the per-layer training health every ``health_every`` steps
    (core.lab.health)."""

    sharpness_every: int = 0
    health_every: int = 0
    sharpness_samples: int = 512


@dataclass(frozen=True)
class Experiment:
    data: DataSpec = field(default_factory=DataSpec)
    model: ModelSpec = field(default_factory=ModelSpec)
    train: TrainSpec = field(default_factory=TrainSpec)
    title: str = ""
    description: str = ""
    lab: LabSpec = field(default_factory=LabSpec)


#: an experiment file is a few hundred bytes; anything beyond this is not one
MAX_FILE_BYTES = 1024 * 1024
SECTIONS = {"data": DataSpec, "model": ModelSpec, "train": TrainSpec, "lab": LabSpec}
TOP_LEVEL = ("title", "description")
#: hyper-parameters with a TrainSpec field of their own; the others live in TrainSpec.hyper
CORE_HYPER = ("lr", "momentum", "weight_decay")
DEVICES = ("auto", "cpu", "cuda", "mps")
def _parse_data(t: dict) -> DataSpec:
    from visualizer.core.data.features import parse_features
    from visualizer.core.data.sets import DATASETS, check_features

    check_keys("data", t, [f.name for f in fields(DataSpec)])
    d = DataSpec()
    spec = DataSpec(
        name=want_name("data.name", t.get("name", d.name), list(DATASETS)),
        samples=want_int("data.samples", t.get("samples", d.samples), 10, 100_000),
        noise=want_float("data.noise", t.get("noise", d.noise), 0.0, 5.0),
        classes=want_int("data.classes", t.get("classes", d.classes), 2, 10),
        path=want_path("data.path", t.get("path", d.path)),
        target=want_str("data.target", t.get("target", d.target)),
        val_fraction=want_float("data.val_fraction", t.get("val_fraction", d.val_fraction), 0.0, 0.9),
        seed=want_int("data.seed", t.get("seed", d.seed), 0, 2**31 - 1),
        features=parse_features(t.get("features", list(d.features))),
    )
    check_features(spec)
    return spec


def _parse_model(t: dict, data_name: str = "") -> ModelSpec:
    from visualizer.core.model.layers import layers_of_table
    from visualizer.core.model.nets import ACTIVATIONS, MAX_LAYERS, MAX_WIDTH

    check_keys("model", t, [f.name for f in fields(ModelSpec)])
    if layers := layers_of_table(t, data_name):
        return ModelSpec(hidden=(), activation=(), layers=layers)
    hidden = t.get("hidden", list(ModelSpec.hidden))
    if isinstance(hidden, int) and not isinstance(hidden, bool):
        hidden = [hidden]
    if not isinstance(hidden, list):
        raise ExperimentError("model.hidden", f"{shown(hidden)} is {type_name(hidden)}; expected a list of widths "
                              "such as [16, 16] ([] for a linear model)")
    if len(hidden) > MAX_LAYERS:
        raise ExperimentError("model.hidden", f"{len(hidden)} hidden layers; allowed: at most {MAX_LAYERS}")
    widths = tuple(want_int(f"model.hidden[{i}]", w, 1, MAX_WIDTH) for i, w in enumerate(hidden))
    act = t.get("activation", "tanh")
    if isinstance(act, str):
        acts = (want_name("model.activation", act, list(ACTIVATIONS)),) * len(widths)
    elif isinstance(act, list):
        if len(act) != len(widths):
            raise ExperimentError("model.activation", f"{len(act)} activations for {len(widths)} hidden layers; "
                                  "give one name, or one per hidden layer")
        acts = tuple(want_name(f"model.activation[{i}]", a, list(ACTIVATIONS)) for i, a in enumerate(act))
    else:
        raise ExperimentError("model.activation", f"{shown(act)} is {type_name(act)}; expected a name or a list")
    return ModelSpec(
        hidden=widths, activation=acts,
        dropout=want_float("model.dropout", t.get("dropout", 0.0), 0.0, 0.9),
        batch_norm=want_bool("model.batch_norm", t.get("batch_norm", False)),
    )


def _parse_train(t: dict) -> TrainSpec:
    from visualizer.core.model import regularization
    from visualizer.core.model.losses import LOSSES
    from visualizer.core.model.optimizers import OPTIMIZERS, hyperparam_names

    core = [f.name for f in fields(TrainSpec) if f.name != "hyper"]
    extra = sorted(hyperparam_names() - set(core))
    check_keys("train", t, core + extra)
    d = TrainSpec()
    optimizer = want_name("train.optimizer", t.get("optimizer", d.optimizer), list(OPTIMIZERS))
    limits = {hp.name: hp for info in OPTIMIZERS.values() for hp in info.hyperparams}
    limits.update({hp.name: hp for hp in OPTIMIZERS[optimizer].hyperparams})  # the chosen one's ranges win

    def hyper(name: str) -> float | None:
        """The value the file sets, checked against the chosen optimizer's range; None when it sets none."""
        if name not in t:
            return None
        hp = limits[name]
        value = as_float(f"train.{name}", t[name], hp.range_text())
        if not hp.allows(value):
            raise ExperimentError(f"train.{name}", f"{value:g} is out of range for {OPTIMIZERS[optimizer].label}; "
                                  f"allowed: {hp.range_text()}")
        return value

    loss = t.get("loss", "auto")
    if loss != "auto":
        loss = want_name("train.loss", loss, list(LOSSES))
    return TrainSpec(
        optimizer=optimizer,
        **{name: hyper(name) for name in CORE_HYPER},
        batch_size=want_int("train.batch_size", t.get("batch_size", d.batch_size), 0, 1_000_000),
        epochs=want_int("train.epochs", t.get("epochs", d.epochs), 1, 1_000_000),
        loss=loss,
        schedule=want_name("train.schedule", t.get("schedule", d.schedule), list(SCHEDULES)),
        **{name: want_setting(f"train.{name}", t.get(name, getattr(d, name)), hp)
           for name, hp in SCHEDULE_FIELDS.items()},
        device=want_name("train.device", t.get("device", d.device), list(DEVICES)),
        seed=want_int("train.seed", t.get("seed", d.seed), 0, 2**31 - 1),
        eval_every=want_int("train.eval_every", t.get("eval_every", d.eval_every), 0, 1_000_000),
        hyper=tuple((k, hyper(k)) for k in extra if k in t),
        **regularization.parse(t),
    )


def _parse_lab(t: dict) -> LabSpec:
    check_keys("lab", t, [f.name for f in fields(LabSpec)])
    return LabSpec(**{f.name: want_int(f"lab.{f.name}", t.get(f.name, f.default), 0, 1_000_000)
                      for f in fields(LabSpec)})


def from_dict(raw: dict) -> Experiment:
    """Build and check an Experiment from a parsed TOML/JSON mapping; raises ExperimentError."""
    check_keys("", raw, [*SECTIONS, *TOP_LEVEL])
    for key in TOP_LEVEL:
        want_str(key, raw.get(key, ""))
    data = _parse_data(raw.get("data", {}))
    return Experiment(
        data=data,
        model=_parse_model(raw.get("model", {}), data.name),
        train=_parse_train(raw.get("train", {})),
        title=raw.get("title", ""),
        description=raw.get("description", ""),
        lab=_parse_lab(raw.get("lab", {})),
    )


def to_dict(exp: Experiment) -> dict:
    """The mapping that from_dict reads back into an equal Experiment (for TOML or JSON)."""
    data = asdict(exp.data)
    data["features"] = list(exp.data.features)
    if exp.data.features == DataSpec.features:  # the plain coordinates: files from before features stay as they were
        del data["features"]
    model = {"hidden": list(exp.model.hidden), "dropout": exp.model.dropout, "batch_norm": exp.model.batch_norm}
    acts = exp.model.activation
    model["activation"] = acts[0] if acts and len(set(acts)) == 1 else list(acts) if acts else "tanh"
    if exp.model.layers:
        model = {"layers": list(exp.model.layers)}
    unset = ("regularization", "regularization_rate") if exp.train.regularization == "none" else ()  # as before
    train = {k: v for k, v in asdict(exp.train).items() if k not in ("hyper", *unset) and v is not None}
    train.update(dict(exp.train.hyper))
    out: dict = {}
    if exp.title:
        out["title"] = exp.title
    if exp.description:
        out["description"] = exp.description
    out.update(data=data, model=model, train=train)
    if exp.lab != LabSpec():  # only when the lab measures something: files without it stay as they were
        out["lab"] = asdict(exp.lab)
    return out


def loads(text: str, fmt: str = "toml", source: str = "experiment") -> Experiment:
    """Parse experiment text (TOML or JSON; a leading byte-order mark is dropped); syntax errors name the source,
    line and column. Whatever the text holds, the result is an Experiment or a one-line VisualizerError."""
    if not isinstance(text, str):
        raise VisualizerError(f"{source}: expected {fmt.upper()} text, got {type_name(text)}")
    text = text.removeprefix("\ufeff")
    try:
        raw = json.loads(text) if fmt == "json" else tomllib.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        where = _open_quote(text) if "end of document" in str(exc) else None
        hint = f"; the quote at line {where[0]}, column {where[1]} is never closed" if where else ""
        raise VisualizerError(f"{source}: not valid {fmt.upper()}: {exc}{hint}") from None
    except RecursionError:
        raise VisualizerError(f"{source}: not an experiment: its lists or tables are nested too deeply") from None
    except ValueError:  # Python's limit on the digits of an integer (4300): no experiment value needs that many
        raise VisualizerError(f"{source}: not an experiment: it holds an integer with thousands of digits") from None
    if not isinstance(raw, dict):
        raise VisualizerError(f"{source}: expected a table of [data], [model] and [train] sections")
    return from_dict(raw)


def _open_quote(text: str) -> tuple[int, int] | None:
    """(line, column) of the first TOML string that is never closed (tomllib says only 'at end of document')."""
    i, n = 0, len(text)
    while i < n:
        if text[i] == "#":
            end = text.find("\n", i)
            i = n if end < 0 else end
        elif text.startswith(('"""', "'''"), i):
            end = text.find(text[i:i + 3], i + 3)
            if end < 0:
                break
            i = end + 3
        elif text[i] in "\"'":
            j = i + 1
            while j < n and text[j] not in (text[i], "\n"):
                j += 2 if text[i] == '"' and text[j] == "\\" else 1
            if j >= n or text[j] == "\n":
                break
            i = j + 1
        else:
            i += 1
    else:
        return None
    line = text.count("\n", 0, i) + 1
    return line, i - (text.rfind("\n", 0, i) + 1) + 1


def load(path: str | Path) -> Experiment:
    """Read an experiment file (.toml, or .json); raises VisualizerError with a one-line message."""
    path = Path(path)
    text = read_text_bounded(path, MAX_FILE_BYTES, "experiment file")
    fmt = "json" if path.suffix.lower() == ".json" else "toml"
    return loads(text, fmt, source=str(path))


def dumps(exp: Experiment, fmt: str = "toml") -> str:
    if fmt == "json":
        return json.dumps(to_dict(exp), indent=2) + "\n"
    return tomli_w.dumps(to_dict(exp))


def save(exp: Experiment, path: str | Path) -> Path:
    """Write the experiment atomically (temporary file, then rename): an existing file is never half-written."""
    path = Path(path)
    fmt = "json" if path.suffix.lower() == ".json" else "toml"
    return atomic_write_text(path, dumps(exp, fmt))


def resolve(exp: Experiment, dataset) -> Experiment:
    """Fill in what depends on the data (the 'auto' loss) and check that the loss fits the task."""
    from visualizer.core.model.losses import LOSSES, default_loss, losses_for, task_kind

    loss = exp.train.loss
    if loss == "auto":
        loss = default_loss(dataset.task, dataset.n_classes)
    if not LOSSES[loss].fits(task_kind(dataset.task, dataset.n_classes)):
        what = "regression" if dataset.task == "regression" else f"{dataset.n_classes}-class"
        raise ExperimentError("train.loss", f"'{loss}' does not fit the {what} data set '{exp.data.name}'; "
                              f"allowed: {choices(losses_for(dataset.task, dataset.n_classes))}")
    return replace(exp, train=replace(exp.train, loss=loss))


def chosen_hyper(train: TrainSpec) -> dict[str, float]:
    """The hyper-parameter values the experiment sets itself, by name (none of the registry's defaults)."""
    values = dict(train.hyper)
    values.update({name: getattr(train, name) for name in CORE_HYPER if getattr(train, name) is not None})
    return values


def hyper_values(train: TrainSpec) -> dict[str, float]:
    """Every hyper-parameter the chosen optimizer reads: the experiment's values over the optimizer's registry
    defaults. The one resolution of a TrainSpec's hyper-parameters: training, panels and races all call it."""
    from visualizer.core.model.optimizers import with_defaults

    return with_defaults(train.optimizer, chosen_hyper(train))
