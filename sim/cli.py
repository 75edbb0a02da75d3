"""The ``coopsim`` command line.

Every command validates all its inputs (files, options, the output folder, the executor)
before it runs or writes anything; a bad input ends in one line, ``coopsim: error: WHERE:
KEY: what is wrong``, with exit status 2.
"""

from __future__ import annotations

import argparse
import math
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from sim import limits
from sim.briefing import brief, charts, pack
from sim.experiments import (
    analyses,
    calibration,
    capacity,
    designs,
    execution,
    executors,
    runner,
    sensitivity,
    warmup,
)
from sim.experiments.store import ShardStore
from sim.inputs import catalogue, matrix, sources
from sim.inputs.provisions import Variant, load_variant, shipped
from sim.inputs.schema import InputError
from sim.inputs.world import World, load_world, scaled
from sim.metrics import report
from sim.outputs import folders, manifest, writing

DEFAULT_WORLD = str(catalogue.DEFAULT_WORLD)
WORLD_HELP = "world file or shipped name (default: default)"
INTERRUPTED = 130  # exit status after Ctrl-C, as shells report SIGINT


class UsageError(Exception):
    """A command line argparse rejects (its message, without argparse's usage lines)."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line, like every other input error."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(message.removeprefix("argument "))


def bounded(low: int, high: int) -> Any:
    """An argparse type: a whole number from ``low`` to ``high``."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:,} to {high:,}, got {value:,}")
        return value
    return parse


def common(p: argparse.ArgumentParser, reps: int | None, out: str,
           parallel: bool = False) -> None:
    """The options every run-like command shares."""
    p.add_argument("--world", default=DEFAULT_WORLD, help=WORLD_HELP)
    p.add_argument("--seed", type=bounded(0, limits.MAX_SEED), default=1,
                   help="random seed (default 1)")
    if reps is not None:
        p.add_argument("--reps", type=bounded(1, limits.MAX_REPS), default=reps,
                       help=f"replications (default {reps})")
    p.add_argument("--window", type=bounded(1, limits.MAX_WINDOW), default=limits.DEFAULT_WINDOW,
                   help="days of arising needs whose outcomes are reported, after the world's "
                        f"warm-up and followed by its run-off (default {limits.DEFAULT_WINDOW})")
    p.add_argument("--out", help=f"output folder (default {out})")
    if parallel:
        p.add_argument("--workers", type=bounded(1, limits.max_workers()),
                       default=os.cpu_count() or 1,
                       help="local worker processes (default: all cores)")
        p.add_argument("--executor", metavar="dask://HOST:PORT",
                       help="run on a Dask cluster (dask://, tcp:// or tls://) you control")


def parser() -> argparse.ArgumentParser:
    """The ``coopsim`` command line: every command, in the order ``--help`` lists them."""
    p = Parser(prog="coopsim", description=(
        "Simulate how cybercrime treaties move electronic evidence across borders."))
    sub = p.add_subparsers(dest="command", required=True)
    add_variant_commands(sub)
    add_experiment_commands(sub)
    add_world_command(sub)
    add_briefing_commands(sub)
    add_calibrate_command(sub)
    add_warmup_command(sub)
    add_capacity_command(sub)
    return p


def add_variant_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``run`` (one variant) and ``variants`` (the provisions matrix)."""
    run = sub.add_parser("run", help="run one treaty variant and write its results")
    run.add_argument("variant", nargs="?", default=catalogue.DEFAULT_VARIANT,
                     help=f"variant file or shipped name (default {catalogue.DEFAULT_VARIANT})")
    common(run, 1, "results/<variant>/")
    variants = sub.add_parser("variants", help="the provisions matrix, or one variant in full")
    variants.add_argument("name", nargs="?", help="show this variant (name or file) in full")
    variants.add_argument("--format", choices=("markdown", "csv"), default="markdown")


def add_experiment_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """The experiments on many runs: ``compare``, ``sweep``, ``sensitivity``, ``attribute``."""
    compare = sub.add_parser("compare", help="run variants on the same cases, paired")
    compare.add_argument("variants", nargs="*", help="variants (default: all in scenarios/)")
    compare.add_argument("--reference", default="un_convention_2024",
                         help="variant the differences are taken against")
    common(compare, 1, "results/compare/", parallel=True)
    sweep = sub.add_parser("sweep", help="vary provisions or world figures")
    sweep.add_argument("variant", help="variant file or name")
    sweep.add_argument("--set", action="append", required=True, metavar="PATH=VALUES",
                       help="e.g. preservation.min_days=0:360:30, "
                            "world.central_authorities.staff=10,30, "
                            "mla.refusal_grounds.political_offence=on,off")
    sweep.add_argument("--design", default="factorial",
                       help="factorial (default), lhs:N or sobol:N (ranges low:high)")
    common(sweep, 3, "results/sweep_<variant>/", parallel=True)
    sens = sub.add_parser("sensitivity", help="Sobol or Morris indices of data loss, latency")
    sens.add_argument("variant", help="variant file or name")
    sens.add_argument("--params", required=True, help="TOML file of parameters and ranges")
    common(sens, None, "results/sensitivity_<variant>/", parallel=True)
    attribute = sub.add_parser("attribute", help="which clause groups make the difference")
    attribute.add_argument("a", help="variant A (the baseline)")
    attribute.add_argument("b", help="variant B")
    common(attribute, 3, "results/attribute_<a>_<b>/", parallel=True)


def add_world_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``world``: the world's figures and their sources."""
    world = sub.add_parser("world", help="the world's figures with their sources")
    world.add_argument("--world", default=DEFAULT_WORLD, help=WORLD_HELP)
    world.add_argument("--sources", action="store_true",
                       help="list every figure with its source (the default view)")
    world.add_argument("--format", choices=("markdown", "csv"), default="markdown")


def add_briefing_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """What the results are shown in: ``brief`` (the pack) and ``app`` (the page)."""
    brief = sub.add_parser("brief", help="the policy briefing: charts, brief.md, brief.html")
    brief.add_argument("variants", nargs="*", help="variants (default: all in scenarios/)")
    brief.add_argument("--reference", default="un_convention_2024",
                       help="variant the others are compared with")
    brief.add_argument("--scale", type=float, default=0.05,
                       help="share of the world's yearly cases each replication draws, staff "
                            "scaled alike (default 0.05; 1 = full scale)")
    common(brief, 20, "results/brief/", parallel=True)
    app = sub.add_parser("app", help="the interactive page in a browser (Solara)")
    app.add_argument("--host", default="localhost", help="address to serve on")
    app.add_argument("--port", type=bounded(1, 65535), default=8765, help="port (default 8765)")


def add_calibrate_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``calibrate``: the status quo against published figures."""
    cal = sub.add_parser("calibrate", help="the status quo beside published figures")
    cal.add_argument("--targets", default=str(catalogue.TARGETS))
    common(cal, 3, "results/calibration/")


def add_warmup_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``warmup``: how long a world takes to reach its steady state."""
    w = sub.add_parser("warmup", help="the warm-up a world needs (MSER-5 on the mean backlog)")
    w.add_argument("variants", nargs="*", help="variants (default: all in scenarios/)")
    w.add_argument("--world", default=DEFAULT_WORLD, help=WORLD_HELP)
    w.add_argument("--seeds", type=bounded(1, limits.MAX_REPS), default=4,
                   help="runs per variant whose backlogs are averaged (default 4)")
    w.add_argument("--days", type=bounded(10, limits.MAX_WINDOW), default=3650,
                   help="days each run lasts from an empty world (default 3650)")
    w.add_argument("--scale", type=float, default=1.0,
                   help="share of the world's yearly cases, staff scaled alike (default 1)")
    w.add_argument("--out", help="output folder (default results/warmup/)")
    w.add_argument("--workers", type=bounded(1, limits.max_workers()),
                   default=os.cpu_count() or 1, help="local worker processes (default: all cores)")


def add_capacity_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``capacity``: the staff one central authority needs to meet a target."""
    c = sub.add_parser("capacity", help="the smallest staff meeting a median-days target")
    c.add_argument("variant", help="variant file or shipped name")
    c.add_argument("--state", required=True, metavar="ISO3", help="the central authority's State")
    c.add_argument("--target-days", type=bounded(1, limits.MAX_WINDOW), required=True,
                   help="median days from an MLA request's arrival to its execution")
    common(c, 1, "results/capacity_<variant>_<state>/", parallel=True)


def check_executor(args: argparse.Namespace) -> None:
    """A malformed ``--executor`` address fails before anything else is read."""
    if args.executor:
        executors.check_address(args.executor)


@contextmanager
def executor_for(args: argparse.Namespace) -> Iterator[object | None]:
    """A Dask client for ``--executor`` (its scheduler must answer within seconds), else None
    (local processes)."""
    if not args.executor:
        yield None
        return
    with executors.connect(args.executor) as client:
        yield client


def out_dir(args: argparse.Namespace, name: str) -> Path:
    """``--out``, or ``results/<name>/`` in the working folder."""
    return Path(args.out) if args.out else Path("results") / name


def at_most(option: str, count: int, limit: int, what: str) -> None:
    """Refuse a command whose size exceeds one of :mod:`sim.limits`."""
    if count > limit:
        raise InputError(option, f"{count:,} {what}", f"at most {limit:,} in one command; "
                         "split the study into several")


def run_size(world: World, window: int, reps: int, held: bool = False) -> None:
    """Bound the cases one run draws (warm-up, ``reps`` windows, run-off) and, for ``run``
    and ``calibrate``, which keep the records of every window in memory, those held."""
    at_most("--reps", round(world.drawn(window * reps)), limits.MAX_CASES,
            "cases drawn by one run (warm-up, windows and run-off)")
    if held:
        at_most("--reps", round(reps * world.cases.per_year.value * window / 365),
                limits.MAX_HELD_CASES, "cases held in memory")


def publish(target: folders.Target, tables: dict[str, pd.DataFrame], design: str,
            args: argparse.Namespace, **details: Any) -> None:
    """Put an experiment's tables and their manifest in its folder."""
    body = manifest.experiment_manifest(design, seed=args.seed, reps=getattr(args, "reps", 1),
                                        window=args.window, world=args.world, **details)
    target.publish(manifest.experiment_files(tables, body))


def say(target: folders.Target) -> None:
    """What claiming the folder restored or kept."""
    for note in target.notes:
        print(f"coopsim: {note}", file=sys.stderr)


def overloads(table: pd.DataFrame, by: list[str]) -> None:
    """One line on stderr for each setting under which a central authority is overloaded
    (its figures then depend on the run's length, not on a steady state)."""
    if "overloaded_desks" not in table:
        return
    hit = table[table["overloaded_desks"] > 0]
    for key, rows in hit.groupby(by, sort=False):
        print(f"coopsim: warning: {', '.join(map(str, key if isinstance(key, tuple) else [key]))}"
              f": {int(rows['overloaded_desks'].max())} central authorities receive more files "
              "than they can review, so these figures depend on how long the run lasts; "
              "`coopsim run` with this setting names them", file=sys.stderr)


def failures(table: pd.DataFrame) -> int:
    """Exit status 1, and one line on stderr, if some runs failed (their rows say why)."""
    found = execution.failures(table)
    if not found.count:
        return 0
    runs = int((table["rep"] == 0).sum()) if "rep" in table else len(table)
    print(f"coopsim: error: {found.count} of {runs} runs failed ({found.transient} for a "
          f"transient reason: rerun the same command to retry them); first: "
          f"{found.first_error}", file=sys.stderr)
    return 1


def cmd_variants(args: argparse.Namespace) -> None:
    if args.name:
        print(matrix.detail(load_variant(args.name)))
        return
    rows = matrix.matrix(shipped())
    if args.format == "csv":
        sys.stdout.write(matrix.csv_text(rows))
    else:
        print(matrix.markdown(rows))


def load_variants(names: list[str], reference: str) -> list[Variant]:
    """The named variants (default: every shipped one), which must include ``reference``."""
    variants = [load_variant(n) for n in names] or shipped()
    seen = [v.name for v in variants]
    if len(set(seen)) != len(seen):
        raise InputError("VARIANT", ", ".join(seen), "each variant may be given once")
    if reference not in seen:
        raise InputError("--reference", reference,
                         f"not among the variants ({', '.join(seen)})")
    return variants


def cmd_compare(args: argparse.Namespace) -> int:
    check_executor(args)
    world = load_world(args.world)
    run_size(world, args.window, args.reps)
    variants = load_variants(args.variants, args.reference)
    names = [v.name for v in variants]
    at_most("--reps", len(variants) * args.reps, limits.MAX_RUNS, "runs")
    out = out_dir(args, "compare")
    folders.check(out, "compare")
    with executor_for(args) as executor, folders.claim(out, "compare") as target:
        say(target)
        table = analyses.compare(variants, world, reps=args.reps, seed=args.seed,
                                    window=args.window, workers=args.workers,
                                    store=ShardStore(target.path), executor=executor)
        stats = analyses.paired(table, args.reference, list(report.COMPARE), seed=args.seed)
        publish(target, {"runs.csv": table, "compare.csv": stats}, "compare", args,
                variants=names)
    titles = {v.name: v.variant.title for v in variants}
    print(f"{len(variants)} variants in world '{world.world.name}', seed {args.seed}: "
          f"{args.reps} replication(s), each a {args.window}-day window of one run after its "
          f"warm-up; every variant faces the same cases. Differences are paired, against "
          f"{args.reference}.\n")
    print(report.compare_text(stats, titles, args.reps))
    overloads(table, ["variant"])
    print(f"\nWrote {out / 'runs.csv'} (one row per run) and {out / 'compare.csv'}")
    return failures(table)


def sweep_settings(args: argparse.Namespace, variant: Variant,
                   world: World) -> list[tuple[str, list]]:
    """The sweep's settings, its points and runs bounded and every point validated before
    anything runs."""
    settings = [designs.parse_set(s) for s in args.set]
    kind, n = designs.parse_design(args.design)
    count = math.prod(len(values) for _, values in settings) if kind == "factorial" else n
    at_most("--set", count, limits.MAX_POINTS, "points")
    at_most("--reps", count * args.reps, limits.MAX_RUNS, "runs")
    analyses.sweep_points(variant, world, settings, args.design, args.seed)
    return settings


def cmd_sweep(args: argparse.Namespace) -> int:
    check_executor(args)
    variant, world = load_variant(args.variant), load_world(args.world)
    run_size(world, args.window, args.reps)
    settings = sweep_settings(args, variant, world)
    out = out_dir(args, f"sweep_{variant.name}")
    folders.check(out, "sweep")
    with executor_for(args) as executor, folders.claim(out, "sweep") as target:
        say(target)
        table = analyses.sweep(variant, world, settings, reps=args.reps, seed=args.seed,
                                  window=args.window, workers=args.workers, design=args.design,
                                  store=ShardStore(target.path), executor=executor)
        publish(target, {"sweep.csv": table}, args.design, args, variant=variant.name,
                set=args.set)
    params = [path for path, _ in settings]
    means = table.groupby(params, sort=False)[list(report.COMPARE)].mean().reset_index()
    if args.design != "factorial":  # sampled points: show the range of outcomes instead
        means = means.describe().loc[["min", "50%", "max"]].rename_axis("").reset_index()
        params = [""]
    print(f"{variant.variant.title}: {len(means)} point(s) x {args.reps} replication(s), "
          f"seed {args.seed}, {args.window}-day windows\n")
    print(report.table_text(means, params))
    overloads(table, [path for path, _ in settings])
    print(f"\nWrote {out / 'sweep.csv'} (one row per point and replication)")
    return failures(table)


def cmd_attribute(args: argparse.Namespace) -> None:
    check_executor(args)
    a, b = load_variant(args.a), load_variant(args.b)
    world = load_world(args.world)
    run_size(world, args.window, args.reps)
    groups = designs.differing_groups(a.model_dump(mode="json"), b.model_dump(mode="json"))
    at_most("--reps", 2 ** len(groups) * args.reps, limits.MAX_RUNS, "runs")
    metrics = list(report.ATTRIBUTED)
    out = out_dir(args, f"attribute_{a.name}_{b.name}")
    folders.check(out, "attribute")
    with executor_for(args) as executor, folders.claim(out, "attribute") as target:
        say(target)
        table = analyses.attribute(a, b, world, metrics, reps=args.reps, seed=args.seed,
                                      window=args.window, workers=args.workers,
                                      store=ShardStore(target.path), executor=executor)
        publish(target, {"attribution.csv": table}, "attribute", args, a=a.name, b=b.name)
    print(f"What makes the difference from {a.variant.title} to {b.variant.title} "
          f"(Shapley values over clause groups, {args.reps} replication(s), same cases):\n")
    print(report.attribution_text(table))
    print(f"\nWrote {out / 'attribution.csv'}")


def cmd_sensitivity(args: argparse.Namespace) -> None:
    check_executor(args)
    variant, world = load_variant(args.variant), load_world(args.world)
    params = sensitivity.load_params(args.params)
    analyses.study_points(variant, world, params, args.seed, args.params)
    out = out_dir(args, f"sensitivity_{variant.name}")
    folders.check(out, "sensitivity")
    with executor_for(args) as executor, folders.claim(out, "sensitivity") as target:
        say(target)
        table = analyses.study(variant, world, params, list(report.ATTRIBUTED),
                                  seed=args.seed, window=args.window, workers=args.workers,
                                  store=ShardStore(target.path), executor=executor)
        publish(target, {"indices.csv": table}, params.method, args, variant=variant.name,
                params=str(args.params))
    print(f"{variant.variant.title}: {params.method} indices over {len(params.params)} "
          f"parameter(s), seed {args.seed}, {args.window}-day window\n")
    print(report.indices_text(table))
    print(f"\nWrote {out / 'indices.csv'}")


def cmd_world(args: argparse.Namespace) -> None:
    world = load_world(args.world)
    frame = sources.table(world)
    if args.format == "csv":
        sys.stdout.write(frame.to_csv(index=False))
        return
    counts = frame["kind"].value_counts()
    print(f"World '{world.world.name}': {world.world.description}\n\n"
          f"{len(frame)} figures: {counts.get('sourced', 0)} sourced, "
          f"{counts.get('assumption', 0)} assumptions\n")
    print(matrix.markdown([["figure", "value", "source"],
                           *frame[["figure", "value", "source"]].values.tolist()]))


def cmd_calibrate(args: argparse.Namespace) -> None:
    targets = calibration.load_targets(Path(args.targets))
    variant, world = calibration.status_quo(targets, catalogue.SCENARIOS,
                                            load_world(args.world))
    run_size(world, args.window, args.reps, held=True)
    out = out_dir(args, "calibration")
    folders.check(out, "calibrate")
    with folders.claim(out, "calibrate") as target:
        say(target)
        table = calibration.calibrate(targets, variant, world, reps=args.reps, seed=args.seed,
                                      window=args.window)
        with target.staging() as stage:
            writing.write(stage, {"calibration.csv": table})
    print(f"Status quo: {variant.variant.title}, "
          f"{', '.join(f'{k} = {v}' for k, v in targets.status_quo.set.items())} "
          f"({targets.status_quo.source}); {args.reps} independent run(s), seeds {args.seed}-"
          f"{args.seed + args.reps - 1}, each measured over one {args.window}-day window after "
          "the warm-up\n")
    print(matrix.markdown(report.calibration_rows(table)))
    print(f"\n{int(table['within'].sum())} of {len(table)} targets within tolerance. "
          f"Wrote {out / 'calibration.csv'}")


def cmd_brief(args: argparse.Namespace) -> None:
    check_executor(args)
    world = load_world(args.world)
    variants = load_variants(args.variants, args.reference)
    run_size(scaled(world, args.scale), args.window, args.reps)  # a bad --scale fails here
    at_most("VARIANT", brief.most_runs(len(variants)), limits.MAX_RUNS, "runs")
    out = out_dir(args, "brief")
    folders.check(out, "brief")
    with executor_for(args) as executor, folders.claim(out, "brief") as target:
        say(target)
        gathered = brief.gather(variants, world, args.reference, reps=args.reps,
                                seed=args.seed, window=args.window, scale=args.scale,
                                workers=args.workers, executor=executor)
        command = "coopsim " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["brief"] \
            else "coopsim brief"
        with target.staging() as stage:
            files = pack.write(gathered, world, stage, command)
    print("\n".join(pack.summary(gathered)).replace("**", ""))
    print(f"\n{len(gathered.variants)} variants x {args.reps} replications (scale x{args.scale:g}),"
          f" sweep and attribution in {gathered.seconds:.0f} s. Wrote {len(files)} files to {out}; "
          f"open {out / 'brief.html'}")


def cmd_warmup(args: argparse.Namespace) -> None:
    world = scaled(load_world(args.world), args.scale)
    variants = [load_variant(n) for n in args.variants] or shipped()
    at_most("--seeds", len(variants) * args.seeds, limits.MAX_RUNS, "runs")
    at_most("--days", round(world.cases.per_year.value * args.days / 365), limits.MAX_CASES,
            "cases drawn by one run")
    out = out_dir(args, "warmup")
    folders.check(out, "warmup")
    with folders.claim(out, "warmup") as target:
        say(target)
        table = warmup.truncation(variants, world, seeds=args.seeds, days=args.days,
                                  workers=args.workers)
        body = manifest.manifest("warmup", {
            "method": warmup.__doc__.split("\n\n")[1].replace("\n", " "),
            "world": args.world, "scale": args.scale, "seeds": args.seeds, "days": args.days})
        with target.staging() as stage:
            writing.write(stage, {"warmup.csv": table, "manifest.json": body})
    print(f"End of the transient by MSER-5 on the mean daily backlog of {args.seeds} runs "
          f"per variant ({args.days} days from an empty world '{world.world.name}'):\n")
    print(matrix.markdown([["variant", "MSER-5 day", "files after", "single runs"],
                           *[[r.variant, f"{r.mser5_day:,}", f"{r.backlog_after:,.0f}",
                              r.single_runs] for r in table.itertuples()]]))
    print(f"\nRecommended warm-up: {warmup.recommended(table):,} days (the world file's "
          f"measurement.warmup_days is {world.measurement.warmup_days.value:,}). Wrote "
          f"{out / 'warmup.csv'}")


def cmd_capacity(args: argparse.Namespace) -> None:
    check_executor(args)
    variant, world = load_variant(args.variant), load_world(args.world)
    state = args.state.upper()
    capacity.staffed(world, state, 1)  # an unknown State fails before anything runs
    run_size(world, args.window, args.reps)
    out = out_dir(args, f"capacity_{variant.name}_{state}")
    folders.check(out, "capacity")
    office = next(r.name for r in world.states.rows() if r.iso3 == state)
    with executor_for(args) as executor, folders.claim(out, "capacity") as target:
        say(target)
        answer, curve = capacity.search(
            variant, world, capacity.Target(state, args.target_days), seed=args.seed,
            window=args.window, reps=args.reps, workers=args.workers, executor=executor)
        style = charts.Style.of([variant], variant.name, f"Source: coopsim simulation, world "
                                f"'{world.world.name}', seed {args.seed}, {args.reps} window(s) "
                                f"of {args.window} days after the warm-up.")
        fig = charts.capacity_curve(curve, style, variant.name, office, args.target_days, answer)
        body = manifest.manifest("capacity", {
            "variant": variant.name, "state": state, "target_days": args.target_days,
            "answer": answer, "seed": args.seed, "reps": args.reps, "world": args.world,
            "measurement": manifest.measurement(args.window, args.reps)})
        with target.staging() as stage:
            writing.write(stage, {"capacity.csv": curve, **pack.chart_files(fig, "capacity"),
                                  "manifest.json": body})
    print(f"{office}'s central authority under {variant.variant.title}: median days from an "
          f"MLA request's arrival to its execution, by staff (same cases at every figure)\n")
    print(matrix.markdown([["staff", "median days", "requests executed", "not obtained",
                            "meets target"],
                           *[[f"{r.staff:,}" if r.staff != "unlimited" else r.staff,
                              f"{r.median_days:,.0f}", f"{r.executed:,}",
                              f"{100 * r.not_obtained:.1f}%", "yes" if r.meets else "no"]
                             for r in curve.itertuples()]]))
    verdict = (f"the smallest staff with a median of {args.target_days:,} days or less is "
               f"{answer:,}" if answer is not None else
               f"no staff figure meets {args.target_days:,} days: even unlimited staff leave a "
               "median above it (review and execution alone take longer)")
    print(f"\n{office}: {verdict}. Wrote {out / 'capacity.csv'} and {out / 'capacity.png'}")


def cmd_app(args: argparse.Namespace) -> None:
    page = Path(__file__).resolve().parent / "app.py"
    print(f"Serving the interactive page on http://{args.host}:{args.port} (Ctrl-C stops it)")
    with suppress(KeyboardInterrupt):
        subprocess.run([sys.executable, "-m", "solara", "run", str(page), "--no-check-version",
                        "--host", args.host, "--port", str(args.port)], check=False)


def cmd_run(args: argparse.Namespace) -> None:
    vpath, wpath = catalogue.variant_file(args.variant), catalogue.world_file(args.world)
    variant, world = load_variant(vpath), load_world(wpath)
    run_size(world, args.window, args.reps, held=True)
    out = out_dir(args, variant.name)
    folders.check(out, "run")
    with folders.claim(out, "run") as target:
        say(target)
        result = runner.run_one(variant, world, args.seed, args.window, args.reps)
        table = runner.summary_table(result, args.seed)
        with target.staging() as stage:
            runner.write_outputs(stage, result, table, manifest.run_manifest(
                vpath, wpath, args.seed, args.reps, args.window, result.steady))
    steady = result.steady
    print(report.summary_text(
        f"{variant.variant.title} in world '{world.world.name}'\nseed {args.seed}: "
        f"{args.reps} replication(s), each the needs arising in a {args.window}-day window\n"
        f"after a {steady['warmup_days']:,.0f}-day warm-up; "
        f"{table['requests'].mean():,.0f} requests per replication", table))
    for statement in steady["overloaded"]:
        print(f"\nWarning: {statement}")
    print(f"\nWrote summary.csv, events.parquet, requests.parquet, daily.parquet,\n"
          f"backlog.parquet and manifest.json to {out}")


COMMANDS: dict[str, Callable[[argparse.Namespace], int | None]] = {
    "run": cmd_run, "variants": cmd_variants, "compare": cmd_compare, "sweep": cmd_sweep,
    "sensitivity": cmd_sensitivity, "world": cmd_world, "calibrate": cmd_calibrate,
    "brief": cmd_brief, "app": cmd_app, "attribute": cmd_attribute, "warmup": cmd_warmup,
    "capacity": cmd_capacity}


def main(argv: list[str] | None = None) -> int:
    """Run one command; return its exit status (2 for any bad input, 130 on Ctrl-C)."""
    try:
        args = parser().parse_args(argv)
        return COMMANDS[args.command](args) or 0
    except (InputError, UsageError) as e:
        return fail(str(e), 2)
    except execution.RunsFailed as e:
        return fail(str(e), 1)
    except KeyboardInterrupt:
        return fail("interrupted; rerun the same command to resume (finished runs are kept, "
                    "previous results are untouched)", INTERRUPTED)
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


def fail(message: str, status: int) -> int:
    with suppress(BrokenPipeError):
        sys.stdout.flush()
    print(f"coopsim: error: {message}" if status != INTERRUPTED else f"coopsim: {message}",
          file=sys.stderr)
    return status


if __name__ == "__main__":
    sys.exit(main())
