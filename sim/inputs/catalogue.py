"""The shipped scenarios: where they live, their names, and finding one by name or path.

Installed from a wheel, the scenarios ship inside the package (``sim/scenarios/``); in a
source checkout (editable install, or ``python -m sim`` from the repository) they are the
repository's top-level ``scenarios/`` folder.
"""

from __future__ import annotations

import os
from pathlib import Path

from sim.inputs.schema import InputError

PACKAGE = Path(__file__).resolve().parent.parent  # the sim package
_PACKAGED = PACKAGE / "scenarios"
SOURCE_ROOT: Path | None = None if _PACKAGED.is_dir() else PACKAGE.parent
"""The repository root in a source checkout; None when installed from a wheel."""
SCENARIOS = _PACKAGED if SOURCE_ROOT is None else SOURCE_ROOT / "scenarios"
WORLDS = SCENARIOS / "worlds"
TARGETS = SCENARIOS / "calibration" / "targets.toml"
DEFAULT_VARIANT = "un_convention_2024"
DEFAULT_WORLD = WORLDS / "default.toml"
KINDS = {"draft": 0, "reference": 1, "composite": 2}  # the order shipped variants are listed in


def names(folder: Path = SCENARIOS) -> list[str]:
    """The names of the variants (or worlds) in ``folder``, sorted."""
    return sorted(p.stem for p in folder.glob("*.toml") if p.is_file())


def variant_file(spec: str | Path) -> Path:
    """A variant file given as a path, or by its shipped name (``un_convention_2024``, with
    or without ``.toml``): see :func:`resolve`."""
    return resolve(spec, SCENARIOS, "variants")


def world_file(spec: str | Path) -> Path:
    """A world file given as a path, or by its shipped name (``default``)."""
    return resolve(spec, WORLDS, "worlds")


def resolve(spec: str | Path, folder: Path, what: str) -> Path:
    """The file ``spec`` names: an existing file wins; a bare name (no folder in it, with or
    without ``.toml``) is then looked up in ``folder``; anything else is a path, returned as
    it is (reading it says what is wrong). A bare name found nowhere is an
    :class:`~sim.inputs.schema.InputError` listing the shipped ``what``."""
    path, text = Path(spec), str(spec)
    # os.path's tests, unlike Path's, answer False for a name the system cannot look up
    if os.path.isfile(path) or path.name != text or text in ("", ".", ".."):
        return path
    shipped = folder / f"{text.removesuffix('.toml')}.toml"
    if os.path.isfile(shipped):
        return shipped
    if os.path.exists(path):  # a folder or a FIFO here: reading it gives the precise error
        return path
    raise InputError(text, "", f"not found: no such file, nor {shipped}; shipped {what}: "
                     + ", ".join(names(folder)))
