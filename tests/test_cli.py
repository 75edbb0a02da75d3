"""``coopsim run`` end to end on the small world: table, output files, manifest, atomicity."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, UN, world_data, write_toml

import sim.runner
from sim.cli import main

ARGS = ("--seed", "1", "--reps", "2", "--days", "400")
OUTPUTS = ("summary.csv", "events.parquet", "requests.parquet", "daily.parquet", "backlog.parquet",
           "manifest.json")


@pytest.fixture(scope="module")
def world_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toml(tmp_path_factory.mktemp("world") / "small.toml", world_data())


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, world_file: Path) -> tuple[int, str, Path]:
    """One successful run (2 replications, 400 days): status, stdout, output folder."""
    out = tmp_path_factory.mktemp("run") / "out"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        rc = main(["run", str(UN), "--world", str(world_file), *ARGS, "--out", str(out)])
    return rc, stdout.getvalue(), out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def strays(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".partial-" in p.name or ".old-" in p.name]


def run(world_file: Path, out: Path, *extra: str) -> int:
    return main(["run", str(UN), "--world", str(world_file), *ARGS, *extra, "--out", str(out)])


# --- a successful run -------------------------------------------------------------------------


def test_run_prints_the_table(run_dir: tuple[int, str, Path]) -> None:
    rc, stdout, out = run_dir
    assert rc == 0
    assert "data loss" in stdout
    assert "evidence obtained" in stdout
    assert "latency to evidence, median (days)" in stdout
    assert "2 replication(s), 400 days" in stdout
    assert str(out) in stdout


def test_run_writes_every_output(run_dir: tuple[int, str, Path]) -> None:
    _, _, out = run_dir
    assert sorted(p.name for p in out.iterdir()) == sorted(OUTPUTS)
    assert strays(out.parent) == []


def test_summary_csv(run_dir: tuple[int, str, Path]) -> None:
    summary = pd.read_csv(run_dir[2] / "summary.csv")
    assert len(summary) == 2
    assert {"rep", "seed", "data_loss", "latency_median"} <= set(summary.columns)
    assert summary["rep"].tolist() == [0, 1]
    assert summary["seed"].tolist() == [1, 2]
    assert summary["data_loss"].between(0, 1).all()
    assert (summary["requests"] > 0).all()


def test_parquet_outputs(run_dir: tuple[int, str, Path]) -> None:
    out = run_dir[2]
    events = pd.read_parquet(out / "events.parquet")
    requests = pd.read_parquet(out / "requests.parquet")
    daily = pd.read_parquet(out / "daily.parquet")
    backlog = pd.read_parquet(out / "backlog.parquet")
    summary = pd.read_csv(out / "summary.csv")
    for frame in (events, requests, daily, backlog):
        assert set(frame["rep"]) == {0, 1}
    assert {"day", "state", "backlog"} <= set(backlog.columns)
    assert set(backlog["day"]) == set(daily["day"])
    assert {"request", "stage", "start", "end", "result", "ground"} <= set(events.columns)
    assert {"request", "requesting", "requested", "provider", "mla_regime"} <= set(
        requests.columns)
    assert "day" in daily.columns
    assert not requests.duplicated(["rep", "request"]).any()
    assert requests.groupby("rep").size().tolist() == summary["requests"].tolist()


def test_every_request_has_exactly_one_outcome(run_dir: tuple[int, str, Path]) -> None:
    out = run_dir[2]
    events = pd.read_parquet(out / "events.parquet")
    requests = pd.read_parquet(out / "requests.parquet")
    outcomes = events[events["stage"].astype(str) == "outcome"]
    per_request = outcomes.groupby(["rep", "request"]).size()
    assert (per_request == 1).all()
    assert set(per_request.index) == set(zip(requests["rep"], requests["request"], strict=True))


def test_manifest(run_dir: tuple[int, str, Path], world_file: Path) -> None:
    manifest = json.loads((run_dir[2] / "manifest.json").read_text())
    assert {"variant_sha256", "world_sha256", "seed", "reps", "packages",
            "git_revision"} <= set(manifest)
    assert manifest["variant_sha256"] == hashlib.sha256(UN.read_bytes()).hexdigest()
    assert manifest["world_sha256"] == hashlib.sha256(world_file.read_bytes()).hexdigest()
    assert manifest["seed"] == 1
    assert manifest["reps"] == 2
    assert manifest["replication_seeds"] == [1, 2]
    assert {"coopsim", "simpy", "mesa", "pandas"} <= set(manifest["packages"])
    assert isinstance(manifest["git_revision"], str) and manifest["git_revision"]


def test_variant_by_name(run_dir: tuple[int, str, Path], world_file: Path, tmp_path: Path,
                         monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
    """A name finds scenarios/<name>.toml, and the same seed gives the same results."""
    monkeypatch.chdir(tmp_path)  # the name must not resolve against the working directory
    out = tmp_path / "by_name"
    rc = main(["run", "un_convention_2024", "--world", str(world_file), *ARGS,
               "--out", str(out)])
    assert rc == 0
    assert "data loss" in capsys.readouterr().out
    manifest = json.loads((out / "manifest.json").read_text())
    assert Path(manifest["variant"]) == UN
    assert (out / "summary.csv").read_bytes() == (run_dir[2] / "summary.csv").read_bytes()


def test_python_m_sim_help() -> None:
    proc = subprocess.run([sys.executable, "-m", "sim", "run", "--help"], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "--world" in proc.stdout
    assert "--reps" in proc.stdout


def test_python_m_sim_bad_input(tmp_path: Path, world_file: Path) -> None:
    """The same one-line error from a real process: no traceback, status 2."""
    bad = tmp_path / "bad.toml"
    bad.write_text(UN.read_text() + "\n[bogus]\nvalue = 1\n")
    proc = subprocess.run([sys.executable, "-m", "sim", "run", str(bad), "--world",
                           str(world_file), "--out", str(tmp_path / "out")],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.splitlines() == [f"coopsim: error: {bad}: bogus: unknown key"]
    assert not (tmp_path / "out").exists()


# --- atomic outputs ---------------------------------------------------------------------------


class Fault:
    """Replaces DataFrame.to_parquet: fails on the first call, after summary.csv is staged."""

    def __init__(self, exc: type[BaseException]) -> None:
        self.exc, self.staged = exc, None

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def to_parquet(frame: pd.DataFrame, path: Path, *args: object, **kwargs: object) -> None:
            self.staged = sorted(p.name for p in Path(path).parent.iterdir())
            raise self.exc("disk on fire")
        monkeypatch.setattr(sim.runner.pd.DataFrame, "to_parquet", to_parquet)


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_fault_on_fresh_out_writes_nothing(exc: type[BaseException], tmp_path: Path,
                                           world_file: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    fault = Fault(exc)
    fault.install(monkeypatch)
    with pytest.raises(exc, match="disk on fire"):
        run(world_file, out)
    assert fault.staged == ["summary.csv"]
    assert not out.exists()
    assert strays(tmp_path) == []


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_fault_keeps_previous_run(exc: type[BaseException], tmp_path: Path, world_file: Path,
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run(world_file, out) == 0
    before = snapshot(out)
    assert sorted(before) == sorted(OUTPUTS)
    fault = Fault(exc)
    with monkeypatch.context() as m:
        fault.install(m)
        with pytest.raises(exc):
            run(world_file, out, "--seed", "7")  # would give different results
    assert fault.staged == ["summary.csv"]
    assert snapshot(out) == before
    assert strays(tmp_path) == []


def test_fault_after_staging_keeps_previous_run(tmp_path: Path, world_file: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A fault while writing the manifest (every parquet staged) leaves the old run."""
    out = tmp_path / "out"
    assert run(world_file, out) == 0
    before = snapshot(out)
    real = Path.write_text

    def write_text(self: Path, *args: object, **kwargs: object) -> int:
        if self.name == "manifest.json":
            raise KeyboardInterrupt
        return real(self, *args, **kwargs)

    with monkeypatch.context() as m:
        m.setattr(Path, "write_text", write_text)
        with pytest.raises(KeyboardInterrupt):
            run(world_file, out, "--seed", "7")
    assert snapshot(out) == before
    assert strays(tmp_path) == []


def test_fault_during_swap_keeps_previous_run(tmp_path: Path, world_file: Path,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    out = tmp_path / "out"
    assert run(world_file, out) == 0
    before = snapshot(out)
    real = Path.rename

    def rename(self: Path, target: Path) -> Path:
        if ".partial-" in self.name:
            raise KeyboardInterrupt
        return real(self, target)

    with monkeypatch.context() as m:
        m.setattr(Path, "rename", rename)
        with pytest.raises(KeyboardInterrupt):
            run(world_file, out, "--seed", "7")
    assert out.is_dir()
    assert snapshot(out) == before
    assert strays(tmp_path) == []
