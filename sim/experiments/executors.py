"""Where runs execute: a pool of local worker processes, or a Dask cluster.

Local workers (:func:`local_pool`) are spawned with SIGINT ignored, so a Ctrl-C on the
terminal reaches only the parent, which then terminates them at once. :func:`connect` opens a
Dask client for ``--executor``; :func:`check_address` validates an address without connecting.
``distributed`` is imported only when a cluster is used.
"""

from __future__ import annotations

import asyncio
import importlib.util
import ipaddress
import multiprocessing
import re
import signal
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import BrokenExecutor, CancelledError, Future, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from typing import TYPE_CHECKING, Any

from sim.inputs.schema import InputError

if TYPE_CHECKING:
    from distributed import Client

OPTION = "--executor"
EXPECTED = "expected dask://HOST:PORT, tcp://HOST:PORT or tls://HOST:PORT"
SCHEMES = {"dask": "tcp", "tcp": "tcp", "tls": "tls"}  # as given -> distributed's protocol
ADDRESS = re.compile(r"(?P<scheme>[a-z]+)://(?P<host>\[[^\[\]]+\]|[^\[\]:/@]+):(?P<port>\d{1,5})")
HOSTNAME = re.compile(r"[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_])?")
TLS_SETTINGS = ("a CA and a client certificate in the Dask configuration: "
                "distributed.comm.tls.ca-file, distributed.comm.tls.client.cert and .key "
                "(e.g. DASK_DISTRIBUTED__COMM__TLS__CA_FILE)")
STOP_SECONDS = 5.0  # a terminated worker that has not exited by then is killed
TRANSIENT = (MemoryError, OSError, BrokenExecutor, CancelledError)  # TimeoutError is an OSError


def transient(error: BaseException) -> bool:
    """Whether a run that raised ``error`` may succeed when retried: memory, I/O (ENOSPC,
    timeouts, a closed connection), a lost worker process or cluster worker, a cancellation."""
    if isinstance(error, TRANSIENT):
        return True
    scheduler = sys.modules.get("distributed.scheduler")  # loaded if a cluster raised it
    return scheduler is not None and isinstance(error, scheduler.KilledWorker)


def ignore_sigint() -> None:
    """Worker initializer: a Ctrl-C on the terminal is for the parent, not for its workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if hasattr(signal, "pthread_sigmask"):
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


@contextmanager
def _sigint_blocked() -> Iterator[None]:
    """Block SIGINT in this thread while it may start workers: they inherit the block, so a
    Ctrl-C while they import is held until :func:`ignore_sigint` discards it. This process
    still receives it (through another thread, or when the block ends)."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


class _Pool(ProcessPoolExecutor):
    """A process pool whose workers start (on submit) with SIGINT held, then ignored."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future:
        with _sigint_blocked():
            return super().submit(fn, *args, **kwargs)


@contextmanager
def local_pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A pool of up to ``workers`` spawned processes (started as tasks arrive) that ignore
    SIGINT. Leaving normally waits for the pool; leaving on any exception, a Ctrl-C included,
    terminates the workers at once (running tasks are abandoned)."""
    pool = _Pool(max(1, workers), mp_context=multiprocessing.get_context("spawn"),
                 initializer=ignore_sigint)
    try:
        yield pool
    except BaseException:
        stop(pool)
        raise
    pool.shutdown(cancel_futures=True)


def stop(pool: ProcessPoolExecutor) -> None:
    """Terminate the pool's worker processes now and reap them."""
    processes = list((getattr(pool, "_processes", None) or {}).values())
    if hasattr(pool, "terminate_workers"):  # Python 3.14
        pool.terminate_workers()
    else:
        pool.shutdown(wait=False, cancel_futures=True)
        for p in processes:
            with suppress(ValueError):  # already closed
                p.terminate()
    for p in processes:
        with suppress(ValueError):
            p.join(STOP_SECONDS)
            if p.is_alive():
                p.kill()
                p.join()


def check_address(address: str) -> str:
    """The scheduler address that ``--executor ADDRESS`` names, checked without connecting.

    ``dask://HOST:PORT`` means ``tcp://HOST:PORT``; ``tls://`` needs the Dask TLS settings
    (a CA and a client certificate). An IPv6 host goes in brackets. A malformed address, a
    missing ``distributed`` or missing TLS settings raise :class:`InputError`.
    """
    m = ADDRESS.fullmatch(address)
    if not m or m["scheme"] not in SCHEMES or not _host(m["host"]) \
            or not 1 <= int(m["port"]) <= 65535:
        raise InputError(OPTION, address, EXPECTED)
    if importlib.util.find_spec("distributed") is None:
        raise InputError(OPTION, address, "needs the dask extra: pip install -e '.[dask]'")
    target = f"{SCHEMES[m['scheme']]}://{m['host']}:{int(m['port'])}"
    if target.startswith("tls://"):
        _security(address, target)
    return target


def _host(host: str) -> bool:
    if host.startswith("["):
        try:
            ipaddress.IPv6Address(host[1:-1])
        except ValueError:
            return False
        return True
    return HOSTNAME.fullmatch(host) is not None


def _security(address: str, target: str) -> Any:
    """distributed's ``Security`` from the Dask configuration (what ``Client`` uses by
    default); a ``tls://`` target needs a CA file and a client certificate that load."""
    from distributed.security import Security

    security = Security()
    if target.startswith("tls://"):
        tls = security.get_tls_config_for_role("client")
        if not (tls["ca_file"] and tls["cert"]):
            raise InputError(OPTION, address, f"tls:// needs {TLS_SETTINGS}")
        try:
            security.get_connection_args("client")
        except (OSError, ValueError) as e:
            raise InputError(OPTION, address, f"the Dask TLS settings do not load: {e}") from None
    return security


@contextmanager
def connect(address: str, timeout: float = 5.0) -> Iterator[Client]:
    """A ``distributed.Client`` of the scheduler at ``address`` (see :func:`check_address`),
    closed on exit. No answer within ``timeout`` seconds is an :class:`InputError`.

    For synchronous callers such as the command line (it runs its own event loop briefly).
    """
    target = check_address(address)
    try:
        from distributed import Client
    except ImportError as e:  # installed, but broken
        raise InputError(OPTION, address, f"{e}: pip install -e '.[dask]'") from None
    security = _security(address, target)
    try:  # Client's own timeout does not bound a peer that accepts but never answers
        peer = asyncio.run(asyncio.wait_for(_identity(target, security, timeout), timeout))
        if peer.get("type") != "Scheduler":
            raise InputError(OPTION, address, f"not a Dask scheduler (a {peer.get('type')})")
        client = Client(target, security=security, timeout=timeout, set_as_default=False)
    except InputError:
        raise
    except OSError:  # refused, unreachable, timed out (TimeoutError), TLS handshake
        raise InputError(OPTION, "", f"no Dask scheduler answered at {address} within "
                                     f"{timeout:g} s") from None
    except Exception as e:  # a peer that speaks something else, a bad TLS setting
        raise InputError(OPTION, address, f"cannot connect: {type(e).__name__}: {e}") from None
    try:
        yield client
    finally:
        client.close(timeout=timeout)


async def _identity(target: str, security: Any, timeout: float) -> dict[str, Any]:
    """Ask the scheduler who it is (fails unless a Dask scheduler answers)."""
    from distributed.core import rpc

    async with rpc(target, timeout=timeout,
                   connection_args=security.get_connection_args("client")) as scheduler:
        return await scheduler.identity()
