"""Which clause or assumption moves the outcome most: Sobol and Morris indices (SALib).

The same code path samples the parameters, evaluates any model on the sample (the simulator,
or a test function with known indices) and analyses the outputs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Literal, Self

import numpy as np
import pandas as pd
from pydantic import Field, model_validator

from .inputs import FieldProblem, Strict, read_toml, validate

Method = Literal["sobol", "morris"]


class Range(Strict):
    bounds: tuple[float, float]
    source: str | None = None  # why this range (a document, or "assumption: ...")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.bounds[0] < self.bounds[1]:
            raise FieldProblem("bounds", "must be [low, high] with low < high")
        return self


class ParamsFile(Strict):
    """A sensitivity study: uncertain parameters (dotted paths) and their ranges."""

    params: dict[str, Range] = Field(min_length=1)
    method: Method = "sobol"
    samples: Annotated[int, Field(ge=4)] = 64


def load_params(path: Path | str) -> ParamsFile:
    path = Path(path)
    return validate(ParamsFile, read_toml(path), path)


def problem(names: Sequence[str], bounds: Sequence[tuple[float, float]]) -> dict:
    return {"num_vars": len(names), "names": list(names), "bounds": [list(b) for b in bounds]}


def sample(prob: dict, method: Method | Literal["lhs"], n: int, seed: int) -> np.ndarray:
    """Parameter sample: Saltelli/Sobol (n * (2k + 2) rows), Morris trajectories, or LHS."""
    from SALib.sample import latin  # SALib loads on first use: runs that need none start lighter
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    if method == "sobol":
        return sobol_sample.sample(prob, n, calc_second_order=True, seed=seed)
    if method == "morris":
        return morris_sample.sample(prob, n, seed=seed)
    return latin.sample(prob, n, seed=seed)


def indices(prob: dict, method: Method, n: int, seed: int,
            evaluate: Callable[[np.ndarray], np.ndarray], outputs: Sequence[str]) -> pd.DataFrame:
    """Sample, evaluate (rows -> one column per output) and analyse; ranked per output."""
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze

    x = sample(prob, method, n, seed)
    y = np.asarray(evaluate(x), dtype=float).reshape(len(x), len(outputs))
    frames = []
    for j, output in enumerate(outputs):
        if method == "sobol":
            r = sobol_analyze.analyze(prob, y[:, j], calc_second_order=True, seed=seed)
            frame = pd.DataFrame({"S1": r["S1"], "S1_conf": r["S1_conf"], "ST": r["ST"],
                                  "ST_conf": r["ST_conf"]}, index=prob["names"])
            frame = frame.sort_values("ST", ascending=False)
        else:
            r = morris_analyze.analyze(prob, x, y[:, j], seed=seed)
            frame = pd.DataFrame({"mu_star": r["mu_star"], "mu_star_conf": r["mu_star_conf"],
                                  "sigma": r["sigma"]}, index=prob["names"])
            frame = frame.sort_values("mu_star", ascending=False)
        frames.append(frame.rename_axis("parameter").reset_index().assign(output=output))
    return pd.concat(frames, ignore_index=True)
