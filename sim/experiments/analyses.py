"""Experiments built on the runs: replications of several variants (``compare``), paired
differences with bootstrap intervals (``paired``), one-at-a-time sweeps (``sweep``), the
attribution of a difference to groups of clauses (``attribute``) and global sensitivity
studies (``study``). Replication k of every variant uses seed ``seed + k``, so differences
are paired.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor

import numpy as np
import pandas as pd

from sim.experiments import designs, sensitivity
from sim.experiments.execution import Task, execute, require_success
from sim.experiments.runner import DEFAULT_DAYS
from sim.experiments.store import ShardStore
from sim.inputs.provisions import Variant
from sim.inputs.schema import validate
from sim.inputs.world import World

BOOTSTRAP = 2000  # resamples for paired-difference intervals


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
