"""coopsim: how cybercrime treaties move electronic evidence across borders.

The names below load on first use, so that ``import sim`` (and the ``coopsim`` command's
start) stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

_HOMES = {  # the public API: name -> the module that defines it
    "attribute": "experiments.analyses", "compare": "experiments.analyses",
    "paired": "experiments.analyses", "study": "experiments.analyses",
    "sweep": "experiments.analyses", "InputError": "inputs.schema",
    "CooperationModel": "engine.model", "Observation": "metrics.observe",
    "Variant": "inputs.provisions", "load_variant": "inputs.provisions",
    "shipped": "inputs.provisions", "RunResult": "experiments.runner",
    "run_one": "experiments.runner", "Window": "engine.window",
    "World": "inputs.world", "load_world": "inputs.world",
}
__all__ = sorted(_HOMES)


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'sim' has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_HOMES[name]}", __name__), name)
