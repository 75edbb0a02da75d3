"""Regime sections left out: a variant (or a world's fallback regime) without a section has
no such procedure, and says so in its provisions."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, make_world, world_data, write_toml

from sim.engine.routing import CompiledRegime
from sim.experiments.runner import run_one
from sim.inputs import matrix
from sim.inputs.provisions import NO_PROCEDURE, Regime, load_variant
from sim.inputs.sources import table
from sim.inputs.world import NOT_IN_WORLD

SECTIONS = tuple(Regime.model_fields)
MINIMAL = {
    "variant": {"name": "minimal", "title": "A text with a scope and nothing else",
                "kind": "composite", "document": "test"},
    "scope": {"offences": {"value": ["convention"], "status": "assumption",
                           "note": "a test text covering convention offences"}},
}


@pytest.fixture
def minimal(tmp_path: Path) -> Path:
    return write_toml(tmp_path / "minimal.toml", MINIMAL)


def test_a_variant_of_only_variant_and_scope_loads_with_every_section_silent(
        minimal: Path) -> None:
    v = load_variant(minimal)
    assert SECTIONS == ("preservation", "traffic_disclosure", "mla", "point_of_contact",
                        "emergency", "direct_request")
    for section in SECTIONS:
        part = getattr(v, section)
        cited = part.route if section == "emergency" else part.available
        assert cited.value in (False, "none"), section
        assert (cited.status, cited.fallback) == ("silent", NO_PROCEDURE), section


def test_the_matrix_and_the_detail_report_the_missing_sections_as_silent(minimal: Path) -> None:
    v = load_variant(minimal)
    cells = dict(matrix.provisions(v))
    for key in ("preservation.available", "traffic_disclosure.available", "mla.available",
                "point_of_contact.available", "emergency.route", "direct_request.available"):
        assert matrix.cell(cells[key]).endswith("(silent: fallback applies)"), key
    assert matrix.cell(cells["mla.channel"]) == "-"  # not applicable: no MLA procedure
    detail = matrix.detail(v)
    assert detail.count(f"- fallback: {NO_PROCEDURE}") == len(SECTIONS)
    assert detail.count("- status: silent") == len(SECTIONS)


def test_missing_sections_compile_to_the_rules_of_no_treaty(minimal: Path) -> None:
    """A section left out means what the shipped 'no treaty' file states in full."""
    none = CompiledRegime.of("treaty", load_variant(ROOT / "scenarios" / "no_treaty.toml"))
    assert CompiledRegime.of("treaty", load_variant(minimal)) == none


def test_a_minimal_variant_runs(minimal: Path, small_world) -> None:
    """Its requests go the fallback regimes' way: the text provides no MLA of its own."""
    result = run_one(load_variant(minimal), small_world, seed=1, window=60)
    regimes = result.requests["mla_regime"].astype(str)
    assert result.summary["requests"] > 0
    assert not regimes.eq("treaty").any()
    assert regimes.isin(["bilateral", "letters_rogatory"]).any()


def without(data: dict[str, Any], *dotted: str) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for path in dotted:
        *parents, leaf = path.split(".")
        node = data
        for key in parents:
            node = node[key]
        del node[leaf]
    return data


def test_a_fallback_regime_without_a_section_has_no_such_procedure() -> None:
    """Nothing applies after a fallback regime: a section it leaves out is an assumption
    of the world (no such procedure), listed as such among the world's figures."""
    full = make_world(world_data())
    world = make_world(without(world_data(), "fallback.bilateral.traffic_disclosure",
                               "fallback.letters_rogatory.direct_request"))
    gap = world.fallback.bilateral.traffic_disclosure.available
    assert (gap.value, gap.status, gap.note) == (False, "assumption", NOT_IN_WORLD)
    for name in ("bilateral", "letters_rogatory"):  # the shipped world states both as absent
        regime = getattr(world.fallback, name)
        assert CompiledRegime.of(name, regime) == CompiledRegime.of(
            name, getattr(full.fallback, name))
    figures = table(world).set_index("figure")
    row = figures.loc["fallback.letters_rogatory.direct_request.available"]
    assert (row["kind"], row["source"]) == ("assumption", f"assumption: {NOT_IN_WORLD}")
