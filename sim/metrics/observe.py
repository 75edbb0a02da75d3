"""Reading a model: every table and figure coopsim takes from a run, each computed once.

:class:`Observation` wraps a model and computes what a reader asks for, when asked, once:
the summary (what ``coopsim run``, the experiments and the briefing report), the event log,
request table, daily aggregates and backlogs as frames (the run's files), what the briefing's
charts need (latencies, route-to-outcome flow, loss by region, weekly backlogs) and what the
calibration compares with published figures. An experiment asks for the summary only, so
a sweep computes nothing else. Every member is a plain value (dict, frame or array), so what
a worker returns pickles.

An observation is a snapshot of the model as it stands: build a new one after the model
moves on. It keeps no view of the model's growing columns (which could not grow while one
existed), only what it computed from them.
"""

from __future__ import annotations

from functools import cached_property

import numpy as np
import pandas as pd

from sim.engine.eventlog import RequestTable
from sim.engine.model import BACKLOG_BY_STATE, CooperationModel
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
        """:func:`sim.metrics.summary.summarize` of the run (metrics:
        :mod:`sim.metrics.registry`)."""
        return summarize(self.model.log, self.model.backlog_series(), self.latency)

    @cached_property
    def events(self) -> pd.DataFrame:
        """The event log, codes as names."""
        return self.model.log.frame()

    @cached_property
    def requests(self) -> pd.DataFrame:
        """One row per created request, codes as names."""
        m = self.model
        return m.requests.frame([s.iso3 for s in m.states], [p.name for p in m.providers])

    @cached_property
    def daily(self) -> pd.DataFrame:
        """The daily aggregates."""
        return self.model.daily()

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
        """Requests lost and decided by region pair: requesting, requested, lost, decided."""
        _, outcome, row = self._outcomes
        cols = self.model.requests.cols
        region = np.array([s.region for s in self.model.states])
        decided = outcome != Outcome.PENDING
        lost = (outcome == Outcome.LOST_BEFORE_PRESERVATION) \
            | (outcome == Outcome.LOST_AFTER_LAPSE)
        return (pd.DataFrame({
            "requesting": region[view(cols["requesting"])[row]],
            "requested": region[view(cols["requested"])[row]],
            "lost": lost & decided, "decided": decided})
            .groupby(["requesting", "requested"]).sum().reset_index())

    @cached_property
    def home_backlog(self) -> dict[str, list[int]]:
        """Weekly files in central-authority hands in each named provider's home State (by
        name), and in all the others together (``other States``)."""
        m = self.model
        matrix = np.vstack(m.datacollector.model_vars[BACKLOG_BY_STATE])[::WEEK]
        homes = list(dict.fromkeys(p.home for p in m.world.providers if p.home != "local"))
        index = {s.iso3: s for s in m.states}
        named = [index[h].index for h in homes]
        backlog = {index[h].name: matrix[:, i].tolist() for h, i in zip(homes, named, strict=True)}
        backlog[OTHER_STATES] = (matrix.sum(axis=1) - matrix[:, named].sum(axis=1)).tolist()
        return backlog

    # -- what the calibration compares with published figures ---------------------------
    def mla_months(self, to: str | None = None) -> np.ndarray:
        """Months from the MLA request's arrival (the end of its transmission) to the end of
        the evidence's return, for requests with both logged (to ``to``, an ISO3 code, only,
        if given), in the order the requests arrived."""
        log = self.model.log
        req, stage, end = view(log.request), view(log.stage), view(log.end)
        ids, arrived = req[stage == Stage.TRANSMIT], end[stage == Stage.TRANSMIT]
        back_ids, back_end = req[stage == Stage.RETURN], end[stage == Stage.RETURN]
        keep = np.isin(ids, back_ids)
        if to is not None:
            code = {s.iso3: s.index for s in self.model.states}.get(to, -1)
            keep &= view(self.model.requests.cols["requested"])[self._rows(ids)] == code
        order = np.argsort(back_ids)
        returned = back_end[order[np.searchsorted(back_ids[order], ids[keep])]]
        return (returned - arrived[keep]) / MONTH

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
        arrival. A case due after the horizon never arose, so it is not here."""
        cols = self.model.requests.cols
        first = view(cols["hop"]) == 0
        return view(cols["need_time"])[first] - view(cols["comm_time"])[first]
