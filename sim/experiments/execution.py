"""Running many tasks: runs of many scenarios, mapped over any executor.

Every run is a pure function of its task, ``run_task(Task) -> summaries``, so results are
the same whatever executes them (this process, local worker processes, or any
``concurrent.futures.Executor``). A task's replications are the consecutive windows of its
one run (batch means after one warm-up): replication k of every variant is the cohort of
the same window under the same seed, so the variants face the same cases and their
differences are paired.

A run that raises is a failure (:func:`failure`): a *transient* one (memory, I/O, a lost
worker) is reported but not stored, so the next invocation retries it; a *deterministic* one
is stored with its error and not run again. :func:`failures` counts them.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import Executor, Future, as_completed
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
from tqdm import tqdm

from sim.engine.model import CooperationModel
from sim.engine.window import Window
from sim.experiments import executors
from sim.experiments.store import ShardStore
from sim.inputs.provisions import Variant
from sim.inputs.schema import validate
from sim.inputs.world import World
from sim.limits import DEFAULT_WINDOW
from sim.metrics.observe import Observation


@dataclass(frozen=True)
class Task:
    """One run: a variant in a world, with a seed, measured over ``reps`` consecutive
    windows of ``window`` days (between the world's warm-up and run-off).

    The variant and world travel as their validated data (plain dicts), so a task pickles to
    any worker and is validated again there.
    """

    variant: dict[str, Any]
    world: dict[str, Any]
    seed: int
    window: int = DEFAULT_WINDOW
    reps: int = 1

    @classmethod
    def of(cls, variant: Variant, world: World, seed: int, window: int = DEFAULT_WINDOW,
           reps: int = 1) -> Task:
        return cls(variant.model_dump(mode="json"), world.model_dump(mode="json"), seed,
                   window, reps)

    @property
    def name(self) -> str:
        return self.variant["variant"]["name"]


def simulate(task: Task) -> CooperationModel:
    """Validate the task's inputs and measure its model (warm-up, window, run-off)."""
    variant = validate(Variant, task.variant, f"<task {task.name}>")
    world = validate(World, task.world, "<task world>")
    model = CooperationModel(variant, world, task.seed,
                             Window.of(world, task.window, task.reps))
    model.measure()
    return model


def run_task(task: Task) -> dict[str, Any]:
    """Run one task and return its summaries, one per window, and nothing else (small
    enough to ship between processes, and all a sweep computes)."""
    return {"summaries": Observation(simulate(task)).summaries}


def rows(task: Task, result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per replication (window) of a task's run: ``rep``, ``seed`` and its summary,
    or, for a failed run, its failure on every replication's row."""
    if "summaries" in result:
        return [{"rep": k, "seed": task.seed, **s} for k, s in enumerate(result["summaries"])]
    return [{"rep": k, "seed": task.seed, **result} for k in range(task.reps)]


AFTER_RESULT: Callable[[int], None] | None = None  # test hook: called after each result

Result = dict[str, Any]


def failure(error: BaseException, transient: bool | None = None) -> Result:
    """A failed run's result: its error, and whether a retry may succeed."""
    if transient is None:
        transient = executors.transient(error)
    return {"error": f"{type(error).__name__}: {error}", "transient": transient}


def attempt(run: Callable[[Task], Result], task: Task) -> Result:
    """``run(task)``, with an exception it raises returned as a :func:`failure`."""
    try:
        return run(task)
    except Exception as e:  # any failure of one run is data for the experiment
        return failure(e)


def safe_run(task: Task) -> Result:
    """``run_task``, with a run that raises recorded as a failure instead of stopping all."""
    return attempt(run_task, task)


@dataclass(frozen=True)
class Failures:
    """Failed runs: ``transient`` ones are retried by the next invocation, ``deterministic``
    ones are stored with their error and not run again."""

    transient: int = 0
    deterministic: int = 0
    first_error: str | None = None

    @property
    def count(self) -> int:
        return self.transient + self.deterministic


class RunsFailed(RuntimeError):
    """Runs failed, so the statistics that need every run cannot be computed (one line)."""

    def __init__(self, count: int, transient: int, first_error: str) -> None:
        self.count, self.transient, self.first_error = count, transient, first_error
        retry = f" ({transient} transient: running it again retries them)" if transient else ""
        first = first_error.replace("\r", " ").replace("\n", " ")
        super().__init__(f"{count} run(s) failed{retry}; first: {first}")


def failures(results: Iterable[Mapping[str, Any]] | pd.DataFrame) -> Failures:
    """Count the failed runs among :func:`execute`'s results or an experiment's table (whose
    rows are a run's windows: a failed run's error is on each, and counts once)."""
    if isinstance(results, pd.DataFrame):
        firsts = results[results["rep"] == 0] if "rep" in results else results
        results = firsts.filter(["error", "transient"]).to_dict("records")
    failed = [r for r in results if isinstance(r.get("error"), str)]
    transient = sum(_flag(r.get("transient")) for r in failed)
    return Failures(transient, len(failed) - transient, failed[0]["error"] if failed else None)


def require_success(results: Iterable[Mapping[str, Any]] | pd.DataFrame) -> None:
    """Raise :class:`RunsFailed` if any run failed."""
    found = failures(results)
    if found.count:
        raise RunsFailed(found.count, found.transient, found.first_error or "")


def _flag(value: Any) -> bool:
    return isinstance(value, bool | np.bool_) and bool(value)


def execute(tasks: Sequence[Task], workers: int = 1, executor: Executor | None = None,
            store: ShardStore | None = None,
            run: Callable[[Task], Result] = safe_run) -> list[Result]:
    """Results of ``tasks``, in task order, on ``executor`` (any ``concurrent.futures``
    executor, or a ``distributed.Client``) or on ``workers`` local processes. ``run`` maps a
    task to its result (default: the summary); a run that raises, or that its executor loses,
    gives a :func:`failure` instead. A broken local pool fails its unfinished runs as
    transient; ``execute`` returns normally.

    With a ``store``, results are saved as they complete (transient failures excepted) and
    runs already there are not run again. On KeyboardInterrupt, local workers are terminated
    at once and the interrupt propagates. A progress bar shows on a terminal.
    """
    if hasattr(executor, "get_executor"):  # a dask.distributed Client
        executor = executor.get_executor()
    keys = [ShardStore.key(t) for t in tasks] if store else []
    found = store.load() if store else {}
    results: list[Result | None] = [found.get(k) for k in keys] if store \
        else [None] * len(tasks)
    pending = [i for i, r in enumerate(results) if r is None]
    bar = tqdm(total=len(tasks), initial=len(tasks) - len(pending), unit="run",
               disable=not sys.stderr.isatty(), file=sys.stderr)
    done = [len(tasks) - len(pending)]

    def finished(i: int, result: Result) -> None:
        results[i] = result
        if store and not _flag(result.get("transient")):
            store.save(keys[i], result)
        bar.update()
        done[0] += 1
        if AFTER_RESULT is not None:
            AFTER_RESULT(done[0])

    try:
        if executor is None and (workers <= 1 or len(pending) <= 1):
            for i in pending:
                finished(i, attempt(run, tasks[i]))
        elif executor is None:
            with executors.local_pool(min(workers, len(pending))) as pool:
                _submit(pool, partial(attempt, run), tasks, pending, finished)
        else:
            _submit(executor, partial(attempt, run), tasks, pending, finished)
    finally:
        bar.close()
    return [r for r in results if r is not None]


def _submit(pool: Executor, run: Callable[[Task], Result], tasks: Sequence[Task],
            pending: list[int], finished: Callable[[int, Result], None]) -> None:
    """Run the ``pending`` tasks on ``pool``. What the pool raises instead of a result (a
    lost worker, a lost cluster) is a transient failure; leaving early cancels the rest."""
    futures: dict[Future, int] = {}
    try:
        for n, i in enumerate(pending):
            try:
                futures[pool.submit(run, tasks[i])] = i
            except Exception as e:  # a broken pool or a closed client: nothing more starts
                for j in pending[n:]:
                    finished(j, failure(e, transient=True))
                break
        for future in as_completed(futures):
            try:
                result = future.result()
            except Exception as e:
                result = failure(e, transient=True)
            finished(futures[future], result)
    finally:
        for future in futures:
            future.cancel()
