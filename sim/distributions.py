"""Duration and retention distributions, in days, each with its source."""

from typing import Annotated, Literal

import numpy as np
from pydantic import Field
from scipy.special import ndtri

from .inputs import Strict

Source = Annotated[str, Field(min_length=3, description="document cited, or 'assumption: ...'")]
NonNegative = Annotated[float, Field(ge=0)]


class Fixed(Strict):
    dist: Literal["fixed"]
    value: NonNegative
    source: Source

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return np.full(u.shape, self.value)


class Exponential(Strict):
    dist: Literal["exponential"]
    mean: Annotated[float, Field(gt=0)]
    source: Source

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return -self.mean * np.log1p(-u)


class LogNormal(Strict):
    dist: Literal["lognormal"]
    median: Annotated[float, Field(gt=0)]
    sigma: NonNegative
    source: Source

    def quantile(self, u: np.ndarray) -> np.ndarray:
        return self.median * np.exp(self.sigma * ndtri(u))


Dist = Annotated[Fixed | Exponential | LogNormal, Field(discriminator="dist")]
"""A distribution in days. ``quantile(u)`` maps uniforms to draws (inverse CDF), so that
each duration is driven by its own uniform stream and stays paired across variants."""
