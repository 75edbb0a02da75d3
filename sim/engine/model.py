"""The Mesa model: actors, randomness and daily data collection around one SimPy clock."""

from __future__ import annotations

import gc
import math
import operator
from collections.abc import Generator, Iterator
from contextlib import contextmanager

import mesa
import numpy as np
import pandas as pd
import simpy

from sim.engine.actors import CentralAuthority, PointOfContact, ServiceProvider, State
from sim.engine.casebook import CaseBook
from sim.engine.eventlog import EventLog, RequestTable
from sim.engine.ledger import Ledger
from sim.engine.procedure import Life
from sim.engine.request import Request, Streams
from sim.engine.routing import CompiledRegime, Router
from sim.engine.window import Window
from sim.inputs.provisions import Variant
from sim.inputs.world import World
from sim.vocabulary import GROUNDS, OUTCOME_NAMES, PROCEDURE_STAGES, STAGE_NAMES, Outcome

DAY = "day"  # the one model reporter: a day's counts and every office's files, as bytes
DAILY_COLUMNS = ("created", "open", "backlog",
                 *(f"open_{STAGE_NAMES[s]}" for s in PROCEDURE_STAGES), *OUTCOME_NAMES)


class CooperationModel(mesa.Model):
    """Cross-border evidence requests under one treaty variant in one world.

    SimPy's environment owns time (days); ``step()`` advances it one day and collects the
    daily aggregates. Same seed, same cases, whatever the variant. Needs arise without end;
    ``window`` says which cases are reported (the cohort: see :mod:`sim.engine.window`), and
    ``measure()`` runs exactly as long as it needs. By default every case is reported.
    """

    def __init__(self, variant: Variant, world: World, seed: int = 0,
                 window: Window | None = None) -> None:
        streams = Streams(seed)
        super().__init__(rng=streams("model"))
        self.variant, self.world, self.seed = variant, world, seed
        self.window = window or Window.everything()
        self.env = simpy.Environment()
        self.ledger = Ledger(self.env, self.window)
        self._build_states(streams)
        self._build_providers()
        self.states: list[State] = list(self.agents_by_type[State])
        self.central_authorities = list(self.agents_by_type[CentralAuthority])
        self.providers: list[ServiceProvider] = list(self.agents_by_type[ServiceProvider])
        self.router = self._build_router(streams)
        self.casebook = self._build_casebook(streams)
        self.env.process(self._arrivals())
        self.datacollector = mesa.DataCollector(model_reporters={DAY: _day})

    @property
    def log(self) -> EventLog:
        """One row per request per stage (the ledger's event log)."""
        return self.ledger.log

    @property
    def requests(self) -> RequestTable:
        """One row per created request (the ledger's request table)."""
        return self.ledger.requests

    @property
    def created(self) -> int:
        """Requests created so far."""
        return self.ledger.created

    def _collected(self) -> np.ndarray:
        """Every day's reporter row: the daily columns, then each office's files."""
        rows = self.datacollector.model_vars[DAY]
        width = len(DAILY_COLUMNS) + len(self.central_authorities)
        return np.frombuffer(b"".join(rows), np.int64).reshape(len(rows), width)

    def daily(self) -> pd.DataFrame:
        """Daily aggregates (day 0 is the first day): requests created, open (in all and per
        stage), files in central-authority hands, and cumulative outcomes."""
        matrix = self._collected()[:, :len(DAILY_COLUMNS)]
        return pd.DataFrame(matrix, columns=list(DAILY_COLUMNS)).rename_axis("day").reset_index()

    def backlog_series(self) -> np.ndarray:
        """Files in central-authority hands, all States together, day by day."""
        return self._collected()[:, DAILY_COLUMNS.index("backlog")].copy()

    def backlog_matrix(self) -> np.ndarray:
        """Files in each central authority's hands (columns in State order), day by day."""
        return self._collected()[:, len(DAILY_COLUMNS):]

    def backlog_by_state(self) -> pd.DataFrame:
        """Daily files waiting or under review at each central authority that ever had one."""
        offices = self.central_authorities  # in State order, one column each
        matrix = self.backlog_matrix()
        busy = np.flatnonzero(matrix.max(axis=0) > 0) if len(matrix) else []
        return pd.DataFrame({
            "day": np.repeat(np.arange(len(matrix)), len(busy)),
            "state": pd.Categorical(np.tile([offices[i].state.iso3 for i in busy], len(matrix))),
            "backlog": matrix[:, busy].ravel(),
        })

    # -- building the world -------------------------------------------------------------
    def _build_states(self, streams: Streams) -> None:
        """States with their traits and offices, drawn from the world's shares (independent
        of the variant)."""
        w, rows = self.world, self.world.states.rows()
        n, st = len(rows), w.states

        def share(trait: str, value: float) -> np.ndarray:
            return streams(f"world.states.{trait}").random(n) < value

        party = share("party", st.party_share.value)
        reservation = share("dc_reservation", st.dc_reservation_share.value)
        accepts_lr = share("letters_rogatory", st.letters_rogatory_acceptance.value)
        always_on = share("poc_always_on", st.poc_always_on_share.value)
        k = st.propensity_concentration.value
        propensity = np.column_stack(
            [_beta(streams(f"world.propensity.{g}"), w.grounds[g].invoke_propensity.value, k, n)
             for g in GROUNDS])
        dc_propensity = _beta(streams("world.propensity.dual_criminality"),
                              w.dual_criminality.invoke_propensity.value, k, n)
        ca, poc = w.central_authorities, w.points_of_contact
        for i, row in enumerate(rows):
            s = State(self, i, row.iso3, row.name, row.region, row.utc_offset,
                      party=bool(party[i]), dc_reservation=bool(reservation[i]),
                      accepts_letters_rogatory=bool(accepts_lr[i]),
                      propensity=dict(zip(GROUNDS, propensity[i].tolist(), strict=True)),
                      dc_propensity=float(dc_propensity[i]))
            staff = ca.staff_by_state.value.get(row.iso3, ca.staff.value)
            s.central_authority = CentralAuthority(self, s, staff or None)
            s.point_of_contact = PointOfContact(self, s, bool(always_on[i]),
                                                poc.business_hours.value, poc.staff.value or None)

    def _build_providers(self) -> None:
        """Named providers in file order, then one local provider in every State."""
        states = list(self.agents_by_type[State])
        index = {s.iso3: s for s in states}
        specs = self.world.providers
        local = next(i for i, p in enumerate(specs) if p.home == "local")
        named = [(i, index[p.home], p.name) for i, p in enumerate(specs) if i != local]
        locals_ = [(local, s, f"{specs[local].name} ({s.iso3})") for s in states]
        for k, (spec, home, name) in enumerate(named + locals_):
            ServiceProvider(self, k, name, home, spec, specs[spec].staff.value or None)

    def _build_router(self, streams: Streams) -> Router:
        st = self.world.states
        n = len(self.states)
        region = np.array([s.region for s in self.states])
        same = region[:, None] == region[None, :]
        share = np.where(same, st.bilateral_share_same_region.value,
                         st.bilateral_share_other_region.value)
        draw = streams("world.bilateral").random((n, n))
        upper = np.triu(draw < share, 1)
        fb = self.world.fallback
        return Router(self.variant, CompiledRegime.of("bilateral", fb.bilateral),
                      CompiledRegime.of("letters_rogatory", fb.letters_rogatory),
                      party=np.array([s.party for s in self.states]),
                      has_bilateral=upper | upper.T,
                      accepts_lr=np.array([s.accepts_letters_rogatory for s in self.states]))

    def _build_casebook(self, streams: Streams) -> CaseBook:
        return CaseBook(self.world, streams, self.states, self.providers)

    # -- requests -------------------------------------------------------------------------
    def _arrivals(self) -> Generator[simpy.Event]:
        env = self.env
        for time, first in self.casebook:
            yield env.timeout(time - env.now)
            self.start(first)

    def start(self, r: Request) -> None:
        """Create a request now: resolve its route and run its life (or end it at once when
        no regime offers it a channel or it falls outside the treaty's scope)."""
        route = self.router.route(r.requesting, r.requested, r.offence)
        if isinstance(route, Outcome):
            self.ledger.admit(r, "none")
            self.ledger.finish(r, route)
        else:
            self.ledger.admit(r, route.mla_regime)
            self.env.process(Life(self, r, route).run())

    # -- running --------------------------------------------------------------------------
    def step(self) -> None:
        """Advance one day and collect the daily aggregates."""
        self._still_open()
        self.env.run(until=self.env.now + 1)
        self.datacollector.collect(self)

    def run(self, days: int) -> None:
        """Run ``days`` days, one ``step()`` a day (Mesa's clock and SimPy's agree:
        ``time == env.now``, ``steps`` counts the days), then censor what is still open."""
        self._still_open()
        with _collector_paused():
            for _ in range(days):
                self.step()
        self.close()

    def measure(self) -> None:
        """Run the warm-up and the windows, then the run-off: day by day until every request
        of the cohorts (and every disclosure under way beside one) has ended, or the
        run-off's last day; then censor what is still open."""
        self._still_open()
        w = self.window
        if not math.isfinite(w.end):
            raise ValueError("a window without end cannot be measured: give it days")
        last = math.ceil(w.horizon)
        with _collector_paused():
            for _ in range(math.ceil(w.end)):
                self.step()
            while self.ledger.measured_open and self.steps < last:
                self.step()
        self.close()

    @property
    def runoff_days(self) -> int:
        """Days run after the last window (for the cohorts to finish); 0 for a window
        without end."""
        end = self.window.end
        return max(0, self.steps - math.ceil(end)) if math.isfinite(end) else 0

    def _still_open(self) -> None:
        if not self.running:
            raise RuntimeError("this model has been closed (run() censors what is still open "
                               "at its end): build a new model to run further")

    def close(self) -> None:
        """Requests still open when the run ends are pending (censored); the model is then
        finished, and stepping it further is an error."""
        self.ledger.close()
        self.running = False


FILES = operator.attrgetter("files")  # a central authority's backlog


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector: the engine creates no reference cycles, and
    collections that rescan every live request cost a fifth of a run."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _day(m: CooperationModel) -> bytes:
    """Requests created and open (in all and per stage), files in central-authority hands,
    cumulative outcomes, then the files of each central authority in State order: one row
    of int64, as bytes (which the collector stores without copying them)."""
    ledger, offices = m.ledger, m.central_authorities
    files = np.fromiter(map(FILES, offices), np.int64, len(offices))
    head = np.array([ledger.created, len(ledger.open), files.sum(),
                     *(ledger.open_by_stage[s] for s in PROCEDURE_STAGES), *ledger.outcomes],
                    np.int64)
    return head.tobytes() + files.tobytes()


def _beta(rng: np.random.Generator, mean: float, concentration: float, n: int) -> np.ndarray:
    """Per-State propensities around a world mean (exact at 0 and 1)."""
    if mean <= 0 or mean >= 1:
        return np.full(n, mean)
    return rng.beta(mean * concentration, (1 - mean) * concentration, n)
