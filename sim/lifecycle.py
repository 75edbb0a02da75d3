"""A request's life, top to bottom, as the treaty procedure runs it.

locate -> expedited preservation request -> decision -> provider preserves (and discloses
traffic data that reveal the next provider) -> MLA request drafted and transmitted ->
central-authority queue -> review -> execution by the provider -> return of the evidence.
Deletion by the provider is a deadline checked whenever the provider touches the data.
"""

from __future__ import annotations

import math
from collections.abc import Generator
from typing import TYPE_CHECKING

from .cases import Request
from .routing import CHANNEL_INDEX, Decision, DisclosureRule, Route
from .vocabulary import (
    NO_DUAL_CRIMINALITY,
    Channel,
    DataType,
    DualCriminality,
    EmergencyRoute,
    Offence,
    Outcome,
    lowest_ground,
)
from .vocabulary import Result as R
from .vocabulary import Stage as S

if TYPE_CHECKING:
    import simpy

    from .agents import State
    from .model import CooperationModel

CONVENTION = list(Offence).index(Offence.CONVENTION)
ELECTRONIC = CHANNEL_INDEX[Channel.ELECTRONIC]
TRAFFIC = list(DataType).index(DataType.TRAFFIC)
NEVER = math.inf


def refusal(decision: Decision, would_invoke: int, r: Request, state: State) -> int | None:
    """Ground on which the requested State refuses, or None. Only listed grounds apply."""
    hit = decision.grounds & would_invoke
    if hit:
        return lowest_ground(hit)
    if r.dc_fails:
        rule = decision.dual_criminality
        if (rule is DualCriminality.REQUIRED
                or (rule is DualCriminality.DISCRETIONARY and r.dc_invoke)
                or (rule is DualCriminality.RESERVATION and r.offence != CONVENTION
                    and state.dc_reservation)):
            return NO_DUAL_CRIMINALITY
    return None


def request_life(m: CooperationModel, r: Request, route: Route) -> Generator[simpy.Event]:
    env = m.env
    target = m.states[r.requested]
    poc = target.point_of_contact
    provider = m.providers[r.provider]

    # 1. Locate the provider and its State (later hops were located by their predecessor).
    if r.hop == 0:
        m.enter(r, S.LOCATE)
        if route.locate_via_poc:
            yield poc.serve(r.poc_days)
        else:
            yield env.timeout(r.locate_days)

    # Orders straight to the provider, where the treaty allows them for this kind of data;
    # an order not answered by its deadline goes the MLA way.
    d = route.direct
    if (d is not None and r.data_type in d.data_types
            and not (r.emergency and d.emergency_days is None)):
        m.enter(r, S.DIRECT)
        deadline, work = ((d.emergency_days, r.emergency_days) if r.emergency
                          else (d.deadline_days, r.execute_days))
        yield env.timeout(r.transmit_days[ELECTRONIC])
        if r.direct_complies:
            yield provider.serve(min(work, deadline))
            if not r.exists:
                return m.finish(r, Outcome.NEVER_EXISTED)
            if env.now >= r.deleted_at:
                return m.finish(r, Outcome.LOST_BEFORE_PRESERVATION)
            return obtained(m, r)
        yield env.timeout(deadline)

    # Emergency: the 24/7 point obtains the data from the provider within hours.
    if r.emergency and route.emergency is EmergencyRoute.POINT_OF_CONTACT:
        m.enter(r, S.EMERGENCY)
        yield poc.serve(r.poc_days)
        yield provider.serve(r.emergency_days)
        ground = refusal(route.mla.decision, r.mla_mask, r, target)
        if ground is not None:
            return m.finish(r, Outcome.REFUSED, ground)
        if not r.exists:
            return m.finish(r, Outcome.NEVER_EXISTED)
        if env.now >= r.deleted_at:
            return m.finish(r, Outcome.LOST_BEFORE_PRESERVATION)
        m.enter(r, S.RETURN)
        yield env.timeout(r.return_days[route.mla.urgent_channel])
        return obtained(m, r)

    # 2. Expedited preservation, where a regime provides it and the requester asks for it.
    p = route.preservation if r.asks_preservation else None
    deletion = r.deleted_at
    if p is not None:
        m.enter(r, S.PRESERVATION_REQUEST)
        if route.preserve_via_poc:
            yield poc.serve(r.poc_days)
        else:
            yield env.timeout(r.transmit_days[route.mla.channel])
        ground = refusal(p.decision, r.pres_mask, r, target)
        if ground is not None:
            return m.finish(r, Outcome.REFUSED, ground)
        m.enter(r, S.PRESERVE)
        yield provider.serve(r.preserve_days)
        if not r.exists:
            return m.finish(r, Outcome.NEVER_EXISTED)
        if env.now >= r.deleted_at:
            return m.finish(r, Outcome.LOST_BEFORE_PRESERVATION)
        r.preserved_at = env.now
        deletion = NEVER  # until we know whether the MLA request beats the lapse
        if r.next is not None and route.disclosure is not None and r.data_type == TRAFFIC:
            env.process(disclose(m, r, route.disclosure))

    # 3. The MLA request: drafted, transmitted, queued, reviewed.
    urgent = r.emergency and route.emergency is EmergencyRoute.URGENT_MLA
    channel = route.mla.urgent_channel if urgent else route.mla.channel
    m.enter(r, S.DRAFT)
    yield env.timeout(r.urgent_draft_days if urgent else r.draft_days)
    m.enter(r, S.TRANSMIT)
    yield env.timeout(r.transmit_days[channel])
    if p is not None:
        deletion = hold(m, r, p.min_days, p.extension_days, p.continues_pending_mla)

    ca = target.central_authority
    for review_round in (1, 2):
        m.enter(r, S.QUEUE)
        m.backlog[r.requested] += 1
        if ca.desk is None:
            m.enter(r, S.REVIEW)
            yield env.timeout(r.review_days)
        else:
            with ca.desk.request(priority=0 if urgent else 1) as slot:
                yield slot
                m.enter(r, S.REVIEW)
                yield env.timeout(r.review_days)
        m.backlog[r.requested] -= 1
        if review_round == 2 or not r.more_info:
            break
        m.enter(r, S.MORE_INFO)
        yield env.timeout(r.reply_days)

    # 4. Decision: refuse on a listed ground, consult and grant with conditions, or postpone.
    ground = refusal(route.mla.decision, r.mla_mask, r, target)
    if ground is not None:
        if not (route.mla.consult_before_refusal and r.rescued):
            return m.finish(r, Outcome.REFUSED, ground)
        m.enter(r, S.CONSULT)
        yield env.timeout(r.consult_days)
    elif r.postpone:
        m.enter(r, S.POSTPONE)
        yield env.timeout(r.postpone_days)

    # 5. Execution by the provider, and the race against deletion.
    m.enter(r, S.EXECUTE)
    yield provider.serve(r.execute_days)
    if not r.exists:
        return m.finish(r, Outcome.NEVER_EXISTED)
    if env.now >= deletion:
        preserved = not math.isnan(r.preserved_at)
        return m.finish(r, Outcome.LOST_AFTER_LAPSE if preserved
                        else Outcome.LOST_BEFORE_PRESERVATION)

    # 6. Return of the evidence.
    m.enter(r, S.RETURN)
    yield env.timeout(r.return_days[channel])
    obtained(m, r)


def obtained(m: CooperationModel, r: Request) -> None:
    """The evidence has arrived; the produced data reveal the next provider on the trail."""
    m.finish(r, Outcome.OBTAINED)
    if r.next is not None and not r.next.started:
        m.start(r.next)


def hold(m: CooperationModel, r: Request, min_days: float, extension_days: float,
         continues: bool) -> float:
    """Log the preservation hold up to the MLA request's arrival; return the deletion time.

    Preservation lasts ``min_days`` (plus one extension when asked before expiry and
    granted). If the MLA request arrives in time and the regime keeps data pending its
    decision, nothing is deleted; otherwise the ordinary retention clock resumes at lapse.
    """
    now, start = m.env.now, r.preserved_at
    lapse = start + min_days
    if now > lapse and extension_days > 0 and r.extension_granted:
        m.log.add(r.id, S.HOLD, start, lapse, R.EXTENDED)
        start, lapse = lapse, lapse + extension_days
    if now <= lapse:
        m.log.add(r.id, S.HOLD, start, now, R.KEPT)
        return NEVER if continues else max(r.deleted_at, lapse)
    m.log.add(r.id, S.HOLD, start, lapse, R.LAPSED)
    return max(r.deleted_at, lapse)


def disclose(m: CooperationModel, r: Request, rule: DisclosureRule) -> Generator[simpy.Event]:
    """Expedited disclosure of preserved traffic data: the next provider on the
    communication's path is identified and asked at once (UN art 43, Budapest art 30)."""
    env, target, nxt = m.env, m.states[r.requested], r.next
    if rule.parties_only and not m.states[nxt.requested].party:
        return
    start = env.now
    yield target.point_of_contact.serve(r.poc_days)
    ground = refusal(rule.decision, r.disc_mask, r, target)
    if ground is not None:
        m.log.add(r.id, S.DISCLOSURE, start, env.now, R.REFUSED, ground)
        return
    m.log.add(r.id, S.DISCLOSURE, start, env.now, R.DONE)
    if not nxt.started:
        m.start(nxt)
