"""The experiments on many runs (``compare``, ``sweep``, ``attribute``, ``sensitivity``) and
what a world and an office need (``warmup``, ``capacity``)."""

from __future__ import annotations

import argparse
import math
import os
import sys
import textwrap

from sim import limits
from sim.briefing import charts, pack
from sim.cli.options import (
    DEFAULT_WORLD,
    WORLD_HELP,
    at_most,
    bounded,
    check_executor,
    common,
    executor_for,
    failures,
    load_variants,
    out_dir,
    overloads,
    publish,
    run_size,
    say,
)
from sim.experiments import (
    analyses,
    capacity,
    designs,
    sensitivity,
    warmup,
)
from sim.experiments.store import ShardStore
from sim.inputs import matrix
from sim.inputs.provisions import Variant, load_variant, shipped
from sim.inputs.schema import validate
from sim.inputs.world import World, load_world, scaled
from sim.metrics import report
from sim.outputs import folders, manifest, writing


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
    sens = sub.add_parser("sensitivity", help="Sobol (or Morris) indices of the study's metrics")
    sens.add_argument("variant", help="variant file or name")
    sens.add_argument("--params", required=True,
                      help="TOML file of parameters and ranges (scenarios/studies/"
                           "sensitivity.toml: the shipped study)")
    sens.add_argument("--samples", type=bounded(4, limits.MAX_RUNS),
                      help="sample N (pce: N runs; sobol: N(k + 2); morris: N(k + 1); "
                           "default: the study's)")
    sens.add_argument("--scale", type=float,
                      help="share of the world's yearly cases each run draws, staff scaled "
                           "alike (default: the study's)")
    common(sens, None, "results/sensitivity_<variant>/", parallel=True)
    attribute = sub.add_parser("attribute", help="which clause groups make the difference")
    attribute.add_argument("a", help="variant A (the baseline)")
    attribute.add_argument("b", help="variant B")
    common(attribute, 3, "results/attribute_<a>_<b>/", parallel=True)


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
    variant = load_variant(args.variant)
    params = sensitivity.load_params(args.params)
    changes = {k: v for k, v in (("samples", args.samples), ("scale", args.scale))
               if v is not None}
    if changes:
        params = validate(sensitivity.ParamsFile, {**params.model_dump(), **changes},
                          " and ".join(f"--{k}" for k in changes))
    world = scaled(load_world(args.world), params.scale)
    analyses.study_points(variant, world, params, args.seed, args.params)
    out = out_dir(args, f"sensitivity_{variant.name}")
    folders.check(out, "sensitivity")
    with executor_for(args) as executor, folders.claim(out, "sensitivity") as target:
        say(target)
        table = analyses.study(variant, world, params, params.metrics, seed=args.seed,
                               window=args.window, workers=args.workers,
                               store=ShardStore(target.path), executor=executor)
        unconverged = sensitivity.convergence(table)
        runs = sensitivity.runs_of(params.method, params.samples, len(params.params))
        publish(target, {"indices.csv": table}, params.method, args, variant=variant.name,
                params=str(args.params), samples=params.samples, scale=params.scale,
                runs=runs, converged=not unconverged)
    print(f"{variant.variant.title}: {params.method} indices of {len(params.params)} factors, "
          f"N = {params.samples} ({runs:,} runs), scale x{params.scale:g}, seed {args.seed}, "
          f"{args.window}-day window\n")
    print(report.indices_text(table))
    for line in unconverged:
        print(textwrap.fill(f"coopsim: warning: not converged: {line}; raise --samples", 100),
              file=sys.stderr)
    print(f"\nWrote {out / 'indices.csv'}")


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
    print(textwrap.fill(f"{office}'s central authority under {variant.variant.title}: median "
                        "days from an MLA request's arrival to its execution, by staff (same "
                        "cases at every figure)", 100) + "\n")
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
    print("\n" + textwrap.fill(f"{office}: {verdict}. Wrote {out / 'capacity.csv'} and "
                              f"{out / 'capacity.png'}", 100, break_long_words=False,
                              break_on_hyphens=False))
