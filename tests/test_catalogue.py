"""The catalogue of shipped scenarios: names, and a variant or world found by name or path."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ROOT, UN, variant_data, world_data, write_toml

from sim.cli import main
from sim.inputs import catalogue
from sim.inputs.provisions import load_variant, shipped
from sim.inputs.schema import InputError
from sim.inputs.world import load_world
from sim.outputs.manifest import git_revision

SHIPPED = sorted(p.stem for p in (ROOT / "scenarios").glob("*.toml"))


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder: names must not resolve against it."""
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_a_checkout_finds_the_top_level_scenarios() -> None:
    assert catalogue.SOURCE_ROOT == ROOT
    assert catalogue.SCENARIOS == ROOT / "scenarios"
    assert catalogue.DEFAULT_WORLD == ROOT / "scenarios" / "worlds" / "default.toml"
    assert catalogue.names() == SHIPPED
    assert sorted(v.name for v in shipped()) == SHIPPED


@pytest.mark.parametrize("spec", ["un_convention_2024", "un_convention_2024.toml", str(UN), UN])
def test_a_variant_by_name_or_path(spec: str | Path, elsewhere: Path) -> None:
    assert catalogue.variant_file(spec) == UN
    assert load_variant(spec) == load_variant(UN)


def test_a_world_by_name(elsewhere: Path) -> None:
    assert catalogue.world_file("default") == catalogue.DEFAULT_WORLD
    assert load_world("default") == load_world() == load_world("default.toml")


@pytest.mark.parametrize("name", ["un_convention_2024.toml", "un_convention_2024"])
def test_an_existing_file_wins_over_a_shipped_name(name: str, elsewhere: Path) -> None:
    data = variant_data()
    data["variant"]["name"] = "local_copy"
    write_toml(elsewhere / name, data)
    assert catalogue.variant_file(name) == Path(name)
    assert load_variant(name).name == "local_copy"


@pytest.mark.parametrize(("load", "spec", "shipped"), [
    (load_variant, "no_such_treaty", SHIPPED), (load_world, "no_such_world.toml", ["default"])])
def test_an_unknown_name_is_one_line_listing_the_shipped_names(
        load, spec: str, shipped: list[str], elsewhere: Path) -> None:
    with pytest.raises(InputError) as info:
        load(spec)
    message = str(info.value)
    assert "\n" not in message
    assert message.startswith(f"{spec}: not found: no such file, nor ")
    assert message.endswith(": " + ", ".join(shipped))


@pytest.mark.parametrize("spec", ["a" * 5000, "a" * 5000 + ".toml", "/" + "a" * 5000])
def test_a_name_too_long_to_look_up_is_an_input_error(spec: str, elsewhere: Path) -> None:
    with pytest.raises(InputError):
        load_variant(spec)
    write_toml(elsewhere / "child.toml", {"variant": {
        "name": "child", "title": "t", "kind": "composite", "document": "test", "extends": spec}})
    with pytest.raises(InputError, match=r"variant\.extends: no variant"):
        load_variant(elsewhere / "child.toml")


def test_a_missing_path_is_read_as_a_path(tmp_path: Path) -> None:
    """A spec with a folder in it is never taken for a name."""
    missing = tmp_path / "un_convention_2024.toml"
    with pytest.raises(InputError, match="file not found"):
        load_variant(missing)
    with pytest.raises(InputError, match="file not found"):
        load_variant("scenarios/un_convention_2024")


def test_a_variant_elsewhere_extends_a_shipped_one(tmp_path: Path) -> None:
    """``extends`` looks beside the file first, then among the shipped variants."""
    path = write_toml(tmp_path / "mine.toml", {
        "variant": {"name": "mine", "title": "US chapter, 90 days", "kind": "composite",
                    "document": "test", "extends": "us_2022"},
        "preservation": {"min_days": {"value": 90, "status": "assumption", "note": "test"}}})
    mine, us = load_variant(path), load_variant("us_2022")
    assert mine.preservation.min_days.value == 90
    assert (mine.mla, mine.scope) == (us.mla, us.scope)


def test_git_revision_reads_only_a_checkout_of_its_own() -> None:
    """Installed (no checkout), or in a folder that is not a repository's root (even one
    inside a repository), the revision is unknown."""
    assert git_revision(None) == "unknown"
    assert git_revision(ROOT / "scenarios") == "unknown"


def test_run_writes_under_results_in_the_working_folder(elsewhere: Path) -> None:
    world = write_toml(elsewhere / "small.toml", world_data())
    assert main(["run", "--world", str(world), "--reps", "1", "--window", "30"]) == 0
    out = elsewhere / "results" / "un_convention_2024"
    assert {"summary.csv", "manifest.json"} <= {p.name for p in out.iterdir()}
