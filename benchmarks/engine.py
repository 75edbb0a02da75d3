"""Engine benchmark: throughput, SimPy overhead, cost linearity and peak memory.

Runs the model on the default world and the UN convention variant at several sizes. Sizes
grow by lengthening the measured window at a fixed daily rate (the default world's 10,000
cases a year unless ``--per-year`` says otherwise), with no warm-up, and each run goes on
(needs still arising) until the window's requests have ended, or five years after it. Each
size runs in a fresh ``spawn`` subprocess so that ``ru_maxrss`` is the peak of that size
alone.

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
    python benchmarks/engine.py --against /tmp/old   # an older checkout, side by side
    python benchmarks/engine.py --layers             # what each layer costs per request

``--against PATH`` runs the same sizes with the package found at PATH (a checkout or
worktree of another revision, e.g. ``git worktree add /tmp/old REV``), alternating with this
one, and prints both rows and the ratio: before and after, on the same machine in one sitting.
``--layers`` profiles one run of the smallest size and attributes each function's own time
to the layer it belongs to (the SimPy kernel, Mesa's data collection, and each engine module;
built-in calls are charged to their callers), scaled to the unprofiled run's time per request.
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
from typing import TYPE_CHECKING, Any

import numpy as np
import simpy

if TYPE_CHECKING:
    from sim.inputs.world import World

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
    ca = world.central_authorities
    staff = ca.staff.model_copy(update={"value": ca.staff.value * DESK_FACTOR})
    by_state = ca.staff_by_state.model_copy(update={
        "value": {k: v * DESK_FACTOR for k, v in ca.staff_by_state.value.items()}})
    ca = ca.model_copy(update={"staff": staff, "staff_by_state": by_state})
    return world.model_copy(update={"central_authorities": ca})


def benchmark_model(requests: int, per_year: float, seed: int, tree: str | None = None) -> Any:
    """The model sized for ``requests`` and its horizon, from the package at ``tree`` (this
    checkout if None). Uses only the public API, which every revision compared provides."""
    if tree is not None:
        sys.path.insert(0, tree)
    import sim
    from sim import CooperationModel, load_variant, load_world

    home = Path(tree) if tree is not None else ROOT  # each revision with its own files
    world = ample_desks(load_world(home / "scenarios" / "worlds" / "default.toml"))
    cases = world.cases
    window = requests / (per_year * REQUESTS_PER_CASE) * 365
    per_year_value = cases.per_year.model_copy(update={"value": per_year})
    if hasattr(sim, "Window"):  # needs arise without end: measure a window of them
        cases = cases.model_copy(update={"per_year": per_year_value})
        world = world.model_copy(update={"cases": cases})
        model = CooperationModel(load_variant(home / VARIANT.relative_to(ROOT)), world,
                                 seed=seed, window=sim.Window(0, window, TAIL_DAYS))
        return model, model.measure
    cases = cases.model_copy(update={  # a revision whose needs arise over a window only
        "per_year": per_year_value,
        "arrival_days": cases.arrival_days.model_copy(update={"value": window})})
    world = world.model_copy(update={"cases": cases})
    model = CooperationModel(load_variant(home / VARIANT.relative_to(ROOT)), world, seed=seed)
    return model, lambda: model.run(math.ceil(window) + TAIL_DAYS)


def run_model(requests: int, per_year: float, seed: int, tree: str | None = None) -> ModelRun:
    """Build a world with ``requests`` worth of arrivals, run it and measure."""
    m, go = benchmark_model(requests, per_year, seed, tree)
    from sim.vocabulary import Stage

    events = count_steps(m.env)
    t0, c0 = time.perf_counter(), time.process_time()
    go()
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    days = m.steps
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


LAYER_OF_MODULE = {  # engine module -> layer, under this revision's and older names
    "procedure": "procedure", "lifecycle": "procedure", "actors": "actors",
    "agents": "actors", "ledger": "ledger", "eventlog": "ledger", "cases": "cases",
    "casebook": "cases", "request": "cases",
    "routing": "routing", "model": "model", "window": "model",
}


def layer_of(filename: str) -> str:
    """The layer a function's source file belongs to."""
    parts = Path(filename).parts
    if "simpy" in parts:
        return "SimPy kernel"
    if "mesa" in parts:
        return "Mesa (agents, data collector)"
    if "sim" in parts and Path(filename).stem in LAYER_OF_MODULE:
        return f"engine: {LAYER_OF_MODULE[Path(filename).stem]}"
    return "numpy and other"


def profile_layers(requests: int, per_year: float, seed: int) -> tuple[int, dict[str, float]]:
    """Profile one run; each function's own time by layer (built-ins charged to callers)."""
    import cProfile
    import pstats

    m, go = benchmark_model(requests, per_year, seed)
    profile = cProfile.Profile()
    profile.runcall(go)
    spent: dict[str, float] = {}
    for (filename, _, _), (_, _, own, _, callers) in pstats.Stats(profile).stats.items():
        if filename != "~":
            spent[layer_of(filename)] = spent.get(layer_of(filename), 0.0) + own
            continue
        total = sum(c[2] for c in callers.values()) or 1.0
        for (caller_file, _, _), c in callers.items():
            layer = layer_of(caller_file) if caller_file != "~" else "numpy and other"
            spent[layer] = spent.get(layer, 0.0) + own * c[2] / total
    return m.created, spent


def measure(n: int, args: argparse.Namespace, tree: str | None) -> tuple[ModelRun, BareRun]:
    """The fastest of ``--repeat`` model runs of size ``n`` and of their bare SimPy twins."""
    pairs = []
    for _ in range(max(args.repeat, 1)):
        run = isolated(run_model, n, args.per_year, args.seed, tree)
        pairs.append((run, isolated(bare_simpy, run.requests, run.events, run.days,
                                    run.days - TAIL_DAYS, run.mean_life)))
    return (min((r for r, _ in pairs), key=lambda r: r.seconds),
            min((b for _, b in pairs), key=lambda b: b.seconds))


def row(label: str, run: ModelRun, bare: BareRun) -> str:
    return (f"{label:<7} {run.requests:>10,} {run.events:>11,} {run.days:>6,} "
            f"{run.seconds:>8.2f} {run.cpu:>8.2f} {run.requests / run.seconds:>8,.0f} "
            f"{run.events / run.seconds:>9,.0f} {1e6 * run.seconds / run.requests:>7.1f} "
            f"{run.rss_mb:>8.0f} {bare.seconds:>7.2f} {bare.events:>11,} "
            f"{run.seconds / bare.seconds:>6.2f}")


def targets(rows: list[tuple[ModelRun, BareRun]]) -> None:
    """Print each target beside the measured value and a verdict."""
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
    print("\ntime per request (us): " + ", ".join(
        f"{r.requests:,}: {1e6 * p:.1f}" for r, p in zip(runs, per_req, strict=True)))
    lines = [
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
    w = max(len(t[0]) for t in lines)
    print(f"\n{'target':<{w}}  {'measured':>9}  {'verdict':<7}  note\n" + "-" * (w + 40))
    for name, value, note, ok in lines:
        print(f"{name:<{w}}  {value:>9}  {verdict(ok):<7}  {note}")


def layers(size: int, run: ModelRun, args: argparse.Namespace) -> None:
    """Print what each layer costs per request, from a profile of ``run`` repeated (same
    size and seed)."""
    requests, spent = isolated(profile_layers, size, args.per_year, args.seed)
    total = sum(spent.values())
    per_request = run.seconds / run.requests * 1e6
    print(f"\ncost per layer ({requests:,} requests, profiled; shares applied to the "
          f"unprofiled {per_request:.1f} us/request)")
    for layer, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {layer:<32} {100 * seconds / total:>5.1f}%  "
              f"{per_request * seconds / total:>6.1f} us/request")


def parse(argv: list[str] | None) -> argparse.Namespace:
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
    parser.add_argument("--against", metavar="PATH",
                        help="also run the package of another checkout, side by side")
    parser.add_argument("--layers", action="store_true",
                        help="profile the smallest size: cost per request of each layer")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    sizes = sorted(set(args.requests) | ({FULL_SIZE} if args.full else set()))
    print(f"engine benchmark: {VARIANT.relative_to(ROOT)}, default world at "
          f"{args.per_year:,.0f} cases/yr, seed {args.seed}, window + {TAIL_DAYS} days, "
          f"Python {platform.python_version()}, SimPy {simpy.__version__}")
    head = (f"{'tree':<7} {'requests':>10} {'events':>11} {'days':>6} {'wall s':>8} "
            f"{'cpu s':>8} {'req/s':>8} {'events/s':>9} {'us/req':>7} {'peak MB':>8} "
            f"{'bare s':>7} {'bare ev':>11} {'x bare':>6}")
    print(head + "\n" + "-" * len(head))
    rows: list[tuple[ModelRun, BareRun]] = []
    for n in sizes:
        rows.append(measure(n, args, None))
        print(row("this", *rows[-1]), flush=True)
        if args.against:
            old = measure(n, args, args.against)
            print(row("against", *old), flush=True)
            print(f"{'':<7} this/against: time {rows[-1][0].seconds / old[0].seconds:.3f}, "
                  f"x bare {rows[-1][0].seconds / rows[-1][1].seconds:.2f} vs "
                  f"{old[0].seconds / old[1].seconds:.2f}", flush=True)
    targets(rows)
    if args.layers:
        layers(sizes[0], rows[0][0], args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
