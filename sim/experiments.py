"""Experiments: replications of many scenarios, mapped over any executor, paired by seed.

Every run is a pure function of its task, ``run_task(Task) -> summary``, so results are the
same whatever executes them (this process, local worker processes, or any
``concurrent.futures.Executor``). Replication k of every variant uses seed ``seed + k``:
the variants face the same cases, and their differences are paired.

A run that raises is a failure (:func:`failure`): a *transient* one (memory, I/O, a lost
worker) is reported but not stored, so the next invocation retries it; a *deterministic* one
is stored with its error and not run again. :func:`failures` counts them.
"""

from __future__ import annotations

import itertools
import math
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from . import designs, executors, sensitivity
from .inputs import validate
from .model import CooperationModel
from .observe import Observation
from .provisions import Variant
from .runner import DEFAULT_DAYS
from .store import ShardStore
from .world import World

BOOTSTRAP = 2000  # resamples for paired-difference intervals


@dataclass(frozen=True)
class Task:
    """One run: a variant in a world, with a seed, to a horizon.

    The variant and world travel as their validated data (plain dicts), so a task pickles to
    any worker and is validated again there.
    """

    variant: dict[str, Any]
    world: dict[str, Any]
    seed: int
    days: int = DEFAULT_DAYS

    @classmethod
    def of(cls, variant: Variant, world: World, seed: int, days: int = DEFAULT_DAYS) -> Task:
        return cls(variant.model_dump(mode="json"), world.model_dump(mode="json"), seed, days)

    @property
    def name(self) -> str:
        return self.variant["variant"]["name"]


def simulate(task: Task) -> CooperationModel:
    """Validate the task's inputs and run its model to the horizon."""
    variant = validate(Variant, task.variant, f"<task {task.name}>")
    world = validate(World, task.world, "<task world>")
    model = CooperationModel(variant, world, task.seed)
    model.run(task.days)
    return model


def run_task(task: Task) -> dict[str, float]:
    """Run one task and return its summary, and nothing else (small enough to ship between
    processes, and all a sweep computes)."""
    return Observation(simulate(task)).summary


AFTER_RESULT: Callable[[int], None] | None = None  # test hook: called after each result

Result = dict[str, Any]


def failure(error: BaseException, transient: bool | None = None) -> Result:
    """A failed run's result: its error, and whether a retry may succeed."""
    if transient is None:
        transient = executors.transient(error)
    return {"error": f"{type(error).__name__}: {error}", "transient": transient}


def attempt(run: Callable[[Task], Result], task: Task) -> Result:
    """``run(task)``, with an exception it raises returned as a :func:`failure`."""
    try:
        return run(task)
    except Exception as e:  # any failure of one run is data for the experiment
        return failure(e)


def safe_run(task: Task) -> Result:
    """``run_task``, with a run that raises recorded as a failure instead of stopping all."""
    return attempt(run_task, task)


@dataclass(frozen=True)
class Failures:
    """Failed runs: ``transient`` ones are retried by the next invocation, ``deterministic``
    ones are stored with their error and not run again."""

    transient: int = 0
    deterministic: int = 0
    first_error: str | None = None

    @property
    def count(self) -> int:
        return self.transient + self.deterministic


class RunsFailed(RuntimeError):
    """Runs failed, so the statistics that need every run cannot be computed (one line)."""

    def __init__(self, count: int, transient: int, first_error: str) -> None:
        self.count, self.transient, self.first_error = count, transient, first_error
        retry = f" ({transient} transient: running it again retries them)" if transient else ""
        first = first_error.replace("\r", " ").replace("\n", " ")
        super().__init__(f"{count} run(s) failed{retry}; first: {first}")


def failures(results: Iterable[Mapping[str, Any]] | pd.DataFrame) -> Failures:
    """Count the failed runs among :func:`execute`'s results or an experiment's table."""
    if isinstance(results, pd.DataFrame):
        results = results.filter(["error", "transient"]).to_dict("records")
    failed = [r for r in results if isinstance(r.get("error"), str)]
    transient = sum(_flag(r.get("transient")) for r in failed)
    return Failures(transient, len(failed) - transient, failed[0]["error"] if failed else None)


def require_success(results: Iterable[Mapping[str, Any]] | pd.DataFrame) -> None:
    """Raise :class:`RunsFailed` if any run failed."""
    found = failures(results)
    if found.count:
        raise RunsFailed(found.count, found.transient, found.first_error or "")


def _flag(value: Any) -> bool:
    return isinstance(value, bool | np.bool_) and bool(value)


def execute(tasks: Sequence[Task], workers: int = 1, executor: Executor | None = None,
            store: ShardStore | None = None,
            run: Callable[[Task], Result] = safe_run) -> list[Result]:
    """Results of ``tasks``, in task order, on ``executor`` (any ``concurrent.futures``
    executor, or a ``distributed.Client``) or on ``workers`` local processes. ``run`` maps a
    task to its result (default: the summary); a run that raises, or that its executor loses,
    gives a :func:`failure` instead. A broken local pool fails its unfinished runs as
    transient; ``execute`` returns normally.

    With a ``store``, results are saved as they complete (transient failures excepted) and
    runs already there are not run again. On KeyboardInterrupt, local workers are terminated
    at once and the interrupt propagates. A progress bar shows on a terminal.
    """
    if hasattr(executor, "get_executor"):  # a dask.distributed Client
        executor = executor.get_executor()
    keys = [ShardStore.key(t) for t in tasks] if store else []
    found = store.load() if store else {}
    results: list[Result | None] = [found.get(k) for k in keys] if store \
        else [None] * len(tasks)
    pending = [i for i, r in enumerate(results) if r is None]
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(pending), unit="run",
               disable=not sys.stderr.isatty(), file=sys.stderr)
    done = [len(tasks) - len(pending)]

    def finished(i: int, result: Result) -> None:
        results[i] = result
        if store and not _flag(result.get("transient")):
            store.save(keys[i], result)
        bar.update()
        done[0] += 1
        if AFTER_RESULT is not None:
            AFTER_RESULT(done[0])

    try:
        if executor is None and (workers <= 1 or len(pending) <= 1):
            for i in pending:
                finished(i, attempt(run, tasks[i]))
        elif executor is None:
            with executors.local_pool(min(workers, len(pending))) as pool:
                _submit(pool, partial(attempt, run), tasks, pending, finished)
        else:
            _submit(executor, partial(attempt, run), tasks, pending, finished)
    finally:
        bar.close()
    return [r for r in results if r is not None]


def _submit(pool: Executor, run: Callable[[Task], Result], tasks: Sequence[Task],
            pending: list[int], finished: Callable[[int, Result], None]) -> None:
    """Run the ``pending`` tasks on ``pool``. What the pool raises instead of a result (a
    lost worker, a lost cluster) is a transient failure; leaving early cancels the rest."""
    futures: dict[Future, int] = {}
    try:
        for n, i in enumerate(pending):
            try:
                futures[pool.submit(run, tasks[i])] = i
            except Exception as e:  # a broken pool or a closed client: nothing more starts
                for j in pending[n:]:
                    finished(j, failure(e, transient=True))
                break
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as e:
                result = failure(e, transient=True)
            finished(futures[future], result)
    finally:
        for future in futures:
            future.cancel()


def compare(variants: Iterable[Variant], world: World, *, reps: int = 1, seed: int = 1,
            days: int = DEFAULT_DAYS, workers: int = 1, executor: Executor | None = None,
            store: ShardStore | None = None) -> pd.DataFrame:
    """One row per variant and replication: variant, rep, seed and every metric."""
    variants = list(variants)
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ValueError(f"variant names must differ: {names}")
    tasks = [Task.of(v, world, seed + k, days) for v in variants for k in range(reps)]
    summaries = execute(tasks, workers, executor, store)
    rows = [{"variant": t.name, "rep": t.seed - seed, "seed": t.seed, **s}
            for t, s in zip(tasks, summaries, strict=True)]
    return pd.DataFrame(rows)


def paired(table: pd.DataFrame, reference: str, metrics: Sequence[str],
           seed: int = 0) -> pd.DataFrame:
    """Per variant and metric: mean, 10-90% band, and the paired difference to ``reference``.

    The difference is taken replication by replication (same seed, same cases); its 95%
    interval is a percentile bootstrap over replications. ``zero_in_ci`` marks differences
    the replications cannot tell from zero.
    """
    if reference not in set(table["variant"]):
        raise ValueError(f"reference variant '{reference}' is not in the comparison")
    rng = np.random.default_rng(seed)
    ref = table[table["variant"] == reference].set_index("rep")
    out = []
    for name, group in table.groupby("variant", sort=False):
        g = group.set_index("rep")
        for metric in metrics:
            values = g[metric].to_numpy(dtype=float)
            diff = (g[metric] - ref[metric].reindex(g.index)).to_numpy(dtype=float)
            low, high = _bootstrap(diff, rng)
            mean, p10, p90 = _observed(values, np.mean, 0.1, 0.9)
            out.append({
                "variant": name, "metric": metric, "mean": mean, "p10": p10, "p90": p90,
                "diff": _observed(diff, np.mean)[0], "ci_low": low, "ci_high": high,
                "zero_in_ci": not (low > 0 or high < 0),  # no interval: no difference shown
            })
    return pd.DataFrame(out)


def _observed(x: np.ndarray, centre: Callable[[np.ndarray], float],
              *quantiles: float) -> tuple[float, ...]:
    """``centre`` and ``quantiles`` of the values that are not NaN (all NaN without any)."""
    x = x[~np.isnan(x)]
    if x.size == 0:
        return (float("nan"),) * (1 + len(quantiles))
    return (float(centre(x)), *(float(np.quantile(x, q)) for q in quantiles))


def _bootstrap(diff: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """Percentile 95% interval of the mean of ``diff`` (exact when all differences agree)."""
    diff = diff[~np.isnan(diff)]
    if diff.size == 0:
        return float("nan"), float("nan")
    if np.all(diff == diff[0]):
        return float(diff[0]), float(diff[0])
    means = rng.choice(diff, (BOOTSTRAP, diff.size)).mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def checked(points: list[tuple[dict, dict, dict]],
            source: str = "--set") -> list[tuple[dict, dict, dict]]:
    """Validate every (parameters, variant data, world data) point before anything runs;
    an error names ``source`` (the option, or the study file) and the point."""
    for params, v, w in points:
        where = f"{source} " + ", ".join(f"{k}={val}" for k, val in params.items())
        validate(Variant, v, where)
        validate(World, w, where)
    return points


def sweep_points(variant: Variant, world: World, settings: list[tuple[str, list]],
                 design: str = "factorial", seed: int = 1) -> list[tuple[dict, dict, dict]]:
    """The sweep's (parameters, variant data, world data) points, every one validated."""
    dv, dw = variant.model_dump(mode="json"), world.model_dump(mode="json")
    kind, n = designs.parse_design(design)
    if kind == "factorial":
        return checked(designs.factorial(dv, dw, settings))
    paths = [path for path, _ in settings]
    prob = sensitivity.problem(paths, [designs.bounds(p, v) for p, v in settings])
    rows = sensitivity.sample(prob, "sobol" if kind == "sobol" else "lhs", n, seed)
    return checked(designs.sampled(dv, dw, paths, rows))


def sweep(variant: Variant, world: World, settings: list[tuple[str, list]], *, reps: int = 1,
          seed: int = 1, days: int = DEFAULT_DAYS, workers: int = 1, design: str = "factorial",
          executor: Executor | None = None, store: ShardStore | None = None) -> pd.DataFrame:
    """Vary ``settings`` (dotted path, values): one row per point and replication.

    ``design`` is ``factorial`` (every combination of the values), or ``lhs:N`` / ``sobol:N``
    (N points sampled from each setting's range ``low,high``).
    """
    points = sweep_points(variant, world, settings, design, seed)
    tasks = [Task(v, w, seed + k, days) for _, v, w in points for k in range(reps)]
    summaries = execute(tasks, workers, executor, store)
    rows = [{**params, "rep": k, "seed": seed + k, **summaries[i * reps + k]}
            for i, (params, _, _) in enumerate(points) for k in range(reps)]
    return pd.DataFrame(rows)


def attribute(a: Variant, b: Variant, world: World, metrics: Sequence[str], *, reps: int = 1,
              seed: int = 1, days: int = DEFAULT_DAYS, workers: int = 1,
              executor: Executor | None = None,
              store: ShardStore | None = None) -> pd.DataFrame:
    """Shapley decomposition of the paired difference B - A over the clause groups.

    Every hybrid (A with some groups taken from B) runs on the same seeds, so the
    contributions add up exactly to the total difference; a group in which A and B agree
    contributes exactly zero.
    """
    da, db = a.model_dump(mode="json"), b.model_dump(mode="json")
    groups = designs.differing_groups(da, db)
    subsets = [frozenset(c) for n in range(len(groups) + 1)
               for c in itertools.combinations(groups, n)]
    wd = world.model_dump(mode="json")
    hybrids = [designs.hybrid(da, db, tuple(s), f"hybrid_{i}") for i, s in enumerate(subsets)]
    for h in hybrids:
        validate(Variant, h, f"<hybrid of {a.name} and {b.name}>")
    tasks = [Task(h, wd, seed + k, days) for h in hybrids for k in range(reps)]
    summaries = execute(tasks, workers, executor, store)
    require_success(summaries)
    value = {s: np.mean([[summaries[i * reps + k][m] for m in metrics] for k in range(reps)],
                        axis=0) for i, s in enumerate(subsets)}
    n = len(groups)
    rows = []
    for g in designs.GROUPS:
        phi = np.zeros(len(metrics))
        if g in groups:
            for s in subsets:
                if g not in s:
                    weight = math.factorial(len(s)) * math.factorial(n - len(s) - 1) \
                        / math.factorial(n)
                    phi += weight * (value[s | {g}] - value[s])
        rows.append({"group": g, **dict(zip(metrics, phi, strict=True))})
    total = value[frozenset(groups)] - value[frozenset()]
    rows.append({"group": "total", **dict(zip(metrics, total, strict=True))})
    return pd.DataFrame(rows)


def study_points(variant: Variant, world: World, params: sensitivity.ParamsFile, seed: int = 1,
                 source: str = "<study>") -> list[tuple[dict, dict, dict]]:
    """Every point of a study's sample, validated (errors name ``source``, the study file)."""
    paths = list(params.params)
    prob = sensitivity.problem(paths, [params.params[p].bounds for p in paths])
    rows = sensitivity.sample(prob, params.method, params.samples, seed)
    return checked(designs.sampled(variant.model_dump(mode="json"),
                                   world.model_dump(mode="json"), paths, rows), f"{source}: point")


def study(variant: Variant, world: World, params: sensitivity.ParamsFile,
          outputs: Sequence[str], *, seed: int = 1, days: int = DEFAULT_DAYS, workers: int = 1,
          executor: Executor | None = None, store: ShardStore | None = None) -> pd.DataFrame:
    """Sobol or Morris indices of ``outputs`` for the uncertain parameters in ``params``.

    Every sample point runs with the same seed, so the indices measure the parameters, not
    the noise between cases (common random numbers).
    """
    paths = list(params.params)
    prob = sensitivity.problem(paths, [params.params[p].bounds for p in paths])
    dv, dw = variant.model_dump(mode="json"), world.model_dump(mode="json")

    def evaluate(rows: np.ndarray) -> np.ndarray:
        points = checked(designs.sampled(dv, dw, paths, rows))
        summaries = execute([Task(v, w, seed, days) for _, v, w in points], workers,
                            executor, store)
        require_success(summaries)
        return np.array([[s.get(o, np.nan) for o in outputs] for s in summaries])

    return sensitivity.indices(prob, params.method, params.samples, seed, evaluate, outputs)
