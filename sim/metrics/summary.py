"""Metrics computed from the event log (the single source of truth) of one run."""

from __future__ import annotations

from array import array

import numpy as np

from sim.engine.eventlog import EventLog
from sim.vocabulary import (
    GROUND_NAMES,
    OUTCOME_NAMES,
    PROCEDURE_STAGES,
    STAGE_NAMES,
    Outcome,
    Stage,
)
from sim.vocabulary import Result as R

LATENCY_STAGES = PROCEDURE_STAGES  # stages with a median duration in the summary


def obtained_latency(log: EventLog) -> np.ndarray:
    """Days from the need to the evidence of every obtained request, in log order (the one
    definition: :class:`sim.metrics.observe.Observation` computes it once for every reader)."""
    stage, result = view(log.stage), view(log.result)
    start, end = view(log.start), view(log.end)
    got = (stage == Stage.OUTCOME) & (result == Outcome.OBTAINED)
    return end[got] - start[got]


def summarize(log: EventLog, backlog: np.ndarray | None = None,
              latency: np.ndarray | None = None) -> dict[str, float]:
    """Data loss by cause, latency overall and per stage, refusals per ground, lapses, backlog.

    Shares are of *decided* requests (all but those pending at the horizon); the pending
    share is reported separately so that censoring is never silently dropped. ``latency``
    is :func:`obtained_latency` of the log, if already computed. The keys, their labels and
    units are in :mod:`sim.metrics.registry`.
    """
    stage, result, ground = view(log.stage), view(log.result), view(log.ground)
    start, end, request = view(log.start), view(log.end), view(log.request)

    final = stage == Stage.OUTCOME
    outcome = result[final]
    counts = np.bincount(outcome, minlength=len(Outcome))
    created = int(final.sum())
    decided = created - int(counts[Outcome.PENDING])
    s: dict[str, float] = {"requests": created, "decided": decided}
    for o in Outcome:
        s[f"n_{OUTCOME_NAMES[o]}"] = int(counts[o])
    share = (lambda n: n / decided) if decided else (lambda n: float("nan"))
    lost_before = counts[Outcome.LOST_BEFORE_PRESERVATION]
    lost_after = counts[Outcome.LOST_AFTER_LAPSE]
    s["data_loss"] = share(lost_before + lost_after)
    s["loss_before_preservation"] = share(lost_before)
    s["loss_after_lapse"] = share(lost_after)
    s["obtained"] = share(counts[Outcome.OBTAINED])
    s["never_existed"] = share(counts[Outcome.NEVER_EXISTED])
    s["refusal_rate"] = share(counts[Outcome.REFUSED])
    s["out_of_scope"] = share(counts[Outcome.OUT_OF_SCOPE])
    s["no_channel"] = share(counts[Outcome.NO_CHANNEL])
    s["pending_share"] = counts[Outcome.PENDING] / created if created else float("nan")

    if latency is None:
        latency = obtained_latency(log)
    s["latency_median"] = _q(latency, 0.5)
    s["latency_p90"] = _q(latency, 0.9)
    s["latency_mean"] = float(latency.mean()) if latency.size else float("nan")
    for st in LATENCY_STAGES:
        sel = stage == st
        s[f"stage_{STAGE_NAMES[st]}_median"] = _q(end[sel] - start[sel], 0.5)

    refused_grounds = ground[final & (result == Outcome.REFUSED)]
    by_ground = np.bincount(refused_grounds[refused_grounds >= 0], minlength=len(GROUND_NAMES))
    for g, name in enumerate(GROUND_NAMES):
        s[f"refused_{name}"] = int(by_ground[g])

    hold = stage == Stage.HOLD
    preserved = np.unique(request[hold]).size
    lapsed = np.unique(request[hold & (result == R.LAPSED)]).size
    s["preserved"] = preserved
    s["lapsed"] = lapsed
    s["lapsed_share"] = lapsed / preserved if preserved else float("nan")
    if backlog is not None and backlog.size:
        s["backlog_mean"] = float(backlog.mean())
        s["backlog_max"] = float(backlog.max())
    return s


def _q(x: np.ndarray, q: float) -> float:
    return float(np.quantile(x, q)) if x.size else float("nan")


def view(column: array) -> np.ndarray:
    """A zero-copy numpy view of a log or request-table column (array type codes are numpy
    dtype codes). While a view exists the column cannot grow: use it, and let it go."""
    return np.frombuffer(column, dtype=column.typecode)
