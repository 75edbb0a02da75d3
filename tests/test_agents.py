"""Actors: opening hours of points of contact, staffed desks."""

from __future__ import annotations

import pytest
from conftest import make_world, set_value, world_data
from hypothesis import given
from hypothesis import strategies as st
from simpy.resources.resource import SortedQueue

from sim.engine.actors import InsertionQueue, Users
from sim.engine.model import CooperationModel

HOUR = 1 / 24
MONDAY, FRIDAY, SATURDAY = 0.0, 4.0, 5.0  # day 0 of the simulation is a Monday, 00:00 UTC


@pytest.fixture
def points(un, small_world):
    model = CooperationModel(un, small_world, 0)
    by_iso = {s.iso3: s.point_of_contact for s in model.states}
    return by_iso["IRL"], by_iso["IND"]  # UTC+0 and UTC+5.5


@pytest.mark.parametrize(("now", "wait"), [
    (MONDAY + 8 * HOUR, 1 * HOUR),  # before opening
    (MONDAY + 10 * HOUR, 0.0),  # open
    (MONDAY + 17.5 * HOUR, 15.5 * HOUR),  # after closing: next morning
    (FRIDAY + 18 * HOUR, 2 + 15 * HOUR),  # Friday evening: Monday 09:00
    (SATURDAY + 12 * HOUR, 1 + 21 * HOUR),  # Saturday noon: Monday 09:00
])
def test_business_hours_point_waits_for_opening(points, now, wait) -> None:
    irl, _ = points
    irl.always_on = False
    assert irl.wait(now) == pytest.approx(wait)


def test_opening_hours_are_local(points) -> None:
    _, ind = points
    ind.always_on = False
    assert ind.wait(MONDAY + 3.5 * HOUR) == pytest.approx(0.0)  # 09:00 in India
    assert ind.wait(MONDAY + 2.5 * HOUR) == pytest.approx(1 * HOUR)


def test_round_the_clock_point_never_waits(points) -> None:
    irl, _ = points
    irl.always_on = True
    assert irl.wait(SATURDAY + 3 * HOUR) == 0.0


def test_a_single_officer_makes_requests_queue(un) -> None:
    """With one officer per 24/7 point, requests wait for each other; unlimited, they don't."""
    medians = {}
    for staff in (0, 1):
        w = world_data(cases_per_year=3000)
        set_value(w, "points_of_contact.staff", staff)
        set_value(w, "states.poc_always_on_share", 0.0)
        w["points_of_contact"]["handling_days"] = {"dist": "fixed", "value": 0.5,
                                                  "source": "test"}
        model = CooperationModel(un, make_world(w), 1)
        model.run(200)
        ev = model.log.frame()
        locate = ev[ev["stage"] == "locate"]
        medians[staff] = float((locate["end"] - locate["start"]).quantile(0.9))
    assert medians[1] > medians[0]


@given(st.lists(st.tuples(st.integers(0, 1), st.integers(0, 5)), max_size=40))
def test_desk_queue_orders_requests_as_simpy_does(arrivals: list[tuple[int, int]]) -> None:
    """Inserting in place gives SimPy's order: priority, then arrival time, then first come."""
    class Request:
        def __init__(self, priority: int, time: int, n: int) -> None:
            self.key, self.n = (priority, time, False), n

    ours, simpys = InsertionQueue(), SortedQueue()
    for n, (priority, time) in enumerate(arrivals):
        ours.append(Request(priority, time, n))
        simpys.append(Request(priority, time, n))
    assert [r.n for r in ours] == [r.n for r in simpys]


def test_desk_users_release_in_any_order_and_refuse_strangers() -> None:
    users = Users()
    for r in "abc":
        users.append(r)
    users.remove("b")
    assert list(users) == ["a", "c"] and len(users) == 2
    with pytest.raises(ValueError):
        users.remove("b")


@pytest.mark.parametrize("steps, days", [(0, 40), (3, 0), (3, 40)])
def test_mesa_and_simpy_keep_one_clock(steps: int, days: int, un, small_world) -> None:
    model = CooperationModel(un, small_world, 0)
    for _ in range(steps):
        model.step()
    model.run(days)
    assert model.time == model.env.now == steps + days
    assert model.steps == steps + days
    assert len(model.datacollector.model_vars["day"]) == steps + days
    assert len(model.daily()) == len(model.backlog_series()) == steps + days
    assert model.backlog_matrix().shape == (steps + days, len(model.central_authorities))


def test_a_closed_model_refuses_to_run_on(un, small_world) -> None:
    """run() censors what is open at its horizon; running further would resume requests
    already counted as pending, so it is refused."""
    m = CooperationModel(un, small_world, 0)
    m.run(50)
    outcomes, rows = list(m.ledger.outcomes), len(m.log)
    with pytest.raises(RuntimeError, match="closed"):
        m.run(10)
    assert m.steps == 50 and m.time == m.env.now == 50
    with pytest.raises(RuntimeError, match="closed"):
        m.step()
    with pytest.raises(RuntimeError, match="closed"):
        m.measure()
    assert m.ledger.outcomes == outcomes and len(m.log) == rows and m.env.now == 50
