"""Experiments: the same results whatever runs them, and paired differences."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import make_variant, set_value, variant_data

from sim import experiments

DAYS = 400


def test_one_worker_and_two_workers_give_identical_tables(un, small_world) -> None:
    other = variant_data()
    set_value(other, "preservation.min_days", 180)
    variants = [un, make_variant(other)]
    one = experiments.compare(variants, small_world, reps=2, seed=3, days=DAYS, workers=1)
    two = experiments.compare(variants, small_world, reps=2, seed=3, days=DAYS, workers=2)
    pd.testing.assert_frame_equal(one, two)


def test_identical_variants_differ_by_exactly_zero(un, small_world) -> None:
    twin = variant_data()
    twin["variant"]["name"] = "twin"
    table = experiments.compare([un, make_variant(twin)], small_world, reps=3, seed=5,
                                days=DAYS)
    stats = experiments.paired(table, un.name, ["data_loss", "latency_median"])
    twin_rows = stats[stats["variant"] == "twin"]
    assert (twin_rows["diff"] == 0).all()
    assert (twin_rows["ci_low"] == 0).all() and (twin_rows["ci_high"] == 0).all()
    assert twin_rows["zero_in_ci"].all()


def test_a_shorter_preservation_period_loses_more_evidence(un, small_world) -> None:
    short, long = variant_data(), variant_data()
    short["variant"]["name"], long["variant"]["name"] = "short", "long"
    set_value(short, "preservation.min_days", 15)
    set_value(short, "preservation.extension", False)
    set_value(long, "preservation.min_days", 365)
    table = experiments.compare([make_variant(long), make_variant(short)], small_world,
                                reps=4, seed=7, days=DAYS)
    stats = experiments.paired(table, "long", ["data_loss", "loss_after_lapse"])
    row = stats[(stats["variant"] == "short") & (stats["metric"] == "data_loss")].iloc[0]
    assert row["diff"] > 0 and row["ci_low"] > 0 and not row["zero_in_ci"]


def test_an_unknown_reference_is_an_error(un, small_world) -> None:
    table = experiments.compare([un], small_world, reps=1, seed=1, days=100)
    with pytest.raises(ValueError, match="nowhere"):
        experiments.paired(table, "nowhere", ["data_loss"])
