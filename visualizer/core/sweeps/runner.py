"""A sweep from start to end: the plan (experiment, swept fields, seeds, target loss), its trials handed to a
backend, each finished trial recorded in the folder as it comes; a generator of events that the command line and
the window's job runner both iterate."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from visualizer.core import experiment as experiment_file
from visualizer.core.sweeps.backends import run_tasks
from visualizer.core.sweeps.grid import SweepParam, Trial, build_trials
from visualizer.core.sweeps.table import SPEC_VERSION, SweepFolder
from visualizer.core.sweeps.trial import TrialTask, run_trial


@dataclass(frozen=True)
class SweepPlan:
    """What to sweep: the experiment (as loaded, not resolved: a swept data set picks its own loss), the swept
    fields, seeds per combination, the target loss of steps_to_target, and the experiment file's folder."""

    experiment: object
    params: tuple[SweepParam, ...]
    seeds: int = 1
    target_loss: float | None = None
    base_dir: str = ""

    @property
    def fields(self) -> list[str]:
        return [p.field for p in self.params]

    def trials(self) -> list[Trial]:
        return build_trials(self.experiment, list(self.params), self.seeds)

    def spec(self) -> dict:
        """What sweep.json records: a rerun with the same spec resumes, another is refused."""
        return {"version": SPEC_VERSION, "experiment": experiment_file.to_dict(self.experiment),
                "params": [p.as_dict() for p in self.params], "seeds": self.seeds, "target_loss": self.target_loss}


def plan_of_spec(spec: dict) -> SweepPlan:
    """The plan a sweep.json records (to show a finished sweep); a damaged one is a VisualizerError."""
    from visualizer.core.errors import VisualizerError

    try:
        params = tuple(SweepParam(str(p["field"]), tuple(tuple(v) if isinstance(v, list) else v for v in p["values"]),
                                  bool(p.get("log"))) for p in spec["params"])
        experiment = spec["experiment"]
        if not isinstance(experiment, dict) or not params or any(not p.values for p in params):
            raise TypeError("no experiment or no values")
        return SweepPlan(experiment_file.from_dict(experiment), params, int(spec.get("seeds", 1)),
                         spec.get("target_loss"))
    except VisualizerError as exc:
        raise VisualizerError(f"sweep.json: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise VisualizerError(f"sweep.json: not a sweep description ({type(exc).__name__}: {exc})") from None


def _datasets(trials: list[Trial], base_dir: str) -> dict:
    """The data set of each trial by its id, loaded once for the trials that share one (a trial whose data cannot
    be loaded gets none: it loads it itself and records why it failed)."""
    from visualizer.core.data.sets import load_dataset

    loaded: dict = {}
    out: dict = {}
    for trial in trials:
        try:
            spec = experiment_file.from_dict(trial.experiment).data
            key = repr(spec)
            if key not in loaded:
                loaded[key] = load_dataset(spec, Path(base_dir) if base_dir else None)
        except Exception:  # noqa: BLE001 - the trial meets the same problem and records it
            continue
        out[trial.id] = loaded[key]
    return out


@dataclass(frozen=True)
class SweepStarted:
    """The sweep's size, and the rows of the trials a previous run of it already finished (skipped now)."""

    total: int
    fields: tuple[str, ...]
    done_before: tuple[dict, ...] = field(default=())


@dataclass(frozen=True)
class TrialFinished:
    """One more trial recorded: its row of sweep.csv (text cells), and how many of the sweep's are done."""

    row: dict
    done: int
    total: int


def run_sweep(plan: SweepPlan, out: Path, backend: str = "local", workers: int = 0, address: str | None = None,
              threads: int = 1, control=None, work_here: bool = True) -> Iterator[SweepStarted | TrialFinished]:
    """Run the trials of ``plan`` that ``out`` does not hold yet on ``backend`` and record each as it finishes.
    ``threads``: torch threads per trial. ``control`` (a RunControl): once stopped, no further trial is
    recorded and the workers are stopped. ``work_here``: see backends.run_tasks. Raises VisualizerError for a bad
    plan or a folder of another sweep."""
    trials = plan.trials()
    folder = SweepFolder(Path(out), plan.spec(), plan.fields)
    finished = folder.open()
    todo = [t for t in trials if t.id not in finished]
    by_id = {t.id: t for t in trials}
    before = tuple(folder.rows[t.id] for t in trials if t.id in finished)
    yield SweepStarted(len(trials), tuple(plan.fields), before)
    datasets = _datasets(todo, plan.base_dir)
    tasks = [TrialTask(t.id, t.experiment, plan.base_dir, threads, plan.target_loss, datasets.get(t.id))
             for t in todo]
    done = len(before)
    stopped = (lambda: control.stopped) if control is not None else None
    results = run_tasks(run_trial, tasks, backend, workers, address, work_here, stopped)
    try:
        for task, outcome in results:
            if control is not None and control.stopped:
                return
            row = folder.record(by_id[task.id], outcome)
            done += 1
            yield TrialFinished(row, done, len(trials))
            if control is not None and control.stopped:
                return
    finally:
        results.close()
