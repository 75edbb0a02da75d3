"""``coopsim run`` end to end on the small world: table, output files, manifest, atomicity."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT, UN, set_value, world_data, write_toml

from sim.cli import main
from sim.outputs import folders

ARGS = ("--seed", "1", "--reps", "2", "--window", "120")
OUTPUTS = ("summary.csv", "events.parquet", "requests.parquet", "daily.parquet", "backlog.parquet",
           "manifest.json")


@pytest.fixture(scope="module")
def world_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_toml(tmp_path_factory.mktemp("world") / "small.toml", world_data())


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory, world_file: Path) -> tuple[int, str, Path]:
    """One successful run (2 replications: windows of 120 days): status, stdout, folder."""
    out = tmp_path_factory.mktemp("run") / "out"
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        rc = main(["run", str(UN), "--world", str(world_file), *ARGS, "--out", str(out)])
    return rc, stdout.getvalue(), out


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def strays(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if folders.PARTIAL in p.name
            or folders.OLD in p.name or p.name.endswith(folders.LOCK)]


def run(world_file: Path, out: Path, *extra: str) -> int:
    return main(["run", str(UN), "--world", str(world_file), *ARGS, *extra, "--out", str(out)])


# --- a successful run -------------------------------------------------------------------------


def test_run_prints_the_table(run_dir: tuple[int, str, Path]) -> None:
    rc, stdout, out = run_dir
    assert rc == 0
    assert "data loss" in stdout
    assert "evidence obtained" in stdout
    assert "latency to evidence, median (days)" in stdout
    assert "2 replication(s), each the needs arising in a 120-day window\nafter a 0-day " \
        "warm-up" in stdout
    assert "Warning" not in stdout  # the small world's desks all keep up
    assert str(out) in stdout


def test_run_writes_every_output(run_dir: tuple[int, str, Path]) -> None:
    _, _, out = run_dir
    assert sorted(p.name for p in out.iterdir()) == sorted((*OUTPUTS, ".coopsim"))
    assert strays(out.parent) == []


def test_summary_csv(run_dir: tuple[int, str, Path]) -> None:
    summary = pd.read_csv(run_dir[2] / "summary.csv")
    assert len(summary) == 2
    assert {"rep", "seed", "data_loss", "latency_median"} <= set(summary.columns)
    assert summary["rep"].tolist() == [0, 1]  # the two windows of one run
    assert summary["seed"].tolist() == [1, 1]  # so both with the run's seed
    assert summary["data_loss"].between(0, 1).all()
    assert (summary["requests"] > 0).all()


def test_parquet_outputs(run_dir: tuple[int, str, Path]) -> None:
    out = run_dir[2]
    events = pd.read_parquet(out / "events.parquet")
    requests = pd.read_parquet(out / "requests.parquet")
    daily = pd.read_parquet(out / "daily.parquet")
    backlog = pd.read_parquet(out / "backlog.parquet")
    summary = pd.read_csv(out / "summary.csv")
    for frame in (events, requests):  # the cohorts' records: each with its window
        assert set(frame["rep"]) == {0, 1}
    assert requests["arrival"].between(0, 2 * 120, inclusive="left").all()  # no warm-up
    assert (requests["arrival"] // 120 == requests["rep"]).all()
    assert {"day", "state", "backlog"} <= set(backlog.columns)
    assert set(backlog["day"]) == set(daily["day"])  # the whole run, day by day
    assert list(daily["day"]) == list(range(len(daily)))
    phases = daily.groupby("phase", observed=True)["day"].agg(["min", "max"])
    assert list(phases.index) == ["window", "run-off"]  # no warm-up in the small world
    assert phases.loc["window"].tolist() == [0, 2 * 120 - 1]
    assert phases.loc["run-off", "min"] == 2 * 120
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
    assert list(manifest) == ["variant", "variant_sha256", "world", "world_sha256", "seed",
                              "reps", "measurement", "python", "packages", "git_revision"]
    assert manifest["variant_sha256"] == hashlib.sha256(UN.read_bytes()).hexdigest()
    assert manifest["world_sha256"] == hashlib.sha256(world_file.read_bytes()).hexdigest()
    assert manifest["seed"] == 1
    assert manifest["reps"] == 2
    measurement = manifest["measurement"]
    assert list(measurement) == ["method", "window_days", "windows", "warmup_method",
                                 "warmup_days", "mser5_day", "runoff_days", "censored",
                                 "overloaded"]
    assert (measurement["window_days"], measurement["windows"]) == (120, 2)
    assert measurement["warmup_days"] == 0  # the small world's
    daily = pd.read_parquet(run_dir[2] / "daily.parquet")
    assert measurement["runoff_days"] == int((daily["phase"] == "run-off").sum())
    assert 0 <= measurement["runoff_days"] <= 1460  # at most the small world's run-off
    summary = pd.read_csv(run_dir[2] / "summary.csv")
    assert measurement["censored"] == summary["n_pending"].sum()
    assert (summary["runoff_days"] == measurement["runoff_days"]).all()
    assert (summary["mser5_day"] == measurement["mser5_day"]).all()
    assert measurement["overloaded"] == []
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
    """Replaces DataFrame.to_parquet: fails on the first call, after summary.csv is staged.

    Tables are encoded to bytes before ``folders.atomic_write`` puts them in the staging
    folder, so the fault finds that folder beside ``out`` (``.out.partial-*``) and notes what
    it holds.
    """

    def __init__(self, exc: type[BaseException], out: Path) -> None:
        self.exc, self.out, self.staged = exc, out, None

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        def to_parquet(frame: pd.DataFrame, target: object, *args: object,
                       **kwargs: object) -> None:
            (stage,) = [p for p in self.out.parent.iterdir() if p.is_dir()
                        and p.name.startswith(f".{self.out.name}{folders.PARTIAL}")]
            self.staged = sorted(p.name for p in stage.iterdir())
            raise self.exc("disk on fire")
        monkeypatch.setattr(pd.DataFrame, "to_parquet", to_parquet)


def interrupted(world_file: Path, out: Path, capsys: pytest.CaptureFixture[str],
                *extra: str) -> None:
    """Ctrl-C: exit 130 and one line on stderr."""
    assert run(world_file, out, *extra) == 130
    assert capsys.readouterr().err.splitlines() == [
        "coopsim: interrupted; rerun the same command to resume (finished runs are kept, "
        "previous results are untouched)"]


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_fault_on_fresh_out_writes_nothing(exc: type[BaseException], tmp_path: Path,
                                           world_file: Path, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "new" / "out"
    fault = Fault(exc, out)
    fault.install(monkeypatch)
    if exc is KeyboardInterrupt:
        interrupted(world_file, out, capsys)
    else:
        with pytest.raises(exc, match="disk on fire"):
            run(world_file, out)
    assert fault.staged == [".coopsim", "summary.csv"]
    assert sorted(os.listdir(tmp_path)) == []  # the folders it made are gone too


@pytest.mark.parametrize("exc", [RuntimeError, KeyboardInterrupt])
def test_fault_keeps_previous_run(exc: type[BaseException], tmp_path: Path, world_file: Path,
                                  monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run(world_file, out) == 0
    before = snapshot(out)
    assert sorted(before) == sorted((*OUTPUTS, ".coopsim"))
    fault = Fault(exc, out)
    with monkeypatch.context() as m:
        fault.install(m)
        if exc is KeyboardInterrupt:
            interrupted(world_file, out, capsys, "--seed", "7")
        else:
            with pytest.raises(exc):
                run(world_file, out, "--seed", "7")  # would give different results
    assert fault.staged == [".coopsim", "summary.csv"]
    assert snapshot(out) == before
    assert strays(tmp_path) == []


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_fault_during_swap_keeps_previous_run(exchange: bool, tmp_path: Path, world_file: Path,
                                              monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert run(world_file, out) == 0
    before = snapshot(out)
    monkeypatch.setattr(folders, "EXCHANGE", exchange)
    real = os.rename

    def rename(src: object, dst: object) -> None:
        if folders.PARTIAL in Path(str(src)).name and Path(str(dst)) == out:
            raise KeyboardInterrupt
        real(src, dst)

    with monkeypatch.context() as m:
        m.setattr(folders, "_exchange", lambda a, b: (_ for _ in ()).throw(KeyboardInterrupt)
                  if exchange else False)
        m.setattr(os, "rename", rename)
        interrupted(world_file, out, capsys, "--seed", "7")
    assert out.is_dir()
    assert snapshot(out) == before
    assert strays(tmp_path) == []


def test_a_rerun_replaces_the_previous_results(tmp_path: Path, world_file: Path) -> None:
    out = tmp_path / "out"
    assert run(world_file, out) == 0
    first = snapshot(out)
    assert run(world_file, out, "--seed", "7") == 0
    assert snapshot(out) != first
    assert run(world_file, out) == 0
    assert snapshot(out) == first
    assert strays(tmp_path) == []


# --- nothing a user owns is touched -----------------------------------------------------------


def command_lines(world: Path, tmp: Path) -> dict[str, list[str]]:
    """Every command that writes results, as small as it can be."""
    small = ["--world", str(world), "--window", "30"]
    study = write_toml(tmp / "study.toml", {"method": "morris", "samples": 4, "params": {
        "preservation.min_days": {"bounds": [30.0, 180.0]}}})
    return {
        "run": ["run", str(UN), *small],
        "brief": ["brief", "un_convention_2024", "russia_2017", *small, "--reps", "2"],
        "compare": ["compare", str(UN), *small],
        "sweep": ["sweep", str(UN), "--set", "preservation.min_days=30,60", *small],
        "sensitivity": ["sensitivity", str(UN), "--params", str(study), *small],
        "calibrate": ["calibrate", *small, "--reps", "1"],
        "attribute": ["attribute", "un_convention_2024", "russia_2017", *small, "--reps", "1"],
    }


def tree(folder: Path) -> dict[str, tuple[int, bytes | None]]:
    """Every entry under ``folder`` with its mode, and a file's bytes."""
    return {str(p.relative_to(folder)): (p.lstat().st_mode,
                                         p.read_bytes() if p.is_file() else None)
            for p in sorted(folder.rglob("*"))}


@pytest.mark.parametrize("command", ["run", "brief", "compare", "sweep", "sensitivity",
                                     "calibrate", "attribute"])
def test_a_users_files_in_out_survive(command: str, tmp_path: Path, world_file: Path,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("my notes")
    os.chmod(out / "notes.txt", 0o640)
    (out / "other_results").mkdir()
    (out / "other_results" / "table.csv").write_text("a,b\n1,2\n")
    line = command_lines(world_file, tmp_path)[command]
    before, around = tree(out), sorted(os.listdir(tmp_path))
    rc = main([*line, "--out", str(out)])
    err = capsys.readouterr().err.splitlines()
    assert rc == 2
    assert len(err) == 1 and err[0].startswith(f"coopsim: error: --out: {out}: ")
    assert tree(out) == before
    assert sorted(os.listdir(tmp_path)) == around


def test_out_dot_inside_a_git_folder_is_refused(tmp_path: Path, world_file: Path,
                                               monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    project = tmp_path / "project"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (project / "README.md").write_text("my project")
    before = tree(project)
    monkeypatch.chdir(project)
    rc = main(["run", str(UN), "--world", str(world_file), "--window", "30", "--out", "."])
    assert rc == 2
    assert "current folder" in capsys.readouterr().err
    assert tree(project) == before


def test_out_on_a_file_is_refused_and_the_file_kept(tmp_path: Path, world_file: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "results.csv"
    target.write_text("mine")
    assert run(world_file, target) == 2
    assert "is a file" in capsys.readouterr().err
    assert sorted(os.listdir(tmp_path)) == ["results.csv"]
    assert target.read_text() == "mine"


def test_a_symlinked_out_is_refused(tmp_path: Path, world_file: Path,
                                    capsys: pytest.CaptureFixture[str]) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "out").symlink_to(elsewhere)
    assert run(world_file, tmp_path / "out") == 2
    assert "symbolic link" in capsys.readouterr().err
    assert list(elsewhere.iterdir()) == []


def test_out_where_no_folder_can_be_made_fails_before_running(
        tmp_path: Path, world_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """/proc refuses new folders even to root: the error comes at once, not after the run."""
    assert run(world_file, Path("/proc/coopsim/out")) == 2
    err = capsys.readouterr()
    assert err.out == ""
    assert err.err.startswith("coopsim: error: --out: /proc/coopsim/out: ")


def test_ctrl_c_exits_130_with_one_line(tmp_path: Path, world_file: Path) -> None:
    """A real SIGINT to a running simulation: one line, status 130, previous results kept."""
    out = tmp_path / "out"
    assert run(world_file, out) == 0
    before = snapshot(out)
    args = [sys.executable, "-m", "sim", "run", str(UN), "--world", str(world_file),
            "--window", "365", "--reps", "50", "--out", str(out)]
    proc = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)
    lock = tmp_path / f".out{folders.LOCK}"
    deadline = time.monotonic() + 60
    while not lock.exists() and time.monotonic() < deadline:  # until it is simulating
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert len(err.splitlines()) == 1 and err.startswith("coopsim: interrupted"), err
    assert snapshot(out) == before
    assert strays(tmp_path) == []


@pytest.mark.parametrize("bad", [["--reference", "no_such_variant"], ["--reps", "0"],
                                 ["--executor", "dask://nowhere"], ["--world", "/dev/null/x"]],
                         ids=["reference", "reps", "executor", "world"])
def test_a_rejected_command_leaves_a_finished_experiment_as_it_was(
        bad: list[str], tmp_path: Path, world_file: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "compare"
    small = ["compare", str(UN), "--world", str(world_file), "--window", "30", "--workers", "1"]
    assert main([*small, "--out", str(out)]) == 0
    capsys.readouterr()  # what the finished experiment said
    before = tree(out)
    assert main([*small, *bad, "--out", str(out)]) == 2
    assert len(capsys.readouterr().err.splitlines()) == 1
    assert tree(out) == before
    assert strays(tmp_path) == []


def test_an_experiment_writes_the_same_bytes_whatever_the_workers(
        tmp_path: Path, world_file: Path) -> None:
    small = ["sweep", str(UN), "--set", "preservation.min_days=30,90", "--world",
             str(world_file), "--window", "60", "--reps", "2"]
    assert main([*small, "--workers", "1", "--out", str(tmp_path / "one")]) == 0
    assert main([*small, "--workers", "2", "--out", str(tmp_path / "two")]) == 0
    assert tree(tmp_path / "one") == tree(tmp_path / "two")


# --- the measurement: windows, and desks that cannot keep up ----------------------------------


@pytest.fixture(scope="module")
def overloaded_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small world with two staff at the US central authority, far too few for its files,
    and ten times the staff it has at every other (which then never comes near its load)."""
    data = world_data()
    staff = data["central_authorities"]["staff_by_state"]["value"]
    set_value(data, "central_authorities.staff_by_state",
              {**{k: 10 * v for k, v in staff.items()}, "USA": 2})
    set_value(data, "central_authorities.staff", 300)
    return write_toml(tmp_path_factory.mktemp("overloaded") / "world.toml", data)


def test_run_warns_of_an_overloaded_central_authority(tmp_path: Path, overloaded_world: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["run", str(UN), "--world", str(overloaded_world), "--window", "120",
                 "--out", str(out)]) == 0
    stdout = capsys.readouterr().out
    warnings = [line for line in stdout.splitlines() if line.startswith("Warning")]
    assert len(warnings) == 1
    assert warnings[0].startswith("Warning: The central authority of United States of America "
                                  "is overloaded: ")
    assert "(2 staff)" in warnings[0] and "\n" not in warnings[0]
    measurement = json.loads((out / "manifest.json").read_text())["measurement"]
    assert measurement["overloaded"] == [warnings[0].removeprefix("Warning: ")]
    assert pd.read_csv(out / "summary.csv")["overloaded_desks"].tolist() == [1]


def test_compare_warns_of_overloaded_desks_on_stderr(tmp_path: Path, overloaded_world: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "compare"
    assert main(["compare", str(UN), "--world", str(overloaded_world), "--window", "60",
                 "--workers", "1", "--out", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("coopsim: warning: un_convention_2024: 1 central authorities "
                             "receive more files than they can review")
    assert pd.read_csv(out / "runs.csv")["overloaded_desks"].tolist() == [1]


def test_sweep_warns_only_for_the_settings_that_overload_a_desk(
        tmp_path: Path, world_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """One staff at every desk the world does not staff itself (Brazil, India, Kenya) is too
    few; three hundred is plenty."""
    out = tmp_path / "sweep"
    assert main(["sweep", str(UN), "--set", "world.central_authorities.staff=1,300", "--world",
                 str(world_file), "--window", "60", "--reps", "2", "--workers", "1",
                 "--out", str(out)]) == 0
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 1
    assert err[0].startswith("coopsim: warning: 1: 3 central authorities receive more files "
                             "than they can review")
    table = pd.read_csv(out / "sweep.csv")
    by_staff = table.groupby("world.central_authorities.staff")["overloaded_desks"].max()
    assert by_staff.to_dict() == {1: 3, 300: 0}


@pytest.mark.parametrize("command", ["run", "brief", "compare", "sweep", "sensitivity",
                                     "calibrate", "attribute"])
@pytest.mark.parametrize("bad, says", [
    (["--days", "30"], "unrecognized arguments: --days 30"),
    (["--window", "0"], "--window: must be from 1 to 7,305, got 0"),
    (["--window", "7306"], "--window: must be from 1 to 7,305, got 7,306")],
    ids=["days-is-gone", "window-zero", "window-too-long"])
def test_a_bad_window_or_the_old_days_option_is_a_one_line_error(
        command: str, bad: list[str], says: str, tmp_path: Path, world_file: Path,
        capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    rc = main([*command_lines(world_file, tmp_path)[command], *bad, "--out", str(out)])
    err = capsys.readouterr().err.splitlines()
    assert rc == 2
    assert err == [f"coopsim: error: {says}"]
    assert not out.exists()
