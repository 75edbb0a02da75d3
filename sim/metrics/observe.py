"""Reading a model: every table and figure coopsim takes from a run, each computed once.

:class:`Observation` wraps a model and computes what a reader asks for, when asked, once:
the summary (what ``coopsim run``, the experiments and the briefing report), the event log,
request table, daily aggregates and backlogs as frames (the run's files), what the briefing's
charts need (latencies, route-to-outcome flow, loss by region, weekly backlogs) and what the
calibration compares with published figures. An experiment asks for the summary only, so
a sweep computes nothing else. Every member is a plain value (dict, frame or array), so what
a worker returns pickles.

Everything but the daily series is about the cohort (the cases arising in the model's
measurement window; the ledger logs nothing else): the warm-up and the run-off load the
desks and are not reported. ``steady`` says whether the warm-up had done its work and
whether every desk keeps up (:mod:`sim.metrics.steady`).

An observation is a snapshot of the model as it stands: build a new one after the model
moves on. It keeps no view of the model's growing columns (which could not grow while one
existed), only what it computed from them.
"""

from __future__ import annotations

import math
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from sim.engine.eventlog import RequestTable
from sim.engine.model import CooperationModel
from sim.metrics.steady import DeskLoad, mser5, slope_per_year
from sim.metrics.summary import obtained_latency, summarize, view
from sim.vocabulary import OTHER_STATES, OUTCOME_NAMES, PATHS, REGIME_LABELS, Outcome, Stage

MONTH = 365.25 / 12
WEEK = 7


class Observation:
    """The tables of one model, each computed on first use and kept."""

    def __init__(self, model: CooperationModel) -> None:
        self.model = model

    # -- the summary and the run's files ------------------------------------------------
    @cached_property
    def latency(self) -> np.ndarray:
        """Days from the need to the evidence of every obtained request, in log order."""
        return obtained_latency(self.model.log)

    @cached_property
    def summary(self) -> dict[str, float]:
        """:func:`sim.metrics.summary.summarize` of every cohort together (metrics:
        :mod:`sim.metrics.registry`), with the run's steady-state check."""
        backlog = self.model.backlog_series()[self._window]
        return {**summarize(self.model.log, backlog, self.latency), **self._steadiness}

    @cached_property
    def summaries(self) -> list[dict[str, float]]:
        """One summary per measurement window (its cohort: one replication of the steady
        state), each with the run's steady-state check."""
        w, log = self.model.window, self.model.log
        if w.batches == 1:
            return [self.summary]
        batch = self._batch_of_rows
        backlog = self.model.backlog_series()
        out = []
        for k in range(w.batches):
            part = log.select(batch == k)
            out.append({**summarize(part, backlog[w.days_of(k)]), **self._steadiness})
        return out

    @property
    def _steadiness(self) -> dict[str, float]:
        steady = self.steady
        return {"mser5_day": steady["mser5_day"], "runoff_days": steady["runoff_days"],
                "overloaded_desks": len(steady["overloaded"])}

    @cached_property
    def _batch_of_rows(self) -> np.ndarray:
        """The window (replication) of every log row's case."""
        m = self.model
        return self._batch(view(m.requests.cols["arrival"])[self._rows(view(m.log.request))])

    def _batch(self, arrival: np.ndarray) -> np.ndarray:
        """The window (replication) of cases arising at ``arrival`` (an array of days)."""
        w = self.model.window
        return ((arrival - w.start) // w.days).astype(np.int64)

    @property
    def _window(self) -> slice:
        """The days of the measurement windows, as a slice of a daily series."""
        w = self.model.window
        return slice(math.floor(w.start), math.ceil(w.end) if math.isfinite(w.end) else None)

    @cached_property
    def events(self) -> pd.DataFrame:
        """The event log, codes as names, each row with its case's window (``rep``)."""
        return self.model.log.frame().assign(rep=self._batch_of_rows)

    @cached_property
    def requests(self) -> pd.DataFrame:
        """One row per created request of the cohorts, codes as names, with its case's window
        (``rep``)."""
        m = self.model
        frame = m.requests.frame([s.iso3 for s in m.states], [p.name for p in m.providers])
        return frame.assign(rep=self._batch(frame["arrival"].to_numpy()))

    @cached_property
    def daily(self) -> pd.DataFrame:
        """The daily aggregates of the whole run, each day with its phase (warm-up, window
        or run-off)."""
        daily = self.model.daily()
        w = self.model.window
        phase = np.select([daily["day"] < w.start, daily["day"] < w.end],
                          ["warm-up", "window"], "run-off")
        return daily.assign(phase=pd.Categorical(phase, ["warm-up", "window", "run-off"]))

    # -- the steady state ---------------------------------------------------------------
    @cached_property
    def steady(self) -> dict[str, Any]:
        """The warm-up and this run's own MSER-5 day on its daily backlog (for information:
        one run's MSER-5 is noisy, so the warm-up is chosen on the mean of many, see
        :mod:`sim.experiments.warmup`), the days of run-off, the requests censored, and the
        load of every staffed central authority the cohorts reached."""
        m, w = self.model, self.model.window
        day = mser5(m.backlog_series())  # the whole run: needs arise until its end
        desks = self.desks
        return {"warmup_days": w.warmup, "window_days": w.days, "windows": w.batches,
                "mser5_day": day, "runoff_days": m.runoff_days,
                "censored": self._censored,
                "overloaded": [d.statement() for d in desks if d.overloaded],
                "desks": [d.row() for d in desks]}

    @property
    def _censored(self) -> int:
        """Requests of the cohort still open at the end of the run-off."""
        log = self.model.log
        final = view(log.stage) == Stage.OUTCOME
        return int((view(log.result)[final] == Outcome.PENDING).sum())

    @cached_property
    def desks(self) -> list[DeskLoad]:
        """Every staffed central authority the cohort's files reached: its arrivals and
        capacity a year, and its backlog's growth over the window."""
        m = self.model
        years = min(m.window.end - m.window.start, m.steps) / 365
        log = m.log
        stage = view(log.stage)
        queued = view(log.request)[(stage == Stage.QUEUE)]
        requested = view(m.requests.cols["requested"])[self._rows(queued)]
        files = np.bincount(requested, minlength=len(m.states))
        review = m.world.central_authorities.review_days.expected()
        backlog = m.backlog_matrix()[self._window]
        if not len(backlog):
            return []
        loads = []
        for ca in m.central_authorities:
            i = ca.state.index
            if ca.desk is None or not files[i] or not years:
                continue
            loads.append(DeskLoad(ca.state.iso3, ca.state.name, ca.desk.capacity,
                                  files[i] / years, years, ca.desk.capacity * 365 / review,
                                  slope_per_year(backlog[:, i])))
        return loads

    @cached_property
    def backlog(self) -> pd.DataFrame:
        """Files waiting or under review per central authority (that ever had one) per day."""
        return self.model.backlog_by_state()

    # -- what the briefing's charts need ------------------------------------------------
    def _rows(self, ids: np.ndarray) -> np.ndarray:
        """The request-table rows of the requests ``ids``."""
        table_ids = view(self.model.requests.cols["request"])
        order = np.argsort(table_ids)
        return order[np.searchsorted(table_ids[order], ids)]

    @cached_property
    def _outcomes(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per outcome row, in log order: its request, its outcome, its request-table row."""
        log = self.model.log
        final = view(log.stage) == Stage.OUTCOME
        ids, outcome = view(log.request)[final], view(log.result)[final]
        return ids, outcome, self._rows(ids)

    @cached_property
    def flow(self) -> pd.DataFrame:
        """Requests by MLA route, preservation path and outcome: regime, path, outcome,
        requests."""
        ids, outcome, row = self._outcomes
        log = self.model.log
        req, stage = view(log.request), view(log.stage)

        def visited(s: Stage) -> np.ndarray:
            return np.isin(ids, req[stage == s])

        regime = view(self.model.requests.cols["mla_regime"])[row]
        routed = regime != RequestTable.REGIMES.index("none")
        path = np.select(
            [visited(Stage.DIRECT), visited(Stage.EMERGENCY), visited(Stage.HOLD),
             visited(Stage.PRESERVATION_REQUEST), routed],
            list(PATHS[:-1]), PATHS[-1])
        regime_names = np.array([REGIME_LABELS[r] for r in RequestTable.REGIMES])
        return (pd.DataFrame({"regime": regime_names[regime], "path": path,
                              "outcome": np.array(OUTCOME_NAMES)[outcome]})
                .value_counts().rename("requests").reset_index())

    @cached_property
    def regions(self) -> pd.DataFrame:
        """Requests by window and region pair: rep, requesting, requested, lost (deleted),
        not_obtained (every cause) and decided."""
        _, outcome, row = self._outcomes
        cols = self.model.requests.cols
        region = np.array([s.region for s in self.model.states])
        decided = outcome != Outcome.PENDING
        lost = (outcome == Outcome.LOST_BEFORE_PRESERVATION) \
            | (outcome == Outcome.LOST_AFTER_LAPSE)
        return (pd.DataFrame({
            "rep": self._batch(view(cols["arrival"])[row]),
            "requesting": region[view(cols["requesting"])[row]],
            "requested": region[view(cols["requested"])[row]],
            "lost": lost & decided, "not_obtained": decided & (outcome != Outcome.OBTAINED),
            "decided": decided})
            .groupby(["rep", "requesting", "requested"]).sum().reset_index())

    @cached_property
    def home_backlog(self) -> dict[str, list[int]]:
        """Weekly files in central-authority hands in each named provider's home State (by
        name), and in all the others together (``other States``)."""
        m = self.model
        matrix = m.backlog_matrix()[::WEEK]
        homes = list(dict.fromkeys(p.home for p in m.world.providers if p.home != "local"))
        index = {s.iso3: s for s in m.states}
        named = [index[h].index for h in homes]
        backlog = {index[h].name: matrix[:, i].tolist() for h, i in zip(homes, named, strict=True)}
        backlog[OTHER_STATES] = (matrix.sum(axis=1) - matrix[:, named].sum(axis=1)).tolist()
        return backlog

    # -- what the calibration compares with published figures ---------------------------
    def desk_backlog(self, iso3: str) -> float:
        """Mean files in the hands of one State's central authority over the window (NaN if
        the world has no such State)."""
        m = self.model
        index = {s.iso3: s.index for s in m.states}
        backlog = m.backlog_matrix()[self._window]
        if iso3 not in index or not len(backlog):
            return math.nan
        return float(backlog[:, index[iso3]].mean())

    def mla_months(self, to: str | None = None) -> np.ndarray:
        """Months from the MLA request's arrival (the end of its transmission) to the end of
        the evidence's return, for requests with both logged (to ``to``, an ISO3 code, only,
        if given), in the order the requests arrived."""
        return self.mla_days(to, Stage.RETURN) / MONTH

    def mla_days(self, to: str | None = None, until: Stage = Stage.RETURN) -> np.ndarray:
        """Days from the MLA request's arrival (the end of its transmission) to the end of
        stage ``until`` (the return of the evidence; or its execution by the provider, found
        or not), for the cohorts' requests with both logged (to ``to``, an ISO3 code, only,
        if given), in the order the requests arrived."""
        log = self.model.log
        req, stage, end = view(log.request), view(log.stage), view(log.end)
        ids, arrived = req[stage == Stage.TRANSMIT], end[stage == Stage.TRANSMIT]
        back_ids, back_end = req[stage == until], end[stage == until]
        keep = np.isin(ids, back_ids)
        if to is not None:
            code = {s.iso3: s.index for s in self.model.states}.get(to, -1)
            keep &= view(self.model.requests.cols["requested"])[self._rows(ids)] == code
        order = np.argsort(back_ids)
        done = back_end[order[np.searchsorted(back_ids[order], ids[keep])]]
        return done - arrived[keep]

    @cached_property
    def preservation_per_production(self) -> float:
        """Preservation requests per MLA request transmitted (NaN when none was)."""
        stage = view(self.model.log.stage)
        transmitted = int((stage == Stage.TRANSMIT).sum())
        asked = int((stage == Stage.PRESERVATION_REQUEST).sum())
        return asked / transmitted if transmitted else float("nan")

    @cached_property
    def case_ages(self) -> np.ndarray:
        """Age of the data (days since the communication) when each case's need arose, for
        the cases the run created: ``need_time - comm_time`` of every first hop, in order of
        arrival. Only the cohorts' cases are here."""
        cols = self.model.requests.cols
        first = view(cols["hop"]) == 0
        return view(cols["need_time"])[first] - view(cols["comm_time"])[first]
