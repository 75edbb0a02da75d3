"""Writing results without ever destroying what a user owns.

Every file coopsim writes goes first to a temporary file with an unpredictable name, created
exclusively in the destination folder (never through a symlink), and is then put in place
with ``os.replace``: a reader sees the old file or the new one, never a partial one.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import suppress
from pathlib import Path

PARTIAL = ".partial-"  # temporary names: ``.NAME.partial-RANDOM``


def atomic_write(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically; a symlink at ``path`` is replaced, not followed."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}{PARTIAL}")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    """The process's umask (read once: ``os.umask`` can only be read by setting it)."""
    global _UMASK
    if _UMASK is None:
        _UMASK = os.umask(0o022)
        os.umask(_UMASK)
    return _UMASK


_UMASK: int | None = None
