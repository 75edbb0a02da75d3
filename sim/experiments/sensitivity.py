"""Which clause or assumption moves the outcome most: Sobol and Morris indices (SALib).

The same code path samples the parameters, evaluates any model on the sample (the simulator,
or a test function with known indices) and analyses the outputs. Three methods (SALib):

- ``sobol``: Saltelli's sample without second-order terms (N(k + 2) runs for k factors),
  Jansen's estimators, bootstrap 95% intervals;
- ``pce``: the same variance-based (Sobol) indices from a polynomial chaos expansion fitted
  on a Latin hypercube of N runs (:mod:`sim.experiments.chaos`), with bootstrap 95%
  intervals and the share of the output's variance the metamodel predicts out of sample;
  for a smooth output it needs far fewer runs than ``sobol`` for the same half-width;
- ``morris``: elementary effects (N(k + 1) runs), for screening.

:func:`convergence` says which results the sample cannot carry.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Self, Union, get_args, get_origin

import numpy as np
import pandas as pd
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, model_validator

from sim.experiments import chaos
from sim.experiments.designs import GROUND_NAMES
from sim.experiments.factors import FACTORS
from sim.inputs.provisions import Variant
from sim.inputs.schema import FieldProblem, Strict, read_toml, validate
from sim.inputs.world import World
from sim.limits import MAX_RUNS
from sim.metrics.registry import METRICS

Method = Literal["sobol", "pce", "morris"]
HALF_WIDTH = 0.05  # the widest 95% half-width of a total index that counts as converged
EXPLAINED = 0.9  # the least share of the output's variance a metamodel must predict
PCE_MIN_SAMPLES = 50  # runs of a polynomial chaos expansion, at the least


class Range(Strict):
    bounds: tuple[float, float]
    source: str | None = None  # why this range (a document, or "assumption: ...")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.bounds[0] < self.bounds[1]:
            raise FieldProblem("bounds", "must be [low, high] with low < high")
        return self


class ParamsFile(Strict):
    """A sensitivity study: uncertain parameters (dotted paths) and their ranges, the design,
    the metrics analysed and the world's scale each run draws."""

    params: dict[str, Range] = Field(min_length=1)
    method: Method = "sobol"
    samples: Annotated[int, Field(ge=4)] = 64
    metrics: list[str] = Field(default=["not_obtained", "latency_median"], min_length=1)
    scale: Annotated[float, Field(gt=0, le=1)] = 1.0

    @model_validator(mode="after")
    def _known_metrics(self) -> Self:
        for i, m in enumerate(self.metrics):
            if m not in METRICS:
                raise FieldProblem(f"metrics.{i}", f"unknown metric {m!r}")
        return self

    @model_validator(mode="after")
    def _runs(self) -> Self:
        """At most ``MAX_RUNS`` model runs: Saltelli N(k + 2), PCE N, Morris N(k + 1)."""
        k = len(self.params)
        if self.method == "pce" and self.samples < PCE_MIN_SAMPLES:
            raise FieldProblem("samples", f"pce needs at least {PCE_MIN_SAMPLES} runs")
        runs = runs_of(self.method, self.samples, k)
        formula = {"sobol": "(k + 2)", "pce": "1", "morris": "(k + 1)"}[self.method]
        if runs > MAX_RUNS:
            per = runs // self.samples
            raise FieldProblem("samples", f"{self.method} with {k} parameter(s) runs samples x "
                               f"{formula} = {runs:,} models, at most "
                               f"{MAX_RUNS:,}: samples must be at most {MAX_RUNS // per:,}")
        return self

    @model_validator(mode="after")
    def _within_range(self) -> Self:
        """Both bounds of a parameter lie in the range its path allows (``bounds = [0, 1e12]``
        for a period would only fail once sampled)."""
        for path, r in self.params.items():
            if path in FACTORS:
                f = FACTORS[path]
                if not f.low <= r.bounds[0] < r.bounds[1] <= f.high:
                    raise FieldProblem(f"params.{path}.bounds", f"{path}: within "
                                       f"[{f.low:g}, {f.high:g}] ({f.meaning})")
                continue
            if path.rsplit(".", 1)[-1] in GROUND_NAMES:
                raise FieldProblem(f"params.{path}", "a listed ground is on or off: it has no "
                                   "range to sample")
            kind = _leaf_type(path)
            for i, x in enumerate(r.bounds if kind is not None else ()):
                try:  # sampled values of a count are rounded, as designs.apply rounds them
                    TypeAdapter(kind).validate_python(round(x) if _bare(kind) is int else x,
                                                      strict=True)
                except ValidationError as e:
                    message = e.errors()[0]["msg"].removeprefix("Value error, ")
                    raise FieldProblem(f"params.{path}.bounds.{i}", f"{path}: {message}") \
                        from None
        return self


def _leaf_type(path: str) -> Any:
    """The type, with its bounds, of what ``designs.apply`` sets at a dotted path (a cited
    provision's or a world figure's value, a distribution's parameter); None where the path
    names nothing in the schema, or something within a list (a refusal ground)."""
    world = path.startswith("world.")
    kind: Any = World if world else Variant
    for key in path.split(".")[1 if world else 0:]:
        kind = _child(kind, key)
        if kind is None:
            return None
    value = _cited_value(_bare(kind))
    return kind if value is None else value


def _cited_value(kind: Any) -> Any:
    """The type of ``value`` in a cited provision or a world figure (``Cited[T]``,
    ``Param[T]``: generic models), optional or not; None for any other type."""
    members = get_args(kind) if get_origin(kind) in (Union, types.UnionType) else (kind,)
    cited = [m for m in members if _is_model(m) and m.__pydantic_generic_metadata__["origin"]]
    return _child(cited[0], "value") if cited else None


def _child(kind: Any, key: str) -> Any:
    """The type under ``key`` in a model, dict or union type (None: no such key)."""
    kind = _bare(kind)
    if get_origin(kind) in (Union, types.UnionType):
        found = [c for c in (_child(a, key) for a in get_args(kind)) if c is not None]
        return found[0] if found else None
    if get_origin(kind) is dict:
        return get_args(kind)[1]
    if _is_model(kind) and key in kind.model_fields:
        field = kind.model_fields[key]
        return Annotated[field.annotation, *field.metadata] if field.metadata \
            else field.annotation
    return None


def _bare(kind: Any) -> Any:
    return get_args(kind)[0] if get_origin(kind) is Annotated else kind


def _is_model(kind: Any) -> bool:
    return isinstance(kind, type) and issubclass(kind, BaseModel)


def runs_of(method: Method, samples: int, k: int) -> int:
    """Model runs of a design: Saltelli N(k + 2), PCE N, Morris N(k + 1)."""
    return samples * {"sobol": k + 2, "pce": 1, "morris": k + 1}[method]


def load_params(path: Path | str) -> ParamsFile:
    path = Path(path)
    return validate(ParamsFile, read_toml(path), path)


def problem(names: Sequence[str], bounds: Sequence[tuple[float, float]]) -> dict:
    return {"num_vars": len(names), "names": list(names), "bounds": [list(b) for b in bounds]}


def sample(prob: dict, method: Method | Literal["lhs"], n: int, seed: int) -> np.ndarray:
    """Parameter sample: Saltelli/Sobol (n(k + 2) rows), Morris trajectories, or LHS (n
    rows: for ``lhs`` and ``pce``)."""
    from SALib.sample import latin  # SALib loads on first use: runs that need none start lighter
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method == "sobol":
        return sobol_sample.sample(prob, n, calc_second_order=False, seed=seed)
    if method == "morris":
        return morris_sample.sample(prob, n, seed=seed)
    return latin.sample(prob, n, seed=seed)


COLUMNS = {"sobol": ["S1", "S1_conf", "ST", "ST_conf"],
           "pce": ["S1", "S1_conf", "ST", "ST_conf", "explained", "degree"],
           "morris": ["mu_star", "mu_star_conf", "sigma"]}


def indices(prob: dict, method: Method, n: int, seed: int,
            evaluate: Callable[[np.ndarray], np.ndarray], outputs: Sequence[str]) -> pd.DataFrame:
    """Sample, evaluate (rows -> one column per output) and analyse; ranked per output. An
    output not observed at every point (say, no evidence obtained in the measured windows) has no
    indices (NaN), nor has one that does not vary under Sobol or PCE (no variance to
    apportion; its Morris effects are then zero)."""
    x = sample(prob, method, n, seed)
    y = np.asarray(evaluate(x), dtype=float).reshape(len(x), len(outputs))
    frames = []
    for j, output in enumerate(outputs):
        unobserved = not np.all(np.isfinite(y[:, j]))
        if unobserved or (method != "morris" and np.ptp(y[:, j]) == 0):  # no variance to split
            frame = pd.DataFrame(np.nan, index=prob["names"], columns=COLUMNS[method])
        else:
            frame = ANALYSES[method](prob, x, y[:, j], seed)
            frame = frame.sort_values("mu_star" if method == "morris" else "ST", ascending=False)
        frames.append(frame.rename_axis("factor").reset_index().assign(metric=output))
    table = pd.concat(frames, ignore_index=True)
    return table[["factor", "metric", *COLUMNS[method]]]


def _sobol(prob: dict, x: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    from SALib.analyze import sobol  # SALib loads on first use

    r = sobol.analyze(prob, y, calc_second_order=False, seed=seed)
    return pd.DataFrame({"S1": r["S1"], "S1_conf": r["S1_conf"], "ST": r["ST"],
                         "ST_conf": r["ST_conf"]}, index=prob["names"])


def _pce(prob: dict, x: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    return chaos.indices(x, y, prob["bounds"], prob["names"], seed)


def _morris(prob: dict, x: np.ndarray, y: np.ndarray, seed: int) -> pd.DataFrame:
    from SALib.analyze import morris

    r = morris.analyze(prob, x, y, seed=seed)
    return pd.DataFrame({"mu_star": r["mu_star"], "mu_star_conf": r["mu_star_conf"],
                         "sigma": r["sigma"]}, index=prob["names"])


ANALYSES = {"sobol": _sobol, "pce": _pce, "morris": _morris}


def convergence(table: pd.DataFrame, half_width: float = HALF_WIDTH) -> list[str]:
    """What a Sobol or PCE result cannot carry: a total index whose 95% half-width exceeds
    ``half_width``, a first-order index above its total one beyond both intervals, first-order
    indices that add up to more than one beyond their intervals, and a metamodel that explains
    less than ``EXPLAINED`` of the variance. Empty: converged."""
    if "ST" not in table:
        return []
    out = []
    for m, g in table.groupby("metric", sort=False):
        for _, r in g.iterrows():
            if r["ST_conf"] > half_width:
                out.append(f"{m}: ST of {r['factor']} is {r['ST']:.3f} +/- {r['ST_conf']:.3f}, "
                           f"wider than +/- {half_width:g}")
            if r["S1"] - r["ST"] > r["S1_conf"] + r["ST_conf"]:
                out.append(f"{m}: S1 of {r['factor']} ({r['S1']:.3f}) exceeds its ST "
                           f"({r['ST']:.3f}) beyond both intervals")
        if g["S1"].sum() - 1 > np.sqrt((g["S1_conf"] ** 2).sum()):
            out.append(f"{m}: the first-order indices add up to {g['S1'].sum():.2f}, above 1")
        if "explained" in g and g["explained"].iloc[0] < EXPLAINED:
            out.append(f"{m}: the metamodel explains {g['explained'].iloc[0]:.0%} of the "
                       f"variance, under {EXPLAINED:.0%}")
    return out
