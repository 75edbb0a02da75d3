"""Every request ends in exactly one outcome, and totals reconcile everywhere."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import make_variant, make_world, set_value, variant_data, world_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.model import CooperationModel
from sim.engine.window import Window
from sim.metrics.summary import summarize
from sim.vocabulary import (
    OUTCOME_NAMES,
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

subsets = lambda enum: st.lists(st.sampled_from(list(enum)), unique=True).map(  # noqa: E731
    lambda xs: [x.value for x in xs])


@st.composite
def scenarios(draw: st.DrawFn):
    v = variant_data()
    set_value(v, "scope.offences", draw(subsets(Offence)))
    set_value(v, "preservation.available", draw(st.booleans()))
    set_value(v, "preservation.min_days", draw(st.sampled_from([1, 30, 60, 90, 180, 365])))
    set_value(v, "preservation.continues_pending_mla", draw(st.booleans()))
    set_value(v, "preservation.extension", draw(st.booleans()))
    set_value(v, "preservation.dual_criminality", draw(st.sampled_from(list(DualCriminality))))
    set_value(v, "preservation.refusal_grounds", draw(subsets(Ground)))
    set_value(v, "traffic_disclosure.available", draw(st.booleans()))
    set_value(v, "traffic_disclosure.parties_only", draw(st.booleans()))
    set_value(v, "mla.available", draw(st.booleans()))
    set_value(v, "mla.only_absent_bilateral", draw(st.booleans()))
    set_value(v, "mla.channel", draw(st.sampled_from(list(Channel))))
    set_value(v, "mla.dual_criminality", draw(st.sampled_from(list(DualCriminality))))
    set_value(v, "mla.refusal_grounds", draw(subsets(Ground)))
    set_value(v, "mla.consult_before_refusal", draw(st.booleans()))
    set_value(v, "point_of_contact.available", draw(st.booleans()))
    set_value(v, "point_of_contact.functions", draw(subsets(PocFunction)))
    route = draw(st.sampled_from(list(EmergencyRoute)))
    if route is EmergencyRoute.POINT_OF_CONTACT:  # the route needs its 24/7 function
        set_value(v, "point_of_contact.available", True)
        functions = v["point_of_contact"]["functions"]["value"]
        set_value(v, "point_of_contact.functions", sorted({*functions, "emergency_data"}))
    if route is EmergencyRoute.URGENT_MLA and not v["mla"]["available"]["value"]:
        route = EmergencyRoute.NONE
    set_value(v, "emergency.route", route.value)
    if draw(st.booleans()):  # orders straight to providers (EU e-evidence, Budapest 2AP)
        v["direct_request"] = {
            "available": {"value": True, "status": "assumption", "note": "test"},
            "data_types": {"value": draw(subsets(DataType)), "status": "assumption",
                           "note": "test"},
            "deadline_days": {"value": draw(st.sampled_from([1, 10, 30])),
                              "status": "assumption", "note": "test"},
            "emergency_days": {"value": 0.33, "status": "assumption", "note": "test"},
        }
    w = world_data(cases_per_year=draw(st.sampled_from([50, 150])))
    share = st.sampled_from([0.0, 0.3, 1.0])
    for key in ("party_share", "bilateral_share_same_region", "bilateral_share_other_region",
                "letters_rogatory_acceptance", "poc_always_on_share", "dc_reservation_share"):
        set_value(w, f"states.{key}", draw(share))
    set_value(w, "central_authorities.staff", draw(st.sampled_from([0, 1, 3])))
    set_value(w, "points_of_contact.staff", draw(st.sampled_from([0, 1])))
    provider_staff = draw(st.sampled_from([0, 1]))
    for i in range(len(w["providers"])):
        set_value(w, f"providers.{i}.staff", provider_staff)
    set_value(w, "central_authorities.staff_by_state", {})
    set_value(w, "cases.next_hop_share", draw(share))
    set_value(w, "cases.max_hops", draw(st.integers(1, 3)))
    set_value(w, "cases.emergency_share", draw(share))
    set_value(w, "central_authorities.more_info_share", draw(share))
    set_value(w, "central_authorities.postpone_share", draw(share))
    set_value(w, "direct_requests.compliance_share", draw(share))
    days = draw(st.sampled_from([120, 400]))
    seed = draw(st.integers(0, 2**31))
    return make_variant(v), make_world(w), days, seed


@st.composite
def windows(draw: st.DrawFn) -> Window:
    """A short warm-up, one to three short windows, and a run-off that may censor."""
    return Window(draw(st.sampled_from([0, 45])), draw(st.sampled_from([30, 90])),
                  draw(st.sampled_from([0, 60, 1460])), draw(st.integers(1, 3)))


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_every_request_ends_in_exactly_one_outcome(scenario) -> None:
    variant, world, days, seed = scenario
    m = CooperationModel(variant, world, seed)
    m.run(days)

    assert m.created == sum(m.ledger.outcomes) == len(m.requests)
    assert not m.ledger.open
    log = m.log.frame(labels=False)
    outcome_rows = log[log["stage"] == Stage.OUTCOME]
    assert outcome_rows["request"].is_unique
    assert set(outcome_rows["request"]) == set(m.requests.cols["request"])
    np.testing.assert_array_equal(
        np.bincount(outcome_rows["result"], minlength=len(Outcome)), m.ledger.outcomes)

    daily = m.daily()
    outcomes = daily[list(OUTCOME_NAMES)].sum(axis=1)
    assert (daily["created"] == daily["open"] + outcomes).all()
    stages = [c for c in daily if c.startswith("open_")]
    assert (daily["open"] == daily[stages].sum(axis=1)).all()

    summary = summarize(m.log)
    assert summary["requests"] == m.created
    for o in Outcome:
        assert summary[f"n_{OUTCOME_NAMES[o]}"] == m.ledger.outcomes[o]
    shares_add_up(summary)


def shares_add_up(summary: dict[str, float]) -> None:
    if summary["decided"]:  # evidence not obtained is every decided request without it
        parts = ("data_loss", "never_existed", "refusal_rate", "out_of_scope", "no_channel")
        assert summary["not_obtained"] == pytest.approx(1 - summary["obtained"])
        assert summary["not_obtained"] == pytest.approx(sum(summary[p] for p in parts))
        assert summary["data_loss"] == pytest.approx(
            summary["loss_before_preservation"] + summary["loss_after_lapse"])


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), windows())
def test_every_measured_request_ends_and_every_request_is_counted(scenario, window) -> None:
    """Measured through a window, the ledger counts every request (the world's state) and
    logs those of the cohort only; each of those ends in exactly one outcome, censored
    (pending) if the run-off ran out."""
    variant, world, _, seed = scenario
    m = CooperationModel(variant, world, seed, window)
    m.measure()

    assert m.created == sum(m.ledger.outcomes) >= len(m.requests)
    assert not m.ledger.open and m.ledger.measured_open == 0
    assert m.steps <= window.horizon and m.runoff_days <= window.runoff
    arrival = np.asarray(m.requests.cols["arrival"])
    assert all(window.holds(a) for a in arrival.tolist())
    assert (np.asarray(m.requests.cols["need_time"]) >= arrival).all()
    log = m.log.frame(labels=False)
    assert set(log["request"]) <= set(m.requests.cols["request"])  # nothing else is logged
    outcome_rows = log[log["stage"] == Stage.OUTCOME]
    assert outcome_rows["request"].is_unique
    assert set(outcome_rows["request"]) == set(m.requests.cols["request"])
    assert (np.bincount(outcome_rows["result"], minlength=len(Outcome))
            <= np.array(m.ledger.outcomes)).all()
    if m.runoff_days < window.runoff:  # the cohort ended before the run-off ran out
        assert not (outcome_rows["result"] == Outcome.PENDING).any()

    daily = m.daily()
    assert len(daily) == m.steps
    outcomes = daily[list(OUTCOME_NAMES)].sum(axis=1)
    assert (daily["created"] == daily["open"] + outcomes).all()
    assert daily["created"].iloc[-1] == m.created

    summary = summarize(m.log)
    assert summary["requests"] == len(m.requests)
    shares_add_up(summary)
