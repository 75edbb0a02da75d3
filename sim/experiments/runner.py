"""Running a scenario: one run measured over consecutive windows (its replications), their
summaries and tables, and the run's files."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sim.engine.model import CooperationModel
from sim.engine.window import Window
from sim.inputs.provisions import Variant
from sim.inputs.world import World
from sim.limits import DEFAULT_WINDOW
from sim.metrics.observe import Observation
from sim.outputs import writing

TABLES = ("events", "requests", "daily", "backlog")  # one Parquet file each


@dataclass
class RunResult:
    """One run: a summary per window (replication), the cohorts' event log and request table
    (each row with its window, ``rep``), the daily aggregates and backlogs of the whole run,
    and its steady-state check."""

    summaries: list[dict[str, float]]
    events: pd.DataFrame
    requests: pd.DataFrame
    daily: pd.DataFrame
    backlog: pd.DataFrame  # per central authority per day
    steady: dict  # Observation.steady: warm-up, MSER-5, run-off, desks' load

    @property
    def summary(self) -> dict[str, float]:
        """The first window's summary (a run of one window has no other)."""
        return self.summaries[0]


def run_one(variant: Variant, world: World, seed: int, window: int = DEFAULT_WINDOW,
            reps: int = 1) -> RunResult:
    """Run once and measure ``reps`` consecutive windows of ``window`` days after the world's
    warm-up (then its run-off): each window's cohort is one replication. Pure: same
    arguments, same result."""
    model = CooperationModel(variant, world, seed, Window.of(world, window, reps))
    model.measure()
    seen = Observation(model)
    return RunResult(seen.summaries, seen.events, seen.requests, seen.daily, seen.backlog,
                     seen.steady)


def summary_table(result: RunResult, seed: int) -> pd.DataFrame:
    """One row per window (replication)."""
    return pd.DataFrame([{"rep": k, "seed": seed, **s} for k, s in enumerate(result.summaries)])


def run_files(result: RunResult, table: pd.DataFrame,
              manifest: dict) -> Iterator[tuple[str, writing.Content]]:
    """The files of a run in the order they are written: ``summary.csv``, the tables as
    Parquet, the manifest."""
    yield "summary.csv", table
    for name in TABLES:
        yield f"{name}.parquet", getattr(result, name)
    yield "manifest.json", manifest


def write_outputs(folder: Path, result: RunResult, table: pd.DataFrame,
                  manifest: dict) -> None:
    """Write every file of a run into ``folder`` (a staging folder: see ``sim.outputs``)."""
    for name, content in run_files(result, table, manifest):
        writing.write(folder, {name: content})
