"""The measured part of a run: a warm-up, consecutive measurement windows, and a run-off.

Needs arise continuously. The first ``warmup`` days fill the desks and are discarded; then
come ``batches`` consecutive windows of ``days`` days each. The cases whose need arises in a
window are its *cohort*, and only cohorts are reported: each window is one replication of
the steady state (the method of batch means, after one warm-up for them all). The run then
continues (needs still arising, so every desk stays as loaded as before) until every request
of every cohort has ended, or ``runoff`` days after the last window, when those still open
are censored (pending) and reported as such.

A case's window does not depend on how many windows follow it, nor its outcome: the first
k windows of a run of n windows are those of a run of k windows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.inputs.world import World
from sim.limits import DEFAULT_WINDOW


@dataclass(frozen=True)
class Window:
    """Days of warm-up, of each measurement window, and at most of run-off; and how many
    windows (replications) follow each other."""

    warmup: float
    days: float = DEFAULT_WINDOW
    runoff: float = 0.0
    batches: int = 1

    def __post_init__(self) -> None:
        for name in ("warmup", "days", "runoff"):
            value = getattr(self, name)
            if not value >= 0 or (name != "days" and not math.isfinite(value)):
                raise ValueError(f"a window's {name} must be a number of days >= 0 (finite, "
                                 f"but for the window's own days), got {value!r}")
        if self.batches < 1:
            raise ValueError(f"a run measures at least one window, got {self.batches}")

    @classmethod
    def of(cls, world: World, days: float = DEFAULT_WINDOW, batches: int = 1) -> Window:
        """``batches`` windows of ``days`` days with the world's warm-up and run-off."""
        m = world.measurement
        return cls(float(m.warmup_days.value), float(days), float(m.runoff_days.value),
                   batches)

    @classmethod
    def everything(cls) -> Window:
        """Every case from day 0 on is measured, with no warm-up and no run-off: what a model
        stepped by hand (``CooperationModel.run``) reports."""
        return cls(0.0, math.inf, 0.0)

    @property
    def start(self) -> float:
        """The first day of the first window (the end of the warm-up)."""
        return self.warmup

    @property
    def end(self) -> float:
        """The day after the last window: cases arising from then on are not reported."""
        return self.warmup + self.batches * self.days

    @property
    def horizon(self) -> float:
        """The longest the run can last: warm-up, windows and the whole run-off."""
        return self.end + self.runoff

    def holds(self, arrival: float) -> bool:
        """Whether a case whose need arose at ``arrival`` belongs to a cohort."""
        return self.start <= arrival < self.end

    def batch(self, arrival: float) -> int:
        """The window (0, 1, ...) a case arising at ``arrival`` belongs to."""
        if not self.holds(arrival):
            raise ValueError(f"day {arrival:g} is in no window")
        return 0 if math.isinf(self.days) else int((arrival - self.start) // self.days)

    def days_of(self, batch: int) -> slice:
        """The days of window ``batch``, as a slice of a daily series."""
        if math.isinf(self.days):
            return slice(math.floor(self.start), None)
        first = self.start + batch * self.days
        last = first + self.days
        return slice(math.floor(first), math.ceil(last) if math.isfinite(last) else None)
