"""Upper bounds that keep one command inside one machine (2 cores, 24 GiB).

Every bound is checked while the inputs are validated, before anything runs or is written;
``docs/model.md`` and the README list them. A bound protects the machine, not the model: a
study that needs more splits into several commands (or runs on a cluster, see ``--executor``).
"""

from __future__ import annotations

import os

MAX_CASES = 1_000_000  # cases one replication draws: per_year x (warm-up + window + run-off)/365
MAX_HELD_CASES = 5_000_000  # cases of the cohorts `run` and `calibrate` hold over replications
MAX_WINDOW = 7_305  # measurement window (--window), warm-up and run-off: twenty years each
DEFAULT_WINDOW = 365  # days of arrivals reported by default (--window)
MAX_DURATION_DAYS = 36_525  # any duration or period in a file: a hundred years
MAX_REPS = 1_000  # replications (--reps)
MAX_POINTS = 10_000  # points of a sweep: grid points, or N of a sampled design
MAX_RUNS = 100_000  # runs of one command: points x replications, Sobol N(2k+2), ...
MAX_SEED = 2**31 - 1  # --seed; replication k uses seed + k
MAX_STATES = 1_000  # States in a world's roster
MAX_PROVIDERS = 1_000  # providers in a world
MAX_STAFF = 1_000_000  # staff of any desk
MAX_FILE_BYTES = 16 * 2**20  # an input file
MAX_DEPTH = 32  # tables and arrays nested in an input file
MAX_SIGMA = 4.0  # a lognormal duration's sigma: its 99th percentile is then 11,000 x its median
MAX_CONCENTRATION = 1_000_000  # states.propensity_concentration: beyond, every State is the mean
MIN_CASES_PER_YEAR = 0.001  # cases.per_year at least (a lower bound): one case in 1,000 years
WORKERS_PER_CORE = 4  # --workers at most this many per core


def max_workers() -> int:
    """The most local worker processes a command may ask for."""
    return WORKERS_PER_CORE * (os.cpu_count() or 1)
