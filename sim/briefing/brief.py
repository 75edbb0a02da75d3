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
from sim.metrics.observe import Observation

PERIODS = (30, 60, 90, 120, 180, 270, 365)  # preservation periods swept (days)
NO_PRESERVATION = "none"
BRIEF_METRICS = ("data_loss", "loss_before_preservation", "loss_after_lapse", "obtained",
                 "refusal_rate", "out_of_scope", "no_channel", "latency_median", "latency_p90")
ATTRIBUTED = ("data_loss", "latency_median")
ATTRIBUTION_BUDGET = 200  # runs for the attribution: replications = budget / mixes of texts


@dataclass(frozen=True)
class Settings:
    """How the briefing was run: printed under every chart."""

    world: str
    scale: float
    seed: int
    reps: int
    sweep_reps: int
    attribution_reps: int
    days: int


@dataclass
class Brief:
    """Everything the briefing shows, as plain tables."""

    settings: Settings
    variants: list[Variant]
    reference: str
    widest: str  # the draft whose data loss differs most from the reference
    runs: pd.DataFrame  # one row per variant and replication: every summary metric
    stats: pd.DataFrame  # analyses.paired: mean, band, paired difference and its CI
    latency: dict[str, np.ndarray]  # days to evidence of every obtained request, by variant
    flow: pd.DataFrame  # variant, regime, path, outcome, requests (all replications)
    regions: pd.DataFrame  # variant, requesting, requested, lost, decided (all replications)
    backlog: pd.DataFrame  # variant, state, week, mean, p10, p90 (files across replications)
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
    """Run one task; return its summary and what the charts need, as plain values (latencies
    as float32, to ship fewer bytes between processes).

    A run that raises is reported by ``execution.execute`` as a failure, not fatal to the
    others.
    """
    seen = Observation(execution.simulate(task))
    return {"summary": seen.summary, "latency": seen.latency.astype(np.float32),
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


def period_marks(variants: Sequence[Variant]) -> dict[str, list[str]]:
    """Which variants set which preservation period ('none' where a text has no preservation)."""
    marks: dict[str, list[str]] = {}
    for v in variants:
        p = v.preservation
        key = f"{p.min_days.value:g}" if p.available.value else NO_PRESERVATION
        marks.setdefault(key, []).append(v.label)
    return marks


def sweep_replications(reps: int) -> int:
    """Replications per swept preservation period, for ``reps`` of the comparison."""
    return max(2, reps // 3)


def most_runs(variants: int, reps: int) -> int:
    """The most runs a briefing of ``variants`` texts at ``reps`` replications makes:
    the comparison, the sweep (each period and none) and the attribution's budget."""
    return variants * reps + (len(PERIODS) + 1) * sweep_replications(reps) + ATTRIBUTION_BUDGET


def gather(variants: Sequence[Variant], world: World, reference: str, *, reps: int = 30,
           seed: int = 1, days: int, scale: float = 0.05, workers: int = 1,
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
    compare = [Task.of(v, small, seed + k, days) for v in variants for k in range(reps)]
    points = sweep_points(ref)
    sweeps = _sweep_tasks(points, small, seed, days, sweep_reps)
    with pool(workers if executor is None else 1, len(compare) + len(sweeps)) as own:
        executor = executor or own
        results = execution.execute(compare + sweeps, workers, executor, run=observe)
        execution.require_success(results)
        observed, swept = results[:len(compare)], results[len(compare):]
        runs = _runs(compare, observed, seed)
        stats = analyses.paired(runs, reference, BRIEF_METRICS, seed=seed)
        widest = _widest(stats, variants, reference)
        b = variants[names.index(widest)]
        attribution_reps = attribution_reps or _attribution_replications(ref, b, reps)
        attribution = analyses.attribute(ref, b, small,
                                            list(ATTRIBUTED), reps=attribution_reps,
                                            seed=seed, days=days, workers=workers,
                                            executor=executor)
    sweep = _sweep_table(points, swept, sweep_reps)
    settings = Settings(world.world.name, scale, seed, reps, sweep_reps, attribution_reps, days)
    return Brief(
        settings=settings, variants=variants, reference=reference, widest=widest,
        runs=runs, stats=stats, latency=_latencies(compare, observed, names),
        flow=_flow(compare, observed), regions=_regions(compare, observed),
        backlog=_backlog(compare, observed),
        sweep=sweep, marks=period_marks(variants), attribution=attribution,
        seconds=time.perf_counter() - began)


def _sweep_tasks(points: list[tuple[str, float, dict]], world: World, seed: int, days: int,
                 reps: int) -> list[Task]:
    """``reps`` runs of each swept point, on the comparison's seeds."""
    wd = world.model_dump(mode="json")
    return [Task(data, wd, seed + k, days) for _, _, data in points for k in range(reps)]


def _attribution_replications(a: Variant, b: Variant, reps: int) -> int:
    """Replications per mix of the two texts: a third of ``reps``, within the budget."""
    hybrids = 2 ** len(designs.differing_groups(a.model_dump(mode="json"),
                                                b.model_dump(mode="json")))
    return max(1, min(reps // 3, ATTRIBUTION_BUDGET // hybrids))


def _runs(tasks: list[Task], observed: list[dict], seed: int) -> pd.DataFrame:
    """One row per variant and replication: its summary metrics."""
    return pd.DataFrame([{"variant": t.name, "rep": t.seed - seed, "seed": t.seed,
                          **o["summary"]} for t, o in zip(tasks, observed, strict=True)])


def _sweep_table(points: list[tuple[str, float, dict]], swept: list[dict],
                 reps: int) -> pd.DataFrame:
    """One row per swept period and replication: its summary metrics."""
    return pd.DataFrame([
        {"period": label, "days": d, "rep": k, **swept[i * reps + k]["summary"]}
        for i, (label, d, _) in enumerate(points) for k in range(reps)])


def _latencies(tasks: list[Task], observed: list[dict],
               names: list[str]) -> dict[str, np.ndarray]:
    """Days to evidence of every obtained request, by variant (all replications)."""
    return {n: np.concatenate([o["latency"] for t, o in zip(tasks, observed, strict=True)
                               if t.name == n]) for n in names}


def _flow(tasks: list[Task], observed: list[dict]) -> pd.DataFrame:
    """Requests by variant, regime, preservation path and outcome (all replications)."""
    return _stack(tasks, observed, "flow").groupby(
        ["variant", "regime", "path", "outcome"], as_index=False)["requests"].sum()


def _regions(tasks: list[Task], observed: list[dict]) -> pd.DataFrame:
    """Lost and decided requests by variant, requesting and requested region."""
    return _stack(tasks, observed, "regions").groupby(
        ["variant", "requesting", "requested"], as_index=False)[["lost", "decided"]].sum()


def _stack(tasks: list[Task], observed: list[dict], key: str) -> pd.DataFrame:
    return pd.concat([o[key].assign(variant=t.name) for t, o in zip(tasks, observed, strict=True)],
                     ignore_index=True)


def _backlog(tasks: list[Task], observed: list[dict]) -> pd.DataFrame:
    """Files in central-authority hands per week: mean and 10-90% band over replications."""
    frames = []
    for name in dict.fromkeys(t.name for t in tasks):
        series = [o["backlog"] for t, o in zip(tasks, observed, strict=True) if t.name == name]
        for state in series[0]:
            x = np.array([s[state] for s in series], dtype=float)  # reps x weeks
            frames.append(pd.DataFrame({
                "variant": name, "state": state, "week": np.arange(x.shape[1]),
                "mean": x.mean(axis=0), "p10": np.quantile(x, 0.1, axis=0),
                "p90": np.quantile(x, 0.9, axis=0)}))
    return pd.concat(frames, ignore_index=True)


def _widest(stats: pd.DataFrame, variants: Sequence[Variant], reference: str) -> str:
    """The draft (or composite) whose mean data loss differs most from the reference's."""
    kinds = {v.name: v.variant.kind for v in variants}
    loss = stats[stats["metric"] == "data_loss"].set_index("variant")["diff"]
    candidates = [n for n in loss.index if n != reference and kinds[n] != "reference"] \
        or [n for n in loss.index if n != reference]
    if not candidates:
        return reference
    return max(candidates, key=lambda n: abs(loss[n]))
