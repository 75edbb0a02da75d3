"""Calibration: every target gets its simulated counterpart beside its tolerance."""

from __future__ import annotations

from pathlib import Path

from sim import calibration
from sim.runner import DEFAULT_DAYS
from sim.world import DEFAULT_WORLD, load_world

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
