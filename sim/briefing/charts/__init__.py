"""Briefing charts: functions of plain tables that return matplotlib figures, in one style."""

from sim.briefing.charts.capacity import capacity_curve
from sim.briefing.charts.drivers import attribution_waterfall, loss_vs_preservation
from sim.briefing.charts.flows import backlog_over_time, loss_by_region, request_flow
from sim.briefing.charts.outcomes import (
    latency_cdf,
    loss_by_cause,
    loss_by_variant,
    refusals_by_ground,
)
from sim.briefing.charts.style import Style, subtitle, title

__all__ = [
    "Style",
    "attribution_waterfall",
    "backlog_over_time",
    "capacity_curve",
    "latency_cdf",
    "loss_by_cause",
    "loss_by_region",
    "loss_by_variant",
    "loss_vs_preservation",
    "refusals_by_ground",
    "request_flow",
    "subtitle",
    "title",
]
