"""The ``manifest.json`` of every results folder: what ran, on which inputs, with what.

One schema: a command's own fields, in the order its builder lists them, then the provenance
every manifest ends with (:func:`manifest`): the versions of the packages that compute the
results and the git revision (``-dirty`` when tracked files differ from it); ``run`` also
records the Python version. An experiment's manifest closes with the SHA-256 of each table
beside it (:func:`experiment_files`). ``calibrate`` writes no manifest.
"""

from __future__ import annotations

import hashlib
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from sim.inputs.catalogue import SOURCE_ROOT
from sim.outputs.writing import encode

PACKAGES = ("coopsim", "mesa", "simpy", "numpy", "pandas", "pyarrow", "pydantic", "scipy")


def manifest(command: str, fields: dict[str, Any]) -> dict[str, Any]:
    """``fields`` (the command's own), then the provenance every manifest shares."""
    python = {"python": platform.python_version()} if command == "run" else {}
    return {**fields, **python, "packages": package_versions(), "git_revision": git_revision()}


MSER5 = ("chosen by `coopsim warmup`: MSER-5 (White 1997) on the mean, over several runs, of "
         "the daily files in central-authority hands (the truncation point minimising the "
         "squared standard error of the mean of 5-day batch means); mser5_day is this run's "
         "own, for information")


def measurement(window: int, reps: int, steady: dict[str, Any] | None = None) -> dict[str, Any]:
    """How a run is measured: ``reps`` consecutive windows of ``window`` days (its
    replications, by batch means) after one warm-up, then a run-off; with a run's ``steady``
    check, its warm-up, MSER-5 day, run-off, censored requests and overloaded desks."""
    body: dict[str, Any] = {
        "method": "batch means: one run per seed; after the warm-up, each of `reps` "
                  "consecutive windows is one replication (the cohort of cases arising in it)",
        "window_days": window, "windows": reps, "warmup_method": MSER5}
    if steady:
        body |= {k: steady[k] for k in ("warmup_days", "mser5_day", "runoff_days",
                                        "censored", "overloaded")}
    return body


def run_manifest(variant_path: Path, world_path: Path, seed: int, reps: int,
                 window: int, steady: dict[str, Any]) -> dict[str, Any]:
    """``coopsim run``: the input files with their hashes, the seeds, the measurement."""
    return manifest("run", {
        "variant": str(variant_path), "variant_sha256": _sha256(variant_path),
        "world": str(world_path), "world_sha256": _sha256(world_path),
        "seed": seed, "reps": reps, "measurement": measurement(window, reps, steady)})


def experiment_manifest(design: str, *, seed: int, reps: int, window: int, world: str,
                        **details: object) -> dict[str, Any]:
    """An experiment (``compare``, ``sweep``, ``sensitivity``, ``attribute``): what it ran and
    with what, not where (the results, and so these bytes, are the same whatever the workers
    or the executor). Each run's MSER-5 day, run-off and overloaded desks are in its row."""
    return manifest("experiment", {
        "design": design, **details, "seed": seed, "reps": reps,
        "measurement": measurement(window, reps), "world": world})


def experiment_files(tables: dict[str, pd.DataFrame], body: dict[str, Any]) -> dict[str, bytes]:
    """The tables as CSV, and the manifest ``body`` closed by each table's SHA-256."""
    files = {name: encode(name, frame) for name, frame in tables.items()}
    hashes = {n: hashlib.sha256(b).hexdigest() for n, b in files.items()}
    files["manifest.json"] = encode("manifest.json", {**body, "tables": hashes})
    return files


def package_versions() -> dict[str, str]:
    """The installed version of each package the results depend on."""
    return {p: _version(p) for p in PACKAGES}


def git_revision(root: Path | None = SOURCE_ROOT) -> str:
    """The source checkout's commit, ``-dirty`` if tracked files changed; ``unknown`` when
    installed from a wheel (no checkout), when ``root`` is not a repository's own root (never
    an enclosing repository's, nor the working folder's), or without git."""
    if root is None or not (root / ".git").exists():
        return "unknown"
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=root, capture_output=True, text=True, timeout=5).stdout
        return out.stdout.strip() + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"
