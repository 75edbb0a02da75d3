"""The default world: every figure names its source or says it is an assumption."""

from __future__ import annotations

import csv
import io

from sim.cli import main
from sim.inputs.sources import table
from sim.inputs.world import load_world


def test_every_default_figure_has_a_source() -> None:
    frame = table(load_world())
    assert len(frame) > 100
    assert frame["source"].map(lambda s: isinstance(s, str) and len(s) > 3).all()
    sourced = frame[frame["kind"] == "sourced"]
    assert sourced["source"].str.contains("calibration|seeds|UN", regex=True).all()


def test_world_sources_command_lists_every_figure(capsys) -> None:
    assert main(["world", "--sources", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert len(rows) == len(table(load_world()))
    assert {"figure", "value", "source", "kind"} <= set(rows[0])
    assert main(["world", "--sources"]) == 0
    assert "assumption" in capsys.readouterr().out
