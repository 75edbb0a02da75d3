"""Variants as data: composition, the provisions matrix, and the comparison of all variants."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pandas as pd
import pytest
from conftest import UN, make_world, set_value, variant_data, world_data, write_toml

from sim import shipped
from sim.cli import main
from sim.experiments.runner import run_one
from sim.inputs import matrix
from sim.inputs.provisions import load_variant
from sim.inputs.schema import InputError


def child(tmp_path: Path, extends: str, name: str = "child", **provisions) -> Path:
    data = {"variant": {"name": name, "title": f"{name} composite", "kind": "composite",
                        "document": "test", "extends": extends}}
    for dotted, value in provisions.items():
        section, key = dotted.split("__")
        data.setdefault(section, {})[key] = value
    return write_toml(tmp_path / f"{name}.toml", data)


def test_a_variant_extends_another_and_overrides_provisions(tmp_path: Path) -> None:
    write_toml(tmp_path / "parent.toml", variant_data())
    path = child(tmp_path, "parent", preservation__min_days={
        "value": 180, "status": "assumption", "note": "what if the period were 180 days"})
    v = load_variant(path)
    parent = load_variant(UN)
    assert v.name == "child" and v.variant.extends == "parent"
    assert v.preservation.min_days.value == 180
    assert v.preservation.min_days.status == "assumption"
    assert v.mla == parent.mla and v.scope == parent.scope
    assert v.preservation.continues_pending_mla == parent.preservation.continues_pending_mla


def test_composition_chains_through_several_parents(tmp_path: Path) -> None:
    write_toml(tmp_path / "base.toml", variant_data())
    child(tmp_path, "base", name="middle", mla__channel={
        "value": "electronic", "status": "assumption", "note": "e-MLA"})
    path = child(tmp_path, "middle", name="leaf", preservation__min_days={
        "value": 90, "status": "assumption", "note": "90 days"})
    v = load_variant(path)
    assert (v.mla.channel.value, v.preservation.min_days.value) == ("electronic", 90)


def test_a_cycle_is_a_clear_error(tmp_path: Path) -> None:
    child(tmp_path, "b", name="a")
    child(tmp_path, "a", name="b")
    with pytest.raises(InputError, match=r"variant\.extends: cycle: a -> b -> a"):
        load_variant(tmp_path / "a.toml")


def test_a_missing_parent_is_a_clear_error(tmp_path: Path, capsys) -> None:
    path = child(tmp_path, "nowhere")
    with pytest.raises(InputError, match=r"variant\.extends: no variant 'nowhere'"):
        load_variant(path)
    assert main(["variants", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "nowhere" in err


def test_every_provision_has_a_label(un) -> None:
    assert [key for key, _ in matrix.provisions(un)] == list(matrix.LABELS)


def test_the_matrix_has_a_column_per_shipped_variant_and_a_row_per_provision(capsys) -> None:
    variants = shipped()
    assert main(["variants"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].count("|") == len(variants) + 2
    assert len(lines) == len(matrix.LABELS) + 4  # header, rule, provisions, title, document
    assert any("42(8)" in line for line in lines)

    assert main(["variants", "--format", "csv"]) == 0
    rows = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert rows[0] == ["provision", *(v.name for v in variants)]
    assert len(rows) == len(matrix.LABELS) + 3


def test_one_variant_in_full_shows_every_citation(capsys) -> None:
    assert main(["variants", "un_convention_2024"]) == 0
    out = capsys.readouterr().out
    assert "shall be for a period of not less than 60 days" in out
    assert "silent" in out and "004_fc9f89814ab43656.txt art. 42(8)" in out


def test_compare_runs_every_variant_on_the_same_cases(tmp_path: Path, capsys) -> None:
    world = write_toml(tmp_path / "world.toml", world_data(cases_per_year=200))
    out = tmp_path / "compare"
    assert main(["compare", "--world", str(world), "--window", "150", "--reps", "2",
                 "--workers", "1", "--out", str(out)]) == 0
    runs = pd.read_csv(out / "runs.csv")
    names = [v.name for v in shipped()]
    assert list(runs["variant"]) == [n for n in names for _ in range(2)]
    assert list(runs["rep"]) == [0, 1] * len(names)  # replications: windows of one run
    assert set(runs["seed"]) == {1}  # every variant's every window: the same seed
    assert runs["data_loss"].between(0, 1).all()
    stats = pd.read_csv(out / "compare.csv")
    assert set(stats["variant"]) == set(runs["variant"])
    assert "| variant |" in capsys.readouterr().out


SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def treaty_world(**grounds: float):
    """All States party, no bilateral treaties or letters rogatory; only the listed grounds."""
    w = world_data(cases_per_year=600)
    set_value(w, "states.party_share", 1.0)
    for key in ("bilateral_share_same_region", "bilateral_share_other_region",
                "letters_rogatory_acceptance"):
        set_value(w, f"states.{key}", 0.0)
    for g in w["grounds"]:
        set_value(w, f"grounds.{g}.applicable_share", grounds.get(g, 0.0))
        set_value(w, f"grounds.{g}.invoke_propensity", 1.0)
    return make_world(w)


@pytest.mark.parametrize("path", sorted(SCENARIOS.glob("*.toml")), ids=lambda p: p.stem)
def test_every_shipped_variant_loads_and_runs(path: Path, small_world) -> None:
    result = run_one(load_variant(path), small_world, seed=1, window=120)
    assert result.summary["requests"] == len(result.requests) > 0
    assert (result.events["stage"] == "outcome").sum() == len(result.requests)


def test_political_offence_never_bars_preservation_under_the_un_convention_but_can_under_us():
    world = treaty_world(political_offence=0.5)
    refused = {}
    for name in ("un_convention_2024", "us_2022"):
        ev = run_one(load_variant(SCENARIOS / f"{name}.toml"), world, seed=2, window=365).events
        at = ev[(ev["stage"] == "preservation_request") & (ev["result"] == "refused")]
        refused[name] = (at["ground"] == "political_offence").sum()
    assert refused["un_convention_2024"] == 0
    assert refused["us_2022"] > 0


@pytest.mark.parametrize("name", ["viet_nam_2022", "schjolberg_2023", "no_treaty"])
def test_silent_drafts_route_every_request_to_the_fallback(name: str, small_world) -> None:
    result = run_one(load_variant(SCENARIOS / f"{name}.toml"), small_world, seed=3, window=300)
    assert "treaty" not in set(result.requests["mla_regime"].astype(str))
    assert result.summary["n_out_of_scope"] == 0  # without a treaty channel, nothing is "scope"


def test_the_russian_draft_keeps_data_180_days(small_world) -> None:
    v = load_variant(SCENARIOS / "russia_2017.toml")
    assert v.preservation.min_days.value == 180
    ev = run_one(v, treaty_world(), seed=4, window=365).events
    lapsed = ev[(ev["stage"] == "hold") & (ev["result"] == "lapsed")]
    kept = ev[(ev["stage"] == "hold") & (ev["result"] == "kept")]
    assert len(kept) > 0
    assert ((lapsed["end"] - lapsed["start"]).round(9) == 180).all()
    assert ((kept["end"] - kept["start"]) <= 180).all()


def test_direct_orders_are_answered_within_their_deadline_or_go_the_mla_way() -> None:
    w = world_data(cases_per_year=600)
    w["channels"]["electronic"] = {"dist": "fixed", "value": 1.0, "source": "test"}
    set_value(w, "cases.emergency_share", 0.3)
    set_value(w, "direct_requests.compliance_share", 0.7)
    result = run_one(load_variant(SCENARIOS / "eu_eevidence_2023.toml"), make_world(w),
                     seed=6, window=365)
    ev = result.events.merge(result.requests[["request", "emergency"]], on="request")
    direct = ev[ev["stage"] == "direct"].set_index("request")
    drafted = set(ev.loc[ev["stage"] == "draft", "request"])
    answered = direct[~direct.index.isin(drafted)]  # ended at the provider: no MLA drafted
    took = answered["end"] - answered["start"]
    assert (took[~answered["emergency"]] <= 1 + 10 + 1e-9).all()
    assert (took[answered["emergency"]] <= 1 + 0.33 + 1e-9).all()
    assert len(answered) > 0 and answered["emergency"].any()
    unanswered = direct[direct.index.isin(drafted)]  # no answer by the deadline: MLA
    assert len(unanswered) > 0
    waited = unanswered["end"] - unanswered["start"]
    assert (waited[~unanswered["emergency"]] - 11).abs().max() < 1e-9
