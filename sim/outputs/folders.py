"""Results folders that never destroy what a user owns.

A results folder is coopsim's only if coopsim made it: it holds a marker, ``.coopsim``, that
names the command that wrote it and every file coopsim put there, with its SHA-256. coopsim
writes only into a folder that is new, empty, or its own with nothing else in it; pointed at
anything else it stops before running, with a one-line error, and touches nothing.

Two kinds of folder:

- *replaced* (``run``, ``brief``, ``calibrate``): the new results are written into a private
  staging folder beside ``--out`` and swapped in whole (``renameat2(RENAME_EXCHANGE)`` where the
  system has it, else two renames), so a reader sees the old results or the new ones. A kill
  at any moment leaves the previous results in place, or beside it where the next run
  restores them;
- *kept* (``compare``, ``sweep``, ``sensitivity``, ``attribute``): the folder stays, finished
  runs accumulate in ``shards/`` (an interrupted experiment resumes), and the tables and the
  manifest are replaced file by file; the manifest is removed before the tables change and
  written after them with their hashes, so a manifest always describes the tables beside it.

Every file is written atomically (:mod:`sim.outputs.writing`). One process at a time
writes a folder: the others stop at once (they do not wait), naming the folder. Leftovers of
a process that died (``.NAME.partial-*``, ``.NAME.old-*``) are cleaned up by the next run.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import hashlib
import json
import os
import re
import secrets
import shutil
import stat
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from sim.inputs.schema import InputError
from sim.outputs.writing import PARTIAL, atomic_write, sha256, umask

MARKER = ".coopsim"
OLD = ".old-"  # a previous result moved aside during a two-rename swap: ``.NAME.old-RANDOM``
LOCK = ".coopsim-lock"  # beside the folder: ``.NAME.coopsim-lock``, while a process writes it
REPLACED = frozenset({"run", "brief", "calibrate", "warmup", "capacity"})
KEPT = frozenset({"compare", "sweep", "sensitivity", "attribute"})
SHARDS = "shards"
SHARD_NAME = re.compile(r"^[0-9a-f]{20}\.parquet$")
MAX_MARKER_BYTES = 2**20


@dataclass
class Marker:
    """What coopsim wrote in a folder: the command, its files' hashes, whether complete."""

    kind: str
    files: dict[str, str | None] = field(default_factory=dict)  # None: being written
    complete: bool = False

    def dumps(self) -> bytes:
        body = {"coopsim": 1, "kind": self.kind, "complete": self.complete,
                "files": dict(sorted(self.files.items()))}
        return (json.dumps(body, indent=1) + "\n").encode()


# --- whose folder is it? ----------------------------------------------------------------------


def read_marker(folder: Path) -> Marker | None:
    """The folder's marker, or None if it has none (or one coopsim could not have written)."""
    try:
        fd = os.open(folder / MARKER, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        raw = f.read(MAX_MARKER_BYTES + 1)
    try:
        body = json.loads(raw)
        files = body["files"]
        if body.get("coopsim") != 1 or not isinstance(files, dict) or not all(
                isinstance(k, str) and (v is None or isinstance(v, str))
                for k, v in files.items()):
            return None
        return Marker(str(body["kind"]), files, bool(body["complete"]))
    except (ValueError, KeyError, TypeError):
        return None


def foreign(folder: Path, marker: Marker) -> str | None:
    """The first entry of ``folder`` that is not coopsim's as coopsim left it, described
    (``notes.txt, which coopsim did not write``), or None if every entry is."""
    for entry in sorted(os.listdir(folder)):
        path = folder / entry
        info = os.lstat(path)
        if entry == MARKER:
            continue
        if marker.kind in KEPT and entry == SHARDS and stat.S_ISDIR(info.st_mode):
            inside = _foreign_shard(path)
            if inside:
                return f"{SHARDS}/{inside}, which coopsim did not write"
            continue
        if not stat.S_ISREG(info.st_mode) or (
                entry not in marker.files and not _temporary(entry, info)):
            return f"{entry}, which coopsim did not write"
        known = marker.files.get(entry)
        if known is not None and known != sha256(path):
            return f"{entry}, changed since coopsim wrote it"
    return None


def _foreign_shard(shards: Path) -> str | None:
    for entry in sorted(os.listdir(shards)):
        info = os.lstat(shards / entry)
        if not stat.S_ISREG(info.st_mode) or not (
                SHARD_NAME.match(entry) or _temporary(entry, info)):
            return entry
    return None


def _temporary(name: str, info: os.stat_result) -> bool:
    """A temporary file of coopsim's (``.NAME.partial-*``, owned by this user)."""
    return name.startswith(".") and PARTIAL in name and stat.S_ISREG(info.st_mode) \
        and info.st_uid == os.geteuid()


def check(out: Path, kind: str) -> None:
    """Raise :class:`InputError` unless ``kind`` results may be written at ``out``. Reads only."""
    if kind not in REPLACED | KEPT:
        raise ValueError(f"unknown kind of results folder: {kind!r}")
    path = Path(os.path.abspath(out))
    if path.parent == path:
        _refuse(out, "is the root folder; choose a folder for the results")
    here = Path(os.path.realpath(os.getcwd()))
    if here.is_relative_to(os.path.realpath(path)):
        _refuse(out, "holds the current folder; choose a new folder inside it")
    try:
        info = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        _check_base(out, path.parent)
        return
    except OSError as e:
        _refuse(out, f"cannot be read ({e.strerror})")
    if stat.S_ISLNK(info.st_mode):
        _refuse(out, "is a symbolic link; coopsim writes only into real folders")
    if not stat.S_ISDIR(info.st_mode):
        _refuse(out, "is a file, not a folder; choose a folder for the results")
    _check_owned(out, path, kind)
    _check_writable(out, path.parent)
    if kind in KEPT:
        _check_writable(out, path)


def _check_owned(out: Path, path: Path, kind: str) -> None:
    try:
        entries = os.listdir(path)
    except OSError as e:
        _refuse(out, f"cannot be read ({e.strerror})")
    if not entries:
        return
    marker = read_marker(path)
    if marker is None:
        _refuse(out, f"is a folder coopsim did not make (it holds {sorted(entries)[0]}); "
                     "choose a new or empty folder")
    if marker.kind != kind:
        _refuse(out, f"holds the results of 'coopsim {marker.kind}'; choose another folder "
                     f"for 'coopsim {kind}'")
    other = foreign(path, marker)
    if other:
        _refuse(out, f"holds {other}; move it away or choose another folder")


def _check_base(out: Path, parent: Path) -> None:
    """The nearest existing ancestor of a new folder must be a folder coopsim can write in."""
    base = parent
    while not os.path.lexists(base):
        base = base.parent
    if not os.path.isdir(base):
        _refuse(out, f"{base} is not a folder")
    _check_writable(out, base)


def _check_writable(out: Path, folder: Path) -> None:
    if not os.access(folder, os.W_OK | os.X_OK):
        _refuse(out, f"cannot write in {folder} (permission denied)")


def _refuse(out: Path, message: str) -> None:
    raise InputError("--out", str(out), message)


# --- claiming a folder ------------------------------------------------------------------------


@dataclass
class Target:
    """A results folder this process holds the lock on."""

    path: Path
    kind: str
    notes: list[str] = field(default_factory=list)  # what the claim restored or kept

    @property
    def shards(self) -> Path:
        """The finished runs of a kept folder."""
        return self.path / SHARDS

    @contextmanager
    def staging(self) -> Iterator[Path]:
        """A private folder to write the new results into, swapped in whole when the block
        ends (replaced kinds); an exception leaves the previous results untouched."""
        stage = Path(tempfile.mkdtemp(dir=self.path.parent, prefix=f".{self.path.name}{PARTIAL}"))
        try:
            atomic_write(stage / MARKER, Marker(self.kind).dumps())
            yield stage
            _seal(stage, self.kind)
            _swap(stage, self.path)
        finally:
            kept = _remove_stale(stage) if os.path.lexists(stage) else None
        if kept:
            self.notes.append(kept)

    def publish(self, files: dict[str, bytes]) -> None:
        """Replace tables of a kept folder, the manifest (if given) removed first, written last."""
        marker = read_marker(self.path) or Marker(self.kind)
        marker.files.update(dict.fromkeys(files))
        atomic_write(self.path / MARKER, marker.dumps())
        names = sorted(files, key=lambda n: n == "manifest.json")
        if "manifest.json" in files:
            with suppress(FileNotFoundError):
                os.unlink(self.path / "manifest.json")
        for name in names:
            atomic_write(self.path / name, files[name])
            marker.files[name] = hashlib.sha256(files[name]).hexdigest()
        marker.complete = True
        atomic_write(self.path / MARKER, marker.dumps())


@contextmanager
def claim(out: Path, kind: str) -> Iterator[Target]:
    """Lock ``out`` for ``kind`` results, restore or clean what a dead process left, and
    (kept kinds) make the folder. Folders it creates are removed again if the block fails
    before anything was published."""
    check(out, kind)
    path = Path(os.path.abspath(out))
    created = _make_parents(out, path.parent)
    try:
        with _locked(out, path):
            target = Target(path, kind, _recover(path))
            check(out, kind)
            if kind in KEPT:
                _make_kept(path, kind)
            yield target
    except BaseException:
        for folder in created:
            with suppress(OSError):
                os.rmdir(folder)
        raise


def _make_parents(out: Path, parent: Path) -> list[Path]:
    missing = []
    while not os.path.lexists(parent):
        missing.append(parent)
        parent = parent.parent
    for folder in reversed(missing):
        try:
            os.mkdir(folder)
        except OSError as e:
            _refuse(out, f"cannot create {folder} ({e.strerror})")
    return missing  # deepest first


def _lock_fd(out: Path, lock: Path) -> int:
    """An open descriptor of ``lock`` holding its exclusive lock.

    The file a lock was taken on must still be the one at ``lock`` (a process that finishes
    removes it): otherwise open the new one and try again.
    """
    while True:
        try:
            fd = os.open(lock, os.O_RDONLY | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
        except OSError as e:
            _refuse(out, f"cannot create its lock {lock.name} ({e.strerror})")
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            with suppress(FileNotFoundError):
                if os.path.samestat(os.lstat(lock), os.fstat(fd)):
                    return fd
        except BlockingIOError:
            os.close(fd)
            _refuse(out, "another coopsim is writing this folder; wait for it to finish or "
                         "choose another folder")
        os.close(fd)


@contextmanager
def _locked(out: Path, path: Path) -> Iterator[None]:
    """Hold ``.NAME.coopsim-lock`` beside ``path``; refuse at once if another process does."""
    lock = path.parent / f".{path.name}{LOCK}"
    fd = _lock_fd(out, lock)
    try:
        yield
    finally:
        with suppress(OSError):
            if os.path.samestat(os.lstat(lock), os.fstat(fd)):
                os.unlink(lock)
        os.close(fd)


def _make_kept(path: Path, kind: str) -> None:
    with suppress(FileExistsError):
        os.mkdir(path)
    if not stat.S_ISDIR(os.lstat(path).st_mode):
        _refuse(path, "is no longer a folder")
    if read_marker(path) is None:
        atomic_write(path / MARKER, Marker(kind).dumps())
    with suppress(FileExistsError):
        os.mkdir(path / SHARDS)
    for folder in (path, path / SHARDS):
        for entry in os.listdir(folder):
            if _temporary(entry, os.lstat(folder / entry)):
                with suppress(FileNotFoundError):
                    os.unlink(folder / entry)


# --- swapping a replaced folder ---------------------------------------------------------------


def _seal(stage: Path, kind: str) -> None:
    """Record every staged file with its hash, mark the stage complete, flush it to disk."""
    files = {p.name: sha256(p) for p in sorted(stage.iterdir()) if p.name != MARKER}
    atomic_write(stage / MARKER, Marker(kind, files, complete=True).dumps())
    os.chmod(stage, 0o777 & ~umask())
    fd = os.open(stage, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _swap(stage: Path, out: Path) -> None:
    """Put ``stage`` in place of ``out``; the previous results end up in ``stage``."""
    if not os.path.lexists(out):
        os.rename(stage, out)
        return
    if _exchange(stage, out):
        return
    old = out.parent / f".{out.name}{OLD}{secrets.token_hex(8)}"
    os.rename(out, old)
    try:
        os.rename(stage, out)
    except BaseException:
        os.rename(old, out)
        raise
    os.rename(old, stage)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically (Linux ``renameat2``); False where the system cannot."""
    rename = getattr(_LIBC, "renameat2", None) if _LIBC and EXCHANGE else None
    if rename is None:
        return False
    if rename(-100, os.fsencode(a), -100, os.fsencode(b), 2) == 0:  # AT_FDCWD, RENAME_EXCHANGE
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None
    if hasattr(libc, "renameat2"):
        libc.renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                                   ctypes.c_uint]
        libc.renameat2.restype = ctypes.c_int
    return libc


_LIBC = _libc()
EXCHANGE = True  # tests turn it off to exercise the two-rename swap


# --- what a dead process left -----------------------------------------------------------------


def _recover(path: Path) -> list[str]:
    """Restore results a dead process moved aside, and remove its other leftovers."""
    notes = []
    left = _leftovers(path)
    if not os.path.lexists(path):
        previous = [p for p in left if OLD in p.name and (read_marker(p) or Marker("")).complete]
        if previous:
            best = max(previous, key=lambda p: os.lstat(p).st_mtime_ns)
            os.rename(best, path)
            left.remove(best)
            notes.append(f"restored the previous results from {best.name}")
    for p in left:
        kept = _remove_stale(p)
        if kept:
            notes.append(kept)
    return notes


def _leftovers(path: Path) -> list[Path]:
    """Staging folders and moved-aside results of ``path``: real folders of this user's,
    private (mode 0700, as a staging folder is made), with coopsim's marker, or emptied."""
    found = []
    for prefix in (f".{path.name}{PARTIAL}", f".{path.name}{OLD}"):
        for entry in os.listdir(path.parent):
            if not entry.startswith(prefix):
                continue
            p = path.parent / entry
            info = os.lstat(p)
            private = prefix.endswith(PARTIAL) and stat.S_IMODE(info.st_mode) == 0o700
            if stat.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid() \
                    and (private or read_marker(p) is not None or not os.listdir(p)):
                found.append(p)
    return found


def _remove_stale(folder: Path) -> str | None:
    """Remove a staging folder or a replaced result; keep (and say so) anything not ours."""
    marker = read_marker(folder)
    if marker is None or not marker.complete:
        shutil.rmtree(folder)  # a private staging folder (mode 0700): only coopsim writes it
        return None
    other = foreign(folder, marker)
    if other:
        return f"kept {folder}: it holds {other}"
    for entry in os.listdir(folder):
        if entry != MARKER:
            os.unlink(folder / entry)
    os.unlink(folder / MARKER)
    os.rmdir(folder)
    return None
