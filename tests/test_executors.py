"""Executors: lost workers, Ctrl-C with worker processes, and Dask addresses."""

from __future__ import annotations

import concurrent.futures
import errno
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
from conftest import UN, make_variant, make_world, set_value, variant_data, world_data

from sim.briefing import brief
from sim.experiments import analyses, execution, executors
from sim.experiments.execution import Task
from sim.experiments.store import ShardStore
from sim.inputs.provisions import load_variant
from sim.inputs.schema import InputError

TESTS = Path(__file__).resolve().parent
MARKS = "COOPSIM_TEST_MARKS"  # a folder the worker functions below leave marks in
linux = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="needs /proc")


def kill_once(task: Task) -> dict:
    """Run ``task``, but SIGKILL this worker the first time the run of ``period_2`` starts
    (the OS kills it)."""
    mark = Path(os.environ[MARKS], "killed")
    if task.name == "period_2" and not mark.exists():
        mark.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return execution.run_task(task)


def slow_run(task: Task) -> dict:
    """Leave this worker's pid as a mark, then take far longer than any test waits."""
    Path(os.environ[MARKS], str(os.getpid())).touch()
    time.sleep(120)
    return execution.run_task(task)


def tasks(runs: int, window: int = 120, reps: int = 2) -> list[Task]:
    """``runs`` runs on the same seed, of texts that differ in their preservation period
    (the UN text, then ``period_1``, ``period_2``, ...), each measured over ``reps`` windows
    of ``window`` days."""
    world = make_world(world_data())
    variants = [load_variant(UN)]
    for k in range(1, runs):
        other = variant_data()
        other["variant"]["name"] = f"period_{k}"
        set_value(other, "preservation.min_days", 30 * k)
        variants.append(make_variant(other))
    return [Task.of(v, world, 1, window, reps) for v in variants]


def table(todo: list[Task], results: list[dict]) -> pd.DataFrame:
    """One row per window of every run, as an experiment's table has them."""
    return pd.DataFrame([{"variant": t.name, **row} for t, r in zip(todo, results, strict=True)
                         for row in execution.rows(t, r)])


def test_a_killed_worker_fails_its_runs_as_transient_and_the_next_call_completes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(MARKS, str(tmp_path))
    todo = tasks(6)
    undisturbed = table(todo, execution.execute(todo))
    assert undisturbed["rep"].tolist() == [0, 1] * 6  # each run: two windows
    store = ShardStore(tmp_path / "out")
    first = execution.execute(todo, workers=2, store=store, run=kill_once)  # no exception
    lost = execution.failures(first)
    assert (tmp_path / "killed").exists()
    assert lost.transient >= 1 and lost.deterministic == 0
    assert "BrokenProcessPool" in lost.first_error
    assert len(store.load()) == len(todo) - lost.transient  # transient failures not stored
    second = execution.execute(todo, workers=2, store=store, run=kill_once)
    assert execution.failures(second).count == 0
    assert table(todo, second).to_csv() == undisturbed.to_csv()


SCRIPT = """
import sys, threading, time, multiprocessing
sys.path.insert(0, {tests!r})
import test_executors
from sim.experiments import execution

def announce():
    while len(multiprocessing.active_children()) < 2:
        time.sleep(0.01)
    pids = sorted(p.pid for p in multiprocessing.active_children())
    print("spawned", *pids, flush=True)

threading.Thread(target=announce, daemon=True).start()
try:
    execution.execute(test_executors.tasks(2), workers=2, run=test_executors.slow_run)
except KeyboardInterrupt:
    print("interrupted", flush=True)
    sys.exit(130)
"""


def alive(pid: int) -> bool:
    """Whether process ``pid`` exists and is not a zombie."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] not in "ZX"
    except (FileNotFoundError, ProcessLookupError):
        return False


def handles_sigint(pid: int) -> bool:
    """Whether process ``pid`` has set up SIGINT (caught, as Python starts, or ignored)."""
    bit = 1 << (signal.SIGINT - 1)
    fields = dict(line.split(":\t", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":\t" in line)
    return any(int(fields[f], 16) & bit for f in ("SigCgt", "SigIgn"))


def ready(moment: str, pids: list[int], marks: Path) -> bool:
    if moment == "starting":  # Python is up in every worker, which may still be importing
        return all(handles_sigint(p) for p in pids)
    return len(os.listdir(marks)) == len(pids)  # every worker is inside a run


@linux
@pytest.mark.parametrize("moment", ["starting", "running"])
def test_ctrl_c_stops_the_workers_at_once_without_tracebacks(
        moment: str, tmp_path: Path) -> None:
    """SIGINT to the whole process group, as a terminal sends it, while the workers start
    (their Python is up, importing the simulator) or while they simulate."""
    env = {**os.environ, MARKS: str(tmp_path), "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-c", SCRIPT.format(tests=str(TESTS))], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        line = proc.stdout.readline().split()
        assert line[:1] == ["spawned"], proc.stderr.read()
        pids = [int(p) for p in line[1:]]
        deadline = time.monotonic() + 60
        while not ready(moment, pids, tmp_path):
            assert time.monotonic() < deadline, f"the workers never got to {moment}"
            time.sleep(0.005)
        os.killpg(proc.pid, signal.SIGINT)
        sent = time.monotonic()
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert time.monotonic() - sent < 10  # not after the 120 s runs
    assert (proc.returncode, out, err) == (130, "interrupted\n", "")
    assert not any(alive(p) for p in pids)


def test_a_pool_never_has_more_workers_than_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    sizes = []
    real = executors.local_pool
    monkeypatch.setattr(executors, "local_pool", lambda n: sizes.append(n) or real(n))
    execution.execute(tasks(2, window=50, reps=1), workers=8)
    assert sizes == [2]
    with brief.pool(8, runs=1) as none:
        assert none is None
    with brief.pool(8, runs=3) as pool:
        assert pool._max_workers == 3


def reject(path: str) -> None:
    """What validation raises in a worker process (a spawned one imports this module)."""
    raise InputError(path, "cases.per_year.value", "must be at least 0.001")


def test_an_input_error_in_a_worker_reaches_the_parent_whole() -> None:
    """An InputError pickles by its three parts, so a worker's error is not a lost pool."""
    with executors.local_pool(1) as pool:
        future = pool.submit(reject, "world.toml")
        with pytest.raises(InputError) as info:
            future.result(timeout=60)
    assert str(info.value) == "world.toml: cases.per_year.value: must be at least 0.001"
    assert (info.value.path, info.value.key, info.value.message) == (
        "world.toml", "cases.per_year.value", "must be at least 0.001")


@pytest.mark.parametrize("error, expected", [
    (MemoryError(), True), (OSError(errno.ENOSPC, "No space left on device"), True),
    (TimeoutError(), True), (concurrent.futures.CancelledError(), True),
    (concurrent.futures.process.BrokenProcessPool("lost"), True),
    (ValueError("bad"), False), (RuntimeError("model bug"), False), (KeyError("x"), False)])
def test_which_failures_are_transient(error: BaseException, expected: bool) -> None:
    assert executors.transient(error) is expected


def test_dask_worker_and_connection_losses_are_transient() -> None:
    pytest.importorskip("distributed")
    from distributed.comm.core import CommClosedError
    from distributed.scheduler import KilledWorker

    assert executors.transient(KilledWorker("task", 3, "worker"))
    assert executors.transient(CommClosedError("closed"))


@pytest.mark.parametrize("address", [
    "", "localhost:8786", "dask://", "dask://localhost", "dask://:8786", "dask://host:0",
    "dask://host:65536", "dask://host:123456", "http://host:8786", "ws://host:8786",
    "tcp://host:port", "tcp://::1:8786", "tcp://[::1:8786", "tcp://[nothex]:8786",
    "tcp://user@host:8786", "tcp://host:8786/path", "dask://host:8786 ", "dask://ho st:1",
    "tcp://-host:1"])
def test_malformed_dask_addresses_are_one_line_errors(address: str) -> None:
    with pytest.raises(InputError) as info:
        executors.check_address(address)
    message = str(info.value)
    assert message.startswith(f"--executor: {address}") and "\n" not in message
    assert "expected dask://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT" in message


@pytest.mark.parametrize("address, target", [
    ("dask://localhost:8786", "tcp://localhost:8786"),
    ("tcp://10.0.0.7:1", "tcp://10.0.0.7:1"),
    ("dask://[::1]:65535", "tcp://[::1]:65535"),
    ("tcp://scheduler.example.org:08786", "tcp://scheduler.example.org:8786")])
def test_well_formed_dask_addresses_are_accepted_without_connecting(address: str,
                                                                    target: str) -> None:
    pytest.importorskip("distributed")
    assert executors.check_address(address) == target


def test_a_missing_distributed_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    real = executors.importlib.util.find_spec
    monkeypatch.setattr(executors.importlib.util, "find_spec",
                        lambda name, *a: None if name == "distributed" else real(name, *a))
    with pytest.raises(InputError, match=r"pip install -e '\.\[dask\]'"):
        executors.check_address("dask://localhost:8786")


def test_tls_without_certificates_is_an_error_before_connecting() -> None:
    pytest.importorskip("distributed")
    with pytest.raises(InputError, match=r"distributed\.comm\.tls\.ca-file"):
        executors.check_address("tls://localhost:8786")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize("peer", ["nobody", "silent"])
def test_no_scheduler_answering_fails_within_the_timeout(peer: str) -> None:
    """Nothing listening, or a listener that never speaks (Client alone would hang)."""
    pytest.importorskip("distributed")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        if peer == "silent":
            listener.listen()
        port = listener.getsockname()[1] if peer == "silent" else free_port()
        address = f"tcp://127.0.0.1:{port}"
        began = time.monotonic()
        with pytest.raises(InputError) as info, executors.connect(address, timeout=1):
            pass
    assert time.monotonic() - began < 4
    assert str(info.value) == f"--executor: no Dask scheduler answered at {address} within 1 s"


def test_a_dask_scheduler_address_connects_and_gives_the_same_table(un, small_world) -> None:
    distributed = pytest.importorskip("distributed")
    other = variant_data()
    other["variant"]["name"] = "longer_period"
    set_value(other, "preservation.min_days", 180)
    variants = [un, make_variant(other)]
    local = analyses.compare(variants, small_world, reps=2, seed=3, window=120)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tcp://", dashboard_address=None) as cluster:
        address = cluster.scheduler_address.replace("tcp://", "dask://")
        with executors.connect(address) as client:
            on_dask = analyses.compare(variants, small_world, reps=2, seed=3, window=120,
                                       executor=client)
        assert client.status == "closed"
    pd.testing.assert_frame_equal(local, on_dask)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs openssl to make a certificate")
def test_a_tls_scheduler_connects_with_the_dask_tls_settings(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    import dask
    from distributed.security import Security

    cert, key = str(tmp_path / "cert.pem"), str(tmp_path / "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                    "-subj", "/CN=coopsim-test", "-keyout", key, "-out", cert],
                   check=True, capture_output=True)
    roles = {f"tls_{r}_{part}": path for r in ("scheduler", "worker", "client")
             for part, path in (("cert", cert), ("key", key))}
    security = Security(tls_ca_file=cert, require_encryption=True, **roles)
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  protocol="tls://", security=security,
                                  dashboard_address=None) as cluster:
        address = cluster.scheduler_address
        assert address.startswith("tls://")
        with pytest.raises(InputError, match="tls:// needs"):
            executors.check_address(address)
        settings = {"distributed.comm.tls.ca-file": cert,
                    "distributed.comm.tls.client.cert": cert,
                    "distributed.comm.tls.client.key": key}
        with dask.config.set(settings), executors.connect(address) as client:
            assert client.submit(abs, -2).result() == 2
