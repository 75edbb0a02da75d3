"""Against closed forms: a two-State world with fixed stage durations and exponential clocks.

Data of age A ~ Exp(mean a) on a provider that deletes at retention R ~ Exp(mean rho) are
still there t days after the need arises with probability
P(R > A + t) = exp(-t / rho) * rho / (rho + a). With fixed stage durations, every loss
share of the model is a difference of such terms.
"""

from __future__ import annotations

import math

import pytest
from conftest import fixed, make_variant, make_world, set_value, variant_data, world_data

from sim.experiments.runner import run_one

AGE, RETENTION = 74.8, 120.0
POC, PRESERVE, DRAFT, TRANSMIT, REVIEW, EXECUTE = 0.25, 1.0, 30.0, 20.0, 30.0, 20.0
N_CASES = 20_000
WINDOW = 365  # days of arising needs measured; the run-off lets every one of them end


def survives(t: float) -> float:
    return math.exp(-t / RETENTION) * RETENTION / (RETENTION + AGE)


def two_state_world(asks_preservation: float = 1.0):
    w = world_data(cases_per_year=N_CASES)
    w["states"]["roster"] = w["states"]["roster"][:2]  # USA and IRL
    provider = {**w["providers"][0], "home": "IRL"}
    local = next(p for p in w["providers"] if p["home"] == "local")
    w["providers"] = [provider, local]
    set_value(w, "providers.0.share", 1.0)
    set_value(w, "providers.1.share", 0.0)
    for p in w["providers"]:
        p["retention"] = "clock"
        p["preserve_days"], p["execute_days"] = fixed(PRESERVE), fixed(EXECUTE)
        set_value(p, "never_existed_share", 0.0)
    expo = {"dist": "exponential", "mean": RETENTION, "source": "test"}
    w["retention"] = {"clock": {"subscriber": expo, "traffic": expo, "content": expo}}
    w["cases"]["age_days"] = {"dist": "exponential", "mean": AGE, "source": "test"}
    for key in ("next_hop_share", "emergency_share"):
        set_value(w, f"cases.{key}", 0.0)
    set_value(w, "cases.max_hops", 1)
    set_value(w, "cases.preservation_share",
              dict.fromkeys(("subscriber", "traffic", "content"), asks_preservation))
    for key in ("bilateral_share_same_region", "bilateral_share_other_region",
                "letters_rogatory_acceptance"):  # no fallback regime: the treaty alone
        set_value(w, f"states.{key}", 0.0)
    set_value(w, "states.poc_always_on_share", 1.0)
    set_value(w, "states.party_share", 1.0)
    ca = w["central_authorities"]
    set_value(w, "central_authorities.staff", 0)
    set_value(w, "central_authorities.staff_by_state", {})
    set_value(w, "central_authorities.more_info_share", 0.0)
    set_value(w, "central_authorities.postpone_share", 0.0)
    ca["review_days"] = fixed(REVIEW)
    w["points_of_contact"]["handling_days"] = fixed(POC)
    w["requesting_states"]["draft_days"] = fixed(DRAFT)
    w["channels"] = {c: fixed(TRANSMIT) for c in w["channels"]}
    for g in w["grounds"].values():
        set_value(g, "applicable_share", 0.0)
    set_value(w, "dual_criminality.gap_share", {"convention": 0, "serious": 0, "other": 0})
    return make_world(w)


def variant(preservation: bool, min_days: float):
    v = variant_data()
    set_value(v, "scope.offences", ["convention", "serious", "other"])
    set_value(v, "preservation.available", preservation)
    set_value(v, "preservation.min_days", min_days)
    set_value(v, "preservation.extension", False)
    return make_variant(v)


def within_99(observed: float, p: float, n: int) -> None:
    half = 2.576 * math.sqrt(p * (1 - p) / n)
    assert abs(observed - p) <= half, f"{observed:.4f} outside {p:.4f} +/- {half:.4f}"


@pytest.fixture(scope="module")
def world():
    return two_state_world()


def test_preservation_that_outlasts_mla_loses_only_what_was_gone_before(world) -> None:
    s = run_one(variant(True, 10_000), world, seed=3, window=WINDOW).summary
    assert s["pending_share"] == 0 and s["refusal_rate"] == 0
    preserved_at = 2 * POC + PRESERVE  # locate and request through 24/7 points, then preserve
    within_99(s["loss_before_preservation"], 1 - survives(preserved_at), s["decided"])
    assert s["loss_after_lapse"] == 0


def test_preservation_lapsing_before_mla_exposes_data_until_execution(world) -> None:
    s = run_one(variant(True, 10), world, seed=4, window=WINDOW).summary
    preserved_at = 2 * POC + PRESERVE
    executed_at = preserved_at + DRAFT + TRANSMIT + REVIEW + EXECUTE
    within_99(s["loss_before_preservation"], 1 - survives(preserved_at), s["decided"])
    within_99(s["loss_after_lapse"], survives(preserved_at) - survives(executed_at), s["decided"])
    within_99(s["obtained"], survives(executed_at), s["decided"])


def test_without_preservation_data_must_outlive_the_whole_mla(world) -> None:
    s = run_one(variant(False, 60), world, seed=5, window=WINDOW).summary
    executed_at = POC + DRAFT + TRANSMIT + REVIEW + EXECUTE
    within_99(s["loss_before_preservation"], 1 - survives(executed_at), s["decided"])
    assert s["latency_median"] == pytest.approx(executed_at + TRANSMIT)


def test_requests_without_preservation_mix_in_at_their_share() -> None:
    share = 0.4
    s = run_one(variant(True, 10_000), two_state_world(share), seed=6, window=WINDOW).summary
    lost_preserving = 1 - survives(2 * POC + PRESERVE)
    lost_not = 1 - survives(POC + DRAFT + TRANSMIT + REVIEW + EXECUTE)
    within_99(s["loss_before_preservation"],
              share * lost_preserving + (1 - share) * lost_not, s["decided"])
    assert s["loss_after_lapse"] == 0
