"""Capacity, for central-authority managers: the smallest staff that meets a target.

One State's central authority handles an MLA request from its arrival (the end of its
transmission) to its execution by the provider. For a staff figure, the variant runs in the
world with that State's staff set to it, with the same seed at every figure (the same cases),
and the median days from arrival to execution of the cohorts' requests to that State is read.
More staff never lengthens the wait in a queue, so the median falls as staff grow; the search
doubles the staff until the target is met and then halves the interval between the last
figure that misses it and the first that meets it, down to one person. Unlimited staff (no
queue at all) bounds what staff can do: if even then the median misses the target, review and
execution alone take longer, and no staff figure suffices.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from sim.experiments import execution
from sim.experiments.execution import Task
from sim.inputs.provisions import Variant
from sim.inputs.schema import InputError
from sim.inputs.world import World
from sim.limits import DEFAULT_WINDOW, MAX_STAFF
from sim.metrics.observe import Observation
from sim.vocabulary import Stage

AROUND = (0.5, 0.7, 0.85, 1.0, 1.2, 1.5, 2.0)  # the curve: multiples of the answer
UNLIMITED = 0  # a desk's staff of 0 is unlimited: no queue


@dataclass(frozen=True)
class Target:
    """The office and the median days from arrival to execution it must achieve."""

    state: str
    days: float


def measure(task: Task, state: str) -> dict[str, Any]:
    """One run: the median days from arrival to execution at ``state``'s central authority
    (NaN if no request reached execution there), its requests, and the run's evidence not
    obtained and its overloaded desks."""
    seen = Observation(execution.simulate(task))
    days = seen.mla_days(state, Stage.EXECUTE)
    s = seen.summary
    return {"median_days": float(np.median(days)) if days.size else math.nan,
            "executed": int(days.size), "not_obtained": s["not_obtained"],
            "overloaded_desks": s["overloaded_desks"]}


def staffed(world: World, state: str, staff: int) -> dict[str, Any]:
    """The world's data with ``state``'s central authority given ``staff``."""
    if state not in {r.iso3 for r in world.states.rows()}:
        raise InputError("--state", state, "not in the world's roster")
    data = world.model_dump(mode="json")
    data["central_authorities"]["staff_by_state"]["value"][state] = staff
    return data


class Search:
    """The runs of one capacity search, each staff figure run once and remembered."""

    def __init__(self, variant: Variant, world: World, target: Target, *, seed: int,
                 window: int, reps: int, run: Callable[[list[Task]], list[dict]]) -> None:
        self.variant, self.world, self.target = variant, world, target
        self.seed, self.window, self.reps, self.run = seed, window, reps, run
        self.seen: dict[int, dict[str, Any]] = {}

    def at(self, *staff: int) -> None:
        """Run every staff figure not yet run (together, so that they may run in parallel)."""
        todo = [s for s in dict.fromkeys(staff) if s not in self.seen]
        tasks = [Task(self.variant.model_dump(mode="json"),
                      staffed(self.world, self.target.state, s), self.seed, self.window,
                      self.reps) for s in todo]
        for s, result in zip(todo, self.run(tasks), strict=True):
            self.seen[s] = result

    def meets(self, staff: int) -> bool:
        self.at(staff)
        return self.seen[staff]["median_days"] <= self.target.days

    def smallest(self, start: int) -> int | None:
        """The smallest staff that meets the target, or None when unlimited staff do not."""
        if not self.meets(UNLIMITED):
            return None
        low, high = 0, max(1, start)  # low misses (or is nothing), high is to be tried
        while not self.meets(high):
            low, high = high, min(2 * high, MAX_STAFF)
            if low == MAX_STAFF:
                return None
        while high - low > 1:
            mid = (low + high) // 2
            low, high = (low, mid) if self.meets(mid) else (mid, high)
        return high

    def curve(self, answer: int) -> pd.DataFrame:
        """Staff, median days and evidence not obtained around ``answer``, and unlimited."""
        figures = sorted({max(1, round(answer * k)) for k in AROUND})
        self.at(*figures)
        rows = [{"staff": s, **self.seen[s]} for s in figures]
        rows.append({"staff": "unlimited", **self.seen[UNLIMITED]})
        return pd.DataFrame(rows).assign(meets=lambda d: d["median_days"] <= self.target.days)


def search(variant: Variant, world: World, target: Target, *, seed: int = 1,
           window: int = DEFAULT_WINDOW, reps: int = 1, workers: int = 1,
           executor: object = None) -> tuple[int | None, pd.DataFrame]:
    """The smallest staff meeting ``target`` (None if none does) and the curve around it
    (around the current staff when none does)."""
    current = world.central_authorities.staff_by_state.value.get(
        target.state, world.central_authorities.staff.value)
    probe = _Probe(target.state)

    def run(tasks: list[Task]) -> list[dict]:
        results = execution.execute(tasks, workers, executor, run=probe)
        execution.require_success(results)
        return results

    s = Search(variant, world, target, seed=seed, window=window, reps=reps, run=run)
    answer = s.smallest(current or 1)
    return answer, s.curve(answer if answer is not None else max(1, current))


@dataclass(frozen=True)
class _Probe:
    """``measure`` for one State, as a picklable callable for worker processes."""

    state: str

    def __call__(self, task: Task) -> dict[str, Any]:
        return measure(task, self.state)
