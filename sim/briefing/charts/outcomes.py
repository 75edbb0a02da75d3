"""What each variant achieves: data loss, its causes, refusals by ground, time to evidence."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.briefing.charts.style import (
    INK,
    Style,
    blank,
    figure,
    finish,
    house,
    percent,
)
from sim.metrics.registry import metric, section

HEADLINE = "not_obtained"
MLA_MONTH_DAYS = 365.25 / 12
PUBLISHED_MLA_MONTHS = 10  # calibration §1: MLA requests to the US take about 10 months
NOTHING_OBTAINED = "No evidence obtained in the measured windows"
CAUSES = {  # metric -> (label, colour)
    m: (metric(m).short, colour) for m, colour in (
        ("loss_before_preservation", "#CC6677"), ("loss_after_lapse", "#882255"),
        ("refusal_rate", "#DDCC77"), ("never_existed", "#88CCEE"), ("not_routed", "#B4B4B4"))}


def _metric(stats: pd.DataFrame, metric: str) -> pd.DataFrame:
    return stats[stats["metric"] == metric].set_index("variant")


def _order(stats: pd.DataFrame) -> list[str]:
    """Variants from least to most evidence not obtained (the order of every bar chart)."""
    return list(_metric(stats, HEADLINE)["mean"].sort_values().index)


def _tick_labels(ax, order: list[str], style: Style) -> None:
    ax.set_yticks(range(len(order)), [
        textwrap.fill(style.label(n) + (" (reference)" if n == style.reference else ""), 34)
        for n in order])
    for tick, n in zip(ax.get_yticklabels(), order, strict=True):
        if n == style.reference:
            tick.set_fontweight("bold")
            tick.set_color(INK)


def loss_by_variant(stats: pd.DataFrame, style: Style, title: str, note: str = "") -> Figure:
    """Evidence not obtained per variant: bars with their 10-90% band, sorted, reference
    marked."""
    d = _metric(stats, HEADLINE).loc[_order(stats)]
    known = d[d["mean"].notna()]  # a variant none of whose requests was decided has none
    with house():
        fig = figure()
        ax = fig.add_subplot()
        y = np.arange(len(d))
        ax.barh(y, d["mean"].fillna(0), color=[style.colour(n) for n in d.index], height=0.68)
        ax.errorbar(d["mean"], y, xerr=[d["mean"] - d["p10"], d["p90"] - d["mean"]], fmt="none",
                    ecolor=INK, elinewidth=1.2, capsize=3)
        for yi, (mean, hi) in enumerate(zip(d["mean"], d["p90"], strict=True)):
            if len(known):  # 'n/a' beside a variant that decided nothing
                ax.text(hi + 0.006 if np.isfinite(hi) else 0.006, yi, percent(mean, 1),
                        va="center", fontsize=11.5, color=INK)
        if style.reference in known.index:
            ax.axvline(d.loc[style.reference, "mean"], color=INK, lw=1, ls=":", zorder=0)
        _tick_labels(ax, list(d.index), style)
        ax.invert_yaxis()
        ax.set_xlim(0, float(known["p90"].max()) * 1.15 + 0.02 if len(known) else 1)
        ax.xaxis.set_major_formatter(lambda x, _: percent(x))
        ax.set_xlabel("evidence not obtained, every cause (% of decided requests)")
        fig.subplots_adjust(left=0.28, right=0.97, bottom=0.16)
        if not len(known):
            blank(ax)
        return finish(fig, title, "Share of decided requests that end without the evidence: "
                      "deleted, refused, never existed, out of scope or without a channel. "
                      "Bars: mean over replications; lines: 10-90% of replications; dotted: "
                      "the reference; grey: reference texts that are not drafts; texts with "
                      "identical rules share a bar.", style, note)


def loss_by_cause(stats: pd.DataFrame, style: Style, title: str, note: str = "") -> Figure:
    """Why requests end without evidence, per variant: stacked shares by cause."""
    order = _order(stats)
    values = {m: _metric(stats, m)["mean"].reindex(order).fillna(0) for m in
              ("loss_before_preservation", "loss_after_lapse", "refusal_rate", "never_existed",
               "out_of_scope", "no_channel")}
    values["not_routed"] = values.pop("out_of_scope") + values.pop("no_channel")
    with house():
        fig = figure()
        ax = fig.add_subplot()
        left = np.zeros(len(order))
        for metric, (label, colour) in CAUSES.items():
            ax.barh(range(len(order)), values[metric], left=left, color=colour, height=0.68,
                    label=label)
            left += values[metric].to_numpy()
        _tick_labels(ax, order, style)
        ax.invert_yaxis()
        ax.xaxis.set_major_formatter(lambda x, _: percent(x))
        ax.set_xlabel("requests ending without evidence, by cause (% of decided requests)")
        ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
        fig.subplots_adjust(left=0.28, right=0.75, bottom=0.16)
        if not _metric(stats, HEADLINE)["mean"].notna().any():
            ax.set_xlim(0, 1)
            blank(ax)
        return finish(fig, title, "Requests that end without evidence, by cause, for each text "
                      "(means over replications); the bars add up to the evidence not obtained "
                      "of the previous chart.", style, note)


def refusals_by_ground(runs: pd.DataFrame, style: Style, title: str,
                       note: str = "") -> Figure:
    """Refusals per 1,000 decided requests, by variant and ground (a heat map)."""
    grounds = [m for m in section("ground") if m.name in runs]
    totals = runs.groupby("variant")[[m.name for m in grounds] + ["decided"]].sum()
    rate = totals[[m.name for m in grounds]].div(totals["decided"], axis=0) * 1000
    rate.columns = [m.short for m in grounds]
    rate = rate.loc[:, rate.max() > 0]
    rate = rate[rate.sum().sort_values(ascending=False).index]
    order = list(rate.sum(axis=1).sort_values().index)
    rate = rate.loc[order]
    with house():
        fig = figure()
        ax = fig.add_subplot()
        top = float(np.nanmax(rate.to_numpy())) if rate.size else 1.0
        if rate.size:
            ax.imshow(rate.to_numpy(), cmap="Blues", vmin=0, vmax=top or 1, aspect="auto")
        else:  # no refusal at all: an empty grid with the variants' names
            ax.set_ylim(len(order) - 0.5, -0.5)
        for (i, j), v in np.ndenumerate(rate.to_numpy()):
            if v > 0:
                ax.text(j, i, f"{v:.1f}" if v < 10 else f"{v:.0f}", ha="center", va="center",
                        fontsize=10, color="white" if v > 0.6 * top else INK)
        ax.set_xticks(range(rate.shape[1]), list(rate.columns), rotation=30, ha="right")
        _tick_labels(ax, order, style)
        ax.spines[:].set_visible(False)
        fig.subplots_adjust(left=0.3, right=0.97, bottom=0.27)
        if not totals["decided"].sum():
            blank(ax)
        elif not rate.size:
            blank(ax, "No refusals in the measured windows")
        return finish(fig, title, "Refusals per 1,000 decided requests, by the ground the "
                      "requested State invoked (including refusals under the bilateral treaty "
                      "or letters rogatory where the text does not reach).", style, note)


def latency_cdf(latency: Mapping[str, np.ndarray], medians: Mapping[str, float], style: Style,
                title: str, note: str = "") -> Figure:
    """Empirical CDFs of days to evidence, per variant, on a log scale, with the published
    ~10-month MLA average as a reference line; ``medians`` (the legend's) are the means of
    the windows' medians, as the findings state them."""
    order = sorted((n for n in latency if len(latency[n]) and np.isfinite(medians.get(n, np.nan))),
                   key=medians.get)
    with house():
        fig = figure()
        ax = fig.add_subplot()
        for n in order:
            x = np.sort(latency[n])
            y = np.arange(1, x.size + 1) / x.size
            x, y = np.r_[x[0], x], np.r_[0.0, y]  # rise from 0 at the first: one sample shows
            ax.step(x, y, where="post", color=style.colour(n),
                    lw=2.6 if n == style.reference else 1.6,
                    ls="--" if style.is_reference_text(n) else "-",
                    label=textwrap.fill(f"{style.label(n)}: median {medians[n]:.0f} d", 40))
        months = PUBLISHED_MLA_MONTHS * MLA_MONTH_DAYS
        ax.axvline(months, color=INK, lw=1, ls=":")
        ax.text(months * 1.04, 0.04, "published average for MLA\nto the US: about 10 months",
                fontsize=10.5, color=INK, va="bottom")
        ax.set_xscale("log")
        if order:
            ax.set_xlim(left=max(0.1, min(float(np.min(latency[n])) for n in order) * 0.8))
            ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5), fontsize=9.5)
        else:  # nothing obtained: the axes span a day to the published average and beyond
            ax.set_xlim(1, 4 * months)
            blank(ax, NOTHING_OBTAINED)
        ax.xaxis.set_major_formatter(lambda x, _: f"{x:g}")
        ax.set_ylim(0, 1)
        ax.yaxis.set_major_formatter(lambda y, _: percent(y))
        ax.set_xlabel("days from the need for evidence to its arrival (log scale)")
        ax.set_ylabel("evidence obtained by then (%)")
        ax.grid(True, which="major")
        fig.subplots_adjust(left=0.08, right=0.63, bottom=0.16)
        return finish(fig, title, "Cumulative share of obtained evidence by days since the "
                      "need arose (all replications); requests ending without evidence are not "
                      "shown. Legend: median days, the mean of the replications' medians.",
                      style, note)
