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


def replication_seeds(seed: int, reps: int) -> list[int]:
    """Replication k runs with seed ``seed + k``."""
    return [seed + k for k in range(reps)]


def run_manifest(variant_path: Path, world_path: Path, seed: int, reps: int,
                 days: int) -> dict[str, Any]:
    """``coopsim run``: the input files with their hashes, the seeds, the horizon."""
    return manifest("run", {
        "variant": str(variant_path), "variant_sha256": _sha256(variant_path),
        "world": str(world_path), "world_sha256": _sha256(world_path),
        "seed": seed, "reps": reps, "days": days,
        "replication_seeds": replication_seeds(seed, reps)})


def experiment_manifest(design: str, *, seed: int, reps: int, days: int, world: str,
                        **details: object) -> dict[str, Any]:
    """An experiment (``compare``, ``sweep``, ``sensitivity``, ``attribute``): what it ran and
    with what, not where (the results, and so these bytes, are the same whatever the workers
    or the executor)."""
    return manifest("experiment", {
        "design": design, **details, "seed": seed, "reps": reps,
        "replication_seeds": replication_seeds(seed, reps), "days": days, "world": world})


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
