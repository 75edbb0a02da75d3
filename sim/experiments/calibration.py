"""Calibration: the model's status quo beside the published figures it should reproduce."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any, Self

import numpy as np
import pandas as pd
from pydantic import Field, PrivateAttr, model_validator

from sim.engine.model import CooperationModel
from sim.engine.window import Window
from sim.experiments import designs
from sim.inputs import catalogue
from sim.inputs.provisions import Variant, load_variant
from sim.inputs.schema import FieldProblem, InputError, Strict, read_toml, validate
from sim.inputs.world import World
from sim.metrics.observe import MONTH, Observation

AGE_SHARE = "age_share_3_months"  # from the cases the run created


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
    """Read and validate a targets file (raises :class:`~sim.inputs.schema.InputError`)."""
    path = Path(path)
    targets = validate(Targets, read_toml(path), path)
    targets._path = str(path)
    return targets


def _quantile(x: np.ndarray, q: float) -> float:
    """The quantile, NaN when there is nothing to take it of."""
    return float(np.quantile(x, q)) if x.size else math.nan


def _mean(x: np.ndarray) -> float:
    return float(x.mean()) if x.size else math.nan


def _age_share(seen: Observation) -> float:
    """Share of the cases arisen whose data were at most three months old at the need."""
    return _mean((seen.case_ages <= 3 * MONTH).astype(float))


METRICS: dict[str, Callable[[Observation], float]] = {  # NaN: nothing observed in the run
    "mla_months_to_usa_mean": lambda o: _mean(o.mla_months("USA")),
    "mla_months_p10": lambda o: _quantile(o.mla_months(), 0.1),
    "mla_months_p90": lambda o: _quantile(o.mla_months(), 0.9),
    "preservation_per_production": lambda o: o.preservation_per_production,
    AGE_SHARE: _age_share,
    "usa_backlog_mean": lambda o: o.desk_backlog("USA"),
}
NO_MLA = "no MLA request of the cohort finished within the run-off"
UNOBSERVED = {  # every target with a simulated counterpart -> why a run may observe none
    "mla_months_to_usa_mean": "no MLA request of the cohort to the United States finished "
                              "within the run-off",
    "mla_months_p10": NO_MLA,
    "mla_months_p90": NO_MLA,
    "preservation_per_production": "no MLA request of the cohort was transmitted",
    AGE_SHARE: "no case arose within the window",
    "usa_backlog_mean": "the world has no United States, or its central authority no staff",
}


def status_quo(targets: Targets, scenarios: Path, world: World) -> tuple[Variant, World]:
    """The status-quo variant and the world with the status quo's settings applied.

    A variant that is not in ``scenarios``, or a setting that does not apply or gives an
    invalid variant or world, is an :class:`InputError` naming the targets file and the key.
    """
    where, sq = targets._path, targets.status_quo
    known = catalogue.names(scenarios)
    if sq.variant not in known:
        raise InputError(where, "status_quo.variant", f"no variant '{sq.variant}' in "
                         f"{scenarios}; variants there: {', '.join(known)}")
    v = load_variant(scenarios / f"{sq.variant}.toml").model_dump(mode="json")
    w = world.model_dump(mode="json")
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
              window: int) -> pd.DataFrame:
    """Each target beside the simulated mean and 10-90% band, and whether it is reproduced.

    Every figure is the cohort's (the cases of a ``window``-day window after the world's
    warm-up), in the steady state. Replications that observe nothing for a target (no MLA
    request finished, say) are left out of its figures; when none observes anything, its
    figures are NaN, it is not within tolerance, and ``missing`` says why (otherwise
    ``missing`` is ""). The age of the data is read from the cohort's cases, not drawn
    again from a second model.
    """
    runs = [_observed(variant, world, seed + k, window, list(targets.targets))
            for k in range(reps)]
    rows = []
    for key, target in targets.targets.items():
        values = np.array([r[key] for r in runs])
        seen = values[~np.isnan(values)]
        mean = _mean(seen)
        rows.append({"target": key, "label": target.label, "published": target.value,
                     "tolerance": f"{target.low:g}-{target.high:g}", "simulated": mean,
                     "p10": _quantile(seen, 0.1), "p90": _quantile(seen, 0.9),
                     "within": bool(target.low <= mean <= target.high),
                     "missing": "" if seen.size else UNOBSERVED[key], "source": target.source})
    return pd.DataFrame(rows)


def _observed(variant: Variant, world: World, seed: int, window: int,
              keys: list[str]) -> dict[str, float]:
    """One replication, measured: the simulated counterpart of each target."""
    model = CooperationModel(variant, world, seed, Window.of(world, window))
    model.measure()
    seen = Observation(model)
    return {key: METRICS[key](seen) for key in keys}
