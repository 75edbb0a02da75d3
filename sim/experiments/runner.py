"""Running a scenario: replications, their summaries and tables, and the run's files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.engine.model import CooperationModel
from sim.inputs.provisions import Variant
from sim.inputs.world import World
from sim.metrics.observe import Observation
from sim.outputs import writing

DEFAULT_DAYS = 1825  # five years: needs arise in the first; all but a few requests end by the fifth
TABLES = ("events", "requests", "daily", "backlog")  # one Parquet file each


@dataclass
class RunResult:
    """One replication: its summary, event log, request table and daily aggregates."""

    summary: dict[str, float]
    events: pd.DataFrame
    requests: pd.DataFrame
    daily: pd.DataFrame
    backlog: pd.DataFrame  # per central authority per day


def run_one(variant: Variant, world: World, seed: int, days: int = DEFAULT_DAYS) -> RunResult:
    """Run one replication to the horizon. Pure: same arguments, same result."""
    model = CooperationModel(variant, world, seed)
    model.run(days)
    seen = Observation(model)
    return RunResult(seen.summary, seen.events, seen.requests, seen.daily, seen.backlog)


def replicate(variant: Variant, world: World, seed: int, reps: int,
              days: int = DEFAULT_DAYS) -> list[RunResult]:
    """``reps`` replications; replication k uses seed ``seed + k``."""
    return [run_one(variant, world, seed + k, days) for k in range(reps)]


def summary_table(results: list[RunResult], seed: int) -> pd.DataFrame:
    """One row per replication."""
    rows = [{"rep": k, "seed": seed + k, **r.summary} for k, r in enumerate(results)]
    return pd.DataFrame(rows)


def run_files(results: list[RunResult], table: pd.DataFrame,
              manifest: dict) -> Iterator[tuple[str, writing.Content]]:
    """The files of a run in the order they are written: ``summary.csv``, the tables of every
    replication as Parquet (each made when reached: one in memory at a time), the manifest."""
    yield "summary.csv", table
    for name in TABLES:
        frames = [getattr(r, name).assign(rep=k) for k, r in enumerate(results)]
        yield f"{name}.parquet", pd.concat(frames, ignore_index=True)
    yield "manifest.json", manifest


def write_outputs(folder: Path, results: list[RunResult], table: pd.DataFrame,
                  manifest: dict) -> None:
    """Write every file of a run into ``folder`` (a staging folder: see ``sim.outputs``)."""
    for name, content in run_files(results, table, manifest):
        writing.write(folder, {name: content})
