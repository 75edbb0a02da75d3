"""Experiments built on the runs: replications of several variants (``compare``), paired
differences with bootstrap intervals (``paired``), one-at-a-time sweeps (``sweep``), the
attribution of a difference to groups of clauses (``attribute``) and global sensitivity
studies (``study``). Every variant runs once with the same seed, and its replications are
the consecutive windows of that run (batch means): replication k of every variant is the
cohort of the same window, so differences are paired.
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor

import numpy as np
import pandas as pd

from sim.engine import routing
from sim.engine.routing import CompiledRegime
from sim.experiments import designs, sensitivity
from sim.experiments.execution import Task, execute, require_success, rows
from sim.experiments.store import ShardStore
from sim.inputs.provisions import Variant
from sim.inputs.schema import validate
from sim.inputs.world import World
from sim.limits import DEFAULT_WINDOW

BOOTSTRAP = 2000  # resamples for paired-difference intervals


def compare(variants: Iterable[Variant], world: World, *, reps: int = 1, seed: int = 1,
            window: int = DEFAULT_WINDOW, workers: int = 1, executor: Executor | None = None,
            store: ShardStore | None = None) -> pd.DataFrame:
    """One row per variant and replication: variant, rep, seed and every metric."""
    variants = list(variants)
    names = [v.name for v in variants]
    if len(set(names)) != len(names):
        raise ValueError(f"variant names must differ: {names}")
    tasks = [Task.of(v, world, seed, window, reps) for v in variants]
    results = execute(tasks, workers, executor, store)
    return pd.DataFrame([{"variant": t.name, **row}
                         for t, r in zip(tasks, results, strict=True) for row in rows(t, r)])


def _fallbacks(world: World) -> tuple[CompiledRegime, CompiledRegime]:
    fb = world.fallback
    return (CompiledRegime.of("bilateral", fb.bilateral),
            CompiledRegime.of("letters_rogatory", fb.letters_rogatory))


def identical(variants: Sequence[Variant], world: World) -> list[list[Variant]]:
    """The variants grouped by behaviour, in order of first appearance: the members of a
    group give every pair of States and every offence the same routes in ``world``, so they
    run identically on the same cases (one run stands for them all)."""
    groups: dict[tuple, list[Variant]] = {}
    for v in variants:
        groups.setdefault(routing.behaviour(v, *_fallbacks(world)), []).append(v)
    return list(groups.values())


def falls_back(variant: Variant, world: World) -> bool:
    """Whether ``variant`` changes no route in ``world``: every request falls back to the
    pair's bilateral treaty or letters rogatory, as if no State were party."""
    return routing.falls_back(variant, *_fallbacks(world))


def interval(diff: np.ndarray, seed: int = 0) -> tuple[float, float, float]:
    """The mean of paired differences (one per replication) and its percentile bootstrap
    95% interval, as :func:`paired` gives them."""
    diff = np.asarray(diff, dtype=float)
    low, high = _bootstrap(diff, seed)
    return _observed(diff, np.mean)[0], low, high


def paired(table: pd.DataFrame, reference: str, metrics: Sequence[str],
           seed: int = 0) -> pd.DataFrame:
    """Per variant and metric: mean, 10-90% band, and the paired difference to ``reference``.

    The difference is taken replication by replication (same seed, same cases); its 95%
    interval is a percentile bootstrap over replications. ``zero_in_ci`` marks differences
    the replications cannot tell from zero.
    """
    if reference not in set(table["variant"]):
        raise ValueError(f"reference variant '{reference}' is not in the comparison")
    ref = table[table["variant"] == reference].set_index("rep")
    out = []
    for name, group in table.groupby("variant", sort=False):
        g = group.set_index("rep")
        for metric in metrics:
            values = g[metric].to_numpy(dtype=float)
            diff, low, high = interval(g[metric] - ref[metric].reindex(g.index), seed)
            mean, p10, p90 = _observed(values, np.mean, 0.1, 0.9)
            out.append({
                "variant": name, "metric": metric, "mean": mean, "p10": p10, "p90": p90,
                "diff": diff, "ci_low": low, "ci_high": high,
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


def _bootstrap(diff: np.ndarray, seed: int) -> tuple[float, float]:
    """Percentile 95% interval of the mean of ``diff`` (exact when all differences agree).
    The resamples are drawn from ``seed`` and the differences' magnitudes, so the same
    differences get the same interval wherever they are taken, and ``-diff`` its mirror."""
    diff = diff[~np.isnan(diff)]
    if diff.size == 0:
        return float("nan"), float("nan")
    if np.all(diff == diff[0]):
        return float(diff[0]), float(diff[0])
    rng = np.random.default_rng([seed, zlib.crc32(np.abs(diff).tobytes())])
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
          seed: int = 1, window: int = DEFAULT_WINDOW, workers: int = 1, design: str = "factorial",
          executor: Executor | None = None, store: ShardStore | None = None) -> pd.DataFrame:
    """Vary ``settings`` (dotted path, values): one row per point and replication.

    ``design`` is ``factorial`` (every combination of the values), or ``lhs:N`` / ``sobol:N``
    (N points sampled from each setting's range ``low,high``).
    """
    points = sweep_points(variant, world, settings, design, seed)
    tasks = [Task(v, w, seed, window, reps) for _, v, w in points]
    results = execute(tasks, workers, executor, store)
    return pd.DataFrame([{**params, **row} for (params, _, _), t, r
                         in zip(points, tasks, results, strict=True) for row in rows(t, r)])


def attribute(a: Variant, b: Variant, world: World, metrics: Sequence[str], *, reps: int = 1,
              seed: int = 1, window: int = DEFAULT_WINDOW, workers: int = 1,
              executor: Executor | None = None, store: ShardStore | None = None,
              ends: tuple[list[dict], list[dict]] | None = None,
              orders: int | None = None) -> pd.DataFrame:
    """Shapley decomposition of the paired difference B - A over the clause groups.

    Every hybrid (A with some groups taken from B) runs with the same seed, so the
    contributions add up exactly to the total difference; a group in which A and B agree
    contributes exactly zero. ``ends``, the summaries (one per window) of runs of A and B
    already made with this seed, stand for A and B themselves: the total is then their
    difference, the headline's own, while the hybrids between run ``reps`` windows.

    With ``orders``, the values are estimated from that many random orders of the groups,
    each with its reverse (antithetic pairs; Castro, Gomez and Tejada 2009), which visit far
    fewer hybrids than every subset; each order's contributions still add up to the total.
    """
    da, db = a.model_dump(mode="json"), b.model_dump(mode="json")
    groups = designs.differing_groups(da, db)
    paths = _orders(groups, orders, seed)
    subsets = list(dict.fromkeys(frozenset(p[:k]) for p in paths for k in range(len(p) + 1)))
    wd = world.model_dump(mode="json")
    hybrids = [designs.hybrid(da, db, tuple(s), f"hybrid_{i}") for i, s in enumerate(subsets)]
    for h in hybrids:
        validate(Variant, h, f"<hybrid of {a.name} and {b.name}>")
    known = {frozenset(): ends[0], frozenset(groups): ends[1]} if ends else {}
    todo = [i for i, s in enumerate(subsets) if s not in known]
    results = execute([Task(hybrids[i], wd, seed, window, reps) for i in todo], workers,
                      executor, store)
    require_success(results)
    runs = known | {subsets[i]: r["summaries"] for i, r in zip(todo, results, strict=True)}
    value = {s: np.mean([[w[m] for m in metrics] for w in runs[s]], axis=0) for s in subsets}
    return _shapley(groups, paths, value, metrics)


def _orders(groups: list[str], orders: int | None, seed: int) -> list[tuple[str, ...]]:
    """Every order of the groups (exact Shapley values), or ``orders`` random ones, each
    followed by its reverse."""
    if orders is None or math.factorial(len(groups)) <= 2 * orders:
        return list(itertools.permutations(groups))
    rng = np.random.default_rng(seed)
    paths: list[tuple[str, ...]] = []
    for _ in range(orders):
        p = tuple(groups[i] for i in rng.permutation(len(groups)))
        paths += [p, p[::-1]]
    return paths


def _shapley(groups: list[str], paths: list[tuple[str, ...]],
             value: dict[frozenset, np.ndarray], metrics: Sequence[str]) -> pd.DataFrame:
    """Each group's mean contribution along the orders (its Shapley value), and the total."""
    phi = {g: np.zeros(len(metrics)) for g in designs.GROUPS}
    for p in paths:
        for k, g in enumerate(p):
            phi[g] += (value[frozenset(p[:k + 1])] - value[frozenset(p[:k])]) / len(paths)
    rows = [{"group": g, **dict(zip(metrics, phi[g], strict=True))} for g in designs.GROUPS]
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
          outputs: Sequence[str], *, seed: int = 1, window: int = DEFAULT_WINDOW, workers: int = 1,
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
        results = execute([Task(v, w, seed, window) for _, v, w in points], workers,
                          executor, store)
        require_success(results)
        return np.array([[r["summaries"][0].get(o, np.nan) for o in outputs]
                         for r in results])

    return sensitivity.indices(prob, params.method, params.samples, seed, evaluate, outputs)
