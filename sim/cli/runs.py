"""The commands on one variant or world, and what results are shown in: ``run``,
``variants``, ``world``, ``calibrate``, ``brief`` and ``app``."""

from __future__ import annotations

import argparse
import subprocess
import sys
import textwrap
from contextlib import suppress
from pathlib import Path

from sim import limits
from sim.briefing import brief, findings, pack, statements
from sim.cli.options import (
    DEFAULT_WORLD,
    WORLD_HELP,
    at_most,
    bounded,
    check_executor,
    common,
    executor_for,
    load_variants,
    out_dir,
    run_size,
    say,
)
from sim.experiments import (
    calibration,
    runner,
)
from sim.inputs import catalogue, matrix, sources
from sim.inputs.provisions import load_variant, shipped
from sim.inputs.world import load_world, scaled
from sim.metrics import report
from sim.outputs import folders, manifest, writing


def add_variant_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """``run`` (one variant) and ``variants`` (the provisions matrix)."""
    run = sub.add_parser("run", help="run one treaty variant and write its results")
    run.add_argument("variant", nargs="?", default=catalogue.DEFAULT_VARIANT,
                     help=f"variant file or shipped name (default {catalogue.DEFAULT_VARIANT})")
    common(run, 1, "results/<variant>/")
    variants = sub.add_parser("variants", help="the provisions matrix, or one variant in full")
    variants.add_argument("name", nargs="?", help="show this variant (name or file) in full")
    variants.add_argument("--format", choices=("markdown", "csv"), default="markdown")


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


def cmd_variants(args: argparse.Namespace) -> None:
    if args.name:
        print(matrix.detail(load_variant(args.name)))
        return
    rows = matrix.matrix(shipped())
    if args.format == "csv":
        sys.stdout.write(matrix.csv_text(rows))
    else:
        print(matrix.markdown(rows))


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
        found = statements.findings(gathered)
        with target.staging() as stage:
            files = pack.write(gathered, world, stage, command, found)
    for sentence in findings.summary(found):
        print(textwrap.fill(sentence.replace("**", ""), 100), end="\n\n")
    print(textwrap.fill(
        f"{len(gathered.variants)} variants x {args.reps} replications (scale "
        f"x{args.scale:g}), sweep and attribution in {gathered.seconds:.0f} s. Wrote "
        f"{len(files)} files to {out}; open {out / 'brief.html'}", 100,
        break_long_words=False, break_on_hyphens=False))


def cmd_app(args: argparse.Namespace) -> None:
    page = Path(__file__).resolve().parents[1] / "app.py"
    print(f"Serving the interactive page on http://{args.host}:{args.port} (Ctrl-C stops it)")
    with suppress(KeyboardInterrupt):
        subprocess.run([sys.executable, "-m", "solara", "run", str(page), "--no-check-version",
                        "--host", args.host, "--port", str(args.port)], check=False)
