"""The briefing's findings, computed once: every sentence that the summary, the chart titles,
``brief.md``, ``brief.html``, ``findings.csv`` and the notebooks state, each with the numbers
it rests on.

Rules every finding keeps:

- a comparison rests on a paired difference (the same cases under both texts, window by
  window) and its bootstrap 95% interval; an interval that contains zero reads
  "indistinguishable", and a ranking names every text it cannot separate from the first;
- texts whose compiled rules are identical are one entry, named together (one run stands
  for them all);
- a share is one text's (the reference's, or each text's), never pooled over texts.

:mod:`sim.briefing.statements` and :mod:`sim.briefing.titles` build the findings; this
module holds what they are made of and what they read.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from sim.briefing.brief import Brief
from sim.briefing.charts.style import percent, points
from sim.experiments import analyses

INDISTINGUISHABLE = "indistinguishable"
HEADLINE = "not_obtained"  # decided requests that end without the evidence, for any cause
NO_CHAPTER = "no cooperation chapter"  # texts whose parties get the routes of non-parties


@dataclass(frozen=True)
class Number:
    """One number a finding states: what it measures, its value, how the sentence prints it,
    and its 95% interval (NaN for a level, which is a mean with no interval)."""

    what: str
    value: float
    shown: str
    low: float = math.nan
    high: float = math.nan
    unit: str = ""  # a difference's: 'points', or a count's unit ('days', 'files', ...)

    @property
    def difference(self) -> bool:
        """A paired difference: its interval decides the wording."""
        return not math.isnan(self.low)

    @property
    def zero_in_ci(self) -> bool:
        return self.difference and self.low <= 0 <= self.high

    @property
    def interval(self) -> str:
        """The 95% interval as sentences print it ('' for a level)."""
        if not self.difference:
            return ""
        if self.unit == "points":
            return f"{points(self.low)} to {points(self.high)}"
        return f"{self.low:+,.0f} to {self.high:+,.0f}"


@dataclass(frozen=True)
class Finding:
    """A sentence of the briefing, the numbers it states, and the chart it titles (if any,
    with ``title``: the sentence's short form on the chart)."""

    key: str
    sentence: str
    numbers: tuple[Number, ...] = ()
    chart: str = ""
    title: str = ""
    summary: bool = False  # one of the brief's summary sentences


@dataclass(frozen=True)
class Entry:
    """One text, or texts with identical rules (one run stands for them all)."""

    key: str  # the first variant of the group: its runs stand for the group
    names: tuple[str, ...]
    label: str  # the members' labels, joined by ' = '
    draft: bool  # some member is a draft
    falls_back: bool  # every request falls back (no cooperation chapter in effect)

    @property
    def grouped(self) -> bool:
        return len(self.names) > 1


def entries(groups: Sequence[Sequence[str]], fallback: Sequence[bool], labels: dict[str, str],
            kinds: dict[str, str]) -> list[Entry]:
    """The entries of a comparison, one per group of identical texts; one whose texts change
    no route says so in its label."""
    return [Entry(g[0], tuple(g), " = ".join(labels[n] for n in g)
                  + (f" ({NO_CHAPTER})" if fb else ""), any(kinds[n] == "draft" for n in g), fb)
            for g, fb in zip(groups, fallback, strict=True)]


@dataclass
class Context:
    """What every finding reads: the brief, its entries and the reference's entry."""

    brief: Brief

    @cached_property
    def entries(self) -> list[Entry]:
        b = self.brief
        return entries(b.groups, b.fallback, b.labels, {v.name: v.variant.kind
                                                         for v in b.variants})

    @property
    def seed(self) -> int:
        return self.brief.settings.seed

    @cached_property
    def ref(self) -> Entry:
        return next(e for e in self.entries if self.brief.reference in e.names)

    def label(self, key: str) -> str:
        return next(e.label for e in self.entries if e.key == key)

    def series(self, key: str, m: str = HEADLINE) -> pd.Series:
        runs = self.brief.runs
        if m == "not_routed":
            return by_window(runs, key, "out_of_scope") + by_window(runs, key, "no_channel")
        return by_window(runs, key, m)

    def mean(self, key: str, m: str = HEADLINE) -> float:
        return float(self.series(key, m).mean())

    def swept(self, period: str) -> pd.Series:
        """The headline metric per window at one swept preservation period of the
        reference text ('none': its preservation clause removed)."""
        s = self.brief.sweep
        return s.loc[s["period"] == period].set_index("rep")[HEADLINE].astype(float)

    def versus_reference(self, key: str, m: str = HEADLINE) -> Number:
        """``key`` minus the reference, from the comparison's paired statistics."""
        s = self.brief.stats
        row = s[(s["variant"] == key) & (s["metric"] == m)].iloc[0]
        return difference(f"{m}: {self.label(key)} minus {self.ref.label}",
                          (row["diff"], row["ci_low"], row["ci_high"]))

    @property
    def decided(self) -> bool:
        """Whether any text decided any request (else no share can be measured)."""
        return any(np.isfinite(self.mean(e.key)) for e in self.entries)


# -- paired differences ------------------------------------------------------------------

def by_window(runs: pd.DataFrame, name: str, metric: str) -> pd.Series:
    """One variant's ``metric`` per window (replication)."""
    return runs.loc[runs["variant"] == name].set_index("rep")[metric].astype(float)


def contrast(a: pd.Series, b: pd.Series, seed: int) -> tuple[float, float, float]:
    """``b - a`` window by window (both indexed by window): its mean and 95% interval."""
    return analyses.interval((b - a.reindex(b.index)).to_numpy(), seed)


def difference(what: str, d: tuple[float, float, float]) -> Number:
    """A paired difference of shares, in points."""
    return Number(what, d[0], points(d[0]), d[1], d[2], "points")


def level(what: str, x: float, digits: int = 1) -> Number:
    """A share, as a percentage."""
    return Number(what, x, percent(x, digits))


def days_number(what: str, x: float) -> Number:
    return Number(what, x, f"{x:.0f}")


def interval_text(n: Number) -> str:
    """'-7.4 points, 95% CI -8.2 to -6.7', prefixed with 'indistinguishable: ' when the
    interval contains zero."""
    text = f"{n.shown} {n.unit}, 95% CI {n.interval}"
    return f"{INDISTINGUISHABLE}: {text}" if n.zero_in_ci else text


def count_difference(what: str, d: tuple[float, float, float], unit: str) -> Number:
    """A paired difference of a count (days, files, refusals per 1,000), whole."""
    return Number(what, d[0], f"{d[0]:+,.0f}", d[1], d[2], unit)


# -- rankings ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Extreme:
    """The lowest (or highest) of several series, what cannot be told from it, and the next
    one beyond the noise: each with its paired difference to the first."""

    first: str
    ties: tuple[tuple[str, tuple[float, float, float]], ...]
    next: tuple[str, tuple[float, float, float]] | None

    @property
    def tier(self) -> list[str]:
        return [self.first, *(k for k, _ in self.ties)]


def extreme(series: dict[str, pd.Series], seed: int, lowest: bool = True) -> Extreme | None:
    """The extreme of ``series`` (each indexed by window) by its mean; None if all are NaN."""
    means = {k: float(s.mean()) for k, s in series.items()}
    ranked = sorted((k for k in series if np.isfinite(means[k])), key=means.get,
                    reverse=not lowest)
    if not ranked:
        return None
    first = series[ranked[0]]
    ties, beyond = [], None
    for k in ranked[1:]:
        d = contrast(first, series[k], seed)
        if d[1] <= 0 <= d[2]:
            ties.append((k, d))
        elif beyond is None:
            beyond = (k, d)
    return Extreme(ranked[0], tuple(ties), beyond)


def ranks(items: Sequence[Entry], runs: pd.DataFrame, metric: str,
          seed: int) -> dict[str, tuple[int, int]]:
    """Each entry's rank as an interval (1 = lowest): from one more than the entries that
    are lower beyond the noise to the count of entries less those higher beyond it."""
    series = {e.key: by_window(runs, e.key, metric) for e in items}
    known = [e.key for e in items if series[e.key].notna().any()]
    below = dict.fromkeys(known, 0)
    above = dict.fromkeys(known, 0)
    for i, a in enumerate(known):
        for b in known[i + 1:]:
            _, low, high = contrast(series[a], series[b], seed)
            if low > 0:  # b higher than a beyond the noise
                below[b] += 1
                above[a] += 1
            elif high < 0:
                below[a] += 1
                above[b] += 1
    return {k: (below[k] + 1, len(known) - above[k]) for k in known}


def rank_text(r: tuple[int, int]) -> str:
    return f"{r[0]}" if r[0] == r[1] else f"{r[0]}-{r[1]}"


# -- findings.csv --------------------------------------------------------------------------

def table(findings: Sequence[Finding]) -> pd.DataFrame:
    """One row per finding: its key, the chart it titles, its sentence, its title, whether it
    is in the summary, and the numbers it states (JSON: what, value, shown, low, high, and
    the interval as shown)."""
    return pd.DataFrame([{
        "finding": f.key, "chart": f.chart, "summary": f.summary, "sentence": f.sentence,
        "title": f.title,
        "numbers": json.dumps([{**{k: (None if isinstance(v, float) and math.isnan(v) else v)
                                   for k, v in asdict(n).items()}, "interval": n.interval}
                               for n in f.numbers], ensure_ascii=False)}
        for f in findings], columns=["finding", "chart", "summary", "sentence", "title",
                                     "numbers"])


def summary(findings: Sequence[Finding]) -> list[str]:
    """The summary's sentences, in order."""
    return [f.sentence for f in findings if f.summary]


def titles(findings: Sequence[Finding]) -> dict[str, str]:
    """Each chart's title, by chart file stem."""
    return {f.chart: f.title for f in findings if f.chart}
