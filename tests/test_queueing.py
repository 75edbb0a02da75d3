"""Cross-check of the queueing core against Erlang C (M/M/c) with retention as a deadline.

One central authority with c staff and exponential review times receives Poisson requests;
every other stage takes no time and there is no preservation, so a request's evidence is lost
when the provider's exponential retention clock R runs out before the review ends:
loss = 1 - E[exp(-(W + S) / rho)] with W the M/M/c wait and S the review time.
"""

from __future__ import annotations

import math

import pytest
from conftest import fixed, make_variant, make_world, set_value, variant_data, world_data

from sim.experiments.runner import run_one

STAFF, MEAN_REVIEW, RETENTION = 3, 1.0, 10.0
LOAD = 2.4  # requests a day reaching the authority under test (utilisation 0.8)
WINDOW = 5000  # days of arrivals; the first WARMUP are the warm-up, not measured
WARMUP = 200


def erlang_c(c: int, a: float) -> float:
    """Probability that an arrival waits in M/M/c with offered load a = lambda / mu."""
    top = a**c / math.factorial(c) * c / (c - a)
    return top / (sum(a**k / math.factorial(k) for k in range(c)) + top)


def expected() -> tuple[float, float]:
    mu, lam, theta = 1 / MEAN_REVIEW, LOAD, 1 / RETENTION
    wait_prob = erlang_c(STAFF, lam / mu)
    rate = STAFF * mu - lam
    mean_wait = wait_prob / rate
    laplace_wait = (1 - wait_prob) + wait_prob * rate / (rate + theta)
    loss = 1 - laplace_wait * mu / (mu + theta)
    return mean_wait, loss


@pytest.fixture(scope="module")
def result():
    w = world_data(cases_per_year=2 * LOAD * 365)  # two States; each authority gets half
    w["states"]["roster"] = w["states"]["roster"][:2]
    provider = {**w["providers"][0], "home": "IRL"}
    local = next(p for p in w["providers"] if p["home"] == "local")
    w["providers"] = [provider, local]
    set_value(w, "providers.0.share", 1.0)
    set_value(w, "providers.1.share", 0.0)
    expo = {"dist": "exponential", "mean": RETENTION, "source": "test"}
    w["retention"] = {"clock": {"subscriber": expo, "traffic": expo, "content": expo}}
    for p in w["providers"]:
        p["retention"] = "clock"
        p["execute_days"] = fixed(0)
        set_value(p, "never_existed_share", 0.0)
    w["cases"]["age_days"] = fixed(0)
    set_value(w, "measurement.warmup_days", WARMUP)
    for key in ("next_hop_share", "emergency_share"):
        set_value(w, f"cases.{key}", 0.0)
    set_value(w, "cases.max_hops", 1)
    for key in ("bilateral_share_same_region", "bilateral_share_other_region",
                "letters_rogatory_acceptance"):
        set_value(w, f"states.{key}", 0.0)
    set_value(w, "states.poc_always_on_share", 1.0)
    ca = w["central_authorities"]
    set_value(w, "central_authorities.staff", STAFF)
    set_value(w, "central_authorities.staff_by_state", {})
    set_value(w, "central_authorities.more_info_share", 0.0)
    set_value(w, "central_authorities.postpone_share", 0.0)
    ca["review_days"] = {"dist": "exponential", "mean": MEAN_REVIEW, "source": "test"}
    w["points_of_contact"]["handling_days"] = fixed(0)
    w["requesting_states"]["draft_days"] = fixed(0)
    w["channels"] = {c: fixed(0) for c in w["channels"]}
    for g in w["grounds"].values():
        set_value(g, "applicable_share", 0.0)
    set_value(w, "dual_criminality.gap_share", {"convention": 0, "serious": 0, "other": 0})
    v = variant_data()
    set_value(v, "scope.offences", ["convention", "serious", "other"])
    set_value(v, "preservation.available", False)
    set_value(v, "emergency.route", "none")
    return run_one(make_variant(v), make_world(w), seed=11, window=WINDOW - WARMUP)


def test_only_the_cases_after_the_warmup_are_measured(result) -> None:
    req = result.requests
    assert req["arrival"].min() >= WARMUP and req["arrival"].max() < WINDOW
    assert result.steady["warmup_days"] == WARMUP and result.steady["censored"] == 0


def test_mean_wait_agrees_with_erlang_c(result) -> None:
    ev = result.events.merge(result.requests[["request", "requested", "need_time"]],
                             on="request")
    queue = ev[(ev["stage"] == "queue") & (ev["requested"] == "IRL")]
    mean_wait, _ = expected()
    assert len(queue) > 8000
    assert (queue["end"] - queue["start"]).mean() == pytest.approx(mean_wait, rel=0.1)


def test_share_lost_to_the_deadline_agrees(result) -> None:
    req = result.requests
    final = result.events[result.events["stage"] == "outcome"].merge(req, on="request")
    at_b = final[final["requested"] == "IRL"]
    _, loss = expected()
    lost = (at_b["result"] == "lost_before_preservation").mean()
    assert lost == pytest.approx(loss, abs=0.015)


def test_the_desks_load_is_the_offered_load(result) -> None:
    """Arrivals against capacity: lambda x mean review / c = 0.8, below 1, so the desk
    keeps up and no statement is made."""
    desks = {d["state"]: d for d in result.steady["desks"]}
    irl = desks["IRL"]
    assert irl["staff"] == STAFF
    assert irl["capacity_per_year"] == pytest.approx(STAFF * 365 / MEAN_REVIEW)
    assert irl["arrivals_per_year"] == pytest.approx(LOAD * 365, rel=0.05)
    assert irl["utilisation"] == pytest.approx(LOAD * MEAN_REVIEW / STAFF, rel=0.05)
    assert not irl["overloaded"] and result.steady["overloaded"] == []
    assert abs(irl["growth_per_year"]) < 5  # a stable queue: its backlog does not grow
