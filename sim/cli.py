"""The ``coopsim`` command line."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

from . import briefing, calibration, designs, experiments, matrix, pack, report, runner, sources
from .inputs import InputError
from .provisions import Variant, load_variant
from .sensitivity import load_params
from .store import ShardStore
from .world import DEFAULT_WORLD, load_world, scaled

SCENARIOS = runner.ROOT / "scenarios"
DEFAULT_VARIANT = SCENARIOS / "un_convention_2024.toml"


def variant_path(name: str) -> Path:
    """A variant given as a path, or by name from ``scenarios/``."""
    path = Path(name)
    if path.suffix == ".toml" or path.exists():
        return path
    return SCENARIOS / f"{name}.toml"


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def common(p: argparse.ArgumentParser, reps: int | None, out: str,
           parallel: bool = False) -> None:
    """The options every run-like command shares."""
    p.add_argument("--world", default=str(DEFAULT_WORLD), help="world file")
    p.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    if reps is not None:
        p.add_argument("--reps", type=positive, default=reps,
                       help=f"replications (default {reps})")
    p.add_argument("--days", type=positive, default=runner.DEFAULT_DAYS,
                   help=f"horizon in days (default {runner.DEFAULT_DAYS})")
    p.add_argument("--out", help=f"output folder (default {out})")
    if parallel:
        p.add_argument("--workers", type=positive, default=os.cpu_count() or 1,
                       help="local worker processes (default: all cores)")
        p.add_argument("--executor", metavar="dask://HOST:PORT",
                       help="run on a Dask cluster instead of local processes")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="coopsim", description=(
        "Simulate how cybercrime treaties move electronic evidence across borders."))
    sub = p.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="run one treaty variant and write its results")
    run.add_argument("variant", nargs="?", default=str(DEFAULT_VARIANT),
                     help="variant file or name in scenarios/ (default: the UN Convention)")
    common(run, 1, "results/<variant>/")
    variants = sub.add_parser("variants", help="the provisions matrix, or one variant in full")
    variants.add_argument("name", nargs="?", help="show this variant (name or file) in full")
    variants.add_argument("--format", choices=("markdown", "csv"), default="markdown")
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
    world = sub.add_parser("world", help="the world's figures with their sources")
    world.add_argument("--world", default=str(DEFAULT_WORLD), help="world file")
    world.add_argument("--sources", action="store_true",
                       help="list every figure with its source (the default view)")
    world.add_argument("--format", choices=("markdown", "csv"), default="markdown")
    brief = sub.add_parser("brief", help="the policy briefing: charts, brief.md, brief.html")
    brief.add_argument("variants", nargs="*", help="variants (default: all in scenarios/)")
    brief.add_argument("--reference", default="un_convention_2024",
                       help="variant the others are compared with")
    brief.add_argument("--scale", type=float, default=0.05,
                       help="share of the world's yearly cases each replication draws, staff "
                            "scaled alike (default 0.05; 1 = full scale)")
    common(brief, 30, "results/brief/", parallel=True)
    app = sub.add_parser("app", help="the interactive page in a browser (Solara)")
    app.add_argument("--host", default="localhost", help="address to serve on")
    app.add_argument("--port", type=positive, default=8765, help="port (default 8765)")
    cal = sub.add_parser("calibrate", help="the status quo beside published figures")
    cal.add_argument("--targets", default=str(SCENARIOS / "calibration" / "targets.toml"))
    common(cal, 3, "results/calibration/")
    return p


def shipped() -> list[Variant]:
    """The variants in ``scenarios/``: drafts in document order, then references, composites."""
    rank = {"draft": 0, "reference": 1, "composite": 2}
    variants = [load_variant(p) for p in sorted(SCENARIOS.glob("*.toml"))]
    return sorted(variants, key=lambda v: (rank[v.variant.kind], v.variant.document, v.name))


@contextmanager
def executor_for(args: argparse.Namespace) -> Iterator[object | None]:
    """A Dask client for ``--executor dask://HOST:PORT``, else None (local processes)."""
    if not args.executor:
        yield None
        return
    if not args.executor.startswith("dask://"):
        raise InputError("--executor", args.executor, "expected dask://HOST:PORT")
    try:
        from distributed import Client
    except ImportError:
        raise InputError("--executor", args.executor,
                         "needs the dask extra: pip install -e '.[dask]'") from None
    with Client(args.executor.replace("dask://", "tcp://", 1)) as client:
        yield client


def out_dir(args: argparse.Namespace, name: str) -> Path:
    """``--out``, or ``results/<name>/``."""
    return Path(args.out) if args.out else runner.ROOT / "results" / name


def experiment_store(out: Path, design: str, args: argparse.Namespace,
                     **details: object) -> ShardStore:
    """The experiment's shard store, with a manifest of what it runs and with what."""
    store = ShardStore(out)
    reps = getattr(args, "reps", 1)
    manifest = {"design": design, **details, "seed": args.seed, "reps": reps,
                "replication_seeds": [args.seed + k for k in range(reps)],
                "days": args.days, "world": args.world, "workers": args.workers,
                "packages": runner.package_versions(), "git_revision": runner.git_revision()}
    runner.write_text(out / "manifest.json", json.dumps(manifest, indent=2) + "\n")
    return store


def cmd_variants(args: argparse.Namespace) -> None:
    if args.name:
        print(matrix.detail(load_variant(variant_path(args.name))))
        return
    rows = matrix.matrix(shipped())
    if args.format == "csv":
        sys.stdout.write(matrix.csv_text(rows))
    else:
        print(matrix.markdown(rows))


def cmd_compare(args: argparse.Namespace) -> None:
    world = load_world(Path(args.world))
    variants = [load_variant(variant_path(n)) for n in args.variants] or shipped()
    names = [v.name for v in variants]
    if args.reference not in names:
        raise InputError(args.reference, "--reference", "not among the compared variants")
    out = out_dir(args, "compare")
    store = experiment_store(out, "compare", args, variants=names)
    with executor_for(args) as executor:
        table = experiments.compare(variants, world, reps=args.reps, seed=args.seed,
                                    days=args.days, workers=args.workers, store=store,
                                    executor=executor)
    stats = experiments.paired(table, args.reference, list(report.COMPARE), seed=args.seed)
    runner.write_table(out / "runs.csv", table)
    runner.write_table(out / "compare.csv", stats)
    titles = {v.name: v.variant.title for v in variants}
    print(f"{len(variants)} variants in world '{world.world.name}': seeds {args.seed}.."
          f"{args.seed + args.reps - 1} ({args.reps} replication(s)), {args.days} days; every "
          f"variant faces the same cases. Differences are paired, against {args.reference}.\n")
    print(report.compare_text(stats, titles, args.reps))
    print(f"\nWrote {out / 'runs.csv'} (one row per run) and {out / 'compare.csv'}")


def cmd_sweep(args: argparse.Namespace) -> None:
    variant, world = load_variant(variant_path(args.variant)), load_world(Path(args.world))
    settings = [designs.parse_set(s) for s in args.set]
    out = out_dir(args, f"sweep_{variant.name}")
    store = experiment_store(out, args.design, args, variant=variant.name, set=args.set)
    with executor_for(args) as executor:
        table = experiments.sweep(variant, world, settings, reps=args.reps, seed=args.seed,
                                  days=args.days, workers=args.workers, design=args.design,
                                  store=store, executor=executor)
    runner.write_table(out / "sweep.csv", table)
    params = [path for path, _ in settings]
    means = table.groupby(params, sort=False)[list(report.COMPARE)].mean().reset_index()
    if args.design != "factorial":  # sampled points: show the range of outcomes instead
        means = means.describe().loc[["min", "50%", "max"]].rename_axis("").reset_index()
        params = [""]
    print(f"{variant.variant.title}: {len(means)} point(s) x {args.reps} replication(s), "
          f"seeds {args.seed}..{args.seed + args.reps - 1}, {args.days} days\n")
    print(report.table_text(means, params))
    print(f"\nWrote {out / 'sweep.csv'} (one row per point and replication)")


def cmd_attribute(args: argparse.Namespace) -> None:
    a, b = load_variant(variant_path(args.a)), load_variant(variant_path(args.b))
    world = load_world(Path(args.world))
    metrics = list(report.ATTRIBUTED)
    out = out_dir(args, f"attribute_{a.name}_{b.name}")
    store = experiment_store(out, "attribute", args, a=a.name, b=b.name)
    with executor_for(args) as executor:
        table = experiments.attribute(a, b, world, metrics, reps=args.reps, seed=args.seed,
                                      days=args.days, workers=args.workers, store=store,
                                      executor=executor)
    runner.write_table(out / "attribution.csv", table)
    print(f"What makes the difference from {a.variant.title} to {b.variant.title} "
          f"(Shapley values over clause groups, {args.reps} replication(s), same cases):\n")
    print(report.attribution_text(table))
    print(f"\nWrote {out / 'attribution.csv'}")


def cmd_sensitivity(args: argparse.Namespace) -> None:
    variant, world = load_variant(variant_path(args.variant)), load_world(Path(args.world))
    params = load_params(args.params)
    out = out_dir(args, f"sensitivity_{variant.name}")
    store = experiment_store(out, params.method, args, variant=variant.name,
                             params=str(args.params))
    with executor_for(args) as executor:
        table = experiments.study(variant, world, params, list(report.ATTRIBUTED),
                                  seed=args.seed, days=args.days, workers=args.workers,
                                  store=store, executor=executor)
    runner.write_table(out / "indices.csv", table)
    print(f"{variant.variant.title}: {params.method} indices over {len(params.params)} "
          f"parameter(s), seed {args.seed}, {args.days} days\n")
    print(report.indices_text(table))
    print(f"\nWrote {out / 'indices.csv'}")


def cmd_world(args: argparse.Namespace) -> None:
    world = load_world(Path(args.world))
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
    variant, world = calibration.status_quo(targets, SCENARIOS, load_world(Path(args.world)))
    table = calibration.calibrate(targets, variant, world, reps=args.reps, seed=args.seed,
                                  days=args.days)
    out = out_dir(args, "calibration")
    runner.write_table(out / "calibration.csv", table)
    print(f"Status quo: {variant.variant.title}, "
          f"{', '.join(f'{k} = {v}' for k, v in targets.status_quo.set.items())} "
          f"({targets.status_quo.source}); {args.reps} replication(s), seed {args.seed}\n")
    rows = [["target", "published", "tolerance", "simulated (10-90%)", "within", "source"]]
    for _, r in table.iterrows():
        rows.append([r["label"], f"{r['published']:g}", r["tolerance"],
                     f"{r['simulated']:.2f} ({r['p10']:.2f}-{r['p90']:.2f})",
                     "yes" if r["within"] else "NO", r["source"]])
    print(matrix.markdown(rows))
    print(f"\n{int(table['within'].sum())} of {len(table)} targets within tolerance. "
          f"Wrote {out / 'calibration.csv'}")


def cmd_brief(args: argparse.Namespace) -> None:
    world = load_world(Path(args.world))
    variants = [load_variant(variant_path(n)) for n in args.variants] or shipped()
    if args.reference not in [v.name for v in variants]:
        raise InputError(args.reference, "--reference", "not among the compared variants")
    scaled(world, args.scale)  # a bad --scale fails before anything runs
    out = out_dir(args, "brief")
    with executor_for(args) as executor:
        brief = briefing.gather(variants, world, args.reference, reps=args.reps, seed=args.seed,
                                days=args.days, scale=args.scale, workers=args.workers,
                                executor=executor)
    command = "coopsim " + " ".join(sys.argv[1:]) if sys.argv[1:2] == ["brief"] \
        else "coopsim brief"
    files = pack.write(brief, world, out, command)
    print("\n".join(pack.summary(brief)).replace("**", ""))
    print(f"\n{len(brief.variants)} variants x {args.reps} replications (scale x{args.scale:g}),"
          f" sweep and attribution in {brief.seconds:.0f} s. Wrote {len(files)} files to {out}; "
          f"open {out / 'brief.html'}")


def cmd_app(args: argparse.Namespace) -> None:
    page = Path(__file__).resolve().parent / "app.py"
    print(f"Serving the interactive page on http://{args.host}:{args.port} (Ctrl-C stops it)")
    with suppress(KeyboardInterrupt):
        subprocess.run([sys.executable, "-m", "solara", "run", str(page), "--no-check-version",
                        "--host", args.host, "--port", str(args.port)], check=False)


def cmd_run(args: argparse.Namespace) -> None:
    vpath, wpath = variant_path(args.variant), Path(args.world)
    variant, world = load_variant(vpath), load_world(wpath)
    results = runner.replicate(variant, world, args.seed, args.reps, args.days)
    table = runner.summary_table(results, args.seed)
    out = out_dir(args, variant.name)
    runner.write_outputs(out, results, table,
                         runner.manifest(vpath, wpath, args.seed, args.reps, args.days))
    print(report.summary_text(
        f"{variant.variant.title} in world '{world.world.name}': seed {args.seed}, "
        f"{args.reps} replication(s), {args.days} days, "
        f"{table['requests'].mean():,.0f} requests per replication", table))
    print(f"\nWrote summary.csv, events.parquet, requests.parquet, daily.parquet, "
          f"backlog.parquet and manifest.json to {out}")


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        commands = {"run": cmd_run, "variants": cmd_variants, "compare": cmd_compare,
                    "sweep": cmd_sweep, "sensitivity": cmd_sensitivity, "world": cmd_world,
                    "calibrate": cmd_calibrate, "brief": cmd_brief, "app": cmd_app,
                    "attribute": cmd_attribute}
        commands[args.command](args)
    except InputError as e:
        print(f"coopsim: error: {e}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
    return 0


if __name__ == "__main__":
    sys.exit(main())
