"""Engine benchmark: throughput, SimPy overhead, cost linearity and peak memory.

Runs the model on the default world and the UN convention variant at several sizes. Sizes
grow by lengthening the arrival window at a fixed daily rate (the default world's 10,000
cases a year unless ``--per-year`` says otherwise), and each run goes to the end of the
window plus three years, so nearly every request finishes. Each size runs in a fresh
``spawn`` subprocess so that ``ru_maxrss`` is the peak of that size alone.

Beside each model run, a bare SimPy script with the same number of processes (one per
request) and about the same number of events (the rest are timeouts), stepped day by day
over the same horizon, gives the floor the engine is compared with. Events are counted by
wrapping ``env.step`` on the instance, in both runs alike.

This is a report, not a test: it prints the targets beside the measured values and always
exits 0.

    python benchmarks/engine.py                      # ~100k and ~300k requests
    python benchmarks/engine.py --full               # adds ~1M requests
    python benchmarks/engine.py --requests 20000 50000
    python benchmarks/engine.py --repeat 3           # fastest of three runs of each
"""

from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import platform
import resource
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import simpy

if TYPE_CHECKING:
    from sim.world import World

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

VARIANT = ROOT / "scenarios" / "un_convention_2024.toml"
REQUESTS_PER_CASE = 1.2  # multi-hop trails; only used to size the arrival window
TAIL_DAYS = 5 * 365  # run on after the last arrival so that nearly all requests finish
DESK_FACTOR = 10  # central-authority staff multiplier: queues stay bounded over long windows
DEFAULT_SIZES = (100_000, 300_000)
FULL_SIZE = 1_000_000

TARGET_RATE = 25_000.0  # requests per second on one core
TARGET_RATIO = 2.0  # model time / bare SimPy time
TARGET_LINEARITY = 1.25  # time per request, largest/smallest within [1/1.25, 1.25]: "constant"
TARGET_RSS_MB = 500.0  # peak RSS at 1,000,000 requests


@dataclass(frozen=True, slots=True)
class ModelRun:
    """One model run, measured in its own process."""

    requests: int
    events: int
    days: int
    seconds: float
    cpu: float  # process CPU seconds; well below ``seconds`` means the core was shared
    rss_mb: float
    mean_life: float  # mean days from need to outcome, to give the bare run a similar heap


@dataclass(frozen=True, slots=True)
class BareRun:
    events: int
    seconds: float


def count_steps(env: simpy.Environment) -> Callable[[], int]:
    """Wrap ``env.step`` on the instance; return a function reading the count."""
    step, n = env.step, [0]

    def counted() -> None:
        n[0] += 1
        step()

    env.step = counted  # type: ignore[method-assign]
    return lambda: n[0]


def peak_rss_mb() -> float:
    """Peak resident set size of this process (ru_maxrss is KiB on Linux, bytes on macOS)."""
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if platform.system() == "Darwin" else rss / 2**10


def ample_desks(world: World) -> World:
    """The world with every central-authority desk ``DESK_FACTOR`` times larger.

    The default world's desks are sized for one year of arrivals: they build a queue during
    that year and drain it after (that is how MLA takes months). Over a window of many
    years the same load would grow the queue without bound, and the benchmark would measure
    an ever longer priority queue instead of the engine. Larger desks keep every queue
    bounded while each request still takes and releases a desk.
    """
    from sim.inputs import validate
    from sim.world import World, scale_staff

    data = world.model_dump(mode="json")
    scale_staff(data, DESK_FACTOR)
    return validate(World, data, "<benchmark world>")


def run_model(requests: int, per_year: float, seed: int) -> ModelRun:
    """Build a world with ``requests`` worth of arrivals, run it and measure."""
    from sim.model import CooperationModel
    from sim.provisions import load_variant
    from sim.vocabulary import Stage
    from sim.world import load_world

    world = ample_desks(load_world())
    cases = world.cases
    window = requests / (per_year * REQUESTS_PER_CASE) * 365
    cases = cases.model_copy(update={
        "per_year": cases.per_year.model_copy(update={"value": per_year}),
        "arrival_days": cases.arrival_days.model_copy(update={"value": window})})
    world = world.model_copy(update={"cases": cases})
    days = math.ceil(window) + TAIL_DAYS
    m = CooperationModel(load_variant(VARIANT), world, seed=seed)
    events = count_steps(m.env)
    t0, c0 = time.perf_counter(), time.process_time()
    m.run(days)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    rss = peak_rss_mb()
    stage, start, end = (np.frombuffer(a, dtype=a.typecode)
                         for a in (m.log.stage, m.log.start, m.log.end))
    outcome = stage == Stage.OUTCOME
    life = float((end[outcome] - start[outcome]).mean())
    return ModelRun(m.created, events(), days, seconds, cpu, rss, life)


def exponentials(mean: float, chunk: int = 65_536) -> Iterator[float]:
    """Endless exponential delays, drawn in chunks so that memory stays flat at any size."""
    rng = np.random.default_rng(0)
    while True:
        yield from rng.exponential(mean, chunk).tolist()


def bare_simpy(requests: int, events: int, days: int, window: float, life: float) -> BareRun:
    """Bare SimPy with the model's shape: one process per request, the rest timeouts.

    Per request the kernel sees an arrival timeout, the process's initialisation and its
    termination; each day's ``run(until=...)`` adds two steps (SimPy reschedules the
    ``until`` event once it stops the run, and processes it again at the start of the next
    one). All other events are spread over the processes as timeouts whose delays add up to
    the model's mean request life, so the event heap holds a similar number of entries.
    """
    timeouts = max(events - 3 * requests - 2 * days - 1, 0)
    per = timeouts / requests
    delays = exponentials(life / max(per, 1))
    env = simpy.Environment()

    def life_of(n: int) -> Generator[simpy.Event]:
        for _ in range(n):
            yield env.timeout(next(delays))

    def arrivals() -> Generator[simpy.Event]:
        gap = window / requests
        for i in range(requests):
            yield env.timeout(gap)
            env.process(life_of(int((i + 1) * per) - int(i * per)))

    env.process(arrivals())
    counted = count_steps(env)
    t0 = time.perf_counter()
    for day in range(days):
        env.run(until=day + 1)
    return BareRun(counted(), time.perf_counter() - t0)


def isolated[T](fn: Callable[..., T], *args: object) -> T:
    """Call ``fn(*args)`` in a fresh spawned process (so ru_maxrss is its own)."""
    with mp.get_context("spawn").Pool(1) as pool:
        return pool.apply(fn, args)


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, nargs="+", default=list(DEFAULT_SIZES),
                        metavar="N", help="approximate request counts to run")
    parser.add_argument("--full", action="store_true", help=f"also run {FULL_SIZE:,} requests")
    parser.add_argument("--per-year", type=float, default=10_000.0,
                        help="cases a year (default: the default world's 10,000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run model and bare SimPy N times each, alternately, and keep "
                             "the fastest of each (steadier ratios on a shared machine)")
    args = parser.parse_args(argv)
    sizes = sorted(set(args.requests) | ({FULL_SIZE} if args.full else set()))

    print(f"engine benchmark: {VARIANT.relative_to(ROOT)}, default world at "
          f"{args.per_year:,.0f} cases/yr, seed {args.seed}, window + {TAIL_DAYS} days, "
          f"Python {platform.python_version()}, SimPy {simpy.__version__}")
    head = (f"{'requests':>10} {'events':>11} {'days':>6} {'wall s':>8} {'cpu s':>8} {'req/s':>8} "
            f"{'events/s':>9} {'us/req':>7} {'peak MB':>8} {'bare s':>7} {'bare ev':>11} "
            f"{'x bare':>6}")
    print(head)
    print("-" * len(head))
    rows: list[tuple[ModelRun, BareRun]] = []
    for n in sizes:
        pairs = []
        for _ in range(max(args.repeat, 1)):
            run = isolated(run_model, n, args.per_year, args.seed)
            window = run.days - TAIL_DAYS
            pairs.append((run, isolated(bare_simpy, run.requests, run.events, run.days,
                                        window, run.mean_life)))
        run = min((r for r, _ in pairs), key=lambda r: r.seconds)
        bare = min((b for _, b in pairs), key=lambda b: b.seconds)
        rows.append((run, bare))
        print(f"{run.requests:>10,} {run.events:>11,} {run.days:>6,} {run.seconds:>8.2f} "
              f"{run.cpu:>8.2f} "
              f"{run.requests / run.seconds:>8,.0f} {run.events / run.seconds:>9,.0f} "
              f"{1e6 * run.seconds / run.requests:>7.1f} {run.rss_mb:>8.0f} "
              f"{bare.seconds:>7.2f} {bare.events:>11,} {run.seconds / bare.seconds:>6.2f}",
              flush=True)

    runs = [r for r, _ in rows]
    rate = min(r.requests / r.seconds for r in runs)
    ratio = max(r.seconds / b.seconds for r, b in rows)
    per_req = [r.seconds / r.requests for r in runs]
    linear = per_req[-1] / per_req[0]
    big = [r for r in runs if r.requests >= 0.95 * FULL_SIZE]
    if big:
        rss, rss_note = big[0].rss_mb * FULL_SIZE / big[0].requests, "scaled to 1M"
    elif len(runs) >= 2:  # linear extrapolation from the two largest sizes
        a, b = runs[-2], runs[-1]
        slope = (b.rss_mb - a.rss_mb) / (b.requests - a.requests)
        rss, rss_note = b.rss_mb + slope * (FULL_SIZE - b.requests), "extrapolated; use --full"
    else:
        rss, rss_note = runs[-1].rss_mb, f"at {runs[-1].requests:,} only"

    print()
    print("time per request (us): " + ", ".join(
        f"{r.requests:,}: {1e6 * p:.1f}" for r, p in zip(runs, per_req, strict=True)))
    targets = [
        (f"requests/s >= {TARGET_RATE:,.0f} (one core)", f"{rate:,.0f}", "worst size",
         rate >= TARGET_RATE),
        (f"model / bare SimPy <= {TARGET_RATIO}", f"{ratio:.2f}", "worst size",
         ratio <= TARGET_RATIO),
        (f"time/request largest/smallest {1 / TARGET_LINEARITY:.2f}..{TARGET_LINEARITY:.2f}",
         f"{linear:.2f}", f"{runs[-1].requests:,} vs {runs[0].requests:,}",
         1 / TARGET_LINEARITY <= linear <= TARGET_LINEARITY),
        (f"peak RSS at 1M requests < {TARGET_RSS_MB:.0f} MB", f"{rss:,.0f} MB", rss_note,
         rss < TARGET_RSS_MB),
    ]
    w = max(len(t[0]) for t in targets)
    print()
    print(f"{'target':<{w}}  {'measured':>9}  {'verdict':<7}  note")
    print("-" * (w + 40))
    for name, value, note, ok in targets:
        print(f"{name:<{w}}  {value:>9}  {verdict(ok):<7}  {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
