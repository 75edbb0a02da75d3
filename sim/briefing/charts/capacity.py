"""The capacity curve: one central authority's staff against its median days from arrival
to execution, and against the evidence not obtained."""

from __future__ import annotations

import pandas as pd
from matplotlib.figure import Figure

from sim.briefing.charts.style import MUTED_INK, Style, figure, finish, house, percent


def capacity_curve(curve: pd.DataFrame, style: Style, variant: str, office: str,
                   target_days: float, answer: int | None, note: str = "") -> Figure:
    """Two panels over the staff figures run (``curve``: staff, median_days, not_obtained;
    a final 'unlimited' row is drawn as a dashed floor): the median against the target, and
    the share of evidence not obtained."""
    staffed = curve[curve["staff"] != "unlimited"].astype({"staff": float})
    floor = curve[curve["staff"] == "unlimited"]
    colour = style.colour(variant)
    with house():
        fig = figure()
        left, right = fig.subplots(1, 2)
        left.plot(staffed["staff"], staffed["median_days"], marker="o", color=colour, lw=2)
        left.axhline(target_days, color=MUTED_INK, ls=":", lw=1.2)
        left.annotate(f"target: {target_days:,.0f} days", (1, target_days),
                      xycoords=("axes fraction", "data"), ha="right", va="bottom",
                      color=MUTED_INK, fontsize="small")
        right.plot(staffed["staff"], 100 * staffed["not_obtained"], marker="o", color=colour,
                   lw=2)
        for ax, column, scale in ((left, "median_days", 1), (right, "not_obtained", 100)):
            if len(floor):
                ax.axhline(scale * float(floor[column].iloc[0]), color=colour, ls="--", lw=1,
                           alpha=0.6)
            if answer is not None:
                ax.axvline(answer, color=MUTED_INK, lw=1, alpha=0.5)
            ax.set_xlabel("files the office can review at once (staff)")
            ax.set_ylim(bottom=0)
            ax.grid(True, axis="y")
        left.set_ylabel("median days, arrival to execution")
        right.set_ylabel("evidence not obtained (% of decided requests)")
        fig.subplots_adjust(left=0.08, right=0.98, bottom=0.16, wspace=0.28)
        return finish(fig, _title(curve, office, target_days, answer),
                      f"{office}'s central authority under {style.label(variant)}: the same "
                      "cases at every staff figure; dashed: unlimited staff (no queue).",
                      style, note)


def _title(curve: pd.DataFrame, office: str, target_days: float, answer: int | None) -> str:
    if answer is None:
        floor = curve.loc[curve["staff"] == "unlimited", "median_days"]
        return (f"No staff figure brings {office}'s median under {target_days:,.0f} days: with "
                f"unlimited staff it is {float(floor.iloc[0]):,.0f}")
    at = curve[curve["staff"] == answer].iloc[0]
    return (f"{office} needs {answer:,} staff for a median of {target_days:,.0f} days or less "
            f"from arrival to execution (evidence not obtained there: "
            f"{percent(float(at['not_obtained']), 1)})")
