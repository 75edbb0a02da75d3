"""Is the measured world in a steady state? The warm-up's check, and the desks' load.

Two questions a reader of any figure may ask:

* **When does the transient end?** MSER-5 (White 1997; Hoad, Robinson and Davies 2010) on
  the daily files in central-authority hands: batch the series into means of 5 days, and
  take the truncation point that minimises the squared standard error of the mean of what
  is left, searching the first half of the series only (``sim.experiments.warmup`` applies
  it to the mean of many runs, which chooses the world's warm-up).
* **Can each desk keep up?** A central authority is *overloaded* when files reach it faster
  than its staff can review them: arrivals a year (the cohorts' files, which arise at the
  desk's steady rate) against capacity a year (staff x 365 / mean review days), beyond
  chance: even the arrivals' 3-sigma Poisson lower bound exceeds the capacity (a short
  window's few files do not make a desk overloaded). Its queue then grows without bound,
  and every figure depends on how long the run is: the statement says so, with the
  backlog's growth a year over the windows.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

BATCH = 5  # days per batch of MSER-5
SIGMAS = 3  # how far beyond chance arrivals must exceed capacity to call a desk overloaded


def mser5(series: np.ndarray) -> int:
    """The MSER-5 truncation point of a daily series, in days (0: nothing to discard).

    Batches of ``BATCH`` days (an incomplete last batch is dropped); the point d, searched
    over the first half of the batches, minimises ``sum((y[d:] - mean(y[d:]))**2) /
    (n - d)**2``. A series of fewer than two batches has nothing to truncate.
    """
    n = len(series) // BATCH
    if n < 2:
        return 0
    y = np.asarray(series[:n * BATCH], float).reshape(n, BATCH).mean(axis=1)
    tail = y[::-1]
    count = np.arange(1, n + 1)
    mean = np.cumsum(tail) / count
    squares = np.cumsum(tail ** 2) - count * mean ** 2  # sum of squared deviations
    stat = (squares / count ** 2)[::-1]  # index d: the series from batch d on
    d = int(np.argmin(stat[: n // 2 + 1]))
    return d * BATCH


@dataclass(frozen=True)
class DeskLoad:
    """One central authority's load over the window."""

    state: str  # ISO3
    name: str
    staff: int
    arrivals_per_year: float  # files reaching the desk (the cohorts', a year)
    years: float  # the windows' length, in years
    capacity_per_year: float  # staff x 365 / mean review days
    growth_per_year: float  # the backlog's least-squares slope over the window, a year

    @property
    def utilisation(self) -> float:
        return self.arrivals_per_year / self.capacity_per_year

    @property
    def overloaded(self) -> bool:
        """Arrivals exceed capacity beyond chance (their 3-sigma Poisson lower bound)."""
        files = self.arrivals_per_year * self.years
        return files - SIGMAS * math.sqrt(files) > self.capacity_per_year * self.years

    def statement(self) -> str:
        """One sentence a reader can act on."""
        return (f"The central authority of {self.name} is overloaded: "
                f"{self.arrivals_per_year:,.0f} files a year reach it against a capacity of "
                f"{self.capacity_per_year:,.0f} "
                f"({self.staff:,} staff), so its backlog grows by about "
                f"{max(self.growth_per_year, 0):,.0f} files a year and its figures depend on "
                f"how long the run lasts; give it more staff (world.central_authorities) to "
                f"measure a steady state.")

    def row(self) -> dict[str, object]:
        return {**asdict(self), "utilisation": self.utilisation, "overloaded": self.overloaded}


def slope_per_year(series: np.ndarray) -> float:
    """The least-squares slope of a daily series, per year (0 for fewer than two days)."""
    if len(series) < 2:
        return 0.0
    days = np.arange(len(series), dtype=float)
    return float(np.polyfit(days, np.asarray(series, float), 1)[0] * 365)
