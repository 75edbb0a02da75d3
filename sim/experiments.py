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
from collections.abc import Iterable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from . import designs
from .inputs import validate
from .model import CooperationModel
from .provisions import Variant
from .runner import DEFAULT_DAYS
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


def run_task(task: Task) -> dict[str, float]:
    """Run one task and return its summary (small enough to ship between processes)."""
    variant = validate(Variant, task.variant, f"<task {task.name}>")
    world = validate(World, task.world, "<task world>")
    model = CooperationModel(variant, world, task.seed)
    model.run(task.days)
    return summarize(model.log, np.asarray(model.datacollector.model_vars["backlog"]))


def execute(tasks: Sequence[Task], workers: int = 1,
            executor: Executor | None = None) -> list[dict[str, float]]:
    """Summaries of ``tasks``, in task order, on ``executor`` or ``workers`` local processes."""
    if executor is not None:
        return list(executor.map(run_task, tasks))
    if workers <= 1 or len(tasks) <= 1:
        return [run_task(t) for t in tasks]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(tasks)), mp_context=context) as pool:
        return list(pool.map(run_task, tasks))


def compare(variants: Iterable[Variant], world: World, *, reps: int = 1, seed: int = 1,
            days: int = DEFAULT_DAYS, workers: int = 1,
            executor: Executor | None = None) -> pd.DataFrame:
    """One row per variant and replication: variant, rep, seed and every metric."""
    variants = list(variants)
    tasks = [Task.of(v, world, seed + k, days) for v in variants for k in range(reps)]
    summaries = execute(tasks, workers, executor)
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


def sweep(variant: Variant, world: World, settings: list[tuple[str, list]], *, reps: int = 1,
          seed: int = 1, days: int = DEFAULT_DAYS, workers: int = 1,
          executor: Executor | None = None) -> pd.DataFrame:
    """Full factorial over ``settings`` (dotted path, values): one row per point and replication."""
    points = designs.factorial(variant.model_dump(mode="json"), world.model_dump(mode="json"),
                               settings)
    for params, v, w in points:  # every point is checked before anything runs
        where = "--set " + ", ".join(f"{k}={val}" for k, val in params.items())
        validate(Variant, v, where)
        validate(World, w, where)
    tasks = [Task(v, w, seed + k, days) for _, v, w in points for k in range(reps)]
    summaries = execute(tasks, workers, executor)
    rows = [{**params, "rep": k, "seed": seed + k, **summaries[i * reps + k]}
            for i, (params, _, _) in enumerate(points) for k in range(reps)]
    return pd.DataFrame(rows)


def attribute(a: Variant, b: Variant, world: World, metrics: Sequence[str], *, reps: int = 1,
              seed: int = 1, days: int = DEFAULT_DAYS, workers: int = 1,
              executor: Executor | None = None) -> pd.DataFrame:
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
    summaries = execute(tasks, workers, executor)
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
