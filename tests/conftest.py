"""Shared fixtures: small worlds built from the default world, and the shipped variant."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import tomli_w

from sim.inputs.provisions import Variant, load_variant
from sim.inputs.schema import read_toml, validate
from sim.inputs.world import DEFAULT_WORLD, World

ROOT = Path(__file__).resolve().parent.parent
UN = ROOT / "scenarios" / "un_convention_2024.toml"
SMALL_ROSTER = [
    {"iso3": "USA", "name": "United States of America", "region": "Americas", "utc_offset": -5},
    {"iso3": "IRL", "name": "Ireland", "region": "Europe", "utc_offset": 0},
    {"iso3": "BRA", "name": "Brazil", "region": "Americas", "utc_offset": -3},
    {"iso3": "IND", "name": "India", "region": "Asia", "utc_offset": 5.5},
    {"iso3": "KEN", "name": "Kenya", "region": "Africa", "utc_offset": 3},
    {"iso3": "FRA", "name": "France", "region": "Europe", "utc_offset": 1},
]


def world_data(cases_per_year: float = 600) -> dict[str, Any]:
    """The default world's data cut down to six States and a few hundred cases a year, with no
    warm-up (its desks are far from busy) and a run-off of up to four years."""
    data = copy.deepcopy(read_toml(DEFAULT_WORLD))
    data["states"]["roster"] = copy.deepcopy(SMALL_ROSTER)
    homes = {s["iso3"] for s in SMALL_ROSTER}
    providers = [p for p in data["providers"] if p["home"] in homes or p["home"] == "local"]
    total = sum(p["share"]["value"] for p in providers)
    for p in providers:
        p["share"]["value"] = p["share"]["value"] / total
    data["providers"] = providers
    staff = data["central_authorities"]["staff_by_state"]["value"]
    data["central_authorities"]["staff_by_state"]["value"] = {
        k: v for k, v in staff.items() if k in homes}
    data["cases"]["per_year"]["value"] = cases_per_year
    data["measurement"]["warmup_days"]["value"] = 0
    data["measurement"]["runoff_days"]["value"] = 1460
    return data


def make_world(data: dict[str, Any]) -> World:
    return validate(World, data, "<test world>")


def variant_data() -> dict[str, Any]:
    return copy.deepcopy(read_toml(UN))


def make_variant(data: dict[str, Any]) -> Variant:
    return validate(Variant, data, "<test variant>")


def write_toml(path: Path, data: dict[str, Any]) -> Path:
    path.write_bytes(tomli_w.dumps(data).encode())
    return path


@pytest.fixture(scope="session")
def un() -> Variant:
    return load_variant(UN)


@pytest.fixture(scope="session")
def small_world() -> World:
    return make_world(world_data())


def set_value(data: dict[str, Any], dotted: str, value: Any) -> dict[str, Any]:
    """Set the ``value`` of the cited figure at a dotted path (keeps its citation)."""
    *parents, leaf = dotted.split(".")
    node = data
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    node[leaf] = {**node.get(leaf, {"source": "test"}), "value": value}
    return data


def fixed(days: float) -> dict[str, Any]:
    return {"dist": "fixed", "value": days, "source": "test"}
