"""The policy briefing's evidence: every variant on the same cases, a sweep of the preservation
period, and the clause groups behind the widest gap, with what each chart needs.

``gather`` runs everything on one pool of workers and returns a :class:`Brief`; the charts
(:mod:`sim.briefing.charts`) and the pack (:mod:`sim.briefing.pack`) read only that.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments import analyses, designs, execution, executors
from sim.experiments.execution import Task
from sim.inputs.provisions import Variant
from sim.inputs.world import World, scaled
from sim.limits import DEFAULT_WINDOW
from sim.metrics.observe import Observation

PERIODS = (30, 60, 90, 120, 180, 270, 365)  # preservation periods swept (days)
NO_PRESERVATION = "none"
BRIEF_METRICS = ("not_obtained", "data_loss", "loss_before_preservation", "loss_after_lapse",
                 "obtained", "refusal_rate", "out_of_scope", "no_channel", "latency_median",
                 "latency_p90")
ATTRIBUTED = ("not_obtained", "data_loss", "latency_median")
ATTRIBUTION_ORDERS = 2  # random orders of the clause groups (each with its reverse) for the
# attribution when more than four groups differ; exact Shapley values otherwise
ATTRIBUTION_WINDOWS = 1  # windows each hybrid runs (the two texts themselves: all of theirs)


@dataclass(frozen=True)
class Settings:
    """How the briefing was run: printed under every chart."""

    world: str
    scale: float
    seed: int
    reps: int
    sweep_reps: int
    attribution_reps: int
    window: int  # days of arising needs reported (the cohort), between warm-up and run-off
    warmup: int


@dataclass
class Brief:
    """Everything the briefing shows, as plain tables."""

    settings: Settings
    variants: list[Variant]
    reference: str
    widest: str  # the draft whose evidence not obtained differs most from the reference
    groups: list[list[str]]  # variants whose routes are identical (one run stands for each)
    fallback: list[bool]  # per group: its texts change no route (every request falls back)
    runs: pd.DataFrame  # one row per variant and replication: every summary metric
    stats: pd.DataFrame  # analyses.paired: mean, band, paired difference and its CI
    latency: dict[str, np.ndarray]  # days to evidence of every obtained request, by variant
    flow: pd.DataFrame  # variant, regime, path, outcome, requests (all replications)
    regions: pd.DataFrame  # variant, rep, requesting, requested, lost, not_obtained, decided
    backlog: pd.DataFrame  # variant, state, week, files (the whole run, warm-up included)
    sweep: pd.DataFrame  # period (label), days, rep, metrics
    marks: dict[str, list[str]]  # period label -> variants whose text sets it
    attribution: pd.DataFrame  # group, data_loss, latency_median (Shapley values)
    seconds: float = 0.0

    @property
    def labels(self) -> dict[str, str]:
        return {v.name: v.label for v in self.variants}

    def variant(self, name: str) -> Variant:
        return next(v for v in self.variants if v.name == name)


def observe(task: Task) -> dict[str, Any]:
    """Run one task; return its summaries (one per window) and what the charts need, as
    plain values (latencies as float32, to ship fewer bytes between processes).

    A run that raises is reported by ``execution.execute`` as a failure, not fatal to the
    others.
    """
    seen = Observation(execution.simulate(task))
    return {"summaries": seen.summaries, "latency": seen.latency.astype(np.float32),
            "flow": seen.flow, "regions": seen.regions, "backlog": seen.home_backlog}


@contextmanager
def pool(workers: int, runs: int | None = None) -> Iterator[Executor | None]:
    """One pool of at most ``min(workers, runs)`` worker processes for every phase (None: run
    in this process). They ignore Ctrl-C; on any exception they are terminated at once."""
    workers = min(workers, runs) if runs is not None else workers
    if workers <= 1:
        yield None
        return
    with executors.local_pool(workers) as executor:
        yield executor


def sweep_points(reference: Variant) -> list[tuple[str, float, dict]]:
    """(label, days, variant data) for each swept period and for no preservation."""
    points = []
    for days in PERIODS:
        data = reference.model_dump(mode="json")
        designs.apply(data, {}, "preservation.min_days", days)
        designs.apply(data, {}, "preservation.available", True)
        points.append((str(days), float(days), data))
    data = reference.model_dump(mode="json")
    designs.apply(data, {}, "preservation.available", False)
    points.append((NO_PRESERVATION, float("nan"), data))
    return points


def period_of(v: Variant) -> str:
    """The preservation period a text sets, as the sweep labels it ('none' without one)."""
    p = v.preservation
    return f"{p.min_days.value:g}" if p.available.value else NO_PRESERVATION


def period_marks(variants: Sequence[Variant]) -> dict[str, list[str]]:
    """Which variants set which preservation period ('none' where a text has no preservation)."""
    marks: dict[str, list[str]] = {}
    for v in variants:
        marks.setdefault(period_of(v), []).append(v.label)
    return marks


def sweep_replications(reps: int) -> int:
    """Replications per swept preservation period, for ``reps`` of the comparison."""
    return max(2, reps // 3)


def most_runs(variants: int) -> int:
    """The most runs a briefing of ``variants`` texts makes: one per text, one per swept
    period (and none), and the attribution's hybrids (at most every subset of the groups)."""
    return variants + len(PERIODS) + 1 + 2 ** len(designs.GROUPS)


def gather(variants: Sequence[Variant], world: World, reference: str, *, reps: int = 20,
           seed: int = 1, window: int = DEFAULT_WINDOW, scale: float = 0.05, workers: int = 1,
           executor: Executor | None = None, sweep_reps: int | None = None,
           attribution_reps: int | None = None) -> Brief:
    """Run the comparison, the sweep and the attribution; return the briefing's tables.

    Runs go to ``executor`` if given, else to a pool of ``workers`` local processes. If any
    run fails, :class:`execution.RunsFailed` says how many (and how many were transient).
    """
    began = time.perf_counter()
    variants = list(variants)
    names = [v.name for v in variants]
    if reference not in names:
        raise ValueError(f"reference variant '{reference}' is not among the variants")
    sweep_reps = sweep_reps or sweep_replications(reps)
    small = scaled(world, scale)
    ref = variants[names.index(reference)]
    groups = analyses.identical(variants, small)
    compare = [Task.of(g[0], small, seed, window, reps) for g in groups]
    points = sweep_points(ref)
    sweeps = _sweep_tasks(points, small, seed, window, sweep_reps)
    with pool(workers if executor is None else 1, len(compare) + len(sweeps)) as own:
        executor = executor or own
        results = execution.execute(compare + sweeps, workers, executor, run=observe)
        execution.require_success(results)
        by_name = {v.name: (t, o) for g, t, o in zip(groups, compare, results, strict=False)
                   for v in g}
        observed = [(n, *by_name[n]) for n in names]
        swept = results[len(compare):]
        runs = _runs(observed)
        stats = analyses.paired(runs, reference, BRIEF_METRICS, seed=seed)
        widest = _widest(stats, variants, reference)
        b = variants[names.index(widest)]
        attribution_reps = attribution_reps or ATTRIBUTION_WINDOWS
        attribution = analyses.attribute(
            ref, b, small, list(ATTRIBUTED), reps=attribution_reps, seed=seed, window=window,
            workers=workers, executor=executor,
            ends=(by_name[reference][1]["summaries"], by_name[widest][1]["summaries"]),
            orders=ATTRIBUTION_ORDERS)
    sweep = _sweep_table(points, swept)
    settings = Settings(world.world.name, scale, seed, reps, sweep_reps, attribution_reps,
                        window, world.measurement.warmup_days.value)
    return Brief(
        settings=settings, variants=variants, reference=reference, widest=widest,
        groups=[[v.name for v in g] for g in groups],
        fallback=[analyses.falls_back(g[0], small) for g in groups],
        runs=runs, stats=stats, latency=_latencies(observed),
        flow=_flow(observed), regions=_regions(observed), backlog=_backlog(observed),
        sweep=sweep, marks=period_marks(variants), attribution=attribution,
        seconds=time.perf_counter() - began)


def _sweep_tasks(points: list[tuple[str, float, dict]], world: World, seed: int, window: int,
                 reps: int) -> list[Task]:
    """``reps`` runs of each swept point, on the comparison's seeds."""
    wd = world.model_dump(mode="json")
    return [Task(data, wd, seed, window, reps) for _, _, data in points]


Observed = tuple[str, Task, dict]  # a variant's name, the run that stands for it, its result


def _runs(observed: list[Observed]) -> pd.DataFrame:
    """One row per variant and replication: its summary metrics."""
    return pd.DataFrame([{"variant": name, **row} for name, t, o in observed
                         for row in execution.rows(t, o)])


def _sweep_table(points: list[tuple[str, float, dict]], swept: list[dict]) -> pd.DataFrame:
    """One row per swept period and replication: its summary metrics."""
    return pd.DataFrame([{"period": label, "days": d, "rep": k, **s}
                         for (label, d, _), o in zip(points, swept, strict=True)
                         for k, s in enumerate(o["summaries"])])


def _latencies(observed: list[Observed]) -> dict[str, np.ndarray]:
    """Days to evidence of every obtained request, by variant (all replications)."""
    return {name: o["latency"] for name, _, o in observed}


def _flow(observed: list[Observed]) -> pd.DataFrame:
    """Requests by variant, regime, preservation path and outcome (all replications)."""
    return _stack(observed, "flow").groupby(
        ["variant", "regime", "path", "outcome"], as_index=False)["requests"].sum()


def _regions(observed: list[Observed]) -> pd.DataFrame:
    """Requests lost, not obtained and decided by variant, window, requesting and requested
    region."""
    return _stack(observed, "regions").groupby(
        ["variant", "rep", "requesting", "requested"], as_index=False)[
        ["lost", "not_obtained", "decided"]].sum()


def _stack(observed: list[Observed], key: str) -> pd.DataFrame:
    return pd.concat([o[key].assign(variant=name) for name, _, o in observed],
                     ignore_index=True)


def _backlog(observed: list[Observed]) -> pd.DataFrame:
    """Files in central-authority hands per week of the whole run (warm-up included), by
    variant and State."""
    return pd.concat([pd.DataFrame({"variant": name, "state": state,
                                    "week": np.arange(len(series)), "files": series})
                      for name, _, o in observed for state, series in o["backlog"].items()],
                     ignore_index=True)


def _widest(stats: pd.DataFrame, variants: Sequence[Variant], reference: str) -> str:
    """The draft (or composite) whose evidence not obtained differs most from the
    reference's."""
    kinds = {v.name: v.variant.kind for v in variants}
    loss = stats[stats["metric"] == "not_obtained"].set_index("variant")["diff"]
    candidates = [n for n in loss.index if n != reference and kinds[n] != "reference"] \
        or [n for n in loss.index if n != reference]
    if not candidates:
        return reference
    return max(candidates, key=lambda n: abs(loss[n]))
