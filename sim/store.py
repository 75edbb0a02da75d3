"""Durable experiment results: one Parquet shard per finished run, written as runs finish.

A shard's name is a hash of its task (variant data, world data, seed, horizon), so running the
same experiment again finds the finished runs and computes only the rest: an interrupted
experiment resumes, and no run is lost or counted twice.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pandas as pd


class ShardStore:
    """Finished runs under ``folder/shards/``, one single-row Parquet file each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / "shards"
        self.folder.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(task: Any) -> str:
        text = json.dumps(dataclasses.asdict(task), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def load(self) -> dict[str, dict[str, Any]]:
        """Every finished run, by key (a half-written shard is never visible: see ``save``)."""
        return {p.stem: pd.read_parquet(p).iloc[0].to_dict()
                for p in sorted(self.folder.glob("*.parquet"))}

    def save(self, key: str, row: dict[str, Any]) -> None:
        partial = self.folder / f".{key}.partial-{os.getpid()}"
        pd.DataFrame([row]).to_parquet(partial)
        partial.replace(self.folder / f"{key}.parquet")
