"""Calibration: the model's status quo beside the published figures it should reproduce."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from pydantic import Field, PrivateAttr, model_validator

from . import designs
from .inputs import FieldProblem, InputError, Strict, read_toml, validate
from .model import CooperationModel
from .provisions import Variant, load_variant
from .runner import RunResult, run_one
from .world import World

MONTH = 365.25 / 12
AGE_SHARE = "age_share_3_months"  # computed from the cases drawn, not from a run


class StatusQuo(Strict):
    variant: str = Field(pattern=r"^[a-z0-9_]+$")  # a variant's name in scenarios/
    set: dict[str, Any] = Field(default_factory=dict)  # dotted path -> value
    source: str


class Target(Strict):
    label: str
    value: float
    low: float
    high: float
    source: str

    @model_validator(mode="after")
    def _tolerance(self) -> Self:
        if self.low < 0:
            raise FieldProblem("low", f"must be at least 0 (every simulated counterpart is a "
                               f"duration, a share or a ratio), got {self.low:g}")
        if not self.low <= self.value <= self.high:
            raise FieldProblem("value", f"must lie within its tolerance, low <= value <= high, "
                               f"got {self.low:g} <= {self.value:g} <= {self.high:g}")
        return self


class Targets(Strict):
    status_quo: StatusQuo
    targets: dict[str, Target] = Field(min_length=1)
    _path: str = PrivateAttr("<targets>")  # the file, for errors found once the world is known

    @model_validator(mode="after")
    def _simulated(self) -> Self:
        for key in self.targets:
            if key not in UNOBSERVED:
                raise FieldProblem(f"targets.{key}", "no simulated counterpart; known targets: "
                                   + ", ".join(UNOBSERVED))
        return self


def load_targets(path: Path | str) -> Targets:
    """Read and validate a targets file (raises :class:`~sim.inputs.InputError`)."""
    path = Path(path)
    targets = validate(Targets, read_toml(path), path)
    targets._path = str(path)
    return targets


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


def _quantile(x: np.ndarray, q: float) -> float:
    """The quantile, NaN when there is nothing to take it of."""
    return float(np.quantile(x, q)) if x.size else math.nan


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else math.nan


def _per_production(r: RunResult) -> float:
    """Preservation requests per MLA request transmitted (NaN when none was)."""
    transmitted = int(r.events["stage"].eq("transmit").sum())
    asked = int(r.events["stage"].eq("preservation_request").sum())
    return asked / transmitted if transmitted else math.nan


METRICS: dict[str, Callable[[RunResult], float]] = {  # NaN: nothing observed in the run
    "mla_months_to_usa_mean": lambda r: _mean(_mla_months(r, "USA")),
    "mla_months_p10": lambda r: _quantile(_mla_months(r), 0.1),
    "mla_months_p90": lambda r: _quantile(_mla_months(r), 0.9),
    "preservation_per_production": _per_production,
}
NO_MLA = "no MLA request finished within the horizon"
UNOBSERVED = {  # every target with a simulated counterpart -> why a run may observe none
    "mla_months_to_usa_mean": "no MLA request to the United States finished within the horizon",
    "mla_months_p10": NO_MLA,
    "mla_months_p90": NO_MLA,
    "preservation_per_production": "no MLA request was transmitted within the horizon",
    AGE_SHARE: "no case arose within cases.arrival_days",
}


def status_quo(targets: Targets, scenarios: Path, world: World) -> tuple[Variant, World]:
    """The status-quo variant and the world with the status quo's settings applied.

    A variant that is not in ``scenarios``, or a setting that does not apply or gives an
    invalid variant or world, is an :class:`InputError` naming the targets file and the key.
    """
    where, sq = targets._path, targets.status_quo
    variant_path = scenarios / f"{sq.variant}.toml"
    if not variant_path.is_file():
        raise InputError(where, "status_quo.variant", f"no variant '{sq.variant}' in {scenarios}")
    v, w = load_variant(variant_path).model_dump(mode="json"), world.model_dump(mode="json")
    for path, value in sq.set.items():
        try:
            designs.apply(v, w, path, value)
        except InputError as e:
            raise InputError(where, f"status_quo.set.{path}", e.message) from None
        try:
            validate(Variant, v, where)
            validate(World, w, where)
        except InputError as e:
            raise InputError(where, f"status_quo.set.{path}",
                             f"gives {e.key or 'the data'}: {e.message}") from None
    return validate(Variant, v, where), validate(World, w, where)


def calibrate(targets: Targets, variant: Variant, world: World, *, reps: int, seed: int,
              days: int) -> pd.DataFrame:
    """Each target beside the simulated mean and 10-90% band, and whether it is reproduced.

    Replications that observe nothing for a target (no MLA request finished within a short
    horizon, say) are left out of its figures; when none observes anything, its figures are
    NaN, it is not within tolerance, and ``missing`` says why (otherwise ``missing`` is "").
    """
    runs = [run_one(variant, world, seed + k, days) for k in range(reps)]
    ages = [_case_ages(variant, world, seed + k) for k in range(reps)]
    rows = []
    for key, target in targets.targets.items():
        values = np.array([_mean((a <= 3 * MONTH).astype(float)) for a in ages]
                          if key == AGE_SHARE else [METRICS[key](r) for r in runs])
        seen = values[~np.isnan(values)]
        mean = _mean(seen)
        rows.append({"target": key, "label": target.label, "published": target.value,
                     "tolerance": f"{target.low:g}-{target.high:g}", "simulated": mean,
                     "p10": _quantile(seen, 0.1), "p90": _quantile(seen, 0.9),
                     "within": bool(target.low <= mean <= target.high),
                     "missing": "" if seen.size else UNOBSERVED[key], "source": target.source})
    return pd.DataFrame(rows)


def _case_ages(variant: Variant, world: World, seed: int) -> np.ndarray:
    """Age of the data when each case's need arose (drawn as the model draws it)."""
    book = CooperationModel(variant, world, seed).casebook
    return np.array([t - r.comm_time for t, r in book])
