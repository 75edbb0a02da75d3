"""Same seed, same results; different seeds differ; variants see the same cases."""

from __future__ import annotations

from dataclasses import fields

import pandas as pd
from conftest import make_variant, make_world, set_value, variant_data, world_data

from sim.engine.model import CooperationModel
from sim.engine.window import Window
from sim.experiments.runner import run_one, summary_table
from sim.vocabulary import Ground

WINDOW = 200  # days of arising needs measured, then the run-off until they end


def test_same_seed_gives_identical_summary_and_log(un, small_world) -> None:
    a, b = (run_one(un, small_world, 7, window=WINDOW, reps=2) for _ in range(2))
    for x, y in zip(a.summaries, b.summaries, strict=True):
        pd.testing.assert_series_equal(pd.Series(x), pd.Series(y))  # NaN == NaN
    pd.testing.assert_frame_equal(a.events, b.events)
    pd.testing.assert_frame_equal(a.requests, b.requests)
    pd.testing.assert_frame_equal(a.daily, b.daily)
    pd.testing.assert_frame_equal(a.backlog, b.backlog)
    assert a.steady == b.steady
    pd.testing.assert_frame_equal(summary_table(a, 7), summary_table(b, 7))


def test_every_window_of_a_run_has_the_runs_seed(un, small_world) -> None:
    """Replication k is window k of the one run: the table's seed is the run's, each time."""
    result = run_one(un, small_world, 7, window=WINDOW, reps=2)
    table = summary_table(result, 7)
    assert table["rep"].tolist() == [0, 1] and table["seed"].tolist() == [7, 7]
    assert table["requests"].tolist() == [s["requests"] for s in result.summaries]


def test_different_seeds_give_different_results(un, small_world) -> None:
    a, b = run_one(un, small_world, 7, window=WINDOW), run_one(un, small_world, 8,
                                                              window=WINDOW)
    assert a.summary != b.summary
    assert not a.requests["need_time"].equals(b.requests["need_time"])


def test_two_variants_with_the_same_seed_see_the_same_cases(un, small_world) -> None:
    """Common random numbers: the first request of every case is identical across variants."""
    other = variant_data()
    set_value(other, "preservation.min_days", 180)
    set_value(other, "mla.channel", "electronic")
    set_value(other, "mla.refusal_grounds", ["political_offence"])
    a = run_one(un, small_world, 11, window=WINDOW, reps=2)
    b = run_one(make_variant(other), small_world, 11, window=WINDOW, reps=2)
    cols = ["request", "case", "requesting", "requested", "provider", "offence", "data_type",
            "emergency", "arrival", "need_time", "rep"]
    first_a = a.requests.loc[a.requests["hop"] == 0, cols].reset_index(drop=True)
    first_b = b.requests.loc[b.requests["hop"] == 0, cols].reset_index(drop=True)
    pd.testing.assert_frame_equal(first_a, first_b)
    assert a.summary != b.summary  # the variants do differ in what happens to those cases


def test_running_to_the_horizon_equals_stepping_day_by_day(un, small_world) -> None:
    """``run`` (one SimPy run) and ``step`` (the interactive page's day) see the same days."""
    whole = CooperationModel(un, small_world, seed=5)
    whole.run(400)
    stepped = CooperationModel(un, small_world, seed=5)
    for _ in range(400):
        stepped.step()
    stepped.close()
    pd.testing.assert_frame_equal(whole.daily(), stepped.daily())
    pd.testing.assert_frame_equal(whole.backlog_by_state(), stepped.backlog_by_state())
    pd.testing.assert_frame_equal(whole.log.frame(), stepped.log.frame())


def test_measuring_equals_stepping_the_same_days(un, small_world) -> None:
    """``measure`` runs the warm-up, the windows and the run-off as days: stepping a model
    with the same window as many days gives the same run."""
    window = Window(30, 60, 1460, batches=2)
    measured = CooperationModel(un, small_world, 5, window)
    measured.measure()
    stepped = CooperationModel(un, small_world, 5, window)
    for _ in range(measured.steps - 1):
        stepped.step()
    assert stepped.ledger.measured_open > 0  # a day earlier, the cohort had not ended
    stepped.step()
    assert stepped.ledger.measured_open == 0  # it ended that day: measure stopped there
    stepped.close()
    pd.testing.assert_frame_equal(measured.daily(), stepped.daily())
    pd.testing.assert_frame_equal(measured.log.frame(), stepped.log.frame())
    assert measured.runoff_days == stepped.runoff_days == measured.steps - 150


def _hops(variant, world, seed: int, cases: int = 300) -> list:
    """Every hop the case book draws for the first ``cases`` cases, as field tuples."""
    book = CooperationModel(variant, world, seed).casebook
    hops = []
    for _, (_, first) in zip(range(cases), book, strict=False):
        r = first
        while r is not None:
            hops.append({f.name: getattr(r, f.name) for f in fields(r) if f.name != "next"})
            r = r.next
    return hops


def test_each_ground_draws_from_its_own_streams(un) -> None:
    """Changing one ground's behaviour moves that ground's bit only: every other draw of
    every case, and every other ground's bits, stay as they were."""
    data = world_data()
    for g in ("fiscal", "persecution"):  # make the two grounds likely, then move one
        set_value(data, f"grounds.{g}.applicable_share", 0.5)
    base = _hops(un, make_world(data), 3)
    set_value(data, "grounds.fiscal.applicable_share", 0.9)
    set_value(data, "grounds.fiscal.invoke_propensity", 1.0)  # certain: no Beta draws
    moved = _hops(un, make_world(data), 3)
    fiscal = 1 << list(Ground).index(Ground.FISCAL)
    masks = ("pres_mask", "disc_mask", "mla_mask")
    assert len(base) == len(moved)
    assert any(a[m] != b[m] for a, b in zip(base, moved, strict=True) for m in masks)
    for a, b in zip(base, moved, strict=True):
        for m in masks:
            assert a[m] & ~fiscal == b[m] & ~fiscal
        assert {k: v for k, v in a.items() if k not in masks} == \
            {k: v for k, v in b.items() if k not in masks}
