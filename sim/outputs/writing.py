"""Writing a file atomically: every output coopsim writes goes through here.

Every file goes first to a temporary file with an unpredictable name, created exclusively
(never through a symlink), then is put in place with ``os.replace`` (:func:`atomic_write`;
:func:`write` encodes tables, manifests and text for it, :func:`encode` says how).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import tempfile
from collections.abc import Mapping
from contextlib import suppress
from pathlib import Path
from typing import Any

import pandas as pd

PARTIAL = ".partial-"  # temporary files and staging folders: ``.NAME.partial-RANDOM``


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; a symlink at ``path`` is replaced, not followed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{PARTIAL}")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


Content = bytes | str | Mapping[str, Any] | pd.DataFrame


def encode(name: str, content: Content) -> bytes:
    """A file's bytes by its name: a frame as ``.csv`` (no index) or ``.parquet``, a mapping as
    ``.json`` (indented by two, one newline at the end), text as UTF-8, bytes as they are."""
    suffix = Path(name).suffix
    if isinstance(content, bytes):
        return content
    if isinstance(content, str):
        return content.encode()
    if isinstance(content, pd.DataFrame) and suffix == ".csv":
        return content.to_csv(index=False).encode()
    if isinstance(content, pd.DataFrame) and suffix == ".parquet":
        data = io.BytesIO()
        content.to_parquet(data)
        return data.getvalue()
    if isinstance(content, Mapping) and suffix == ".json":
        return (json.dumps(content, indent=2) + "\n").encode()
    raise TypeError(f"cannot write a {type(content).__name__} as {name}")


def write(folder: Path, files: Mapping[str, Content]) -> None:
    """Write each file into ``folder`` with :func:`atomic_write`, one after the other, each
    encoded (:func:`encode`) just before it is written. Every output goes through here."""
    for name, content in files.items():
        atomic_write(folder / name, encode(name, content))


def sha256(path: Path) -> str:
    """SHA-256 of a regular file, read without following a symlink."""
    digest = hashlib.sha256()
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as f:
        for block in iter(lambda: f.read(2**20), b""):
            digest.update(block)
    return digest.hexdigest()


def umask() -> int:
    """The process's umask (read once: ``os.umask`` can only be read by setting it)."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


_UMASK: int | None = None
