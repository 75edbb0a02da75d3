"""The stationary world: results do not depend on the window's length, and a refusal ground
only ever adds to the evidence not obtained."""

from __future__ import annotations

import numpy as np
import pytest

from sim.engine.model import CooperationModel
from sim.engine.window import Window
from sim.experiments import designs, runner
from sim.inputs.world import load_world, scaled
from sim.vocabulary import GROUND_NAMES, Outcome, Stage
from tests.conftest import make_variant, make_world, set_value, variant_data, world_data

SCALE = 0.25  # a quarter of the default world: about 3,300 requests a window


@pytest.fixture(scope="module")
def windows(un) -> dict[int, runner.RunResult]:
    """The UN Convention in the default world (quarter scale, its own warm-up), measured over
    five windows of 365 days and, with the same seed, five of 730."""
    world = scaled(load_world("default"), SCALE)
    return {days: runner.run_one(un, world, 1, days, reps=5) for days in (365, 730)}


def _mean(result: runner.RunResult, metric: str) -> float:
    return float(np.mean([s[metric] for s in result.summaries]))


def test_doubling_the_window_changes_not_obtained_by_under_a_point(windows) -> None:
    short, long = (_mean(windows[d], "not_obtained") for d in (365, 730))
    assert abs(long - short) < 0.01, (short, long)


def test_doubling_the_window_changes_median_latency_by_under_five_percent(windows) -> None:
    short, long = (_mean(windows[d], "latency_median") for d in (365, 730))
    assert abs(long - short) / short < 0.05, (short, long)


def test_the_default_world_is_stable_and_nearly_every_request_ends(windows) -> None:
    """No central authority of the default world is overloaded under the UN Convention, and
    the run-off leaves almost nothing pending."""
    for result in windows.values():
        assert result.steady["overloaded"] == []
        assert all(d["utilisation"] < 1 for d in result.steady["desks"])
        assert _mean(result, "pending_share") < 0.005


def _failed_cases(variant_data_: dict, world, seed: int) -> tuple[set[int], int]:
    """The cases (ids) with a request that ended without the evidence, and how many such
    requests, in a run of 200 days measured to its end."""
    model = CooperationModel(make_variant(variant_data_), world, seed, Window(0, 200, 3000))
    model.measure()
    log = model.log
    stage = np.frombuffer(log.stage, np.int8)
    result = np.frombuffer(log.result, np.int8)[stage == Stage.OUTCOME]
    request = np.frombuffer(log.request, np.int32)[stage == Stage.OUTCOME]
    failed = (result != Outcome.OBTAINED) & (result != Outcome.PENDING)
    assert not (result == Outcome.PENDING).any()
    cases = np.frombuffer(model.requests.cols["case"], np.int32)
    ids = np.frombuffer(model.requests.cols["request"], np.int32)
    case_of = dict(zip(ids.tolist(), cases.tolist(), strict=True))
    return {case_of[r] for r in request[failed].tolist()}, int(failed.sum())


@pytest.fixture(scope="module")
def unstaffed():
    """A small world in which no desk is staffed: requests never compete for an officer,
    so each case's fate depends on its own draws and the rules alone."""
    data = world_data(400)
    set_value(data, "central_authorities.staff", 0)
    set_value(data, "central_authorities.staff_by_state", {})
    return make_world(data)


UN_MLA_GROUNDS = set(variant_data()["mla"]["refusal_grounds"]["value"])


@pytest.mark.parametrize("ground", [g for g in GROUND_NAMES[:-1] if g not in UN_MLA_GROUNDS])
def test_an_extra_refusal_ground_never_obtains_more(ground: str, unstaffed) -> None:
    """Adding a ground to the MLA list fails every case that failed before (and perhaps
    more), on the same cases: never fewer requests end without the evidence."""
    base = variant_data()
    extra = variant_data()
    designs.apply(extra, {}, f"mla.refusal_grounds.{ground}", True)
    for seed in (1, 2):
        before, n_before = _failed_cases(base, unstaffed, seed)
        after, n_after = _failed_cases(extra, unstaffed, seed)
        assert before <= after
        assert n_after >= n_before
