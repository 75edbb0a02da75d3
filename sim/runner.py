"""Running a scenario: replications, summaries, and atomic outputs with a manifest."""

from __future__ import annotations

import hashlib
import json
import platform
import subprocess
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import pandas as pd

from .model import CooperationModel
from .provisions import Variant
from .summary import summarize
from .world import World

DEFAULT_DAYS = 1825  # five years: needs arise in the first; all but a few requests end by the fifth
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class RunResult:
    """One replication: its summary, event log, request table and daily aggregates."""

    summary: dict[str, float]
    events: pd.DataFrame
    requests: pd.DataFrame
    daily: pd.DataFrame
    backlog: pd.DataFrame  # per central authority per day


def run_one(variant: Variant, world: World, seed: int, days: int = DEFAULT_DAYS) -> RunResult:
    """Run one replication to the horizon. Pure: same arguments, same result."""
    model = CooperationModel(variant, world, seed)
    model.run(days)
    daily = model.daily()
    return RunResult(
        summary=summarize(model.log, daily["backlog"].to_numpy()),
        events=model.log.frame(),
        requests=model.requests.frame([s.iso3 for s in model.states],
                                      [p.name for p in model.providers]),
        daily=daily,
        backlog=model.backlog_by_state(),
    )


def replicate(variant: Variant, world: World, seed: int, reps: int,
              days: int = DEFAULT_DAYS) -> list[RunResult]:
    """``reps`` replications; replication k uses seed ``seed + k``."""
    return [run_one(variant, world, seed + k, days) for k in range(reps)]


def summary_table(results: list[RunResult], seed: int) -> pd.DataFrame:
    """One row per replication."""
    rows = [{"rep": k, "seed": seed + k, **r.summary} for k, r in enumerate(results)]
    return pd.DataFrame(rows)


def write_outputs(folder: Path, results: list[RunResult], table: pd.DataFrame,
                  manifest: dict) -> None:
    """Write every output of a run into ``folder`` (a staging folder: see ``sim.outputs``)."""
    table.to_csv(folder / "summary.csv", index=False)
    for name in ("events", "requests", "daily", "backlog"):
        frames = [getattr(r, name).assign(rep=k) for k, r in enumerate(results)]
        pd.concat(frames, ignore_index=True).to_parquet(folder / f"{name}.parquet")
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


def manifest(variant_path: Path, world_path: Path, seed: int, reps: int, days: int) -> dict:
    """What is needed to reproduce a run: inputs' hashes, seed, versions, git revision."""
    return {
        "variant": str(variant_path), "variant_sha256": _sha256(variant_path),
        "world": str(world_path), "world_sha256": _sha256(world_path),
        "seed": seed, "reps": reps, "days": days,
        "replication_seeds": [seed + k for k in range(reps)],
        "python": platform.python_version(),
        "packages": package_versions(),
        "git_revision": git_revision(),
    }


def experiment_manifest(design: str, *, seed: int, reps: int, days: int, world: str,
                        **details: object) -> dict:
    """What an experiment ran and with what (not where: the results, and so these bytes,
    are the same whatever the workers or the executor)."""
    return {"design": design, **details, "seed": seed, "reps": reps,
            "replication_seeds": [seed + k for k in range(reps)], "days": days, "world": world,
            "packages": package_versions(), "git_revision": git_revision()}


def experiment_files(tables: dict[str, pd.DataFrame], manifest: dict) -> dict[str, bytes]:
    """The tables as CSV, and the manifest naming each table's SHA-256."""
    files = {name: frame.to_csv(index=False).encode() for name, frame in tables.items()}
    manifest = {**manifest, "tables": {n: hashlib.sha256(b).hexdigest()
                                       for n, b in files.items()}}
    files["manifest.json"] = (json.dumps(manifest, indent=2) + "\n").encode()
    return files


def package_versions() -> dict[str, str]:
    packages = ("coopsim", "mesa", "simpy", "numpy", "pandas", "pyarrow", "pydantic", "scipy")
    return {p: _version(p) for p in packages}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def git_revision() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                             text=True, timeout=5, check=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=ROOT, capture_output=True, text=True, timeout=5).stdout
        return out.stdout.strip() + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"
