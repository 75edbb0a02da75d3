"""Results folders that never destroy what a user owns: ownership, symlinks, locks, and
kills at every step of a write (``sim.outputs``, driven through ``coopsim run`` and
``coopsim compare``)."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import UN, set_value, world_data, write_toml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.inputs.schema import InputError
from sim.outputs import folders


class Forker:
    """The CLI in forked children of a single-threaded helper process (tests/forker.py)."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("forker.py"))],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def __call__(self, args: list[str], **request: object) -> tuple[int, int | None]:
        """(exit status or minus the killing signal, file-system calls if it finished)."""
        assert self.proc.stdin and self.proc.stdout
        self.proc.stdin.write(json.dumps({"args": args, **request}) + "\n")
        self.proc.stdin.flush()
        answer = json.loads(self.proc.stdout.readline())
        return answer["status"], answer["calls"]

    def close(self) -> None:
        assert self.proc.stdin
        self.proc.stdin.close()
        self.proc.wait(30)


@pytest.fixture(scope="module")
def world_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small world with a run-off of 30 days: a run of a 60-day window lasts 90 days at
    most (the tests below run it hundreds of times; what they check is how it is written)."""
    data = set_value(world_data(), "measurement.runoff_days", 30)
    return write_toml(tmp_path_factory.mktemp("world") / "small.toml", data)


@pytest.fixture(scope="module")
def fork() -> Iterator[Forker]:
    forker = Forker()
    yield forker
    forker.close()


def run_args(world: Path, out: Path, seed: int) -> list[str]:
    return ["run", str(UN), "--world", str(world), "--window", "60", "--seed", str(seed),
            "--out", str(out)]


def compare_args(world: Path, out: Path) -> list[str]:
    return ["compare", str(UN), str(UN.parent / "russia_2017.toml"), "--world", str(world),
            "--window", "60", "--reps", "2", "--workers", "1", "--out", str(out)]


def snapshot(folder: Path) -> dict[str, tuple[int, bytes]]:
    """Every file under ``folder``: mode and bytes."""
    return {str(p.relative_to(folder)): (p.lstat().st_mode, p.read_bytes())
            for p in sorted(folder.rglob("*")) if p.is_file()}


def strays(parent: Path) -> list[str]:
    """What a finished coopsim leaves beside its folder: nothing."""
    return sorted(n for n in os.listdir(parent)
                  if folders.PARTIAL in n or folders.OLD in n or n.endswith(folders.LOCK))


# --- whose folder it is -----------------------------------------------------------------------


def test_a_new_folder_gets_a_marker_naming_every_file(tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "res"
    with folders.claim(out, "run") as target, target.staging() as stage:
        (stage / "x.csv").write_text("1\n")
    marker = json.loads((out / folders.MARKER).read_text())
    assert marker["kind"] == "run" and marker["complete"] is True
    assert sorted(marker["files"]) == ["x.csv"]
    assert strays(out.parent) == []


@pytest.mark.parametrize("what", ["file", "folder", "symlink", "edited"])
def test_a_folder_with_anything_of_the_users_is_refused(what: str, tmp_path: Path) -> None:
    out = tmp_path / "res"
    with folders.claim(out, "run") as target, target.staging() as stage:
        (stage / "x.csv").write_text("1\n")
    if what == "file":
        (out / "notes.txt").write_text("mine")
    elif what == "folder":
        (out / "mine").mkdir()
    elif what == "symlink":
        (out / "link").symlink_to(tmp_path)
    else:
        (out / "x.csv").write_text("my edit\n")
    before = snapshot(out)
    with pytest.raises(InputError, match="--out") as info:
        folders.check(out, "run")
    assert "\n" not in str(info.value)
    with pytest.raises(InputError), folders.claim(out, "run"):
        pytest.fail("claimed a folder holding the user's files")
    assert snapshot(out) == before
    assert strays(tmp_path) == []


@pytest.mark.parametrize("kind", ["run", "compare"])
def test_a_folder_coopsim_did_not_make_is_refused(kind: str, tmp_path: Path) -> None:
    out = tmp_path / "project"
    out.mkdir()
    (out / "draft.docx").write_bytes(b"\0\1")
    with pytest.raises(InputError, match="did not make"):
        folders.check(out, kind)


def test_a_file_the_root_and_the_current_folder_are_refused(tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    (tmp_path / "f").write_text("mine")
    monkeypatch.chdir(tmp_path)
    for out, says in [(tmp_path / "f", "is a file"), (Path("/"), "root"),
                      (Path("."), "current folder"), (tmp_path.parent, "current folder"),
                      (tmp_path / "f" / "sub", "not a folder")]:
        with pytest.raises(InputError, match=says):
            folders.check(out, "run")


def test_a_folder_of_another_command_is_refused(tmp_path: Path) -> None:
    with folders.claim(tmp_path / "res", "compare") as target:
        target.publish({"runs.csv": b"1\n"})
    with pytest.raises(InputError, match="'coopsim compare'"):
        folders.check(tmp_path / "res", "run")


def test_an_empty_folder_may_be_used(tmp_path: Path) -> None:
    (tmp_path / "res").mkdir()
    with folders.claim(tmp_path / "res", "run") as target, target.staging() as stage:
        (stage / "x.csv").write_text("1\n")
    assert (tmp_path / "res" / "x.csv").read_text() == "1\n"


# --- one writer at a time ---------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["run", "sweep"])
def test_a_second_writer_is_refused_while_the_first_holds_the_folder(kind: str,
                                                                     tmp_path: Path) -> None:
    out = tmp_path / "res"
    with folders.claim(out, kind), pytest.raises(InputError, match="another coopsim is"), \
            folders.claim(out, kind):
        pytest.fail("two writers")
    with folders.claim(out, kind):  # released: the next one gets it
        pass
    assert strays(tmp_path) == []


# --- a kept folder's manifest describes its tables --------------------------------------------


def test_publish_removes_the_manifest_before_the_tables_change(tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch
                                                               ) -> None:
    out = tmp_path / "res"
    with folders.claim(out, "compare") as target:
        target.publish({"runs.csv": b"old\n", "manifest.json": b'{"old": 1}'})
    seen = []
    real = folders.atomic_write

    def spy(path: Path, data: bytes) -> None:
        if path.name == "runs.csv":
            seen.append(os.path.exists(out / "manifest.json"))
        real(path, data)

    monkeypatch.setattr(folders, "atomic_write", spy)
    with folders.claim(out, "compare") as target:
        target.publish({"runs.csv": b"new\n", "manifest.json": b'{"new": 1}'})
    assert seen == [False]
    assert (out / "manifest.json").read_bytes() == b'{"new": 1}'


# --- symlinks are never followed --------------------------------------------------------------

NAMES = ["res", ".res" + folders.LOCK, "res/" + folders.MARKER, "res/summary.csv",
         "res/manifest.json", "res/runs.csv", "res/shards", "res/shards/" + "0" * 20 + ".parquet"]


@st.composite
def planted(draw: st.DrawFn) -> tuple[str, str, bool]:
    """(name, kind, whether a previous result exists) for a symlink to plant."""
    token = draw(st.text("0123456789abcdefXYZ_", min_size=1, max_size=12))
    name = draw(st.sampled_from([*NAMES, f".res{folders.PARTIAL}{token}",
                                 f".res{folders.OLD}{token}", f"res/.runs.csv{folders.PARTIAL}"
                                 f"{token}", f"res/.{token}"]))
    return name, draw(st.sampled_from(["run", "compare"])), draw(st.booleans())


@settings(max_examples=120, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=planted(), to_folder=st.booleans())
def test_a_planted_symlink_is_never_followed(case: tuple[str, str, bool], to_folder: bool,
                                             tmp_path_factory: pytest.TempPathFactory) -> None:
    name, kind, previous = case
    base = tmp_path_factory.mktemp("planted")
    victim = base / "victim"
    victim.mkdir()
    (victim / "precious.txt").write_text("keep me")
    if previous:
        write_some(base / "res", kind, b"previous\n")
    link = base / name
    if not link.parent.is_dir():
        return
    if os.path.lexists(link):
        shutil.rmtree(link) if link.is_dir() and not link.is_symlink() else link.unlink()
    link.symlink_to(victim if to_folder else victim / "precious.txt")
    before = snapshot(victim)
    try:
        write_some(base / "res", kind, b"new\n")
    except InputError as e:
        assert "\n" not in str(e)
    assert snapshot(victim) == before
    assert os.readlink(link) == str(victim if to_folder else victim / "precious.txt") \
        or not os.path.lexists(link)


def write_some(out: Path, kind: str, data: bytes) -> None:
    """What a command does with its folder, through the same code."""
    with folders.claim(out, kind) as target:
        if kind in folders.KEPT:
            folders.atomic_write(target.shards / ("1" * 20 + ".parquet"), data)
            target.publish({"runs.csv": data, "manifest.json": b"{}"})
        else:
            with target.staging() as stage:
                (stage / "summary.csv").write_bytes(data)


# --- leftovers of a process that died ---------------------------------------------------------


def test_the_next_run_restores_results_moved_aside_and_cleans_up(tmp_path: Path) -> None:
    out = tmp_path / "res"
    write_some(out, "run", b"previous\n")
    previous = snapshot(out)
    aside = tmp_path / f".res{folders.OLD}dead"
    os.rename(out, aside)  # a two-rename swap killed between its renames
    stage = tmp_path / f".res{folders.PARTIAL}dead"
    stage.mkdir(mode=0o700)
    folders.atomic_write(stage / folders.MARKER, folders.Marker("run").dumps())
    (stage / "summary.csv").write_text("half")
    with folders.claim(out, "run") as target:
        assert snapshot(out) == previous
        assert any("restored" in n for n in target.notes)
    assert strays(tmp_path) == []


def test_a_file_slipped_in_during_the_run_is_kept(tmp_path: Path) -> None:
    out = tmp_path / "res"
    write_some(out, "run", b"previous\n")
    with folders.claim(out, "run") as target:
        (out / "notes.txt").write_text("written while coopsim ran")
        with target.staging() as stage:
            (stage / "summary.csv").write_text("new\n")
    assert (out / "summary.csv").read_text() == "new\n"
    kept = [n for n in target.notes if n.startswith("kept")]
    assert len(kept) == 1
    folder = Path(kept[0].split()[1].rstrip(":"))
    assert (folder / "notes.txt").read_text() == "written while coopsim ran"


# --- kills at any moment ----------------------------------------------------------------------


def assert_old_or_new(out: Path, old: dict, new: dict) -> None:
    """After a kill: the folder holds the whole old result or the whole new one, or the old
    one waits beside it for the next run to restore."""
    if out.exists():
        assert snapshot(out) in (old, new)
        return
    aside = [p for p in out.parent.iterdir() if p.name.startswith(f".{out.name}{folders.OLD}")]
    assert [snapshot(p) for p in aside] == [old]


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_run_killed_at_every_file_system_call(exchange: bool, tmp_path: Path, world_file: Path,
                                              fork: Forker) -> None:
    out, reference, saved = tmp_path / "res", tmp_path / "reference", tmp_path / "saved"
    assert fork(run_args(world_file, out, 1), exchange=exchange)[0] == 0
    old = snapshot(out)
    shutil.copytree(out, saved, symlinks=True)
    assert fork(run_args(world_file, reference, 2), exchange=exchange)[0] == 0
    new = snapshot(reference)
    rc, calls = fork(run_args(world_file, out, 2), exchange=exchange)
    assert rc == 0 and calls
    for kill_at in range(1, calls + 1):
        shutil.rmtree(out)
        shutil.copytree(saved, out, symlinks=True)
        killed = fork(run_args(world_file, out, 2), kill_at=kill_at, exchange=exchange)
        assert killed[0] == -signal.SIGKILL, f"call {kill_at} of {calls} did not kill"
        assert_old_or_new(out, old, new)
        assert fork(run_args(world_file, out, 2), exchange=exchange)[0] == 0
        assert snapshot(out) == new
        assert strays(tmp_path) == []
    assert calls >= 15  # every call of the write was a kill point


def test_run_killed_at_random_moments(tmp_path: Path, world_file: Path, fork: Forker) -> None:
    out, reference, saved = tmp_path / "res", tmp_path / "reference", tmp_path / "saved"
    assert fork(run_args(world_file, out, 1))[0] == 0
    old = snapshot(out)
    shutil.copytree(out, saved, symlinks=True)
    began = time.perf_counter()
    assert fork(run_args(world_file, reference, 2))[0] == 0
    span, rng = time.perf_counter() - began, random.Random(11)
    new = snapshot(reference)
    for _ in range(15):
        shutil.rmtree(out)
        shutil.copytree(saved, out, symlinks=True)
        fork(run_args(world_file, out, 2), kill_after=rng.uniform(0, span))
        assert_old_or_new(out, old, new)
        assert fork(run_args(world_file, out, 2))[0] == 0
        assert snapshot(out) == new
        assert strays(tmp_path) == []


def manifest_describes_its_tables(out: Path) -> None:
    if not (out / "manifest.json").exists():
        return
    tables = json.loads((out / "manifest.json").read_text())["tables"]
    for name, digest in tables.items():
        assert folders.sha256(out / name) == digest, name


def test_an_experiment_killed_anywhere_resumes_to_the_same_bytes(tmp_path: Path,
                                                                 world_file: Path,
                                                                 fork: Forker) -> None:
    reference, out = tmp_path / "reference", tmp_path / "res"
    rc, calls = fork(compare_args(world_file, reference))
    assert rc == 0 and calls
    expected = {k: v for k, v in snapshot(reference).items() if not k.startswith("shards")}
    rng = random.Random(5)
    for kill_at in sorted(rng.sample(range(1, calls + 1), 8)):
        shutil.rmtree(out, ignore_errors=True)
        assert fork(compare_args(world_file, out), kill_at=kill_at)[0] == -signal.SIGKILL
        manifest_describes_its_tables(out)
        assert fork(compare_args(world_file, out))[0] == 0
        got = {k: v for k, v in snapshot(out).items() if not k.startswith("shards")}
        assert got == expected
        assert stat.S_ISDIR(os.lstat(out / "shards").st_mode)
        assert strays(tmp_path) == []
