"""A request's life, top to bottom, as the treaty procedure runs it.

``Life.run`` is the spine; each step is a sub-process of its own, in the order the texts set
out: locate the provider; an order straight to the provider where the text allows one; the
emergency route; expedited preservation (and disclosure of traffic data that name the next
provider); the MLA request (drafted and transmitted) and its review by the central authority
(queued, reviewed, more information asked); the decision; and execution by the provider and
the return of the evidence. Each step that can end the request returns True when it has.
The actors do the work: the requested State decides, its central authority reviews, its 24/7
point serves, and the provider preserves, produces and deletes.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING, Protocol

from sim.engine.eventlog import NO_GROUND
from sim.engine.routing import CHANNEL_INDEX, DisclosureRule, Route
from sim.vocabulary import Channel, DataType, EmergencyRoute, Outcome
from sim.vocabulary import Result as R
from sim.vocabulary import Stage as S

if TYPE_CHECKING:
    import simpy

    from sim.engine.actors import ServiceProvider, State
    from sim.engine.ledger import Ledger
    from sim.engine.request import Request

ELECTRONIC = CHANNEL_INDEX[Channel.ELECTRONIC]
TRAFFIC = list(DataType).index(DataType.TRAFFIC)
Steps = Generator["simpy.Event", None, bool]  # a step that returns whether the request ended


class Setting(Protocol):
    """What the procedure needs of the model it runs in (a ``CooperationModel``): its clock,
    its ledger, its actors, and a way to start the next request on a trail."""

    env: simpy.Environment
    ledger: Ledger
    states: list[State]
    providers: list[ServiceProvider]

    def start(self, r: Request) -> None: ...


class Life:
    """One request's passage through the procedure its route prescribes."""

    __slots__ = ("ca", "env", "ledger", "model", "poc", "provider", "r", "route", "state")

    def __init__(self, model: Setting, r: Request, route: Route) -> None:
        self.model, self.env, self.ledger = model, model.env, model.ledger
        self.r, self.route = r, route
        self.state = model.states[r.requested]
        self.ca, self.poc = self.state.central_authority, self.state.point_of_contact
        self.provider = model.providers[r.provider]

    def run(self) -> Generator[simpy.Event]:
        """The procedure, step by step; a step that ends the request ends its life."""
        r, route = self.r, self.route
        if r.hop == 0:  # later hops were located by their predecessor
            yield from self.locate()
        if self.direct_applies() and (yield from self.direct_order()):
            return
        if r.emergency and route.emergency is EmergencyRoute.POINT_OF_CONTACT:
            yield from self.emergency()
            return
        if (route.preservation is not None and r.asks_preservation
                and (yield from self.preservation())):
            return
        urgent = r.emergency and route.emergency is EmergencyRoute.URGENT_MLA
        channel = route.mla.urgent_channel if urgent else route.mla.channel
        yield from self.mla_request(urgent, channel)
        yield from self.ca.review(r, urgent)
        if (yield from self.decision()):
            return
        yield from self.execution(channel)

    # -- the steps ----------------------------------------------------------------------
    def locate(self) -> Generator[simpy.Event]:
        """Find the provider and its State: through the 24/7 point where the route has one."""
        self.ledger.enter(self.r, S.LOCATE)
        if self.route.locate_via_poc:
            yield self.poc.serve(self.r.poc_days)
        else:
            yield self.env.timeout(self.r.locate_days)

    def direct_applies(self) -> bool:
        """The text allows an order straight to the provider for this data (and, in an
        emergency, sets an emergency deadline for it)."""
        d, r = self.route.direct, self.r
        return (d is not None and r.data_type in d.data_types
                and not (r.emergency and d.emergency_days is None))

    def direct_order(self) -> Steps:
        """Order the provider directly; an order unanswered by its deadline goes the MLA way."""
        d, r = self.route.direct, self.r
        self.ledger.enter(r, S.DIRECT)
        deadline, work = ((d.emergency_days, r.emergency_days) if r.emergency
                          else (d.deadline_days, r.execute_days))
        yield self.env.timeout(r.transmit_days[ELECTRONIC])
        if not r.direct_complies:
            yield self.env.timeout(deadline)
            return False
        lost = yield from self.provider.produce(r, min(work, deadline))
        return self.end(lost) if lost is not None else self.obtained()

    def emergency(self) -> Generator[simpy.Event]:
        """The 24/7 point obtains the data from the provider within hours; the requested
        State may still refuse it on the grounds its MLA rule lists."""
        r, mla = self.r, self.route.mla
        self.ledger.enter(r, S.EMERGENCY)
        yield self.poc.serve(r.poc_days)
        yield self.provider.serve(r.emergency_days)
        ground = self.state.refusal(mla.decision, r.mla_mask, r)
        if ground is not None:
            self.end(Outcome.REFUSED, ground)
            return
        lost = self.provider.missing(r)
        if lost is not None:
            self.end(lost)
            return
        self.ledger.enter(r, S.RETURN)
        yield self.env.timeout(r.return_days[mla.urgent_channel])
        self.obtained()

    def preservation(self) -> Steps:
        """Expedited preservation: asked, decided, carried out by the provider; preserved
        traffic data may be disclosed at once to trace the next provider."""
        r, rule = self.r, self.route.preservation
        self.ledger.enter(r, S.PRESERVATION_REQUEST)
        if self.route.preserve_via_poc:
            yield self.poc.serve(r.poc_days)
        else:
            yield self.env.timeout(r.transmit_days[self.route.mla.channel])
        ground = self.state.refusal(rule.decision, r.pres_mask, r)
        if ground is not None:
            return self.end(Outcome.REFUSED, ground)
        self.ledger.enter(r, S.PRESERVE)
        lost = yield from self.provider.preserve(r)
        if lost is not None:
            return self.end(lost)
        disclosure = self.route.disclosure
        if r.next is not None and disclosure is not None and r.data_type == TRAFFIC:
            self.env.process(self.disclosure(disclosure))
        return False

    def disclosure(self, rule: DisclosureRule) -> Generator[simpy.Event]:
        """Expedited disclosure of preserved traffic data: the next provider on the
        communication's path is identified and asked at once (UN art 43, Budapest art 30)."""
        r, nxt = self.r, self.r.next
        if rule.parties_only and not self.model.states[nxt.requested].party:
            return
        with self.ledger.beside(r):
            start = self.env.now
            yield self.poc.serve(r.poc_days)
            ground = self.state.refusal(rule.decision, r.disc_mask, r)
            if ground is not None:
                self.ledger.note(r, S.DISCLOSURE, start, self.env.now, R.REFUSED, ground)
                return
            self.ledger.note(r, S.DISCLOSURE, start, self.env.now, R.DONE)
            if not nxt.started:
                self.model.start(nxt)

    def mla_request(self, urgent: bool, channel: int) -> Generator[simpy.Event]:
        """Draft and transmit the request; on its arrival the provider holds preserved data
        as the rule allows (the central authority then queues and reviews it)."""
        r = self.r
        self.ledger.enter(r, S.DRAFT)
        yield self.env.timeout(r.urgent_draft_days if urgent else r.draft_days)
        self.ledger.enter(r, S.TRANSMIT)
        yield self.env.timeout(r.transmit_days[channel])
        if not math.isnan(r.preserved_at):
            self.provider.hold(r, self.route.preservation)

    def decision(self) -> Steps:
        """Refuse on a listed ground, consult and grant on conditions, or postpone."""
        r, mla = self.r, self.route.mla
        ground = self.state.refusal(mla.decision, r.mla_mask, r)
        if ground is not None:
            if not (mla.consult_before_refusal and r.rescued):
                return self.end(Outcome.REFUSED, ground)
            yield from self.ca.consult(r)
        elif r.postpone:
            yield from self.ca.postpone(r)
        return False

    def execution(self, channel: int) -> Generator[simpy.Event]:
        """The provider executes the request, if it still holds the data; the evidence
        returns by the request's channel."""
        r = self.r
        self.ledger.enter(r, S.EXECUTE)
        lost = yield from self.provider.produce(r, r.execute_days)
        if lost is not None:
            self.end(lost)
            return
        self.ledger.enter(r, S.RETURN)
        yield self.env.timeout(r.return_days[channel])
        self.obtained()

    # -- endings ------------------------------------------------------------------------
    def end(self, outcome: Outcome, ground: int = NO_GROUND) -> bool:
        """Finish the request in ``outcome`` (on ``ground`` for a refusal)."""
        self.ledger.finish(self.r, outcome, ground)
        return True

    def obtained(self) -> bool:
        """The evidence has arrived; the produced data reveal the next provider on the trail."""
        self.ledger.finish(self.r, Outcome.OBTAINED)
        nxt = self.r.next
        if nxt is not None and not nxt.started:
            self.model.start(nxt)
        return True
