"""Calibration: every target gets its simulated counterpart beside its tolerance."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import world_data, write_toml

from sim.cli import main
from sim.experiments import calibration
from sim.experiments.runner import DEFAULT_DAYS
from sim.inputs.schema import InputError, read_toml
from sim.inputs.world import DEFAULT_WORLD, load_world

ROOT = Path(__file__).resolve().parent.parent
TARGETS = ROOT / "scenarios" / "calibration" / "targets.toml"


def test_every_target_is_set_beside_the_model(small_world) -> None:
    targets = calibration.load_targets(TARGETS)
    variant, world = calibration.status_quo(targets, ROOT / "scenarios", small_world)
    assert world.states.party_share.value == targets.status_quo.set["world.states.party_share"]
    table = calibration.calibrate(targets, variant, world, reps=2, seed=1, days=400)
    assert list(table["target"]) == list(targets.targets)
    assert table["simulated"].notna().all()
    assert table["within"].dtype == bool
    age = table.set_index("target").loc["age_share_3_months", "simulated"]
    assert abs(age - 0.70) < 0.05  # the exponential age fit reproduces its own source


def test_default_world_reproduces_every_published_target() -> None:
    targets = calibration.load_targets(TARGETS)
    variant, world = calibration.status_quo(targets, ROOT / "scenarios", load_world(DEFAULT_WORLD))
    table = calibration.calibrate(targets, variant, world, reps=1, seed=11, days=DEFAULT_DAYS)
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


def test_a_horizon_without_finished_requests_gives_nan(small_world) -> None:
    """Targets no replication observes are NaN, outside tolerance, with the reason."""
    targets = calibration.load_targets(TARGETS)
    variant, world = calibration.status_quo(targets, ROOT / "scenarios", small_world)
    table = calibration.calibrate(targets, variant, world, reps=2, seed=1, days=1)
    table = table.set_index("target")
    for key in ("mla_months_to_usa_mean", "mla_months_p10", "mla_months_p90"):
        row = table.loc[key]
        assert np.isnan([row["simulated"], row["p10"], row["p90"]]).all()
        assert not row["within"]
        assert "no MLA request" in row["missing"] and "horizon" in row["missing"]
    assert table["within"].dtype == bool
    # the data's age is read from the cases each run created: one arose on the first day
    assert table.loc["age_share_3_months", "missing"] == ""


def test_calibrate_command_with_a_short_horizon(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    world = write_toml(tmp_path / "world.toml", world_data())
    code = main(["calibrate", "--world", str(world), "--days", "1", "--reps", "1",
                 "--out", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0
    assert "n/a" in out and "nan" not in out
