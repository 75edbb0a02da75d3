"""Treaty rules as the engine applies them: grounds, dual criminality, lapse, period."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest
from conftest import make_variant, make_world, set_value, variant_data, world_data
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.engine.model import CooperationModel
from sim.experiments.runner import run_one
from sim.vocabulary import GROUND_NAMES, GROUNDS, Ground, Offence, Outcome, Stage
from sim.vocabulary import Result as R

WINDOW = 365  # days of arising needs measured; the run-off lets nearly all of them end


def treaty_only_world(**values) -> dict:
    """Every State party, no bilateral treaties, no letters rogatory: only the treaty applies."""
    w = world_data(cases_per_year=800)
    for key in ("bilateral_share_same_region", "bilateral_share_other_region",
                "letters_rogatory_acceptance"):
        set_value(w, f"states.{key}", 0.0)
    set_value(w, "states.party_share", 1.0)
    for path, value in values.items():
        set_value(w, path.replace("__", "."), value)
    return w


def all_offences(v: dict) -> dict:
    return set_value(v, "scope.offences", [o.value for o in Offence])


def refusals(result) -> pd.DataFrame:
    ev = result.events
    return ev[(ev["result"] == "refused") & (ev["stage"] != "hold")]


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(pres=st.sets(st.sampled_from(list(Ground))), mla=st.sets(st.sampled_from(list(Ground))),
       seed=st.integers(0, 10_000))
def test_a_ground_the_variant_does_not_list_is_never_applied(pres, mla, seed) -> None:
    v = all_offences(variant_data())
    set_value(v, "preservation.refusal_grounds", sorted(pres))
    set_value(v, "mla.refusal_grounds", sorted(mla))
    set_value(v, "traffic_disclosure.refusal_grounds", [])
    w = treaty_only_world()
    for g in Ground:  # every ground arguable and always invoked: only the list can stop it
        set_value(w, f"grounds.{g.value}.applicable_share", 0.5)
        set_value(w, f"grounds.{g.value}.invoke_propensity", 1.0)
    result = run_one(make_variant(v), make_world(w), seed, window=WINDOW)
    r = refusals(result)
    allowed = {
        "preservation_request": {g.value for g in pres} | {"no_dual_criminality"},
        "review": {g.value for g in mla} | {"no_dual_criminality"},
        "emergency": {g.value for g in mla} | {"no_dual_criminality"},
        "disclosure": {"no_dual_criminality"},
        "outcome": {g.value for g in pres | mla} | {"no_dual_criminality"},
    }
    for stage, grounds in r.groupby("stage", observed=True)["ground"]:
        assert set(grounds.astype(str)) <= allowed[stage], stage
    if pres or mla:
        assert len(r) > 0  # listed grounds are applied


def test_every_listed_ground_is_applied_when_invoked() -> None:
    v = all_offences(variant_data())
    set_value(v, "preservation.refusal_grounds", [])
    set_value(v, "mla.refusal_grounds", [g.value for g in GROUNDS])
    set_value(v, "mla.consult_before_refusal", False)
    w = treaty_only_world()
    for g in Ground:
        set_value(w, f"grounds.{g.value}.applicable_share", 0.1)
        set_value(w, f"grounds.{g.value}.invoke_propensity", 1.0)
    s = run_one(make_variant(v), make_world(w), 2, window=WINDOW).summary
    for g in GROUNDS:
        assert s[f"refused_{g.value}"] > 0, g


def test_dual_criminality_reservation_bites_only_for_non_convention_offences() -> None:
    v = all_offences(variant_data())
    set_value(v, "preservation.dual_criminality", "reservation")
    set_value(v, "preservation.refusal_grounds", [])
    set_value(v, "mla.dual_criminality", "not_required")
    set_value(v, "mla.refusal_grounds", [])
    w = treaty_only_world(states__dc_reservation_share=1.0)
    set_value(w, "dual_criminality.gap_share", {"convention": 1.0, "serious": 1.0, "other": 1.0})
    result = run_one(make_variant(v), make_world(w), 3, window=WINDOW)
    ev, req = result.events, result.requests
    refused = ev[(ev["stage"] == "outcome") & (ev["result"] == "refused")]
    refused = refused.merge(req[["request", "offence"]], on="request")
    assert (refused["ground"] == "no_dual_criminality").all()
    assert set(refused["offence"]) == {"serious", "other"}
    reached = ev[ev["stage"] == "preservation_request"].merge(req, on="request")
    convention = reached[reached["offence"] == "convention"]
    assert len(convention) > 0 and (convention["result"] == "done").all()
    non_convention = reached[reached["offence"] != "convention"]
    assert len(non_convention) > 0 and (non_convention["result"] == "refused").all()


def test_without_the_reservation_dual_criminality_never_bites() -> None:
    v = all_offences(variant_data())
    set_value(v, "preservation.dual_criminality", "reservation")
    set_value(v, "mla.dual_criminality", "not_required")
    w = treaty_only_world(states__dc_reservation_share=0.0)
    set_value(w, "dual_criminality.gap_share", {"convention": 1.0, "serious": 1.0, "other": 1.0})
    s = run_one(make_variant(v), make_world(w), 3, window=WINDOW).summary
    assert s["refused_no_dual_criminality"] == 0


def test_preservation_never_lapses_after_the_mla_request_arrived() -> None:
    v = all_offences(variant_data())
    set_value(v, "preservation.min_days", 30)  # short: many lapse before the request arrives
    set_value(v, "preservation.extension", False)
    result = run_one(make_variant(v), make_world(treaty_only_world()), 4, window=WINDOW)
    ev = result.events
    holds = ev[ev["stage"] == "hold"].set_index("request")
    arrived = ev[ev["stage"] == "transmit"].set_index("request")["end"]
    kept = holds[holds["result"] == "kept"]
    lapsed = holds[holds["result"] == "lapsed"]
    assert len(kept) > 0 and len(lapsed) > 0
    np.testing.assert_allclose(kept["end"], arrived.loc[kept.index])  # held until arrival
    assert (lapsed["end"] < arrived.loc[lapsed.index]).all()  # lapsed only before it
    outcome = ev[ev["stage"] == "outcome"].set_index("request")["result"]
    assert not (outcome.loc[kept.index] == "lost_after_lapse").any()


def test_a_longer_preservation_period_never_increases_data_loss() -> None:
    """Unlimited staff and single-hop trails: each request's fate is monotone in the period."""
    w = make_world(treaty_only_world(central_authorities__staff=0,
                                     central_authorities__staff_by_state={},
                                     cases__next_hop_share=0.0))
    lost_by_period = {}
    for days in (1, 15, 30, 60, 90, 180, 365):
        v = all_offences(variant_data())
        set_value(v, "preservation.min_days", days)
        ev = run_one(make_variant(v), w, 5, window=WINDOW).events
        out = ev[ev["stage"] == "outcome"].set_index("request")["result"]
        lost = out.isin(["lost_before_preservation", "lost_after_lapse"])
        lost_by_period[days] = lost.sort_index()
    periods = sorted(lost_by_period)
    for shorter, longer in itertools.pairwise(periods):
        a, b = lost_by_period[shorter], lost_by_period[longer]
        assert a.index.equals(b.index)
        assert not (b & ~a).any(), f"a request lost at {longer} days was kept at {shorter}"
        assert b.sum() <= a.sum()
    assert lost_by_period[365].sum() < lost_by_period[1].sum()


def test_convention_mla_rules_apply_only_between_pairs_without_a_bilateral_treaty() -> None:
    v = all_offences(variant_data())
    w = make_world(treaty_only_world(states__bilateral_share_same_region=1.0,
                                     states__bilateral_share_other_region=0.0))
    m = CooperationModel(make_variant(v), w, 6)
    m.run(400)
    req = m.requests.frame([s.iso3 for s in m.states], [p.name for p in m.providers])
    region = {s.iso3: s.region for s in m.states}
    same = req["requesting"].map(region) == req["requested"].map(region)
    assert (req.loc[same, "mla_regime"] == "bilateral").all()
    assert (req.loc[~same, "mla_regime"] == "treaty").all()
    assert same.any() and (~same).any()


def test_silence_with_no_fallback_leaves_no_channel() -> None:
    v = variant_data()
    set_value(v, "scope.offences", ["convention"])
    set_value(v, "mla.available", False)
    s = run_one(make_variant(v), make_world(treaty_only_world()), 7, window=WINDOW).summary
    assert s["obtained"] == 0 and s["n_out_of_scope"] == 0
    assert s["n_no_channel"] == s["requests"]


def test_scope_limits_bite_where_the_treaty_offers_assistance() -> None:
    v = variant_data()
    set_value(v, "scope.offences", ["convention"])
    result = run_one(make_variant(v), make_world(treaty_only_world()), 7, window=WINDOW)
    final = result.events[result.events["stage"] == "outcome"].merge(
        result.requests[["request", "offence"]], on="request")
    out = final[final["result"] == "out_of_scope"]
    assert len(out) > 0 and set(out["offence"]) == {"serious", "other"}
    assert (final.loc[final["offence"] != "convention", "result"] == "out_of_scope").all()
    assert (final.loc[final["offence"] == "convention", "result"] == "obtained").any()


def test_emergency_requests_through_the_24_7_point_arrive_within_days() -> None:
    v = all_offences(variant_data())
    w = treaty_only_world(cases__emergency_share=1.0, states__poc_always_on_share=1.0)
    result = run_one(make_variant(v), make_world(w), 8, window=WINDOW)
    ev = result.events
    assert set(ev["stage"].astype(str)) <= {"locate", "emergency", "return", "outcome"}
    assert result.summary["latency_p90"] < 5


def test_refusal_outcomes_carry_their_ground() -> None:
    result = run_one(make_variant(variant_data()), make_world(treaty_only_world()), 9,
                     window=WINDOW)
    ev = result.events
    final = ev[ev["stage"] == "outcome"]
    refused = final[final["result"] == "refused"]
    assert len(refused) > 0
    assert refused["ground"].notna().all()
    assert set(refused["ground"].astype(str)) <= set(GROUND_NAMES)
    assert final.loc[final["result"] != "refused", "ground"].isna().all()
    assert Outcome.REFUSED.name.lower() == "refused" and Stage.OUTCOME.name.lower() == "outcome"
    assert R.REFUSED.name.lower() == "refused"


def _trails(disclosure: bool, data_type: str = "traffic"):
    v = all_offences(variant_data())
    set_value(v, "traffic_disclosure.available", disclosure)
    set_value(v, "traffic_disclosure.parties_only", False)
    mix = {"subscriber": 0.0, "traffic": 0.0, "content": 0.0} | {data_type: 1.0}
    w = treaty_only_world(cases__next_hop_share=1.0, cases__max_hops=2,
                          cases__emergency_share=0.0, cases__data_type_mix=mix)
    result = run_one(make_variant(v), make_world(w), 10, window=WINDOW)
    req, ev = result.requests, result.events
    second = req[req["hop"] == 1].set_index("case")["need_time"]
    parent = req[req["hop"] == 0].set_index("case").loc[second.index, "request"]
    outcome_at = ev[ev["stage"] == "outcome"].set_index("request")["end"]
    disclosed = ev[(ev["stage"] == "disclosure") & (ev["result"] == "done")]
    disclosed_at = disclosed.set_index("request")["end"]
    return second, parent, outcome_at, disclosed_at


def test_traffic_disclosure_starts_the_next_hop_before_the_evidence_arrives() -> None:
    """Preserving traffic data of a communication reveals the next provider on its path."""
    second, parent, outcome_at, disclosed_at = _trails(disclosure=True)
    early = parent.isin(disclosed_at.index)
    assert early.mean() > 0.5  # most trails are followed by disclosure
    np.testing.assert_allclose(second[early], disclosed_at.loc[parent[early]])
    assert (second[early].to_numpy() < outcome_at.loc[parent[early]].to_numpy()).all()
    late = second[~early]  # disclosure refused: the next provider is learnt from production
    np.testing.assert_allclose(late, outcome_at.loc[parent[~early]])


@pytest.mark.parametrize(("disclosure", "data_type"), [(False, "traffic"),
                                                      (True, "subscriber")])
def test_without_traffic_disclosure_the_next_hop_waits_for_production(disclosure,
                                                                      data_type) -> None:
    second, parent, outcome_at, disclosed_at = _trails(disclosure, data_type)
    assert len(second) > 0 and disclosed_at.empty
    np.testing.assert_allclose(second, outcome_at.loc[parent])


def test_a_silent_variant_falls_back_to_letters_rogatory_or_a_bilateral_treaty() -> None:
    v = all_offences(variant_data())
    set_value(v, "mla.available", False)
    set_value(v, "emergency.route", "point_of_contact")
    for bilateral, regime in ((0.0, "letters_rogatory"), (1.0, "bilateral")):
        w = treaty_only_world(states__letters_rogatory_acceptance=1.0,
                              states__bilateral_share_same_region=bilateral,
                              states__bilateral_share_other_region=bilateral)
        result = run_one(make_variant(v), make_world(w), 11, window=WINDOW)
        assert set(result.requests["mla_regime"].astype(str)) == {regime}
        assert result.summary["obtained"] > 0
