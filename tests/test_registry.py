"""The metric registry: one entry per metric, formats by kind, unknown names refused."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from sim.briefing.charts.style import value
from sim.metrics import registry, report
from sim.metrics.registry import Kind, UnknownMetric
from sim.vocabulary import GROUND_NAMES, OUTCOME_NAMES, PROCEDURE_STAGES, STAGE_GROUPS, Stage


def test_generated_entries_follow_the_vocabulary() -> None:
    stages = [m.name for m in registry.section("stage")]
    assert stages == [f"stage_{s.name.lower()}_median" for s in PROCEDURE_STAGES]
    assert [m.name for m in registry.section("ground")] == [f"refused_{g}" for g in GROUND_NAMES]
    assert [m.name for m in registry.section("outcome")] == [f"n_{o}" for o in OUTCOME_NAMES]


def test_stage_groups_cover_every_procedure_stage_once() -> None:
    grouped = [s for stages in STAGE_GROUPS.values() for s in stages]
    assert sorted(grouped) == sorted(PROCEDURE_STAGES)
    assert Stage.HOLD not in grouped and Stage.OUTCOME not in grouped


@pytest.mark.parametrize(("name", "number", "text"), [
    ("data_loss", 0.1234, "12.3%"),
    ("age_share_3_months", 0.7, "70.0%"),
    ("latency_median", 250.7, "251"),
    ("stage_review_median", 7.25, "7.2"),
    ("refused_fiscal", 3, "3.0"),
    ("n_obtained", 1234, "1,234"),
    ("backlog_max", 12345.0, "12,345"),
    ("mla_months_p90", 10.256, "10.26"),
    ("preservation_per_production", 1.5, "1.50"),
    ("mser5_day", 635, "635"),
    ("runoff_days", 1213, "1,213"),
    ("overloaded_desks", 12, "12"),
    ("usa_backlog_mean", 2800.4, "2,800"),
    ("data_loss", math.nan, "-"),
], ids=lambda x: str(x))
def test_cells_are_formatted_by_kind(name: str, number: float, text: str) -> None:
    assert report.cell(name, number) == text


def test_unknown_metrics_raise_rather_than_being_guessed() -> None:
    for name in ("bogus", "latency_bogus", "stage_nothing_median", "refused_"):
        with pytest.raises(UnknownMetric, match=name):
            registry.metric(name)
        with pytest.raises(UnknownMetric):
            report.cell(name, 1.0)
        with pytest.raises(UnknownMetric):
            value(name, 1.0)
    with pytest.raises(UnknownMetric):
        registry.section("bogus")


def test_counts_scale_with_the_world_and_shares_do_not() -> None:
    m = registry.METRICS
    assert m["requests"].scales and m["refused_fiscal"].scales and m["backlog_mean"].scales
    assert not (m["data_loss"].scales or m["latency_median"].scales
                or m["preservation_per_production"].scales)
    assert {x.kind for x in m.values() if x.scales} == {Kind.COUNT, Kind.FILES}
    assert m["usa_backlog_mean"].scales  # files in one desk's hands grow with the cases
    for name in ("mser5_day", "runoff_days", "overloaded_desks"):  # the run's, not the cases'
        assert not m[name].scales, name


def test_the_steady_state_check_is_registered() -> None:
    m = registry.METRICS
    assert (m["mser5_day"].kind, m["runoff_days"].kind) == (Kind.DAYS, Kind.DAYS)
    assert m["overloaded_desks"].kind is Kind.DESKS
    assert "run-off" in m["pending_share"].label  # censored at the end of the run-off
    assert value("mser5_day", 635.0) == "635" and value("overloaded_desks", 2.0) == "2"


def test_parts_name_registered_metrics_and_labels_are_unique() -> None:
    for m in registry.METRICS.values():
        assert not m.part_of or m.part_of in registry.METRICS
        assert m.section in ("", *registry.SECTIONS)
    labels = [m.label for m in registry.METRICS.values()]
    assert len(set(labels)) == len(labels)


def test_the_run_table_reads_its_labels_from_the_registry() -> None:
    table = pd.DataFrame({"data_loss": [0.2, 0.3], "loss_before_preservation": [0.1, 0.2],
                          "latency_median": [200.0, 220.0], "stage_review_median": [5.0, 6.0],
                          "refused_fiscal": [1, 3]})
    text = report.summary_text("title", table)
    assert "\n  data loss (deleted) " in text  # under evidence not obtained
    assert "\n    lost before preservation " in text  # under data loss
    assert "latency to evidence, median (days)" in text
    assert registry.SECTIONS["stage"] in text and "\n  review " in text
    assert "\n  fiscal " in text
