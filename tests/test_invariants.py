"""Invariants of finished runs, checked request by request against the rules that governed it.

Each random small scenario is run with every started request recorded (the drawn ``Request``
objects), then its event log is read back: refusals are recomputed from the route and the
State, losses from the provider's clock and the hold rows, latencies from the stage rows.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from conftest import make_variant, make_world, set_value, variant_data, world_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.actors import State
from sim.engine.eventlog import NO_GROUND
from sim.engine.ledger import CLOSING_RESULT, REGIME_CODE
from sim.engine.model import CooperationModel
from sim.engine.request import Request
from sim.engine.routing import Decision, PreservationRule, Route
from sim.engine.window import Window
from sim.inputs.provisions import Variant
from sim.inputs.world import World
from sim.vocabulary import (
    DATA_TYPES,
    GROUNDS,
    NO_DUAL_CRIMINALITY,
    Channel,
    DataType,
    DualCriminality,
    EmergencyRoute,
    Ground,
    Offence,
    Outcome,
    PocFunction,
    Stage,
)
from sim.vocabulary import Result as R

S = Stage
SIDE = (S.HOLD, S.DISCLOSURE, S.OUTCOME)  # rows beside the main procedure, and the last
NEXT = {  # the stage that may follow each stage of the main procedure
    S.LOCATE: {S.DIRECT, S.EMERGENCY, S.PRESERVATION_REQUEST, S.DRAFT},
    S.DIRECT: {S.EMERGENCY, S.PRESERVATION_REQUEST, S.DRAFT},  # unanswered: the MLA way
    S.EMERGENCY: {S.RETURN},
    S.PRESERVATION_REQUEST: {S.PRESERVE},
    S.PRESERVE: {S.DRAFT},
    S.DRAFT: {S.TRANSMIT},
    S.TRANSMIT: {S.QUEUE},
    S.QUEUE: {S.REVIEW},
    S.REVIEW: {S.MORE_INFO, S.CONSULT, S.POSTPONE, S.EXECUTE},
    S.MORE_INFO: {S.QUEUE},
    S.CONSULT: {S.EXECUTE},
    S.POSTPONE: {S.EXECUTE},
    S.EXECUTE: {S.RETURN},
    S.RETURN: set(),
}
ENDS = {  # the stage an outcome may close
    Outcome.OBTAINED: {S.RETURN, S.DIRECT},
    Outcome.REFUSED: {S.PRESERVATION_REQUEST, S.REVIEW, S.EMERGENCY},
    Outcome.NEVER_EXISTED: {S.PRESERVE, S.EXECUTE, S.DIRECT, S.EMERGENCY},
    Outcome.LOST_BEFORE_PRESERVATION: {S.PRESERVE, S.EXECUTE, S.DIRECT, S.EMERGENCY},
    Outcome.LOST_AFTER_LAPSE: {S.EXECUTE},
}
PRODUCED = {S.EXECUTE, S.DIRECT, S.EMERGENCY}  # the stages at whose end data are handed over
OFFENCES = list(Offence)
Scenario = tuple[Variant, World, int, Window]  # variant, world, seed, measurement


@dataclass(frozen=True, slots=True)
class Row:
    stage: Stage
    start: float
    end: float
    result: int
    ground: int


@dataclass
class Run:
    model: CooperationModel
    requests: dict[int, Request]  # every started request, by id
    rows: dict[int, list[Row]] = field(default_factory=lambda: defaultdict(list))

    @property
    def cohort(self) -> dict[int, Request]:
        """The started requests of cases arising in the window: those the log reports."""
        return {rid: r for rid, r in self.requests.items() if r.measured}


def run(variant: Variant, world: World, seed: int, window: Window) -> Run:
    """Measure the model through ``window``, keeping every request it starts; group its log
    rows by request."""
    model = CooperationModel(variant, world, seed, window)
    started: dict[int, Request] = {}
    start = model.start

    def recording(r: Request) -> None:
        assert r.id not in started, f"request {r.id} started twice"
        started[r.id] = r
        start(r)

    model.start = recording  # the arrivals and the procedure start requests through it
    model.measure()
    out = Run(model, started)
    log = model.log
    for i in range(len(log)):
        out.rows[log.request[i]].append(Row(S(log.stage[i]), log.start[i], log.end[i],
                                            log.result[i], log.ground[i]))
    return out


# -- the rules, restated ---------------------------------------------------------------------
def expected_ground(decision: Decision, invoked: int, r: Request, state: State) -> int | None:
    """The ground a State refuses on under ``decision``: the first listed ground it invokes,
    else lack of dual criminality where the rule lets it refuse for that."""
    listed = [i for i in range(len(GROUNDS)) if decision.grounds >> i & invoked >> i & 1]
    if listed:
        return listed[0]
    rule = decision.dual_criminality
    declines = {
        DualCriminality.NOT_REQUIRED: False,
        DualCriminality.REQUIRED: True,
        DualCriminality.DISCRETIONARY: r.dc_invoke,
        DualCriminality.RESERVATION: (OFFENCES[r.offence] is not Offence.CONVENTION
                                      and state.dc_reservation),
    }[rule]
    return NO_DUAL_CRIMINALITY if r.dc_fails and declines else None


def step_rule(route: Route, stage: Stage, r: Request) -> tuple[Decision, int]:
    """The decision that governs a refusal at ``stage``, and the grounds invoked there."""
    if stage is S.PRESERVATION_REQUEST:
        return route.preservation.decision, r.pres_mask
    if stage is S.DISCLOSURE:
        return route.disclosure.decision, r.disc_mask
    assert stage in (S.REVIEW, S.EMERGENCY), f"a refusal at {stage.name}"
    return route.mla.decision, r.mla_mask


def deletion_at_production(r: Request, rows: list[Row], rule: PreservationRule | None) -> float:
    """When the provider deletes the data, from the log: the retention clock, suspended from
    preservation until the hold's end (for good where the rule keeps data pending MLA)."""
    preserve = [x for x in rows if x.stage is S.PRESERVE and x.result == R.DONE]
    if not preserve:
        return r.deleted_at
    holds = [x for x in rows if x.stage is S.HOLD]
    if not holds:
        return math.inf  # preserved, and the MLA request has not yet arrived
    last = holds[-1]
    if last.result == R.KEPT:
        if rule.continues_pending_mla:
            return math.inf
        # the extension is asked whenever the data would go before production: granted, it
        # lengthens the period whether the request arrived before or after the first lapse
        end = preserve[0].end + rule.min_days + (rule.extension_days if r.extension_granted
                                                 else 0.0)
    else:
        assert last.result == R.LAPSED
        end = last.end
    return max(r.deleted_at, end)


# -- scenarios -------------------------------------------------------------------------------
subsets = lambda enum: st.lists(st.sampled_from(list(enum)), unique=True).map(  # noqa: E731
    lambda xs: [x.value for x in xs])


@st.composite
def scenarios(draw: st.DrawFn) -> Scenario:
    v = variant_data()
    set_value(v, "scope.offences", draw(subsets(Offence)))
    set_value(v, "preservation.available", draw(st.booleans()))
    set_value(v, "preservation.min_days", draw(st.sampled_from([1, 10, 30, 60, 90])))
    set_value(v, "preservation.continues_pending_mla", draw(st.booleans()))
    set_value(v, "preservation.extension", draw(st.booleans()))
    set_value(v, "preservation.dual_criminality", draw(st.sampled_from(list(DualCriminality))))
    set_value(v, "preservation.refusal_grounds", draw(subsets(Ground)))
    set_value(v, "traffic_disclosure.available", draw(st.booleans()))
    set_value(v, "traffic_disclosure.parties_only", draw(st.booleans()))
    set_value(v, "traffic_disclosure.refusal_grounds", draw(subsets(Ground)))
    set_value(v, "mla.available", draw(st.booleans()))
    set_value(v, "mla.only_absent_bilateral", draw(st.booleans()))
    set_value(v, "mla.channel", draw(st.sampled_from(list(Channel))))
    set_value(v, "mla.dual_criminality", draw(st.sampled_from(list(DualCriminality))))
    set_value(v, "mla.refusal_grounds", draw(subsets(Ground)))
    set_value(v, "mla.consult_before_refusal", draw(st.booleans()))
    route = draw(st.sampled_from(list(EmergencyRoute)))
    poc = route is EmergencyRoute.POINT_OF_CONTACT or draw(st.booleans())
    set_value(v, "point_of_contact.available", poc)
    functions = set(draw(subsets(PocFunction)))  # the emergency route needs its function
    if route is EmergencyRoute.POINT_OF_CONTACT:
        functions.add(PocFunction.EMERGENCY_DATA.value)
    set_value(v, "point_of_contact.functions", sorted(functions))
    if route is EmergencyRoute.URGENT_MLA and not v["mla"]["available"]["value"]:
        route = EmergencyRoute.NONE
    set_value(v, "emergency.route", route.value)
    if draw(st.booleans()):  # orders straight to providers
        note = {"status": "assumption", "note": "test"}
        v["direct_request"] = {
            "available": {"value": True, **note},
            "data_types": {"value": draw(subsets(DataType)), **note},
            "deadline_days": {"value": draw(st.sampled_from([1, 10, 30])), **note},
            "emergency_days": {"value": 0.33, **note},
        }
    days = draw(st.sampled_from([200, 400]))
    # needs arise for 0.6 x days after a warm-up (whose cases load the desks, unreported);
    # most of the cohort's requests finish within the run-off, the rest are censored
    window = Window(draw(st.sampled_from([0, 60])), 0.6 * days, 0.4 * days)
    w = world_data(cases_per_year=draw(st.sampled_from([150, 300])))
    share = st.sampled_from([0.0, 0.5, 1.0])
    for key in ("party_share", "bilateral_share_same_region", "bilateral_share_other_region",
                "poc_always_on_share", "dc_reservation_share"):
        set_value(w, f"states.{key}", draw(share))
    set_value(w, "states.letters_rogatory_acceptance", draw(st.sampled_from([0.5, 1.0])))
    ca = w["central_authorities"]  # files reviewed in weeks, so that most requests finish
    ca["review_days"] = {"dist": "lognormal", "median": 15, "sigma": 0.7, "source": "test"}
    retention = draw(st.sampled_from([1.0, 0.2]))  # as the world has it, or five times shorter
    for profile in w["retention"].values():
        for dist in profile.values():
            dist["median"] *= retention
    set_value(w, "central_authorities.staff", draw(st.sampled_from([0, 10])))
    set_value(w, "central_authorities.staff_by_state", {})
    set_value(w, "points_of_contact.staff", draw(st.sampled_from([0, 1])))
    provider_staff = draw(st.sampled_from([0, 2]))
    for i in range(len(w["providers"])):
        set_value(w, f"providers.{i}.staff", provider_staff)
    for key in ("more_info_share", "postpone_share"):
        set_value(w, f"central_authorities.{key}", draw(st.sampled_from([0.0, 0.3])))
    for key in ("consult_rescue_share", "extension_grant_share"):
        set_value(w, f"central_authorities.{key}", draw(share))
    set_value(w, "cases.next_hop_share", draw(share))
    set_value(w, "cases.max_hops", draw(st.integers(1, 3)))
    set_value(w, "cases.emergency_share", draw(st.sampled_from([0.0, 0.2])))
    set_value(w, "cases.preservation_share", dict.fromkeys(
        (d.value for d in DATA_TYPES), draw(share)))
    set_value(w, "direct_requests.compliance_share", draw(share))
    applicable, invoke = draw(st.sampled_from([0.0, 0.1, 0.4])), draw(share)
    for g in Ground:
        set_value(w, f"grounds.{g.value}.applicable_share", applicable)
        set_value(w, f"grounds.{g.value}.invoke_propensity", invoke)
    set_value(w, "dual_criminality.gap_share", dict.fromkeys(
        (o.value for o in Offence), draw(st.sampled_from([0.0, 0.3, 1.0]))))
    set_value(w, "dual_criminality.invoke_propensity", draw(share))
    return make_variant(v), make_world(w), draw(st.integers(0, 2**31)), window


SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@SETTINGS
@given(scenarios())
def test_finished_runs_obey_the_rules(scenario: Scenario) -> None:
    check(run(*scenario))


def check(out: Run) -> None:
    """Every invariant below, for every request of the run."""
    m = out.model
    table = m.requests.cols
    check_cohort(out)
    assert set(table["request"]) == set(out.cohort), "the table lists the cohort's requests"
    regime_of = dict(zip(table["request"], table["mla_regime"], strict=True))
    for rid, r in out.cohort.items():
        rows = out.rows[rid]
        route = m.router.route(r.requesting, r.requested, r.offence)
        check_one_outcome(r, rows)
        check_route(r, rows, route, regime_of[rid])
        if isinstance(route, Outcome):
            continue
        check_path(r, rows, route)
        check_refusals(r, rows, route, m.states[r.requested])
        check_data(r, rows, route)
        check_tiling(r, rows)
    check_trails(out)


# -- the checks, one invariant each -------------------------------------------------------------
def check_cohort(out: Run) -> None:
    """The cohort is the requests of the cases arising in the window, every hop of a trail
    with its case; only they are logged, and they all end (the ledger counts every request)."""
    m, w = out.model, out.model.window
    assert m.created == len(out.requests) == sum(m.ledger.outcomes)
    for rid, r in out.requests.items():
        assert r.measured == w.holds(r.arrival), rid
        assert r.arrival <= r.need_time
        if r.next is not None and r.next.started:
            assert r.next.measured == r.measured and r.next.arrival == r.arrival
        if not r.measured:
            assert rid not in out.rows, rid
    arrival = dict(zip(m.requests.cols["request"], m.requests.cols["arrival"], strict=True))
    assert all(arrival[rid] == r.arrival for rid, r in out.cohort.items())
    assert m.ledger.measured_open == 0 and m.steps <= w.horizon


def check_one_outcome(r: Request, rows: list[Row]) -> None:
    """(e) Exactly one outcome, as the last row: it spans the request's life, and the stage
    it closes ends the way that outcome closes stages (with the same ground)."""
    finals = [x for x in rows if x.stage is S.OUTCOME]
    assert len(finals) == 1, (r.id, finals)
    final = finals[0]
    assert r.stage == S.OUTCOME
    assert final.start == r.need_time <= final.end
    main = [x for x in rows if x.stage not in SIDE]
    outcome = Outcome(final.result)
    if main:
        assert main[-1].result == CLOSING_RESULT[outcome], (r.id, outcome, main[-1])
        assert main[-1].ground == final.ground
        assert all(x.result == R.DONE for x in main[:-1])
    if outcome is not Outcome.REFUSED:
        assert final.ground == NO_GROUND


def check_route(r: Request, rows: list[Row], route: Route | Outcome, regime: int) -> None:
    """A request no regime serves ends at once in that outcome, with no procedure."""
    final = rows[-1]
    if isinstance(route, Outcome):
        assert route in (Outcome.NO_CHANNEL, Outcome.OUT_OF_SCOPE)
        assert rows == [final] and final.result == route and final.end == r.need_time
        assert regime == REGIME_CODE["none"]
    else:
        assert final.result not in (Outcome.NO_CHANNEL, Outcome.OUT_OF_SCOPE)
        assert regime == REGIME_CODE[route.mla_regime]


def check_path(r: Request, rows: list[Row], route: Route) -> None:
    """The main stages follow the procedure, each only where the route and request allow."""
    main = [x.stage for x in rows if x.stage not in SIDE]
    outcome = Outcome(rows[-1].result)
    if not main:
        assert outcome is Outcome.PENDING
        return
    first = S.LOCATE if r.hop == 0 else main[0]
    assert main[0] is first and (r.hop == 0 or first is not S.LOCATE)
    for a, b in itertools.pairwise(main):
        assert b in NEXT[a], (r.id, a.name, b.name)
    if outcome is not Outcome.PENDING:
        assert main[-1] in ENDS[outcome], (r.id, outcome, main[-1].name)
    count = Counter(main)
    assert count[S.MORE_INFO] <= 1 and count[S.REVIEW] <= 2 and count[S.QUEUE] <= 2
    assert count[S.MORE_INFO] == 0 or r.more_info
    assert count[S.POSTPONE] == 0 or r.postpone
    direct = route.direct
    if count[S.DIRECT]:
        assert direct is not None and r.data_type in direct.data_types
        assert not (r.emergency and direct.emergency_days is None)
    if count[S.EMERGENCY]:
        assert r.emergency and route.emergency is EmergencyRoute.POINT_OF_CONTACT
    if count[S.PRESERVATION_REQUEST]:
        assert route.preservation is not None and r.asks_preservation
    if count[S.CONSULT]:
        assert route.mla.consult_before_refusal and r.rescued


def check_refusals(r: Request, rows: list[Row], route: Route, state: State) -> None:
    """(a) Refused only on the ground the governing rule gives at that step, and every step
    passed is one the rule lets through (or rescued by consultation)."""
    for x in rows:
        if x.stage in (S.HOLD, S.OUTCOME):
            continue
        refused = x.result == R.REFUSED
        assert refused == (x.ground != NO_GROUND), x
        if refused:
            decision, invoked = step_rule(route, x.stage, r)
            assert x.ground == expected_ground(decision, invoked, r, state), (r.id, x)
    stages = [x.stage for x in rows]
    if S.PRESERVE in stages:
        assert expected_ground(route.preservation.decision, r.pres_mask, r, state) is None
    if S.DISCLOSURE in stages:
        disclosed = next(x for x in rows if x.stage is S.DISCLOSURE)
        if disclosed.result == R.DONE:
            assert expected_ground(route.disclosure.decision, r.disc_mask, r, state) is None
    mla = expected_ground(route.mla.decision, r.mla_mask, r, state)
    if S.CONSULT in stages:
        assert mla is not None  # a consultation is an intended refusal
    elif S.EXECUTE in stages or (S.EMERGENCY in stages and S.RETURN in stages):
        assert mla is None


def check_data(r: Request, rows: list[Row], route: Route) -> None:
    """(b) Obtained only if the data existed and outlived production; (c) lost after a
    lapse only if preserved and not kept for good, lost before preservation only if never
    preserved; every loss happened at or after the deletion the log implies."""
    outcome = Outcome(rows[-1].result)
    holds = [x for x in rows if x.stage is S.HOLD]
    preserved = any(x.stage is S.PRESERVE and x.result == R.DONE for x in rows)
    assert not holds or preserved  # only preserved data are held
    if holds:  # the hold runs from preservation and ends by the MLA request's arrival
        preserve = next(x for x in rows if x.stage is S.PRESERVE)
        transmit = next(x for x in rows if x.stage is S.TRANSMIT)
        assert holds[0].start == preserve.end and holds[-1].end <= transmit.end
        assert holds[-1].result != R.KEPT or holds[-1].end == transmit.end
    main = [x for x in rows if x.stage not in SIDE]
    if outcome is Outcome.OBTAINED:
        produced = next(x for x in reversed(main) if x.stage in PRODUCED)
        assert r.exists
        assert produced.end < deletion_at_production(r, rows, route.preservation), r.id
    elif outcome is Outcome.NEVER_EXISTED:
        assert not r.exists
    elif outcome in (Outcome.LOST_BEFORE_PRESERVATION, Outcome.LOST_AFTER_LAPSE):
        assert r.exists
        at = main[-1].end  # where the provider found the data gone
        assert at >= deletion_at_production(r, rows, route.preservation), r.id
        if outcome is Outcome.LOST_AFTER_LAPSE:
            assert preserved and holds, r.id
            kept_for_good = holds[-1].result == R.KEPT and route.preservation.continues_pending_mla
            assert not kept_for_good
        else:
            assert not preserved and not holds, r.id
            assert at >= r.deleted_at


def check_tiling(r: Request, rows: list[Row]) -> None:
    """(d) The main stages tile [need time, end] without gaps or overlaps, so a request's
    latency is the sum of its stage durations."""
    main = [x for x in rows if x.stage not in SIDE]
    final = rows[-1]
    if not main:
        assert final.end == r.need_time or Outcome(final.result) is Outcome.PENDING
        return
    assert main[0].start == r.need_time
    for a, b in itertools.pairwise(main):
        assert a.end == b.start, (r.id, a, b)
    assert main[-1].end == final.end
    assert all(x.end >= x.start for x in main)
    total = sum(x.end - x.start for x in main)
    assert math.isclose(total, final.end - final.start, rel_tol=1e-9, abs_tol=1e-9)


def check_trails(out: Run) -> None:
    """A later hop starts when its predecessor's traffic data are disclosed or its evidence
    obtained, and at no other time; no hop starts without its predecessor."""
    for r in out.cohort.values():
        nxt = r.next
        if nxt is None:
            continue
        rows = out.rows[r.id]
        starts = {x.end for x in rows if x.stage is S.DISCLOSURE and x.result == R.DONE}
        if Outcome(rows[-1].result) is Outcome.OBTAINED:
            starts.add(rows[-1].end)
        if nxt.id in out.requests:
            assert nxt.need_time in starts, (r.id, nxt.id)
        else:
            assert not starts, (r.id, nxt.id)
    successors = {id(r.next) for r in out.requests.values()}
    for r in out.requests.values():
        assert r.hop == 0 or id(r) in successors, r.id
