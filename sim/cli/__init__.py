"""The ``coopsim`` command line.

Every command validates all its inputs (files, options, the output folder, the executor)
before it runs or writes anything; a bad input ends in one line, ``coopsim: error: WHERE:
KEY: what is wrong``, with exit status 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from contextlib import suppress

from sim.cli.options import Parser, UsageError
from sim.cli.runs import (
    add_briefing_commands,
    add_calibrate_command,
    add_variant_commands,
    add_world_command,
    cmd_app,
    cmd_brief,
    cmd_calibrate,
    cmd_run,
    cmd_variants,
    cmd_world,
)
from sim.cli.studies import (
    add_capacity_command,
    add_experiment_commands,
    add_warmup_command,
    cmd_attribute,
    cmd_capacity,
    cmd_compare,
    cmd_sensitivity,
    cmd_sweep,
    cmd_warmup,
)
from sim.experiments import execution
from sim.inputs.schema import InputError

INTERRUPTED = 130  # exit status after Ctrl-C, as shells report SIGINT


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
