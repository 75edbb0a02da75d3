"""Choosing a world's warm-up: MSER-5 on the mean daily backlog of many runs.

A single run's backlog wanders, and MSER-5 applied to it now and then truncates far too
late; averaged over replications the transient stands out (Hoad, Robinson and Davies 2010
recommend MSER-5 on the mean of several replications). So each variant runs ``seeds`` times
from an empty world for ``days`` days (needs arising throughout, nothing discarded), the
daily files in central-authority hands are averaged over the seeds, and MSER-5 gives the end
of that variant's transient. The world's warm-up is the latest of them, rounded up to whole
months: ``measurement.warmup_days`` in the world file.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from concurrent.futures import Executor
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments import execution
from sim.experiments.execution import Task
from sim.inputs.provisions import Variant
from sim.inputs.world import World
from sim.metrics.steady import mser5

ROUND_TO = 30  # days: the recommended warm-up is a whole number of months


def backlog(task: Task) -> dict[str, Any]:
    """Run one task from an empty world; return its daily backlog (all offices together)."""
    return {"backlog": execution.simulate(task).backlog_series().tolist()}


def tasks(variants: Sequence[Variant], world: World, seeds: int, days: int) -> list[Task]:
    """Every variant with seeds 1..``seeds``, ``days`` days, no warm-up and no run-off."""
    data = world.model_dump(mode="json")
    data["measurement"]["warmup_days"]["value"] = 0
    data["measurement"]["runoff_days"]["value"] = 0
    return [Task(v.model_dump(mode="json"), data, seed, days)
            for v in variants for seed in range(1, seeds + 1)]


def truncation(variants: Sequence[Variant], world: World, *, seeds: int, days: int,
               workers: int = 1, executor: Executor | None = None) -> pd.DataFrame:
    """Per variant: MSER-5 on the mean backlog over its seeds (``mser5_day``), the mean
    backlog after that day, and the single runs' own MSER-5 days (to show their spread)."""
    runs = tasks(variants, world, seeds, days)
    results = execution.execute(runs, workers, executor, run=backlog)
    execution.require_success(results)
    rows = []
    for i, v in enumerate(variants):
        series = np.array([r["backlog"] for r in results[i * seeds:(i + 1) * seeds]], float)
        mean = series.mean(axis=0)
        day = mser5(mean)
        rows.append({"variant": v.name, "mser5_day": day, "backlog_after": mean[day:].mean(),
                     "single_runs": " ".join(str(mser5(s)) for s in series)})
    return pd.DataFrame(rows)


def recommended(table: pd.DataFrame) -> int:
    """The warm-up: the latest variant's end of transient, rounded up to whole months."""
    return int(math.ceil(table["mser5_day"].max() / ROUND_TO) * ROUND_TO)
