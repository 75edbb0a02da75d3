"""Calibration: every target gets its simulated counterpart beside its tolerance."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import make_world, world_data, write_toml

from sim.cli import main
from sim.engine.model import CooperationModel
from sim.engine.window import Window
from sim.experiments import calibration
from sim.inputs.schema import InputError, read_toml
from sim.inputs.world import DEFAULT_WORLD, load_world
from sim.limits import DEFAULT_WINDOW

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "scenarios" / "calibration" / "targets.toml"


def test_every_target_is_set_beside_the_model(small_world) -> None:
    targets = calibration.load_targets(TARGETS)
    variant, world = calibration.status_quo(targets, ROOT / "scenarios", small_world)
    assert world.states.party_share.value == targets.status_quo.set["world.states.party_share"]
    table = calibration.calibrate(targets, variant, world, reps=2, seed=1, window=200)
    assert list(table["target"]) == list(targets.targets)
    assert table["simulated"].notna().all()
    assert table["within"].dtype == bool
    age = table.set_index("target").loc["age_share_3_months", "simulated"]
    assert abs(age - 0.70) < 0.05  # the exponential age fit reproduces its own source


def test_default_world_reproduces_every_published_target() -> None:
    targets = calibration.load_targets(TARGETS)
    variant, world = calibration.status_quo(targets, ROOT / "scenarios", load_world(DEFAULT_WORLD))
    table = calibration.calibrate(targets, variant, world, reps=1, seed=11,
                                  window=DEFAULT_WINDOW)
    outside = table.loc[~table["within"], ["target", "simulated", "tolerance"]]
    assert outside.empty, outside.to_string()


# --- the targets file is validated whole before anything runs --------------------------------


def targets_file(tmp_path: Path, mutate: Callable[[dict], None]) -> Path:
    data = read_toml(TARGETS)
    mutate(data)
    return write_toml(tmp_path / "targets.toml", data)


def target(key: str, **values: Any) -> Callable[[dict], None]:
    def mutate(data: dict) -> None:
        data["targets"][key].update(values)
    return mutate


@pytest.mark.parametrize(("mutate", "key"), [
    (lambda d: d["targets"].update(bogus=d["targets"]["mla_months_p10"]), "targets.bogus"),
    (target("mla_months_p10", value=3), "targets.mla_months_p10.value"),
    (target("mla_months_p10", value=9), "targets.mla_months_p10.value"),
    (target("mla_months_p10", low=9, high=4), "targets.mla_months_p10.value"),
    (target("age_share_3_months", low=-0.1), "targets.age_share_3_months.low"),
    (lambda d: d["status_quo"].update(variant="../worlds/default"), "status_quo.variant"),
    (lambda d: d.update(targets={}), "targets"),
], ids=["unknown-target", "below-low", "above-high", "low-above-high", "negative-low",
        "variant-not-a-name", "no-targets"])
def test_bad_targets_fail_at_load(mutate: Callable[[dict], None], key: str,
                                  tmp_path: Path) -> None:
    path = targets_file(tmp_path, mutate)
    with pytest.raises(InputError) as info:
        calibration.load_targets(path)
    assert (info.value.path, info.value.key) == (str(path), key)


def test_targets_at_their_bounds_load(tmp_path: Path) -> None:
    path = targets_file(tmp_path, target("mla_months_p10", low=6, value=6, high=6))
    assert calibration.load_targets(path).targets["mla_months_p10"].low == 6
    path = targets_file(tmp_path, target("age_share_3_months", low=0, value=0, high=1))
    calibration.load_targets(path)


@pytest.mark.parametrize(("status_quo", "key", "fragment"), [
    ({"variant": "no_such_treaty"}, "status_quo.variant", "no variant 'no_such_treaty'"),
    ({"set": {"world.bogus.x": 1}}, "status_quo.set.world.bogus.x", "no 'bogus' to change"),
    ({"set": {"preservation.nothing": 1}}, "status_quo.set.preservation.nothing", "not a"),
    ({"set": {"world.states.party_share": 4}}, "status_quo.set.world.states.party_share",
     "states.party_share.value: must be between 0 and 1, got 4"),
    ({"set": {"preservation.min_days": -1}}, "status_quo.set.preservation.min_days",
     "preservation.min_days.value"),
    ({"set": {"mla.refusal_grounds.fiscal": "yes"}}, "status_quo.set.mla.refusal_grounds.fiscal",
     "on or off"),
], ids=["unknown-variant", "unknown-world-path", "unknown-provision", "share-out-of-range",
        "negative-period", "ground-not-on-off"])
def test_bad_status_quo_names_the_targets_file(status_quo: dict, key: str, fragment: str,
                                               tmp_path: Path, small_world) -> None:
    path = targets_file(tmp_path, lambda d: d["status_quo"].update(status_quo))
    targets = calibration.load_targets(path)
    with pytest.raises(InputError) as info:
        calibration.status_quo(targets, ROOT / "scenarios", small_world)
    assert (info.value.path, info.value.key) == (str(path), key)
    assert fragment in info.value.message


def no_runoff() -> dict[str, Any]:
    """The small world without run-off: a cohort's requests are censored when its window
    ends."""
    data = world_data()
    data["measurement"]["runoff_days"]["value"] = 0
    return data


def test_a_window_without_finished_requests_gives_nan() -> None:
    """Targets no replication observes are NaN, outside tolerance, with the reason."""
    targets = calibration.load_targets(TARGETS)
    variant, world = calibration.status_quo(targets, ROOT / "scenarios", make_world(no_runoff()))
    table = calibration.calibrate(targets, variant, world, reps=2, seed=1, window=5)
    table = table.set_index("target")
    for key in ("mla_months_to_usa_mean", "mla_months_p10", "mla_months_p90"):
        row = table.loc[key]
        assert np.isnan([row["simulated"], row["p10"], row["p90"]]).all()
        assert not row["within"]
        assert "no MLA request" in row["missing"] and "run-off" in row["missing"]
    assert table["within"].dtype == bool
    # the data's age is read from the cohort's cases: some arose in the five days
    assert table.loc["age_share_3_months", "missing"] == ""
    assert 0 <= table.loc["age_share_3_months", "simulated"] <= 1
    # the US desk's files are read over the window, finished requests or not
    assert table.loc["usa_backlog_mean", "missing"] == ""


def test_the_us_backlog_is_the_desks_mean_over_the_window(small_world) -> None:
    """``usa_backlog_mean`` is the mean of the US central authority's daily files over the
    window (not the warm-up nor the run-off), and NaN with its reason without a US."""
    targets = calibration.load_targets(TARGETS)
    variant, world = calibration.status_quo(targets, ROOT / "scenarios", small_world)
    table = calibration.calibrate(targets, variant, world, reps=1, seed=3, window=200)
    usa = table.set_index("target").loc["usa_backlog_mean"]
    model = CooperationModel(variant, world, 3, Window.of(world, 200))
    model.measure()
    usa_column = [s.iso3 for s in model.states].index("USA")
    assert model.runoff_days > 0  # the run went on after the window: those days don't count
    assert usa["simulated"] == pytest.approx(model.backlog_matrix()[:200, usa_column].mean())
    data = no_runoff()
    data["states"]["roster"] = [r for r in data["states"]["roster"] if r["iso3"] != "USA"]
    data["providers"] = [p for p in data["providers"] if p["home"] != "USA"]
    total = sum(p["share"]["value"] for p in data["providers"])
    for p in data["providers"]:
        p["share"]["value"] /= total
    data["central_authorities"]["staff_by_state"]["value"].pop("USA")
    variant, world = calibration.status_quo(targets, ROOT / "scenarios", make_world(data))
    table = calibration.calibrate(targets, variant, world, reps=1, seed=3, window=5)
    usa = table.set_index("target").loc["usa_backlog_mean"]
    assert np.isnan(usa["simulated"]) and not usa["within"]
    assert usa["missing"] == calibration.UNOBSERVED["usa_backlog_mean"]


def test_calibrate_command_with_a_short_window(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    world = write_toml(tmp_path / "world.toml", no_runoff())
    code = main(["calibrate", "--world", str(world), "--window", "5", "--reps", "1",
                 "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0
    assert "n/a" in out
    assert not re.search(r"\bnan\b", out, re.IGNORECASE), out  # a value, not "unanswered"
