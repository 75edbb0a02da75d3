"""One observation path: every reader takes a run's tables from
``sim.metrics.observe.Observation``."""

from __future__ import annotations

import math
import pickle

import numpy as np
import pandas as pd
import pytest

from sim.briefing import brief
from sim.engine.model import CooperationModel
from sim.engine.window import Window
from sim.experiments import execution
from sim.experiments.runner import run_one
from sim.metrics import registry, report
from sim.metrics.observe import Observation
from sim.metrics.summary import summarize

WINDOW = 365  # days of arising needs measured; the run-off then lets them end
STEADY = ("mser5_day", "runoff_days", "overloaded_desks")  # the run's steady-state check


@pytest.fixture(scope="module")
def model(un, small_world) -> CooperationModel:
    m = CooperationModel(un, small_world, 3, Window.of(small_world, WINDOW))
    m.measure()
    return m


def same(a: dict[str, float], b: dict[str, float]) -> bool:
    return list(a) == list(b) and all(
        a[k] == b[k] or (math.isnan(a[k]) and math.isnan(b[k])) for k in a)


def test_the_summary_is_summarize_of_the_same_model(model) -> None:
    """The log's summary with the backlog over the window (not the run-off), then the run's
    steady-state check."""
    seen = Observation(model)
    backlog = model.daily()["backlog"].to_numpy()[:WINDOW]
    assert model.runoff_days > 0 and len(model.daily()) == WINDOW + model.runoff_days
    summary = {k: v for k, v in seen.summary.items() if k not in STEADY}
    assert same(summary, summarize(model.log, backlog))
    assert list(seen.summary)[-len(STEADY):] == list(STEADY)
    assert seen.summary["mser5_day"] == seen.steady["mser5_day"]
    assert seen.summary["runoff_days"] == model.runoff_days
    assert seen.summary["overloaded_desks"] == len(seen.steady["overloaded"])
    assert seen.summaries == [seen.summary]  # one window: one replication


def test_latency_is_end_minus_start_of_the_obtained_outcome_rows(model) -> None:
    events = model.log.frame()
    got = events[(events["stage"] == "outcome") & (events["result"] == "obtained")]
    latency = Observation(model).latency
    assert latency.size > 0
    np.testing.assert_array_equal(latency, (got["end"] - got["start"]).to_numpy())
    assert Observation(model).summary["latency_median"] == float(np.median(latency))


def test_run_one_gives_the_observations_tables(un, small_world, model) -> None:
    result, seen = run_one(un, small_world, seed=3, window=WINDOW), Observation(model)
    assert same(result.summary, seen.summary) and len(result.summaries) == 1
    for name in ("events", "requests", "daily", "backlog"):
        pd.testing.assert_frame_equal(getattr(result, name), getattr(seen, name))
    assert result.steady == seen.steady


def test_run_one_measures_consecutive_windows_of_one_run(un, small_world) -> None:
    result = run_one(un, small_world, seed=3, window=120, reps=2)
    m = CooperationModel(un, small_world, 3, Window.of(small_world, 120, 2))
    m.measure()
    seen = Observation(m)
    assert len(result.summaries) == 2
    assert all(same(a, b) for a, b in zip(result.summaries, seen.summaries, strict=True))
    assert result.summary is result.summaries[0]
    assert set(result.events["rep"]) == set(result.requests["rep"]) == {0, 1}
    assert result.steady["windows"] == 2 and result.steady["window_days"] == 120


def test_every_summary_key_is_a_registered_metric(model) -> None:
    for name in Observation(model).summary:
        assert registry.metric(name).name == name


def test_the_flow_and_the_regions_count_every_request_once(model) -> None:
    seen = Observation(model)
    assert seen.flow["requests"].sum() == seen.summary["requests"]
    assert seen.regions["decided"].sum() == seen.summary["decided"]
    lost = seen.summary["n_lost_before_preservation"] + seen.summary["n_lost_after_lapse"]
    assert seen.regions["lost"].sum() == lost


def test_case_ages_are_read_from_the_cases_the_run_created(model) -> None:
    requests = Observation(model).requests
    first = requests[requests["hop"] == 0]
    ages = Observation(model).case_ages
    np.testing.assert_array_equal(ages, (first["need_time"] - first["comm_time"]).to_numpy())
    assert (ages >= 0).all() and (first["need_time"] < WINDOW).all()
    assert (first["need_time"] == first["arrival"]).all()  # a case's first hop starts at once
    later = requests[requests["hop"] > 0]
    assert (later["need_time"] >= later["arrival"]).all()


def test_mla_months_pair_each_arrival_with_its_return(model) -> None:
    seen = Observation(model)
    ev = seen.events
    arrived = ev[ev["stage"] == "transmit"].set_index("request")["end"]
    returned = ev[ev["stage"] == "return"].set_index("request")["end"]
    both = arrived.index.intersection(returned.index)
    expected = ((returned.loc[both] - arrived.loc[both]) / (365.25 / 12)).to_numpy()
    np.testing.assert_array_equal(seen.mla_months(), expected)
    to_usa = seen.requests.set_index("request").loc[both, "requested"] == "USA"
    np.testing.assert_array_equal(seen.mla_months("USA"), expected[to_usa.to_numpy()])
    assert seen.mla_months("XXX").size == 0


def test_a_model_observed_mid_run_goes_on_running(un, small_world) -> None:
    """An observation keeps no view of the model's columns (which could then not grow)."""
    m = CooperationModel(un, small_world, seed=4)
    for _ in range(120):
        m.step()
    seen = Observation(m)
    for member in ("summary", "flow", "regions", "home_backlog", "case_ages",
                   "preservation_per_production", "steady", "daily"):
        getattr(seen, member)
    seen.mla_months("USA")
    for _ in range(120):
        m.step()
    assert Observation(m).summary["requests"] > seen.summary["requests"]


def test_a_model_stepped_by_hand_reports_every_case(un, small_world) -> None:
    """Without a window every case from day 0 is measured, as one window without end and
    without run-off: the log holds every request the ledger counts."""
    m = CooperationModel(un, small_world, seed=4)
    m.run(150)
    seen = Observation(m)
    assert m.created == len(m.requests) == seen.summary["requests"]
    assert m.runoff_days == 0 and seen.summary["runoff_days"] == 0
    assert set(seen.daily["phase"]) == {"window"}
    assert set(seen.events["rep"]) == set(seen.requests["rep"]) == {0}
    assert seen.summaries == [seen.summary]


def test_an_experiment_run_computes_the_summary_only(un, small_world,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(self: Observation) -> None:
        raise AssertionError("a sweep run computed more than its summary")

    for member in ("events", "requests", "daily", "backlog", "flow", "regions",
                   "home_backlog", "case_ages"):
        monkeypatch.setattr(Observation, member, property(refuse))
    result = execution.run_task(execution.Task.of(un, small_world, 3, 120, reps=2))
    assert list(result) == ["summaries"] and len(result["summaries"]) == 2
    assert all(s["requests"] > 0 for s in result["summaries"])


def test_what_a_briefing_worker_returns_pickles(un, small_world) -> None:
    observed = brief.observe(execution.Task.of(un, small_world, 3, 200))
    again = pickle.loads(pickle.dumps(observed))
    assert len(observed["summaries"]) == 1
    assert all(same(a, b) for a, b in zip(again["summaries"], observed["summaries"],
                                          strict=True))
    assert again["latency"].dtype == np.float32
    assert again["backlog"] == observed["backlog"]


def test_every_metric_the_outputs_name_is_registered() -> None:
    from sim.briefing.charts.outcomes import CAUSES
    from sim.experiments import calibration

    named = [*report.RUN_TABLE, *report.COMPARE, *report.PAIRED, *report.ATTRIBUTED,
             *brief.BRIEF_METRICS, *brief.ATTRIBUTED, *calibration.UNOBSERVED, *CAUSES]
    for name in named:
        registry.metric(name)
