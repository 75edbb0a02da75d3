"""The actors: States, their central authorities and 24/7 points, and service providers.

Each actor is a Mesa agent that owns its part of the procedure: the requested State decides,
its central authority reviews, its 24/7 point serves within its hours, and the provider
preserves, produces and deletes. The ones that do work own a SimPy resource whose capacity is
their staff (no staff figure means unlimited, so the work is a plain delay).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Protocol

import mesa
import simpy
from simpy.resources.resource import PriorityRequest, SortedQueue

from sim.vocabulary import NO_DUAL_CRIMINALITY, DualCriminality, Offence, Outcome, lowest_ground
from sim.vocabulary import Result as R
from sim.vocabulary import Stage as S

if TYPE_CHECKING:
    from sim.engine.ledger import Ledger
    from sim.engine.request import Request
    from sim.engine.routing import Decision, PreservationRule
    from sim.vocabulary import Ground

WEEK_DAYS = 7.0
WORKING_DAYS = 5  # day 0 of the simulation is a Monday, 00:00 UTC
CONVENTION = list(Offence).index(Offence.CONVENTION)
NEVER = math.inf


class Setting(Protocol):
    """What the actors need of the model they act in (a ``CooperationModel``): its clock
    and its ledger."""

    env: simpy.Environment
    ledger: Ledger


class State(mesa.Agent):
    """A State: party or not, its legal traits, its offices, and its decisions on requests."""

    def __init__(self, model: Setting, index: int, iso3: str, name: str,
                 region: str, utc_offset: float, *, party: bool, dc_reservation: bool,
                 accepts_letters_rogatory: bool, propensity: dict[Ground, float],
                 dc_propensity: float) -> None:
        super().__init__(model)
        self.index, self.iso3, self.name, self.region = index, iso3, name, region
        self.utc_offset = utc_offset  # its offices keep local hours
        self.party = party
        self.dc_reservation = dc_reservation  # made the reservation a text allows
        self.accepts_letters_rogatory = accepts_letters_rogatory
        self.propensity = propensity  # chance of invoking each ground where it is arguable
        self.dc_propensity = dc_propensity  # chance of declining for lack of dual criminality
        self.central_authority: CentralAuthority
        self.point_of_contact: PointOfContact

    def refusal(self, decision: Decision, invoked: int, r: Request) -> int | None:
        """The ground on which this State refuses a request, or None if it grants it.

        ``invoked`` holds the grounds it would invoke against this request; only those the
        governing rule lists apply. Failing those, it refuses for lack of dual criminality
        where the rule requires it, where the rule leaves it discretionary and this State
        would decline, or where the rule allows the reservation for non-convention offences
        and this State made it.
        """
        hit = decision.grounds & invoked
        if hit:
            return lowest_ground(hit)
        if r.dc_fails:
            rule = decision.dual_criminality
            if (rule is DualCriminality.REQUIRED
                    or (rule is DualCriminality.DISCRETIONARY and r.dc_invoke)
                    or (rule is DualCriminality.RESERVATION and r.offence != CONVENTION
                        and self.dc_reservation)):
                return NO_DUAL_CRIMINALITY
        return None


class InsertionQueue(SortedQueue):
    """SimPy's priority queue, kept in order by inserting each request in its place.

    SimPy's ``SortedQueue`` re-sorts the whole queue on every request, which costs a quarter
    of a run once central authorities hold thousands of files. Inserting after the requests
    with the same key gives the same order (first come, first served within a priority).
    """

    def append(self, item: PriorityRequest) -> None:
        if self.maxlen is not None and len(self) >= self.maxlen:
            raise RuntimeError("Cannot append event. Queue is full.")
        bisect.insort_right(self, item, key=_key)


def _key(request: PriorityRequest) -> tuple:
    return request.key


class Users(dict):
    """The requests holding a desk, in arrival order, with removal in constant time (SimPy
    keeps them in a list, and a release then searches thousands of files)."""

    def append(self, request: PriorityRequest) -> None:
        self[request] = None

    def remove(self, request: PriorityRequest) -> None:
        if self.pop(request, self) is self:
            raise ValueError("not a user of this desk")


class Desk(simpy.PriorityResource):
    """A central authority's staff: SimPy's priority resource, with the queue kept in order by
    insertion and the users in a dictionary."""

    PutQueue = InsertionQueue

    def __init__(self, env: simpy.Environment, capacity: int) -> None:
        super().__init__(env, capacity)
        self.users = Users()


class CentralAuthority(mesa.Agent):
    """Receives and reviews MLA requests at its desk, asks for more information, consults
    before refusing and postpones execution. ``files`` counts its backlog."""

    def __init__(self, model: Setting, state: State, staff: int | None) -> None:
        super().__init__(model)
        self.state = state
        self.desk = Desk(model.env, staff) if staff else None
        self.files = 0  # requests waiting or under review

    def review(self, r: Request, urgent: bool) -> Generator[simpy.Event]:
        """Queue and review the request, with at most one round of further information."""
        ledger, env = self.model.ledger, self.model.env
        for review_round in (1, 2):
            ledger.enter(r, S.QUEUE)
            self.files += 1
            if self.desk is None:
                ledger.enter(r, S.REVIEW)
                yield env.timeout(r.review_days)
            else:
                with self.desk.request(priority=0 if urgent else 1) as slot:
                    yield slot
                    ledger.enter(r, S.REVIEW)
                    yield env.timeout(r.review_days)
            self.files -= 1
            if review_round == 2 or not r.more_info:
                return
            ledger.enter(r, S.MORE_INFO)
            yield env.timeout(r.reply_days)

    def consult(self, r: Request) -> Generator[simpy.Event]:
        """Consult the requesting State before refusing; the request is granted on conditions."""
        self.model.ledger.enter(r, S.CONSULT)
        yield self.model.env.timeout(r.consult_days)

    def postpone(self, r: Request) -> Generator[simpy.Event]:
        """Postpone execution (e.g. while it would prejudice a domestic investigation)."""
        self.model.ledger.enter(r, S.POSTPONE)
        yield self.model.env.timeout(r.postpone_days)


class PointOfContact(mesa.Agent):
    """A 24/7 point of contact, or one that works only in local business hours."""

    def __init__(self, model: Setting, state: State, always_on: bool,
                 hours: tuple[float, float], staff: int | None) -> None:
        super().__init__(model)
        self.state = state
        self.always_on = always_on
        self.opens, self.closes = hours[0] / 24, hours[1] / 24
        self.desk = simpy.Resource(model.env, staff) if staff else None

    def wait(self, now: float) -> float:
        """Days until the point is next open, from ``now`` (UTC days)."""
        if self.always_on:
            return 0.0
        local = now + self.state.utc_offset / 24
        day = math.floor(local)
        weekday = int(day % WEEK_DAYS)
        clock = local - day
        if weekday < WORKING_DAYS and self.opens <= clock < self.closes:
            return 0.0
        if weekday < WORKING_DAYS and clock < self.opens:
            return self.opens - clock
        ahead = 1
        while (weekday + ahead) % WEEK_DAYS >= WORKING_DAYS:
            ahead += 1
        return ahead - clock + self.opens

    def serve(self, handling: float) -> simpy.Event:
        """Handle one request: wait for a free officer and opening hours, then work."""
        env = self.model.env
        if self.desk is None:
            return env.timeout(self.wait(env.now) + handling)
        return env.process(self._staffed(handling))

    def _staffed(self, handling: float) -> Generator[simpy.Event]:
        env = self.model.env
        with self.desk.request() as slot:
            yield slot
            yield env.timeout(self.wait(env.now) + handling)


class ServiceProvider(mesa.Agent):
    """Holds the data: its home State, its entry in the world's providers (retention and
    handling times), and its legal-response team. It preserves, produces and deletes."""

    def __init__(self, model: Setting, index: int, name: str, home: State,
                 spec: int, staff: int | None) -> None:
        super().__init__(model)
        self.index, self.name, self.home, self.spec = index, name, home, spec
        self.desk = simpy.Resource(model.env, staff) if staff else None

    def serve(self, days: float) -> simpy.Event:
        """Preserve, produce or disclose: wait for a free member of the legal team, then work."""
        env = self.model.env
        if self.desk is None:
            return env.timeout(days)
        return env.process(self._staffed(days))

    def _staffed(self, days: float) -> Generator[simpy.Event]:
        with self.desk.request() as slot:
            yield slot
            yield self.model.env.timeout(days)

    def missing(self, r: Request) -> Outcome | None:
        """Why the data cannot be handed over now, or None if the provider still holds it:
        it never existed, or it was deleted (before any preservation, or after one lapsed)."""
        if not r.exists:
            return Outcome.NEVER_EXISTED
        if self.model.env.now >= r.deletion:
            return (Outcome.LOST_BEFORE_PRESERVATION if math.isnan(r.preserved_at)
                    else Outcome.LOST_AFTER_LAPSE)
        return None

    def preserve(self, r: Request) -> Generator[simpy.Event, None, Outcome | None]:
        """Freeze the data, if it is still there; return why not otherwise."""
        yield self.serve(r.preserve_days)
        lost = self.missing(r)
        if lost is None:
            r.preserved_at, r.deletion = self.model.env.now, NEVER
        return lost

    def produce(self, r: Request, days: float) -> Generator[simpy.Event, None, Outcome | None]:
        """Search for and hand over the data; return why it cannot be, or None."""
        yield self.serve(days)
        return self.missing(r)

    def hold(self, r: Request, rule: PreservationRule) -> None:
        """Keep preserved data until the MLA request arrives (now), as the rule allows.

        Preservation lasts ``min_days``; the requesting State asks for the one extension the
        rule allows (``extension_days``, granted or not) whenever the data would otherwise be
        released before production: when its MLA request arrives after the period, or when
        the rule does not keep data pending the request's decision. If the request arrives in
        time and the rule keeps data pending its decision, nothing is deleted; otherwise the
        ordinary retention clock resumes when the (extended) period ends.
        """
        ledger, now, start = self.model.ledger, self.model.env.now, r.preserved_at
        lapse = start + rule.min_days
        extension = rule.extension_days if r.extension_granted else 0.0
        if now > lapse and extension > 0:
            ledger.note(r, S.HOLD, start, lapse, R.EXTENDED)
            start, lapse, extension = lapse, lapse + extension, 0.0
        if now <= lapse:
            ledger.note(r, S.HOLD, start, now, R.KEPT)
            r.deletion = (NEVER if rule.continues_pending_mla
                          else max(r.deleted_at, lapse + extension))
        else:
            ledger.note(r, S.HOLD, start, lapse, R.LAPSED)
            r.deletion = max(r.deleted_at, lapse)
