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

    Shares are of *decided* requests (all but those pending at the end of the run); the pending
    share is reported separately so that censoring is never silently dropped. ``latency``
    is :func:`obtained_latency` of the log, if already computed. The keys, their labels and
    units are in :mod:`sim.metrics.registry`.
    """
    stage, result, ground = view(log.stage), view(log.result), view(log.ground)
    start, end, request = view(log.start), view(log.end), view(log.request)
    final = stage == Stage.OUTCOME
    if latency is None:
        latency = obtained_latency(log)
    return {
        **_outcomes(result[final]),
        **_latencies(latency, stage, start, end),
        **_refusals_by_ground(ground[final & (result == Outcome.REFUSED)]),
        **_preservation(request, stage, result),
        **_backlog(backlog),
    }


def _outcomes(outcome: np.ndarray) -> dict[str, float]:
    """Requests, decided requests, the count of each outcome, and the shares of decided
    requests that ended without the evidence (all causes), lost (by cause), obtained,
    refused, out of scope or without a channel; the pending share is of all requests
    (``outcome``: each request's outcome code)."""
    counts = np.bincount(outcome, minlength=len(Outcome))
    created = int(outcome.size)
    decided = created - int(counts[Outcome.PENDING])
    s: dict[str, float] = {"requests": created, "decided": decided}
    for o in Outcome:
        s[f"n_{OUTCOME_NAMES[o]}"] = int(counts[o])
    share = (lambda n: n / decided) if decided else (lambda n: float("nan"))
    lost_before = counts[Outcome.LOST_BEFORE_PRESERVATION]
    lost_after = counts[Outcome.LOST_AFTER_LAPSE]
    s["not_obtained"] = share(decided - counts[Outcome.OBTAINED])  # every cause, below
    s["data_loss"] = share(lost_before + lost_after)
    s["loss_before_preservation"] = share(lost_before)
    s["loss_after_lapse"] = share(lost_after)
    s["obtained"] = share(counts[Outcome.OBTAINED])
    s["never_existed"] = share(counts[Outcome.NEVER_EXISTED])
    s["refusal_rate"] = share(counts[Outcome.REFUSED])
    s["out_of_scope"] = share(counts[Outcome.OUT_OF_SCOPE])
    s["no_channel"] = share(counts[Outcome.NO_CHANNEL])
    s["pending_share"] = counts[Outcome.PENDING] / created if created else float("nan")
    return s


def _latencies(latency: np.ndarray, stage: np.ndarray, start: np.ndarray,
               end: np.ndarray) -> dict[str, float]:
    """Days to evidence of obtained requests (median, 90th percentile, mean) and the median
    duration of each procedural stage."""
    s = {"latency_median": _q(latency, 0.5), "latency_p90": _q(latency, 0.9),
         "latency_mean": float(latency.mean()) if latency.size else float("nan")}
    for st in LATENCY_STAGES:
        sel = stage == st
        s[f"stage_{STAGE_NAMES[st]}_median"] = _q(end[sel] - start[sel], 0.5)
    return s


def _refusals_by_ground(grounds: np.ndarray) -> dict[str, float]:
    """Refused requests per ground of refusal (``grounds``: the ground of each refusal,
    negative where none was recorded)."""
    by_ground = np.bincount(grounds[grounds >= 0], minlength=len(GROUND_NAMES))
    return {f"refused_{name}": int(by_ground[g]) for g, name in enumerate(GROUND_NAMES)}


def _preservation(request: np.ndarray, stage: np.ndarray,
                  result: np.ndarray) -> dict[str, float]:
    """Requests whose data were preserved, those whose hold lapsed, and the lapsed share."""
    hold = stage == Stage.HOLD
    preserved = np.unique(request[hold]).size
    lapsed = np.unique(request[hold & (result == R.LAPSED)]).size
    return {"preserved": preserved, "lapsed": lapsed,
            "lapsed_share": lapsed / preserved if preserved else float("nan")}


def _backlog(backlog: np.ndarray | None) -> dict[str, float]:
    """Mean and peak of the backlog series (nothing if there is none)."""
    if backlog is None or not backlog.size:
        return {}
    return {"backlog_mean": float(backlog.mean()), "backlog_max": float(backlog.max())}


def _q(x: np.ndarray, q: float) -> float:
    return float(np.quantile(x, q)) if x.size else float("nan")


def view(column: array) -> np.ndarray:
    """A zero-copy numpy view of a log or request-table column (array type codes are numpy
    dtype codes). While a view exists the column cannot grow: use it, and let it go."""
    return np.frombuffer(column, dtype=column.typecode)
