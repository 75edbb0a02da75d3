"""Durable experiment results: one Parquet shard per finished run, written as runs finish.

A shard's name is a hash of its task (variant data, world data, seed, window, windows), so
running the same experiment again finds the finished runs and computes only the rest: an
interrupted experiment resumes, and no run is lost or counted twice. A shard keeps each value's type
(integers stay integers), so a table made from shards is identical to the one first computed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import os
import stat
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from sim.outputs.folders import SHARD_NAME, SHARDS
from sim.outputs.writing import atomic_write

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0) \
    | getattr(os, "O_CLOEXEC", 0)  # never a symlink; never wait on a FIFO


class ShardStore:
    """Finished runs under ``folder/shards/``, one single-row Parquet file each."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder / SHARDS
        self.folder.mkdir(parents=True, exist_ok=True)

    @staticmethod
    def key(task: Any) -> str:
        text = json.dumps(dataclasses.asdict(task), sort_keys=True, default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:20]

    def load(self) -> dict[str, dict[str, Any]]:
        """Every finished run, by key, each value of the type it was saved with.

        Only regular files named like shards are read, never through a symlink; one that
        cannot be read is skipped (its run is computed again). A half-written shard is never
        visible: see ``save``.
        """
        rows = {}
        for name in sorted(os.listdir(self.folder)):
            row = self._read(self.folder / name) if SHARD_NAME.fullmatch(name) else None
            if row is not None:
                rows[name.removesuffix(".parquet")] = row
        return rows

    @staticmethod
    def _read(path: Path) -> dict[str, Any] | None:
        try:
            if not stat.S_ISREG(os.lstat(path).st_mode):
                return None
            fd = os.open(path, os.O_RDONLY | NOFOLLOW)
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                    return None
                rows = pq.read_table(io.BytesIO(f.read())).to_pylist()
        except (OSError, ValueError, pa.ArrowException):  # gone, a symlink, or not Parquet
            return None
        return rows[0] if len(rows) == 1 else None

    def save(self, key: str, row: dict[str, Any]) -> None:
        """Write one run's result as its shard, atomically (values keep their types)."""
        data = io.BytesIO()
        pq.write_table(pa.Table.from_pylist([row]), data)
        atomic_write(self.folder / f"{key}.parquet", data.getvalue())
