"""Calibration: the model's status quo beside the published figures it should reproduce."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import Field

from . import designs
from .inputs import Strict, read_toml, validate
from .model import CooperationModel
from .provisions import Variant, load_variant
from .runner import RunResult, run_one
from .world import World

MONTH = 365.25 / 12


class StatusQuo(Strict):
    variant: str
    set: dict[str, Any] = Field(default_factory=dict)  # dotted path -> value
    source: str


class Target(Strict):
    label: str
    value: float
    low: float
    high: float
    source: str


class Targets(Strict):
    status_quo: StatusQuo
    targets: dict[str, Target]


def load_targets(path: Path | str) -> Targets:
    path = Path(path)
    return validate(Targets, read_toml(path), path)


def _mla_months(r: RunResult, to: str | None = None) -> np.ndarray:
    """Months from the MLA request's arrival to the evidence's return, for obtained requests."""
    ev = r.events
    arrived = ev[ev["stage"] == "transmit"].set_index("request")["end"]
    returned = ev[(ev["stage"] == "return")].set_index("request")["end"]
    both = arrived.index.intersection(returned.index)
    if to is not None:
        req = r.requests.set_index("request")
        both = both[(req.loc[both, "requested"] == to).to_numpy()]
    return ((returned.loc[both] - arrived.loc[both]) / MONTH).to_numpy()


METRICS: dict[str, Callable[[RunResult], float]] = {
    "mla_months_to_usa_mean": lambda r: float(np.mean(_mla_months(r, "USA"))),
    "mla_months_p10": lambda r: float(np.quantile(_mla_months(r), 0.1)),
    "mla_months_p90": lambda r: float(np.quantile(_mla_months(r), 0.9)),
    "preservation_per_production": lambda r: float(
        r.events["stage"].eq("preservation_request").sum()
        / max(r.events["stage"].eq("transmit").sum(), 1)),
}


def status_quo(targets: Targets, scenarios: Path, world: World) -> tuple[Variant, World]:
    """The status-quo variant and the world with the status quo's settings applied."""
    variant = load_variant(scenarios / f"{targets.status_quo.variant}.toml")
    v, w = variant.model_dump(mode="json"), world.model_dump(mode="json")
    for path, value in targets.status_quo.set.items():
        designs.apply(v, w, path, value)
    return validate(Variant, v, "status quo"), validate(World, w, "status quo")


def calibrate(targets: Targets, variant: Variant, world: World, *, reps: int, seed: int,
              days: int) -> pd.DataFrame:
    """Each target beside the simulated mean and 10-90% band, and whether it is reproduced."""
    runs = [run_one(variant, world, seed + k, days) for k in range(reps)]
    ages = [_case_ages(variant, world, seed + k) for k in range(reps)]
    rows = []
    for key, target in targets.targets.items():
        if key == "age_share_3_months":
            values = np.array([float((a <= 3 * MONTH).mean()) for a in ages])
        elif key in METRICS:
            values = np.array([METRICS[key](r) for r in runs])
        else:
            raise KeyError(f"no simulated counterpart for target '{key}'")
        mean = float(values.mean())
        rows.append({"target": key, "label": target.label, "published": target.value,
                     "tolerance": f"{target.low:g}-{target.high:g}", "simulated": mean,
                     "p10": float(np.quantile(values, 0.1)),
                     "p90": float(np.quantile(values, 0.9)),
                     "within": target.low <= mean <= target.high, "source": target.source})
    return pd.DataFrame(rows)


def _case_ages(variant: Variant, world: World, seed: int) -> np.ndarray:
    """Age of the data when each case's need arose (drawn as the model draws it)."""
    book = CooperationModel(variant, world, seed).casebook
    return np.array([t - r.comm_time for t, r in book])
