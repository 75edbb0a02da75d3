"""coopsim: how cybercrime treaties move electronic evidence across borders.

The names below load on first use, so that ``import sim`` (and the ``coopsim`` command's
start) stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {
    "attribute": "experiments", "compare": "experiments", "paired": "experiments",
    "study": "experiments", "sweep": "experiments", "InputError": "inputs",
    "CooperationModel": "model", "Observation": "observe", "Variant": "provisions",
    "load_variant": "provisions",
    "RunResult": "runner", "replicate": "runner", "run_one": "runner", "World": "world",
    "load_world": "world",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
