"""Experiments: replications of many scenarios, mapped over any executor, paired by seed.

Every run is a pure function of its task, ``run_task(Task) -> summary``, so results are the
same whatever executes them (this process, local worker processes, or any
``concurrent.futures.Executor``). Replication k of every variant uses seed ``seed + k``:
the variants face the same cases, and their differences are paired.
"""

from __future__ import annotations

import itertools
import math
import multiprocessing
import sys
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from . import designs, sensitivity
from .inputs import validate
from .model import CooperationModel
from .provisions import Variant
from .runner import DEFAULT_DAYS
from .store import ShardStore
from .summary import summarize
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
    """Run one task and return its summary (small enough to ship between processes)."""
    model = simulate(task)
    return summarize(model.log, model.backlog_series())


AFTER_RESULT: Callable[[int], None] | None = None  # test hook: called after each saved run


def safe_run(task: Task) -> dict[str, Any]:
    """``run_task``, with a run that raises recorded as a failure instead of stopping all."""
    try:
        return run_task(task)
    except Exception as e:  # any failure of one run is data for the experiment
        return {"error": f"{type(e).__name__}: {e}"}


def execute(tasks: Sequence[Task], workers: int = 1, executor: Executor | None = None,
            store: ShardStore | None = None,
            run: Callable[[Task], dict[str, Any]] = safe_run) -> list[dict[str, Any]]:
    """Summaries of ``tasks``, in task order, on ``executor`` (any ``concurrent.futures``
    executor, or a ``distributed.Client``) or on ``workers`` local processes. ``run`` maps a
    task to its result (default: the summary, with a failure recorded as an error).

    With a ``store``, finished runs are saved as they complete and runs already there are not
    run again. A progress bar shows on a terminal.
    """
    if hasattr(executor, "get_executor"):  # a dask.distributed Client
        executor = executor.get_executor()
    keys = [ShardStore.key(t) for t in tasks] if store else []
    found = store.load() if store else {}
    results: list[dict[str, Any] | None] = [found.get(k) for k in keys] if store \
        else [None] * len(tasks)
    pending = [i for i, r in enumerate(results) if r is None]
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(pending), unit="run",
               disable=not sys.stderr.isatty(), file=sys.stderr)

    done = [len(tasks) - len(pending)]

    def finished(i: int, summary: dict[str, Any]) -> None:
        results[i] = summary
        if store:
            store.save(keys[i], summary)
        bar.update()
        done[0] += 1
        if AFTER_RESULT is not None:
            AFTER_RESULT(done[0])

    try:
        if executor is None and (workers <= 1 or len(pending) <= 1):
            for i in pending:
                finished(i, run(tasks[i]))
        else:
            pool = executor or ProcessPoolExecutor(
                min(workers, len(pending)), mp_context=multiprocessing.get_context("spawn"))
            try:
                futures = {pool.submit(run, tasks[i]): i for i in pending}
                for future in as_completed(futures):
                    finished(futures[future], future.result())
            finally:
                if executor is None:
                    pool.shutdown(cancel_futures=True)
    finally:
        bar.close()
    return [r for r in results if r is not None]


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
            out.append({
                "variant": name, "metric": metric, "mean": np.nanmean(values),
                "p10": np.nanquantile(values, 0.1), "p90": np.nanquantile(values, 0.9),
                "diff": np.nanmean(diff), "ci_low": low, "ci_high": high,
                "zero_in_ci": bool(low <= 0 <= high),
            })
    return pd.DataFrame(out)


def _bootstrap(diff: np.ndarray, rng: np.random.Generator) -> tuple[float, float]:
    """Percentile 95% interval of the mean of ``diff`` (exact when all differences agree)."""
    diff = diff[~np.isnan(diff)]
    if diff.size == 0:
        return float("nan"), float("nan")
    if np.all(diff == diff[0]):
        return float(diff[0]), float(diff[0])
    means = rng.choice(diff, (BOOTSTRAP, diff.size)).mean(axis=1)
    return float(np.quantile(means, 0.025)), float(np.quantile(means, 0.975))


def checked(points: list[tuple[dict, dict, dict]]) -> list[tuple[dict, dict, dict]]:
    """Validate every (parameters, variant data, world data) point before anything runs."""
    for params, v, w in points:
        where = "--set " + ", ".join(f"{k}={val}" for k, val in params.items())
        validate(Variant, v, where)
        validate(World, w, where)
    return points


def sweep(variant: Variant, world: World, settings: list[tuple[str, list]], *, reps: int = 1,
          seed: int = 1, days: int = DEFAULT_DAYS, workers: int = 1, design: str = "factorial",
          executor: Executor | None = None, store: ShardStore | None = None) -> pd.DataFrame:
    """Vary ``settings`` (dotted path, values): one row per point and replication.

    ``design`` is ``factorial`` (every combination of the values), or ``lhs:N`` / ``sobol:N``
    (N points sampled from each setting's range ``low,high``).
    """
    dv, dw = variant.model_dump(mode="json"), world.model_dump(mode="json")
    kind, n = designs.parse_design(design)
    if kind == "factorial":
        points = designs.factorial(dv, dw, settings)
    else:
        paths = [path for path, _ in settings]
        prob = sensitivity.problem(paths, [designs.bounds(p, v) for p, v in settings])
        rows = sensitivity.sample(prob, "sobol" if kind == "sobol" else "lhs", n, seed)
        points = designs.sampled(dv, dw, paths, rows)
    tasks = [Task(v, w, seed + k, days) for _, v, w in checked(points) for k in range(reps)]
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
    failed = [s["error"] for s in summaries if "error" in s]
    if failed:
        raise RuntimeError(f"{len(failed)} hybrid run(s) failed, first: {failed[0]}")
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
        return np.array([[s.get(o, np.nan) for o in outputs] for s in summaries])

    return sensitivity.indices(prob, params.method, params.samples, seed, evaluate, outputs)
