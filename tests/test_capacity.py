"""Capacity: the search finds the smallest staff meeting the target, says when none does,
and the command runs from the command line."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from sim.cli import main
from sim.experiments import capacity, warmup
from sim.experiments.execution import Task
from tests.conftest import set_value, world_data, write_toml

OFFICE = capacity.Target("USA", 50)


def fake_search(median, un, small_world) -> capacity.Search:
    """A search whose runs are replaced by ``median(staff)`` (0: unlimited)."""
    def run(tasks: list[Task]) -> list[dict]:
        staff = [t.world["central_authorities"]["staff_by_state"]["value"]["USA"] for t in tasks]
        return [{"median_days": median(s), "executed": 1, "not_obtained": 0.5,
                 "overloaded_desks": 0} for s in staff]
    return capacity.Search(un, small_world, OFFICE, seed=1, window=30, reps=1, run=run)


@pytest.mark.parametrize("start", [1, 7, 19, 20, 21, 500])
def test_the_search_finds_the_smallest_staff_meeting_the_target(start, un, small_world) -> None:
    """With a median of 1,000 / staff days, 50 days need exactly 20 staff, from any start."""
    s = fake_search(lambda staff: 10.0 if staff == 0 else 1000 / staff, un, small_world)
    assert s.smallest(start) == 20
    assert s.meets(20) and not s.meets(19)


def test_no_staff_suffices_when_unlimited_staff_miss_the_target(un, small_world) -> None:
    s = fake_search(lambda staff: 80.0 if staff == 0 else 80 + 1000 / staff, un, small_world)
    assert s.smallest(5) is None
    assert list(s.seen) == [0]  # one run, with unlimited staff, settles it


def test_the_curve_surrounds_the_answer_and_marks_the_target(un, small_world) -> None:
    s = fake_search(lambda staff: 10.0 if staff == 0 else 1000 / staff, un, small_world)
    curve = s.curve(s.smallest(4))
    staffed = curve[curve["staff"] != "unlimited"]
    assert 20 in set(staffed["staff"]) and staffed["staff"].is_monotonic_increasing
    assert (staffed["meets"] == (staffed["staff"] >= 20)).all()
    assert curve.iloc[-1]["staff"] == "unlimited"


def test_an_unknown_state_is_an_input_error(small_world) -> None:
    with pytest.raises(Exception, match="--state: XYZ: not in the world's roster"):
        capacity.staffed(small_world, "XYZ", 1)


def test_the_command_writes_its_curve(tmp_path: Path, capsys) -> None:
    data = world_data(150)
    set_value(data, "central_authorities.staff_by_state", {"USA": 2})
    world = write_toml(tmp_path / "w.toml", data)
    out = tmp_path / "cap"
    code = main(["capacity", "un_convention_2024", "--state", "usa", "--target-days", "5000",
                 "--world", str(world), "--window", "60", "--workers", "1", "--out", str(out)])
    assert code == 0
    printed = capsys.readouterr().out
    assert "United States of America: the smallest staff with a median of 5,000 days" in printed
    curve = pd.read_csv(out / "capacity.csv")
    assert {"staff", "median_days", "not_obtained", "meets"} <= set(curve.columns)
    body = json.loads((out / "manifest.json").read_text())
    assert body["state"] == "USA" and body["answer"] == 1
    assert (out / "capacity.png").stat().st_size > 0


def test_the_recommended_warm_up_is_the_latest_rounded_up_to_a_month() -> None:
    table = pd.DataFrame({"variant": ["a", "b"], "mser5_day": [1235, 1255]})
    assert warmup.recommended(table) == 1260
    assert warmup.recommended(table.assign(mser5_day=[0, 30])) == 30
