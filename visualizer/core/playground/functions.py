"""The analytic playground: two-parameter test functions with exact surfaces, and races of optimizers on them.

No Qt here. A ``Race`` steps every ``Racer`` (an optimizer of the app's registry with its hyper-parameters) from the
same start on one ``TestFunction`` and records each one's path and values; presets are small TOML files.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from visualizer.core.errors import ExperimentError, VisualizerError, choices, plain, shown
from visualizer.core.files import KIB, read_text_bounded
from visualizer.core.model.optimizers import OPTIMIZERS, make_optimizer, with_defaults
from visualizer.core.resources import resources_dir

MAX_RACERS = 6
PRESETS_DIR = resources_dir() / "playground"


class PlaygroundError(ExperimentError):
    """A bad playground input: ``key: message; allowed: ...`` on one line."""

    def __init__(self, key: str, message: str, allowed: str) -> None:
        super().__init__(key, f"{message}; allowed: {allowed}")


@dataclass(frozen=True)
class TestFunction:
    """A function of (x, y) with known global minima, its default view and start."""

    __test__ = False  # not a pytest test class, despite the name

    key: str
    label: str
    formula: str
    f: Callable[[torch.Tensor], torch.Tensor]  # (..., 2) -> (...), differentiable
    x_range: tuple[float, float]
    y_range: tuple[float, float]
    start: tuple[float, float]
    minima: tuple[tuple[float, float], ...]
    log_scale: bool  # colour (and loss plot) on a log scale: values span many decades
    bound: float  # a racer with |x| or |y| beyond this has diverged

    def value(self, x: float, y: float) -> float:
        """f(x, y) as a float (float64 arithmetic)."""
        return float(self.f(torch.tensor([x, y], dtype=torch.float64)))

    def nearest_minimum(self, point: Sequence[float]) -> tuple[float, float] | None:
        """The global minimum closest to ``point``; None when f has none (the saddle)."""
        if not self.minima:
            return None
        p = np.asarray(point, dtype=np.float64)
        return min(self.minima, key=lambda m: float(np.hypot(*(p - m))))

    def distance_to_minimum(self, point: Sequence[float]) -> float | None:
        """Euclidean distance from ``point`` to the nearest global minimum; None without minima."""
        m = self.nearest_minimum(point)
        return None if m is None else float(np.hypot(point[0] - m[0], point[1] - m[1]))


def _xy(p: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    return p[..., 0], p[..., 1]


def _rosenbrock(p: torch.Tensor) -> torch.Tensor:
    x, y = _xy(p)
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _beale(p: torch.Tensor) -> torch.Tensor:
    x, y = _xy(p)
    return (1.5 - x + x * y) ** 2 + (2.25 - x + x * y**2) ** 2 + (2.625 - x + x * y**3) ** 2


def _himmelblau(p: torch.Tensor) -> torch.Tensor:
    x, y = _xy(p)
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _rastrigin(p: torch.Tensor) -> torch.Tensor:
    x, y = _xy(p)
    return 20 + x**2 - 10 * torch.cos(2 * math.pi * x) + y**2 - 10 * torch.cos(2 * math.pi * y)


def _saddle(p: torch.Tensor) -> torch.Tensor:
    x, y = _xy(p)
    return x**2 - y**2


KAPPA = 50.0


def _ill_conditioned(p: torch.Tensor) -> torch.Tensor:
    x, y = _xy(p)
    return 0.5 * (x**2 + KAPPA * y**2)


TEST_FUNCTIONS: dict[str, TestFunction] = {fn.key: fn for fn in (
    TestFunction("rosenbrock", "Rosenbrock (a=1, b=100)", "f(x, y) = (1 − x)² + 100 (y − x²)²",
                 _rosenbrock, (-2.0, 2.0), (-1.0, 3.0), (-1.5, 2.0), ((1.0, 1.0),), True, 100.0),
    TestFunction("beale", "Beale", "f(x, y) = (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
                 _beale, (-4.5, 4.5), (-4.5, 4.5), (1.0, 1.5), ((3.0, 0.5),), True, 100.0),
    TestFunction("himmelblau", "Himmelblau", "f(x, y) = (x² + y − 11)² + (x + y² − 7)²",
                 _himmelblau, (-5.0, 5.0), (-5.0, 5.0), (-0.3, -0.9),
                 ((3.0, 2.0), (-2.805118086952745, 3.131312518250573), (-3.779310253377747, -3.283185991286170),
                  (3.584428340330492, -1.848126526964404)),
                 True, 100.0),
    TestFunction("rastrigin", "Rastrigin (2-D, A=10)", "f(x, y) = 20 + x² − 10 cos 2πx + y² − 10 cos 2πy",
                 _rastrigin, (-5.12, 5.12), (-5.12, 5.12), (3.3, -2.6), ((0.0, 0.0),), False, 100.0),
    TestFunction("saddle", "Saddle (x² − y²)", "f(x, y) = x² − y²   (no minimum: a racer that leaves |x|, |y| ≤ 4 "
                 "has diverged)", _saddle, (-2.0, 2.0), (-2.0, 2.0), (1.8, 0.01), (), False, 4.0),
    TestFunction("ill_conditioned", "Ill-conditioned quadratic (κ = 50, axis-aligned)",
                 "f(x, y) = ½ (x² + 50 y²)   (not rotated: the narrow valley lies along x)",
                 _ill_conditioned, (-4.0, 4.0), (-2.0, 2.0), (-3.5, 1.5), ((0.0, 0.0),), True, 100.0),
)}


def function_info(key: str) -> TestFunction:
    """The registry entry for ``key``; an unknown key raises PlaygroundError naming the allowed keys."""
    try:
        return TEST_FUNCTIONS[key]
    except KeyError:
        raise PlaygroundError("function", f"unknown function {shown(key)}", choices(TEST_FUNCTIONS)) from None





def surface(key: str, n: int = 200, x_range: tuple[float, float] | None = None,
            y_range: tuple[float, float] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The exact surface on an n x n grid of the function's domain: (xs, ys, Z) with Z[i, j] = f(xs[j], ys[i])."""
    fn = function_info(key)
    xs = np.linspace(*(x_range or fn.x_range), n)
    ys = np.linspace(*(y_range or fn.y_range), n)
    gx, gy = np.meshgrid(xs, ys)  # (len(ys), len(xs)): row i at ys[i]
    grid = torch.from_numpy(np.stack([gx, gy], axis=-1))
    with torch.no_grad():
        z = fn.f(grid).numpy()
    return xs, ys, z


# --- the race ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Racer:
    """One optimizer of the app's registry (``OPTIMIZERS``) with its hyper-parameters; missing ones default."""

    optimizer: str
    hyperparams: Mapping[str, float] = field(default_factory=dict)

    def values(self) -> dict[str, float]:
        """Every hyper-parameter this optimizer reads: the given ones over the registry's defaults."""
        return {name: float(value) for name, value in with_defaults(self.optimizer, self.hyperparams).items()}

    @property
    def label(self) -> str:
        """``Adam, α=0.1``: the optimizer and its learning rate, for legends."""
        return f"{OPTIMIZERS[self.optimizer].label}, α={self.values()['lr']:g}"


class Lane:
    """One racer running: its parameter, optimizer, and the path and values recorded so far."""

    def __init__(self, racer: Racer, fn: TestFunction, start: tuple[float, float], key: str) -> None:
        if racer.optimizer not in OPTIMIZERS:
            raise PlaygroundError(f"{key}.optimizer", f"unknown optimizer '{racer.optimizer}'", choices(OPTIMIZERS))
        info = OPTIMIZERS[racer.optimizer]
        names = {hp.name: hp for hp in info.hyperparams}
        for name, value in racer.hyperparams.items():
            if name not in names:
                raise PlaygroundError(f"{key}.{name}", f"{info.label} has no such hyper-parameter", choices(names))
            if not _is_number(value) or not names[name].allows(value):
                raise PlaygroundError(f"{key}.{plain(name)}", f"{shown(value)} is out of range",
                                      names[name].range_text())
        self.racer = racer
        self.fn = fn
        self.param = torch.nn.Parameter(torch.tensor(start, dtype=torch.float64))
        self.optimizer = make_optimizer(racer.optimizer, [self.param], racer.values())
        self._path = np.zeros((256, 2))
        self._losses = np.zeros(256)
        self._n = 1
        self._path[0] = start
        self._losses[0] = fn.value(*start)
        self.steps = 0
        self.diverged_at: int | None = None

    @property
    def path(self) -> np.ndarray:
        """(T, 2) positions: the start, then one per step (a non-finite last point is not recorded)."""
        return self._path[:self._n]

    @property
    def losses(self) -> np.ndarray:
        """f at each point of ``path``."""
        return self._losses[:self._n]

    @property
    def running(self) -> bool:
        return self.diverged_at is None

    @property
    def status(self) -> str:
        """``step 120 · f = 0.0012 · 0.03 from (1, 1)`` or ``diverged at step 7``."""
        if self.diverged_at is not None:
            return f"diverged at step {self.diverged_at}"
        p, value = self.path[-1], self.losses[-1]
        text = f"step {self.steps} · f = {value:.4g}"
        m = self.fn.nearest_minimum(p)
        if m is not None:
            text += f" · {float(np.hypot(p[0] - m[0], p[1] - m[1])):.3g} from ({m[0]:g}, {m[1]:g})"
        return text

    def step(self) -> None:
        """One optimizer step; a non-finite value or a point beyond the function's bound stops this lane."""
        if self.diverged_at is not None:
            return
        self.optimizer.zero_grad(set_to_none=False)
        self.fn.f(self.param).backward()
        self.optimizer.step()
        self.steps += 1
        with torch.no_grad():
            point = self.param.detach().numpy().copy()
            value = float(self.fn.f(self.param))
        finite = bool(np.all(np.isfinite(point))) and math.isfinite(value)
        if finite:
            self._append(point, value)
        if not finite or float(np.abs(point).max()) > self.fn.bound:
            self.diverged_at = self.steps

    def _append(self, point: np.ndarray, value: float) -> None:
        if self._n == len(self._losses):
            self._path = np.concatenate([self._path, np.zeros_like(self._path)])
            self._losses = np.concatenate([self._losses, np.zeros_like(self._losses)])
        self._path[self._n] = point
        self._losses[self._n] = value
        self._n += 1


class Race:
    """Up to ``MAX_RACERS`` optimizers from one start on one test function, stepped together."""

    def __init__(self, function_key: str, start: Sequence[float], racers: Sequence[Racer]) -> None:
        self.fn = function_info(function_key)
        if len(racers) > MAX_RACERS:
            raise PlaygroundError("racers", f"{len(racers)} racers", f"at most {MAX_RACERS}")
        start_xy = _start(start)
        self.start = start_xy
        self.racers = tuple(racers)
        self.lanes = [Lane(r, self.fn, start_xy, f"racers[{i}]") for i, r in enumerate(self.racers)]
        self.steps = 0

    @property
    def finished(self) -> bool:
        """True when every racer has diverged (or there are none)."""
        return not any(lane.running for lane in self.lanes)

    def step(self, n: int = 1) -> None:
        """Advance every racer that is still running by ``n`` steps."""
        for _ in range(int(n)):
            for lane in self.lanes:
                lane.step()
            self.steps += 1

    @property
    def paths(self) -> list[np.ndarray]:
        return [lane.path for lane in self.lanes]

    @property
    def losses(self) -> list[np.ndarray]:
        return [lane.losses for lane in self.lanes]


def _start(start: Sequence[float]) -> tuple[float, float]:
    try:
        x, y = (float(v) for v in start)
    except (TypeError, ValueError):
        raise PlaygroundError("start", f"expected [x, y], got {shown(start)}", "two finite numbers") from None
    except OverflowError:
        raise PlaygroundError("start", f"expected finite numbers, got {shown(start)}", "two finite numbers") from None
    if not (math.isfinite(x) and math.isfinite(y)):
        raise PlaygroundError("start", f"expected finite numbers, got {shown(start)}", "two finite numbers")
    return (x, y)


# --- presets -------------------------------------------------------------------------------------------------

MAX_STEPS = 100_000
_FLOAT_MAX = float(np.finfo(np.float64).max)
MAX_PRESET_BYTES = 256 * KIB  # a preset is a few hundred bytes: anything far larger is not one
_PRESET_KEYS = ("title", "description", "function", "start", "steps", "speed", "racers")


@dataclass(frozen=True)
class Preset:
    """A saved race: function, start, racers, how many steps (and at what speed, steps per second)."""

    title: str
    description: str
    function: str
    start: tuple[float, float]
    racers: tuple[Racer, ...]
    steps: int
    speed: float = 100.0

    def race(self) -> Race:
        return Race(self.function, self.start, self.racers)


def preset_paths() -> list[Path]:
    """The presets shipped in resources/playground/, sorted by name."""
    return sorted(PRESETS_DIR.glob("*.toml"))


def load_preset(path: str | Path) -> Preset:
    """Read a preset TOML file (bounded: a FIFO, a device or a huge file is refused unread); raises PlaygroundError
    (``key: message; allowed: ...``) for bad input."""
    path = Path(path)
    try:
        text = read_text_bounded(path, MAX_PRESET_BYTES, "playground preset")
    except VisualizerError as exc:
        raise PlaygroundError("file", f"cannot read {exc}", "a readable .toml file") from None
    try:
        raw = tomllib.loads(text)
    except (ValueError, RecursionError) as exc:  # a syntax error; an integer of 4300+ digits; nesting too deep
        problem = exc if isinstance(exc, tomllib.TOMLDecodeError) else "nested too deeply, or a number too long"
        raise PlaygroundError("file", f"{path.name} is not valid TOML ({problem})", "a TOML preset") from None
    return parse_preset(raw, default_title=path.stem.replace("_", " "))


def parse_preset(raw: Mapping, default_title: str = "preset") -> Preset:
    """Validate a preset's table (as read from TOML) and build the Preset."""
    for key in raw:
        if key not in _PRESET_KEYS:
            raise PlaygroundError(plain(key), "unknown key", choices(_PRESET_KEYS))
    for key in ("function", "start", "racers"):
        if key not in raw:
            raise PlaygroundError(key, "missing", _allowed(key))
    function = raw["function"]
    if not isinstance(function, str):
        raise PlaygroundError("function", f"expected a name, got {shown(function)}", choices(TEST_FUNCTIONS))
    function_info(function)
    start = raw["start"]
    if not isinstance(start, list) or len(start) != 2 or not all(_is_number(v) for v in start):
        raise PlaygroundError("start", f"expected [x, y], got {shown(start)}", "two finite numbers")
    steps = raw.get("steps", 1000)
    if not isinstance(steps, int) or isinstance(steps, bool) or not 1 <= steps <= MAX_STEPS:
        raise PlaygroundError("steps", f"expected a whole number, got {shown(steps)}", f"1 to {MAX_STEPS}")
    speed = raw.get("speed", 100.0)
    if not _is_number(speed) or not 1 <= speed <= 1000:
        raise PlaygroundError("speed", f"expected steps per second, got {shown(speed)}", "1 to 1000")
    for key in ("title", "description"):
        if key in raw and not isinstance(raw[key], str):
            raise PlaygroundError(key, f"expected text, got {shown(raw[key])}", "a string")
    racers = raw["racers"]
    if not isinstance(racers, list) or not racers or not all(isinstance(r, dict) for r in racers):
        raise PlaygroundError("racers", "expected [[racers]] tables", f"1 to {MAX_RACERS} tables")
    if len(racers) > MAX_RACERS:
        raise PlaygroundError("racers", f"{len(racers)} racers", f"at most {MAX_RACERS}")
    parsed = tuple(_parse_racer(r, f"racers[{i}]") for i, r in enumerate(racers))
    preset = Preset(str(raw.get("title", default_title)), str(raw.get("description", "")), function,
                    (float(start[0]), float(start[1])), parsed, steps, float(speed))
    preset.race()  # checks every hyper-parameter against its range
    return preset


def _parse_racer(table: Mapping, key: str) -> Racer:
    name = table.get("optimizer")
    if name is None:
        raise PlaygroundError(f"{key}.optimizer", "missing", choices(OPTIMIZERS))
    if not isinstance(name, str) or name not in OPTIMIZERS:
        raise PlaygroundError(f"{key}.optimizer", f"unknown optimizer {shown(name)}", choices(OPTIMIZERS))
    allowed = ["optimizer"] + [hp.name for hp in OPTIMIZERS[name].hyperparams]
    values: dict[str, float] = {}
    for k, v in table.items():
        if k == "optimizer":
            continue
        if k not in allowed:
            raise PlaygroundError(f"{key}.{plain(k)}", f"unknown key for {OPTIMIZERS[name].label}", choices(allowed))
        if not _is_number(v):
            raise PlaygroundError(f"{key}.{k}", f"expected a number, got {shown(v)}", "a finite number")
        values[k] = float(v)
    return Racer(name, values)


def _is_number(value: object) -> bool:
    """A finite number a float can hold (not NaN, an infinity or a 400-digit integer)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and -_FLOAT_MAX <= value <= _FLOAT_MAX


def _allowed(key: str) -> str:
    return {"function": choices(TEST_FUNCTIONS), "start": "two finite numbers",
            "racers": f"1 to {MAX_RACERS} [[racers]] tables"}[key]
