"""The sweep's grid: which fields of the experiment file vary and over which values (``--param FIELD=V1,V2`` or
``FIELD=LOW:HIGH:lin|log:N``), times the seeds; every combination is a trial, checked by the experiment file's own
rules before anything trains."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, fields

from visualizer.core import experiment as experiment_file
from visualizer.core.errors import ExperimentError, VisualizerError, choices

#: fields whose value is a name from a registry (or true/false): swept over a list of values, never a range
CHOICE_FIELDS = ("data.name", "model.activation", "model.batch_norm", "train.optimizer", "train.loss",
                 "train.schedule", "train.device", "train.regularization")
#: fields of the experiment that are not settings one sweeps (text, files, layer lists)
NOT_SWEPT = ("data.path", "data.target", "data.features", "model.layers")
#: most fields a map can show: two axes, and one heatmap per value of a third
MAX_AXES = 3
#: most trials one sweep may ask for (a typo such as 1e-4:1:log:1000 should not start a week of training)
MAX_TRIALS = 10_000


@dataclass(frozen=True)
class FieldInfo:
    """A sweepable field: its dotted name, its kind ('int', 'float', 'choice', 'widths') and whether its values
    are best shown on a log axis (learning rates, weight decay)."""

    name: str
    kind: str
    log: bool = False


def sweepable_fields() -> dict[str, FieldInfo]:
    """Every field of the experiment file a sweep may vary, by dotted name (with the optimizers' hyper-parameters:
    train.beta1, train.alpha, ...)."""
    from visualizer.core.model.optimizers import OPTIMIZERS

    hyper = {hp.name: hp for info in OPTIMIZERS.values() for hp in info.hyperparams}
    out: dict[str, FieldInfo] = {}
    for section, cls in experiment_file.SECTIONS.items():
        for f in fields(cls):
            name = f"{section}.{f.name}"
            if name in NOT_SWEPT or f.name == "hyper":
                continue
            if name in CHOICE_FIELDS:
                out[name] = FieldInfo(name, "choice")
            elif name == "model.hidden":
                out[name] = FieldInfo(name, "widths")
            elif str(f.type).startswith("int"):
                out[name] = FieldInfo(name, "int")
            elif str(f.type).startswith("float"):
                hp = hyper.get(f.name) if section == "train" else None
                out[name] = FieldInfo(name, "float", bool(hp and hp.log_scale))
    for name, hp in sorted(hyper.items()):
        out.setdefault(f"train.{name}", FieldInfo(f"train.{name}", "int" if hp.integer else "float", hp.log_scale))
    return out


@dataclass(frozen=True)
class SweepParam:
    """One swept field and its values, in order (numbers, names, true/false, or width lists for model.hidden)."""

    field: str
    values: tuple
    log: bool = False  # the values were asked for on a log scale (or the field is one): the map's axis is log

    def as_dict(self) -> dict:
        return {"field": self.field, "values": [list(v) if isinstance(v, tuple) else v for v in self.values],
                "log": self.log}


def _bad(text: str, message: str) -> VisualizerError:
    return VisualizerError(f"--param {text}: {message}")


def _number(token: str, info: FieldInfo, text: str):
    try:
        value = float(token)
    except ValueError:
        raise _bad(text, f"{token!r} is not a number; {info.name} takes numbers") from None
    if not math.isfinite(value):
        raise _bad(text, f"{token!r} is not a finite number")
    if info.kind == "int":
        if not value.is_integer():
            raise _bad(text, f"{token} is not a whole number; {info.name} takes integers")
        return int(value)
    return value


def _value(token: str, info: FieldInfo, text: str):
    token = token.strip()
    if not token:
        raise _bad(text, "an empty value; give V1,V2,... or LOW:HIGH:lin|log:N")
    if info.kind == "choice":
        if info.name == "model.batch_norm":
            if token.lower() not in ("true", "false"):
                raise _bad(text, f"{token!r} is not true or false")
            return token.lower() == "true"
        return token
    if info.kind == "widths":  # 16 (one layer), 16x16 (two layers of 16), 32x16 ...
        try:
            widths = tuple(int(w) for w in token.lower().split("x"))
        except ValueError:
            raise _bad(text, f"{token!r} is not a list of widths; write 16 or 16x16 (two layers of 16)") from None
        return widths
    return _number(token, info, text)


def _range(spec: str, info: FieldInfo, text: str) -> tuple[tuple, bool]:
    parts = spec.split(":")
    if len(parts) != 4 or parts[2].strip().lower() not in ("lin", "log"):
        raise _bad(text, "a range is LOW:HIGH:lin|log:N, e.g. 0.001:1:log:4")
    if info.kind not in ("int", "float"):
        raise _bad(text, f"{info.name} is not numeric; list its values: {info.name}=V1,V2,...")
    lo, hi = (_number(p, FieldInfo(info.name, "float"), text) for p in parts[:2])
    try:
        n = int(parts[3])
    except ValueError:
        raise _bad(text, f"{parts[3]!r} is not a number of values") from None
    if not 1 <= n <= 1000:
        raise _bad(text, f"{n} values; allowed: 1 to 1000")
    log = parts[2].strip().lower() == "log"
    if log and (lo <= 0 or hi <= 0):
        raise _bad(text, "a log range needs LOW and HIGH above 0")
    if n == 1:
        raw = [lo]
    elif log:
        raw = [math.exp(math.log(lo) + (math.log(hi) - math.log(lo)) * i / (n - 1)) for i in range(n)]
    else:
        raw = [lo + (hi - lo) * i / (n - 1) for i in range(n)]
    if info.kind == "int":
        raw = [int(round(v)) for v in raw]
    else:
        raw = [float(f"{v:.6g}") for v in raw]  # 0.0316228, not 0.031622776601683784: the table and axes read well
    return tuple(dict.fromkeys(raw)), log


def parse_param(text: str) -> SweepParam:
    """``FIELD=V1,V2,...`` or ``FIELD=LOW:HIGH:lin|log:N`` as a SweepParam; a field that is not sweepable or a
    malformed value is a VisualizerError naming it and what is allowed."""
    if "=" not in text:
        raise _bad(text, "expected FIELD=V1,V2,... or FIELD=LOW:HIGH:lin|log:N, e.g. train.lr=0.001:1:log:4")
    name, spec = (s.strip() for s in text.split("=", 1))
    known = sweepable_fields()
    if name not in known:
        raise _bad(text, f"'{name}' is not a field one can sweep; allowed: {choices(sorted(known))}")
    info = known[name]
    if ":" in spec and info.kind != "widths":
        values, log = _range(spec, info, text)
    else:
        values = tuple(dict.fromkeys(_value(t, info, text) for t in spec.split(",")))
        log = info.log and all(isinstance(v, (int, float)) and v > 0 for v in values)
    return SweepParam(name, values, log)


@dataclass(frozen=True)
class Trial:
    """One run of the sweep: its id (the folder under trials/), the swept values by field, the seed, and its
    experiment (the mapping of an experiment file)."""

    id: str
    values: dict
    seed: int
    experiment: dict


def _with(raw: dict, name: str, value) -> dict:
    section, key = name.split(".", 1)
    out = {k: dict(v) if isinstance(v, dict) else v for k, v in raw.items()}
    out.setdefault(section, {})
    out[section][key] = list(value) if isinstance(value, tuple) else value
    if name == "train.optimizer":  # the other optimizer's own settings (betas ...) do not carry over
        from visualizer.core.model.optimizers import OPTIMIZERS

        reads = {hp.name for hp in OPTIMIZERS[value].hyperparams} if value in OPTIMIZERS else set()
        others = {hp.name for info in OPTIMIZERS.values() for hp in info.hyperparams} - reads - {"lr"}
        for k in others & set(out["train"]):
            del out["train"][k]
    return out


def _check_read(exp, params: list[SweepParam]) -> None:
    """A swept hyper-parameter the trial's optimizer does not read would give the same run in every cell."""
    from visualizer.core.model.optimizers import OPTIMIZERS

    reads = {hp.name for hp in OPTIMIZERS[exp.train.optimizer].hyperparams}
    hyper = {hp.name for info in OPTIMIZERS.values() for hp in info.hyperparams}
    for p in params:
        key = p.field.split(".", 1)[1]
        if p.field.startswith("train.") and key in hyper and key not in reads:
            users = [name for name, info in OPTIMIZERS.items() if key in {hp.name for hp in info.hyperparams}]
            raise ExperimentError(p.field, f"the optimizer '{exp.train.optimizer}' does not use it (it reads "
                                  f"{choices(sorted(reads))}); choose one that does ({choices(users)}), e.g. "
                                  f"--param train.optimizer={users[0]}")


def build_trials(exp, params: list[SweepParam], seeds: int) -> list[Trial]:
    """Every combination of the params' values, times ``seeds`` seeds (train.seed, train.seed + 1, ...), each
    checked as an experiment file would be; a bad combination is an ExperimentError naming the field."""
    if not params:
        raise VisualizerError("--param: give at least one field to sweep, e.g. --param train.lr=0.001:1:log:4")
    names = [p.field for p in params]
    twice = {n for n in names if names.count(n) > 1}
    if twice:
        raise VisualizerError(f"--param: {', '.join(sorted(twice))} given twice; give each field once")
    axes = [p for p in params if len(p.values) > 1]
    if len(axes) > MAX_AXES:
        raise VisualizerError(f"--param: {len(axes)} fields with several values; allowed: 1 to {MAX_AXES} (a "
                              "field with one value is a fixed setting)")
    if not 1 <= seeds <= 100:
        raise VisualizerError(f"--seeds: {seeds} is out of range; allowed: 1 to 100")
    if seeds > 1 and "train.seed" in names:
        raise VisualizerError("--seeds: train.seed is swept itself; give --seeds 1 or drop the train.seed param")
    total = math.prod(len(p.values) for p in params) * seeds
    if total > MAX_TRIALS:
        raise VisualizerError(f"--param: {total:,} trials; allowed: at most {MAX_TRIALS:,}")
    base = experiment_file.to_dict(exp)
    trials = []
    for combo in itertools.product(*(p.values for p in params)):
        raw = base
        for p, value in zip(params, combo):
            raw = _with(raw, p.field, value)
        for k in range(seeds):
            seeded = raw if seeds == 1 else _with(raw, "train.seed", int(raw["train"].get("seed", 0)) + k)
            checked = experiment_file.from_dict(seeded)
            _check_read(checked, params)
            trials.append(Trial(f"{len(trials):04d}", dict(zip(names, combo)), checked.train.seed,
                                experiment_file.to_dict(checked)))
    return trials


def suggested_values(name: str, exp) -> str:
    """A first range for a field in the sweep window, in --param syntax: learning rates over decades, momenta up to
    0.99, widths doubling, the experiment's own value halved and doubled, the common optimizers."""
    fixed = {"train.lr": "0.001:1:log:4", "train.momentum": "0,0.5,0.9,0.99", "model.hidden": "4,8,16,32",
             "train.optimizer": "sgd,momentum,adam", "model.activation": "tanh,relu", "model.batch_norm": "false,true",
             "train.weight_decay": "0.00001:0.01:log:4", "model.dropout": "0,0.1,0.3"}
    if name in fixed:
        return fixed[name]
    section, key = name.split(".", 1)
    value = experiment_file.to_dict(exp).get(section, {}).get(key)
    info = sweepable_fields().get(name)
    if info is None or info.kind == "choice" or value is None:
        return "" if value is None else cell_text(value)
    if info.log and value > 0:
        return f"{value / 10:g}:{value * 10:g}:log:3"
    if info.kind == "int":
        return ",".join(str(v) for v in dict.fromkeys(max(1, int(value * f)) for f in (0.5, 1, 2)))
    return ",".join(f"{value * f:g}" for f in (0.5, 1, 2)) if value else "0,0.1,0.5"


def cell_text(value) -> str:
    """A value as --param writes it (true/false, 16x16, numbers as given)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return "x".join(str(v) for v in value)
    return str(value)
