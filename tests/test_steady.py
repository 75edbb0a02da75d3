"""The measured part of a run (``sim.engine.window``) and its steady-state check
(``sim.metrics.steady``): warm-up, consecutive windows (batch means), run-off, MSER-5, and
the load of every desk."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pandas as pd
import pytest
from conftest import fixed, make_variant, make_world, set_value, variant_data, world_data

from sim.engine.model import CooperationModel
from sim.engine.window import Window
from sim.metrics.observe import Observation
from sim.metrics.steady import BATCH, DeskLoad, mser5, slope_per_year
from sim.vocabulary import Outcome, Stage

SUMMARY_ONLY = ("mser5_day", "runoff_days", "overloaded_desks")  # the run's, not a window's


# -- MSER-5 on series whose answer is known ------------------------------------------------------
def test_a_constant_series_has_nothing_to_discard() -> None:
    assert mser5(np.full(400, 7.0)) == 0
    assert mser5(np.full(400, 7, np.int64)) == 0


@pytest.mark.parametrize("n", [0, 1, BATCH, 2 * BATCH - 1])
def test_a_series_shorter_than_two_batches_has_nothing_to_truncate(n: int) -> None:
    assert mser5(np.arange(n, dtype=float) ** 2) == 0


@pytest.mark.parametrize("seed", range(4))
def test_a_ramp_then_a_flat_noisy_series_is_truncated_at_the_end_of_the_ramp(seed: int) -> None:
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 100, 100, endpoint=False)
    series = np.concatenate([ramp, 100 + rng.normal(0, 2, 400)])
    day = mser5(series)
    assert day % BATCH == 0
    assert 90 <= day <= 115, day


@pytest.mark.parametrize("seed", range(4))
def test_a_step_then_a_flat_noisy_series_is_truncated_at_the_step(seed: int) -> None:
    rng = np.random.default_rng(seed)
    series = np.concatenate([np.zeros(50), 10 + rng.normal(0, 1, 450)])
    assert 50 <= mser5(series) <= 65


def test_the_search_covers_the_first_half_only() -> None:
    """A series that never settles (a ramp throughout) is cut at most half-way."""
    assert mser5(np.arange(1000, dtype=float)) == 500
    assert mser5(np.arange(1003, dtype=float)) == 500  # the incomplete last batch is dropped


def test_the_slope_is_per_year() -> None:
    assert slope_per_year(2.0 * np.arange(100)) == pytest.approx(730)
    assert slope_per_year(np.full(50, 3.0)) == pytest.approx(0, abs=1e-9)
    assert slope_per_year(np.array([5.0])) == 0.0
    assert slope_per_year(np.array([])) == 0.0


# -- windows -------------------------------------------------------------------------------------
@pytest.mark.parametrize("args", [
    (-1,), (math.nan,), (math.inf,), (0, -5), (0, math.nan), (0, 365, -1), (0, 365, math.inf),
    (0, 365, math.nan), (0, 365, 0, 0), (0, 365, 0, -2),
], ids=["warmup-negative", "warmup-nan", "warmup-inf", "days-negative", "days-nan",
        "runoff-negative", "runoff-inf", "runoff-nan", "no-window", "batches-negative"])
def test_a_bad_window_is_refused(args: tuple) -> None:
    with pytest.raises(ValueError, match="window"):
        Window(*args)


def test_a_window_holds_the_cases_of_its_days() -> None:
    w = Window(100, 30, 50, batches=2)
    assert (w.start, w.end, w.horizon) == (100, 160, 210)
    assert [w.holds(t) for t in (0, 99.999, 100, 129.5, 130, 159.999, 160, 200)] == [
        False, False, True, True, True, True, False, False]
    assert [w.batch(t) for t in (100, 129.999, 130, 159.999)] == [0, 0, 1, 1]
    for outside in (99.5, 160, 1e6):
        with pytest.raises(ValueError, match="in no window"):
            w.batch(outside)
    assert (w.days_of(0), w.days_of(1)) == (slice(100, 130), slice(130, 160))
    series = np.arange(300)
    assert series[w.days_of(1)].tolist() == list(range(130, 160))
    assert Window(0.5, 10.25).days_of(0) == slice(0, 11)  # every day the window touches
    with pytest.raises(dataclasses.FrozenInstanceError):
        w.days = 10  # type: ignore[misc]


def test_everything_measures_every_case_from_day_0() -> None:
    w = Window.everything()
    assert (w.start, w.end, w.runoff, w.batches) == (0, math.inf, 0, 1)
    assert w.holds(0) and w.holds(1e9) and not w.holds(-1)
    assert w.batch(1e6) == 0
    assert w.days_of(0) == slice(0, None)


def test_a_window_of_a_world_takes_its_warmup_and_runoff(small_world) -> None:
    w = Window.of(small_world, 200, 3)
    assert w == Window(0, 200, 1460, 3)
    assert Window.of(small_world) == Window(0, 365, 1460, 1)


def test_measuring_a_window_without_end_is_refused(un, small_world) -> None:
    with pytest.raises(ValueError, match="without end"):
        CooperationModel(un, small_world, 0).measure()


# -- the cohort ----------------------------------------------------------------------------------
def test_needs_arise_without_end(un, small_world) -> None:
    """The case book has no horizon: cases keep arising at the world's rate, each hop of a
    trail carrying the day its case arose."""
    times = []
    for time, first in CooperationModel(un, small_world, 1).casebook:
        assert first.arrival == time and first.hop == 0
        r = first.next
        while r is not None:
            assert r.arrival == time and r.case == first.case
            r = r.next
        times.append(time)
        if time > 3 * 365:
            break
    assert times == sorted(times)
    per_year = small_world.cases.per_year.value
    assert len(times) == pytest.approx(3 * per_year, rel=0.1)


WARMUP, DAYS, RUNOFF = 100, 60, 1460


@pytest.fixture(scope="module")
def measured(un, small_world) -> CooperationModel:
    """A warm-up, two windows, and the run-off."""
    m = CooperationModel(un, small_world, 5, Window(WARMUP, DAYS, RUNOFF, batches=2))
    m.measure()
    return m


def test_the_ledger_logs_the_cohort_and_counts_every_request(measured) -> None:
    m, w = measured, measured.window
    arrival = np.asarray(m.requests.cols["arrival"])
    assert m.created > len(m.requests) > 0  # the warm-up's and the run-off's are not logged
    assert m.created == sum(m.ledger.outcomes) == m.daily()["created"].iloc[-1]
    assert ((arrival >= w.start) & (arrival < w.end)).all()
    assert (np.asarray(m.requests.cols["need_time"]) >= arrival).all()
    assert set(np.asarray(m.log.request).tolist()) == set(m.requests.cols["request"])
    final = np.asarray(m.log.stage) == Stage.OUTCOME
    assert final.sum() == len(m.requests)  # every measured request ends, once
    assert m.ledger.measured_open == 0


def test_the_run_stops_as_soon_as_the_cohort_has_ended(un) -> None:
    """With short reviews the cohort ends well before the run-off's last day: the run
    stops on the day its last request ends, and censors none of them."""
    w = world_data()
    ca = w["central_authorities"]
    for key in ("review_days", "more_info_reply_days", "postpone_days", "consult_days"):
        ca[key] = fixed(5)
    m = CooperationModel(un, make_world(w), 2, Window(0, 60, RUNOFF))
    m.measure()
    seen = Observation(m)
    assert 0 < m.runoff_days < RUNOFF
    assert m.steps == 60 + m.runoff_days
    assert seen.steady["censored"] == 0 and seen.summary["pending_share"] == 0
    assert seen.summary["runoff_days"] == m.runoff_days
    final = np.asarray(m.log.stage) == Stage.OUTCOME
    assert np.asarray(m.log.end)[final].max() > m.steps - 1  # the last ended on the last day
    assert m.ledger.outcomes[Outcome.PENDING] > 0  # later cases were still open: not reported


def test_a_run_off_that_runs_out_censors_the_rest(un, small_world) -> None:
    m = CooperationModel(un, small_world, 2, Window(0, 60, 10))
    m.measure()
    seen = Observation(m)
    assert (m.steps, m.runoff_days) == (70, 10)
    assert seen.steady["censored"] == seen.summary["n_pending"] > 0


def test_the_first_windows_of_a_longer_run_are_a_shorter_runs(un, small_world) -> None:
    """A case's window and outcome do not depend on how many windows follow: three windows
    measured give the first window's events and summary of one window measured."""
    one = CooperationModel(un, small_world, 5, Window(0, 120, RUNOFF, 1))
    three = CooperationModel(un, small_world, 5, Window(0, 120, RUNOFF, 3))
    for m in (one, three):
        m.measure()
    a, b = Observation(one), Observation(three)
    assert len(b.summaries) == 3 and len(a.summaries) == 1
    first = b.events[b.events["rep"] == 0].reset_index(drop=True)
    assert len(first) > 0 and set(b.events["rep"]) == {0, 1, 2}
    pd.testing.assert_frame_equal(first, a.events)
    requests = b.requests[b.requests["rep"] == 0].reset_index(drop=True)
    pd.testing.assert_frame_equal(requests, a.requests)
    for key, value in a.summary.items():
        if key not in SUMMARY_ONLY:
            assert same(b.summaries[0][key], value), key
    assert three.steps > one.steps


def same(a: float, b: float) -> bool:
    return a == b or (math.isnan(a) and math.isnan(b))


def test_the_run_off_waits_for_a_disclosure_under_way(un) -> None:
    """A disclosure of preserved traffic data runs beside its request and may end after it
    (a one-officer 24/7 point, open office hours only): the cohort has not ended until it
    has, so one window measured gives the first window of two, disclosure rows included."""
    v = variant_data()
    set_value(v, "scope.offences", ["convention", "serious", "other"])
    set_value(v, "traffic_disclosure.available", True)
    set_value(v, "traffic_disclosure.parties_only", False)
    w = world_data(400)
    set_value(w, "cases.next_hop_share", 1.0)
    set_value(w, "cases.data_type_mix", {"subscriber": 0.0, "traffic": 1.0, "content": 0.0})
    set_value(w, "points_of_contact.staff", 1)
    set_value(w, "states.poc_always_on_share", 0.0)
    w["points_of_contact"]["handling_days"] = fixed(3)
    variant, world = make_variant(v), make_world(w)
    one = CooperationModel(variant, world, 0, Window(0, 30, RUNOFF, 1))
    two = CooperationModel(variant, world, 0, Window(0, 30, RUNOFF, 2))
    for m in (one, two):
        m.measure()
    assert one.runoff_days < RUNOFF  # the cohort ended (nothing censored): no excuse
    a, b = Observation(one).events, Observation(two).events
    first = b[b["rep"] == 0].reset_index(drop=True)
    disclosed = (first["stage"] == "disclosure").sum()
    assert disclosed > 0
    assert (a["stage"] == "disclosure").sum() == disclosed
    pd.testing.assert_frame_equal(first, a)


def test_each_window_is_one_replication(measured) -> None:
    seen, w = Observation(measured), measured.window
    summaries = seen.summaries
    assert len(summaries) == 2
    assert sum(s["requests"] for s in summaries) == seen.summary["requests"] == len(
        measured.requests)
    rep = seen.requests["rep"].to_numpy()
    arrival = seen.requests["arrival"].to_numpy()
    assert rep.tolist() == [w.batch(t) for t in arrival.tolist()]
    events = seen.events.merge(seen.requests[["request", "rep"]], on="request",
                               suffixes=("", "_of_request"))
    assert len(events) == len(seen.events)
    assert (events["rep"] == events["rep_of_request"]).all()
    backlog = measured.backlog_series()
    for k, s in enumerate(summaries):
        assert s["backlog_mean"] == pytest.approx(backlog[w.days_of(k)].mean())
        for key in SUMMARY_ONLY:
            assert s[key] == seen.summary[key]


def test_every_day_has_its_phase(measured) -> None:
    daily = Observation(measured).daily
    assert len(daily) == measured.steps
    counts = daily["phase"].value_counts()
    assert counts["warm-up"] == WARMUP and counts["window"] == 2 * DAYS
    assert counts["run-off"] == measured.runoff_days > 0
    assert list(daily["phase"].cat.categories) == ["warm-up", "window", "run-off"]
    assert daily["phase"].is_monotonic_increasing  # in the order of the run


def test_the_steady_check_names_the_run(measured) -> None:
    seen = Observation(measured)
    steady = seen.steady
    assert {k: steady[k] for k in ("warmup_days", "window_days", "windows")} == {
        "warmup_days": WARMUP, "window_days": DAYS, "windows": 2}
    assert steady["mser5_day"] == mser5(measured.backlog_series())
    assert steady["runoff_days"] == measured.runoff_days
    assert steady["censored"] == 0
    assert steady["desks"] == [d.row() for d in seen.desks]
    assert steady["overloaded"] == [d.statement() for d in seen.desks if d.overloaded]
    assert seen.summary["overloaded_desks"] == len(steady["overloaded"])
    staffed = {ca.state.iso3 for ca in measured.central_authorities if ca.desk is not None}
    assert {d.state for d in seen.desks} <= staffed and "USA" in staffed


def test_a_desks_backlog_is_its_mean_over_the_windows(measured) -> None:
    seen, w = Observation(measured), measured.window
    usa = [s.iso3 for s in measured.states].index("USA")
    window = measured.backlog_matrix()[int(w.start):int(w.end), usa]
    assert seen.desk_backlog("USA") == pytest.approx(window.mean())
    assert math.isnan(seen.desk_backlog("XXX"))


# -- the desks' load -----------------------------------------------------------------------------
def test_a_desk_is_overloaded_when_files_come_faster_than_it_reviews() -> None:
    busy = DeskLoad("USA", "United States", 10, 100.0, 1.0, 50.0, 30.0)
    assert busy.utilisation == 2.0 and busy.overloaded
    idle = DeskLoad("IRL", "Ireland", 10, 10.0, 1.0, 50.0, -3.0)
    assert idle.utilisation == pytest.approx(0.2) and not idle.overloaded
    assert busy.statement() == (
        "The central authority of United States is overloaded: 100 files a year reach it "
        "against a capacity of 50 (10 staff), so its backlog grows by about 30 files a year "
        "and its figures depend on how long the run lasts; give it more staff "
        "(world.central_authorities) to measure a steady state.")
    assert "about 0 files a year" in DeskLoad("X", "X", 1, 9.0, 1.0, 5.0, -4.0).statement()
    row = busy.row()
    assert row["utilisation"] == 2.0 and row["overloaded"] is True and row["state"] == "USA"


@pytest.mark.parametrize("files, years, capacity, overloaded", [
    (7, 30 / 365, 81, False),  # 85 a year in a 30-day window against 81: chance
    (85, 1, 81, False),  # at capacity within chance
    (120, 1, 81, True),  # 39 beyond 81, over 3 sigma (sqrt 120 = 11)
    (1000, 10, 81, True),  # 100 a year for ten years
    (0, 1, 0.5, False),  # nothing arrived
])
def test_overload_must_exceed_capacity_beyond_chance(files, years, capacity,
                                                     overloaded) -> None:
    """Arrivals are Poisson: a desk is overloaded only when even their 3-sigma lower bound
    exceeds its capacity, so a short window's few files raise no alarm."""
    desk = DeskLoad("PNG", "Papua New Guinea", 30, files / years, years, capacity, 0.0)
    assert desk.overloaded is overloaded


def test_a_tiny_us_central_authority_is_reported_overloaded(un) -> None:
    w = world_data()
    set_value(w, "central_authorities.staff_by_state",
              {**w["central_authorities"]["staff_by_state"]["value"], "USA": 1})
    world = make_world(w)
    m = CooperationModel(un, world, 3, Window(0, 90, 200))
    m.measure()
    seen = Observation(m)
    desks = {d.state: d for d in seen.desks}
    usa = desks["USA"]
    review = world.central_authorities.review_days.expected()
    assert usa.staff == 1 and usa.capacity_per_year == pytest.approx(365 / review)
    queued = seen.events[seen.events["stage"] == "queue"].merge(
        seen.requests[["request", "requested"]], on="request")
    assert usa.arrivals_per_year == pytest.approx(
        (queued["requested"] == "USA").sum() / (90 / 365))
    assert usa.overloaded and usa.utilisation > 10 and usa.growth_per_year > 0
    assert [d.state for d in seen.desks if d.overloaded] == ["USA"]  # the others keep up
    statement = usa.statement()
    assert statement.startswith("The central authority of United States of America is "
                                "overloaded")
    assert "(1 staff)" in statement and "world.central_authorities" in statement
    assert "\n" not in statement
    assert seen.steady["overloaded"] == [statement]
    assert seen.summary["overloaded_desks"] == 1
    assert seen.steady["censored"] > 0 and m.runoff_days == 200  # its files never end
