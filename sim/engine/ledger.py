"""The ledger: every request the model has created, where each stands, and how each ended.

The model owns one ledger; the actors and the procedure write to it through four verbs:
``admit`` a new request, ``enter`` its next stage, ``note`` a stage that runs beside the
main procedure (a preservation hold, a disclosure), and ``finish`` it in exactly one outcome.

Every request is counted (open, per stage, per outcome: the state of the world), but only
those of the cohort, the cases arising in the measurement window, are written to the event
log and the request table: the warm-up's and the run-off's requests load the desks and are
not reported.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from sim.engine.eventlog import NO_GROUND, EventLog, RequestTable
from sim.vocabulary import Outcome, Stage
from sim.vocabulary import Result as R

if TYPE_CHECKING:
    import simpy

    from sim.engine.request import Request
    from sim.engine.window import Window

CLOSING_RESULT = {  # how the open stage ends when the request ends in each outcome
    Outcome.OBTAINED: R.DONE, Outcome.LOST_BEFORE_PRESERVATION: R.LOST,
    Outcome.LOST_AFTER_LAPSE: R.LOST, Outcome.NEVER_EXISTED: R.NEVER_EXISTED,
    Outcome.REFUSED: R.REFUSED, Outcome.PENDING: R.CENSORED,
}
REGIME_CODE = {name: i for i, name in enumerate(RequestTable.REGIMES)}


class Ledger:
    """Open requests, per-stage and per-outcome counts, the event log and the request table."""

    def __init__(self, env: simpy.Environment, window: Window) -> None:
        self.env, self.window = env, window
        self.log = EventLog()
        self.requests = RequestTable()
        self.created = 0
        self.open: dict[int, Request] = {}
        self.measured_open = 0  # open requests of the cohort, and work under way beside them
        self.open_by_stage = [0] * len(Stage)
        self.outcomes = [0] * len(Outcome)

    def admit(self, r: Request, regime: str) -> None:
        """Record a request created now, under the regime that governs its MLA request (in
        the request table if it belongs to the cohort)."""
        r.started, r.need_time = True, self.env.now
        self.created += 1
        self.open[r.id] = r
        r.measured = self.window.holds(r.arrival)
        if not r.measured:
            return
        self.measured_open += 1
        self.requests.add(
            request=r.id, case=r.case, hop=r.hop, requesting=r.requesting,
            requested=r.requested, provider=r.provider, offence=r.offence,
            data_type=r.data_type, emergency=r.emergency, arrival=r.arrival,
            need_time=r.need_time, comm_time=r.comm_time, mla_regime=REGIME_CODE[regime])

    def enter(self, r: Request, stage: Stage) -> None:
        """Close the request's current stage and open the next."""
        now = self.env.now
        if r.stage >= 0:
            if r.measured:
                self.log.add(r.id, r.stage, r.since, now, R.DONE)
            self.open_by_stage[r.stage] -= 1
        self.open_by_stage[stage] += 1
        r.stage, r.since = stage, now

    def note(self, r: Request, stage: Stage, start: float, end: float, result: R,
             ground: int = NO_GROUND) -> None:
        """Log a stage that runs beside the request's own (a hold, a disclosure)."""
        if r.measured:
            self.log.add(r.id, stage, start, end, result, ground)

    @contextmanager
    def beside(self, r: Request) -> Iterator[None]:
        """Work that runs beside the request's own (a disclosure, which may start the next
        hop): while it lasts, a cohort request's work is not done, even if it has ended."""
        if r.measured:
            self.measured_open += 1
        try:
            yield
        finally:
            if r.measured:
                self.measured_open -= 1

    def finish(self, r: Request, outcome: Outcome, ground: int = NO_GROUND) -> None:
        """End the request in exactly one terminal outcome."""
        now = self.env.now
        if r.stage >= 0:
            self.open_by_stage[r.stage] -= 1
        self.outcomes[outcome] += 1
        del self.open[r.id]
        if r.measured:
            if r.stage >= 0:
                self.log.add(r.id, r.stage, r.since, now, CLOSING_RESULT[outcome], ground)
            self.log.add(r.id, Stage.OUTCOME, r.need_time, now, outcome, ground)
            self.measured_open -= 1
        r.stage = Stage.OUTCOME

    def close(self) -> None:
        """Requests still open when the run ends are pending (censored)."""
        for r in list(self.open.values()):
            self.finish(r, Outcome.PENDING)
