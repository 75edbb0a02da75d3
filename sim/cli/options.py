"""What every command shares: one-line argument errors, the common options, and the checks
that run before anything runs or is written (sizes, the output folder, the executor)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NoReturn

import pandas as pd

from sim import limits
from sim.experiments import (
    execution,
    executors,
)
from sim.inputs import catalogue
from sim.inputs.provisions import Variant, load_variant, shipped
from sim.inputs.schema import InputError
from sim.inputs.world import World
from sim.outputs import folders, manifest

DEFAULT_WORLD = str(catalogue.DEFAULT_WORLD)


WORLD_HELP = "world file or shipped name (default: default)"


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
