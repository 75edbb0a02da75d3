"""Duration and retention distributions, in days, each with its source."""

from typing import Annotated, Literal

import numpy as np
from pydantic import Field
from scipy.special import ndtri

from sim.inputs.schema import Strict, between
from sim.limits import MAX_DURATION_DAYS, MAX_SIGMA

Source = Annotated[str, Field(min_length=3, description="document cited, or 'assumption: ...'")]
Days = Annotated[float, between(0, MAX_DURATION_DAYS, "days")]
PositiveDays = Annotated[float, between(0, MAX_DURATION_DAYS, "days", above=True)]


class Fixed(Strict):
    dist: Literal["fixed"]
    value: Days
    source: Source

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return np.full(u.shape, self.value)

    def expected(self) -> float:
        return self.value


class Exponential(Strict):
    dist: Literal["exponential"]
    mean: PositiveDays
    source: Source

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return -self.mean * np.log1p(-u)

    def expected(self) -> float:
        return self.mean


class LogNormal(Strict):
    dist: Literal["lognormal"]
    median: PositiveDays
    sigma: Annotated[float, between(0, MAX_SIGMA)]  # see sim.limits.MAX_SIGMA
    source: Source

    def quantile(self, u: np.ndarray) -> np.ndarray:
        if not self.sigma:  # no spread: every draw is the median (0 x ndtri(0) would be NaN)
            return np.full(u.shape, self.median)
        return self.median * np.exp(self.sigma * ndtri(u))

    def expected(self) -> float:
        return float(self.median * np.exp(self.sigma ** 2 / 2))


Dist = Annotated[Fixed | Exponential | LogNormal, Field(discriminator="dist")]
"""A distribution in days. ``quantile(u)`` maps uniforms to draws (inverse CDF), so that
each duration is driven by its own uniform stream and stays paired across variants;
``expected()`` is its mean."""
