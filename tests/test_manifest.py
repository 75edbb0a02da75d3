"""One manifest schema (``sim.manifest``) and one writer (``sim.outputs.write``)."""

from __future__ import annotations

import hashlib
import io
import json
import os
from pathlib import Path
from types import SimpleNamespace

import pandas as pd
import pytest
from conftest import UN

from sim.briefing import pack
from sim.briefing.brief import Settings
from sim.outputs import manifest, writing

PROVENANCE = ["packages", "git_revision"]
RUN = ["variant", "variant_sha256", "world", "world_sha256", "seed", "reps", "measurement",
       "python", *PROVENANCE]
EXPERIMENT = ["design", "variant", "set", "seed", "reps", "measurement", "world", *PROVENANCE,
              "tables"]
BRIEF = ["world", "scale", "seed", "reps", "sweep_reps", "attribution_reps", "window",
         "warmup", "reference", "widest", "variants", "seconds", "command", *PROVENANCE]
MEASUREMENT = ["method", "window_days", "windows", "warmup_method"]  # how any run is measured
MEASURED = ["warmup_days", "mser5_day", "runoff_days", "censored", "overloaded"]  # one run's


def test_the_run_manifest(tmp_path: Path) -> None:
    world = tmp_path / "world.toml"
    world.write_text("x = 1\n")
    steady = {"warmup_days": 1280.0, "window_days": 30.0, "windows": 2, "mser5_day": 905,
              "runoff_days": 412, "censored": 3, "overloaded": ["The central authority of X "
                                                                "is overloaded: ..."],
              "desks": [{"state": "XXX"}]}
    body = manifest.run_manifest(UN, world, seed=3, reps=2, window=30, steady=steady)
    assert list(body) == RUN
    assert body["variant_sha256"] == hashlib.sha256(UN.read_bytes()).hexdigest()
    assert (body["seed"], body["reps"]) == (3, 2)  # one seed: the two windows of one run
    measured = body["measurement"]
    assert list(measured) == MEASUREMENT + MEASURED
    assert (measured["window_days"], measured["windows"]) == (30, 2)
    assert {k: measured[k] for k in MEASURED} == {k: steady[k] for k in MEASURED}
    assert "batch means" in measured["method"] and "MSER-5" in measured["warmup_method"]
    assert set(body["packages"]) == set(manifest.PACKAGES)
    json.dumps(body)  # plain values only


def test_an_experiment_manifest_names_its_tables_hashes() -> None:
    body = manifest.experiment_manifest("factorial", seed=1, reps=2, window=30, world="w.toml",
                                        variant="un", set=["a=1,2"])
    table = pd.DataFrame({"a": [1, 2], "data_loss": [0.1, 0.2]})
    files = manifest.experiment_files({"sweep.csv": table}, body)
    written = json.loads(files["manifest.json"])
    assert list(written) == EXPERIMENT
    assert list(written["measurement"]) == MEASUREMENT  # each run's own check is in its row
    assert (written["measurement"]["window_days"], written["measurement"]["windows"]) == (30, 2)
    assert files["sweep.csv"] == table.to_csv(index=False).encode()
    assert written["tables"] == {"sweep.csv": hashlib.sha256(files["sweep.csv"]).hexdigest()}


def test_the_brief_manifest() -> None:
    brief = SimpleNamespace(settings=Settings("w", 0.5, 1, 2, 2, 1, 30, 1280), reference="a",
                            widest="b", variants=[SimpleNamespace(name="a"),
                                                  SimpleNamespace(name="b")], seconds=3.14)
    body = pack.brief_manifest(brief, "coopsim brief")
    assert list(body) == BRIEF
    assert body["variants"] == ["a", "b"] and body["seconds"] == 3.1
    assert (body["window"], body["warmup"]) == (30, 1280)


@pytest.mark.parametrize(("name", "content", "expected"), [
    ("a.csv", pd.DataFrame({"x": [1, 2]}), b"x\n1\n2\n"),
    ("m.json", {"b": 1, "a": [1]}, b'{\n  "b": 1,\n  "a": [\n    1\n  ]\n}\n'),
    ("brief.md", "# title\n", b"# title\n"),
    ("chart.png", b"\x89PNG", b"\x89PNG"),
], ids=["csv", "json", "text", "bytes"])
def test_encode_by_name(name: str, content: writing.Content, expected: bytes) -> None:
    assert writing.encode(name, content) == expected


def test_parquet_round_trips_and_mismatches_are_refused() -> None:
    frame = pd.DataFrame({"x": [1, 2], "y": ["a", "b"]})
    data = writing.encode("t.parquet", frame)
    pd.testing.assert_frame_equal(pd.read_parquet(io.BytesIO(data)), frame)
    for name, content in (("t.json", frame), ("t.csv", {"a": 1}), ("t.txt", frame)):
        with pytest.raises(TypeError, match=name):
            writing.encode(name, content)


def test_write_puts_each_file_in_place_atomically(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    replaced: list[str] = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (replaced.append(Path(b).name),
                                                     real(a, b))[1])
    writing.write(tmp_path, {"summary.csv": pd.DataFrame({"x": [1]}), "manifest.json": {}})
    assert replaced == ["summary.csv", "manifest.json"]
    assert sorted(os.listdir(tmp_path)) == ["manifest.json", "summary.csv"]
    assert (tmp_path / "manifest.json").read_text() == "{}\n"


def test_an_experiment_command_writes_its_manifest(tmp_path: Path) -> None:
    from conftest import world_data, write_toml

    from sim.cli import main

    world = write_toml(tmp_path / "world.toml", world_data(100))
    out = tmp_path / "sweep"
    assert main(["sweep", str(UN), "--set", "preservation.min_days=30,60", "--world", str(world),
                 "--window", "20", "--reps", "2", "--workers", "1", "--out", str(out)]) == 0
    written = json.loads((out / "manifest.json").read_text())
    assert list(written) == EXPERIMENT
    assert written["set"] == ["preservation.min_days=30,60"]
    assert written["reps"] == 2
    assert list(written["measurement"]) == MEASUREMENT
    assert (written["measurement"]["window_days"], written["measurement"]["windows"]) == (20, 2)
    table = pd.read_csv(out / "sweep.csv")
    assert table["rep"].tolist() == [0, 1, 0, 1] and (table["seed"] == 1).all()
    assert {"mser5_day", "runoff_days", "overloaded_desks"} <= set(table)  # each run's check
