"""Every metric coopsim reports, once: its name, its labels, its unit, its group.

The summary of a run (:func:`sim.metrics.summary.summarize`), the briefing, the calibration and the
charts name metrics; the report, the pack, the charts and the page take their labels and
formats from here. A name that is not here raises :class:`UnknownMetric`: nothing is guessed
from a name's spelling.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from enum import StrEnum

from sim.vocabulary import (
    GROUND_LABELS,
    OUTCOME_LABELS,
    OUTCOME_NAMES,
    PROCEDURE_STAGES,
    STAGE_LABELS,
    STAGE_NAMES,
)


class Kind(StrEnum):
    """What a metric's number is."""

    SHARE = "share"  # a fraction (0 to 1), shown as a percentage
    DAYS = "days"
    MONTHS = "months"
    COUNT = "count"  # requests (or preservations)
    FILES = "files"  # files in central-authority hands
    RATIO = "ratio"  # one count per another
    DESKS = "desks"  # central authorities


SCALING = frozenset({Kind.COUNT, Kind.FILES})  # grow with the world's yearly cases


@dataclass(frozen=True)
class Metric:
    """One metric: ``label`` stands alone (with its unit); ``short`` heads a column, names a
    legend entry, or a row under its ``section``'s heading; ``part_of`` the metric it adds up
    to with others (shown indented under it)."""

    name: str
    label: str
    kind: Kind
    short: str
    section: str = ""
    part_of: str = ""

    @property
    def scales(self) -> bool:
        """Whether the value grows with the world's size (a count does; a share does not)."""
        return self.kind in SCALING


class UnknownMetric(LookupError):
    """A metric name the registry does not know."""


SECTIONS = {  # section -> its heading in a table
    "outcome": "requests by outcome",
    "stage": "median days in each stage",
    "ground": "refusals by ground (requests)",
}


def _shares() -> Iterator[Metric]:
    s = Kind.SHARE
    yield Metric("not_obtained", "evidence not obtained (all causes)", s, "not obtained")
    yield Metric("data_loss", "data loss (deleted)", s, "data loss", part_of="not_obtained")
    yield Metric("loss_before_preservation", "lost before preservation", s,
                 "lost before preservation", part_of="data_loss")
    yield Metric("loss_after_lapse", "lost after preservation lapsed", s, "lost after a lapse",
                 part_of="data_loss")
    yield Metric("obtained", "evidence obtained", s, "obtained")
    yield Metric("never_existed", "data never existed", s, "never existed",
                 part_of="not_obtained")
    yield Metric("refusal_rate", "refused", s, "refused", part_of="not_obtained")
    yield Metric("out_of_scope", "out of scope", s, "out of scope", part_of="not_obtained")
    yield Metric("no_channel", "no channel", s, "no channel", part_of="not_obtained")
    yield Metric("not_routed", "out of scope or no channel", s, "out of scope or no channel")
    yield Metric("pending_share", "pending at the end of the run-off (censored)", s,
                 "pending")
    yield Metric("lapsed_share", "preservations that lapsed", s, "lapsed (share)")


def _durations() -> Iterator[Metric]:
    d = Kind.DAYS
    for stat in ("median", "p90", "mean"):
        yield Metric(f"latency_{stat}", f"latency to evidence, {stat} (days)", d,
                     f"{stat} latency (days)")
    for st in PROCEDURE_STAGES:
        yield Metric(f"stage_{STAGE_NAMES[st]}_median", f"{STAGE_LABELS[st]}, median (days)",
                     d, STAGE_LABELS[st], section="stage")


def _counts() -> Iterator[Metric]:
    c = Kind.COUNT
    yield Metric("requests", "requests created", c, "requests")
    yield Metric("decided", "requests decided (not pending)", c, "decided")
    for code, name in enumerate(OUTCOME_NAMES):
        label = OUTCOME_LABELS[code]
        yield Metric(f"n_{name}", f"{label} (requests)", c, label, section="outcome")
    for name, label in GROUND_LABELS.items():
        yield Metric(f"refused_{name}", f"refused on {label} (requests)", c, label,
                     section="ground")
    yield Metric("preserved", "requests preserved", c, "preserved")
    yield Metric("lapsed", "preservations that lapsed (requests)", c, "lapsed")
    yield Metric("backlog_mean", "central-authority backlog, mean (files)", Kind.FILES,
                 "mean backlog (files)")
    yield Metric("backlog_max", "central-authority backlog, peak (files)", Kind.FILES,
                 "peak backlog (files)")


def _steadiness() -> Iterator[Metric]:
    yield Metric("mser5_day", "end of the transient by MSER-5 on the daily backlog (day)",
                 Kind.DAYS, "MSER-5 day")
    yield Metric("runoff_days", "days run after the window for the cohort to finish",
                 Kind.DAYS, "run-off (days)")
    yield Metric("overloaded_desks", "central authorities receiving more files than they can "
                 "review", Kind.DESKS, "overloaded desks")


def _calibration() -> Iterator[Metric]:
    m = Kind.MONTHS
    yield Metric("mla_months_to_usa_mean", "MLA to the United States, arrival to return, "
                 "mean (months)", m, "MLA to the US, mean (months)")
    for q in ("p10", "p90"):
        yield Metric(f"mla_months_{q}", f"MLA, arrival to return, {q} (months)", m,
                     f"MLA, {q} (months)")
    yield Metric("preservation_per_production", "preservation requests per MLA request "
                 "transmitted", Kind.RATIO, "preservations per production")
    yield Metric("age_share_3_months", "requested data at most 3 months old when the need "
                 "arose", Kind.SHARE, "data under 3 months old")
    yield Metric("usa_backlog_mean", "files in the hands of the US central authority, mean "
                 "over the window", Kind.FILES, "US backlog (files)")


METRICS: dict[str, Metric] = {m.name: m for group in (_shares, _durations, _counts,
                                                      _steadiness, _calibration)
                              for m in group()}


def metric(name: str) -> Metric:
    """The registry's entry for ``name``; :class:`UnknownMetric` if it has none."""
    try:
        return METRICS[name]
    except KeyError:
        raise UnknownMetric(f"unknown metric {name!r}: not in sim.metrics.registry") from None


def section(name: str) -> list[Metric]:
    """The metrics of a section (``stage``, ``ground``, ``outcome``), in registry order."""
    if name not in SECTIONS:
        raise UnknownMetric(f"unknown section {name!r}: one of {', '.join(SECTIONS)}")
    return [m for m in METRICS.values() if m.section == name]
