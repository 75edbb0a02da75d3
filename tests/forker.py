"""Runs the coopsim CLI in forked children on request, for the kill tests (test_outputs.py).

A fresh, single-threaded interpreter (forking the test process itself, which runs threads,
could deadlock a child): it loads the CLI once, then reads one JSON request per line,

    {"args": [...], "kill_at": N, "kill_after": SECONDS, "exchange": true}

forks a child that runs ``coopsim ARGS`` (stdout and stderr to /dev/null), SIGKILLed at its
N-th file-system call (``kill_at``, 0: never) or after ``kill_after`` seconds, and answers
``{"status": S, "calls": C}``: S the exit status, or minus the signal that ended the child; C
the file-system calls the child made (when it finished).
"""

from __future__ import annotations

import json
import os
import signal
import sys
import time
import warnings
from collections.abc import Callable

os.environ.update(OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1")  # no BLAS thread pool

from sim.cli import main
from sim.outputs import folders

# What runs besides this thread is native and idle (Arrow's, started when pandas loads it):
# no Python code and no lock a child needs, so Python's warning about forking does not apply.
warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)

COUNTED = ("open", "mkdir", "rename", "replace", "unlink", "rmdir", "fsync", "chmod")


def child(request: dict, report: int) -> None:
    """In the child: count (and maybe die at) file-system calls, run the CLI, report."""
    folders.EXCHANGE = request.get("exchange", True)
    calls = [0]

    def counted(fn: Callable[..., object]) -> Callable[..., object]:
        def call(*a: object, **k: object) -> object:
            calls[0] += 1
            if calls[0] == request.get("kill_at", 0):
                os.kill(os.getpid(), signal.SIGKILL)
            return fn(*a, **k)
        return call

    for name in COUNTED:
        setattr(os, name, counted(getattr(os, name)))
    folders._exchange = counted(folders._exchange)
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    rc = main(request["args"])
    os.write(report, str(calls[0]).encode())
    os._exit(rc)


def serve(request: dict) -> dict:
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            child(request, w)
        finally:
            os._exit(99)
    os.close(w)
    if request.get("kill_after") is not None:
        time.sleep(request["kill_after"])
        os.kill(pid, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    calls = os.read(r, 64).decode()
    os.close(r)
    code = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    return {"status": code, "calls": int(calls) if calls else None}


if __name__ == "__main__":
    for line in sys.stdin:
        print(json.dumps(serve(json.loads(line))), flush=True)
