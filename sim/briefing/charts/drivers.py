"""What drives the differences: the preservation period, and the clause groups of a gap."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from sim.briefing.charts.style import (
    INK,
    MUTED_INK,
    Style,
    blank,
    empty_chart,
    figure,
    finish,
    house,
    percent,
)
from sim.metrics import registry
from sim.metrics.registry import Kind

NONE = "none"
HEADLINE = "not_obtained"
UP, DOWN, TOTAL = "#CC6677", "#44AA99", "#8C8C8C"


def loss_vs_preservation(sweep: pd.DataFrame, marks: Mapping[str, list[str]], style: Style,
                         variant: str, title: str, note: str = "",
                         metric: str = HEADLINE) -> Figure:
    """``metric`` (evidence not obtained) against the preservation period (mean and 10-90%
    band over replications), with the periods the texts set marked on the curve.

    ``sweep`` has a row per point and replication: ``period`` (days as text, or 'none': the
    text with its preservation clause removed), ``days`` (NaN for none) and ``metric``.
    """
    measured = sweep.dropna(subset=[metric])  # NaN: no request decided at that point
    curve = measured[measured["period"] != NONE].groupby("days")[metric]
    x = np.array(sorted(curve.groups))
    if not len(x):
        return _no_sweep(style, variant, title, note)
    mean, p10, p90 = (curve.mean().loc[x], curve.quantile(0.1).loc[x], curve.quantile(0.9).loc[x])
    none = measured.loc[measured["period"] == NONE, metric]
    with house():
        fig = figure()
        ax = fig.add_subplot()
        _plot_sweep(ax, x, mean, p10, p90, none, style.colour(variant))
        _mark_periods(ax, marks, x, mean, none)
        _sweep_axes(ax, x, p90, none)
        fig.subplots_adjust(left=0.09, right=0.97, bottom=0.16)
        return finish(fig, title, f"Evidence not obtained under the {style.label(variant)} "
                      "text with only its preservation period changed (same cases at every "
                      "point); 'none': the text with its preservation clause removed; band: "
                      "10-90% of replications. Labels: the texts that set each period.",
                      style, note)


def _plot_sweep(ax: Axes, x: np.ndarray, mean: pd.Series, p10: pd.Series, p90: pd.Series,
                none: pd.Series, colour: str) -> None:
    """The loss curve with its 10-90% band, and loss without preservation (with its band) at
    x = 0."""
    ax.fill_between(x, p10, p90, color=colour, alpha=0.18, lw=0)
    ax.plot(x, mean, color=colour, lw=2.6, marker="o", ms=5)
    if len(none):
        ax.errorbar([0], [none.mean()], yerr=[[none.mean() - none.quantile(0.1)],
                                              [none.quantile(0.9) - none.mean()]],
                    fmt="s", color=MUTED_INK, ms=8, capsize=4)


def _mark_periods(ax: Axes, marks: Mapping[str, list[str]], x: np.ndarray, mean: pd.Series,
                  none: pd.Series) -> None:
    """Name the texts that set each period at the top of the chart, pointing to the curve
    (the texts without preservation beside their marker)."""
    placed = sorted(marks.items(), key=lambda kv: _days(kv[0]))
    at = [_days(p) for p, _ in placed]
    for i, (period, who) in enumerate(placed):
        px = at[i]
        py = none.mean() if period == NONE else float(np.interp(px, x, mean))
        if np.isnan(py):
            continue
        near_next = i + 1 < len(at) and at[i + 1] - px < 60
        near_prev = i > 0 and px - at[i - 1] < 60
        ha = "right" if near_next and not near_prev else ("left" if near_prev else "center")
        if period == NONE:  # beside its marker, clear of the curve's labels
            ax.text(px + 10, py, "\n".join(who), ha="left", va="center", fontsize=9.5,
                    color=INK)
            continue
        ax.annotate("\n".join(who), (px, py), xytext=(px, 0.97),
                    textcoords=("data", "axes fraction"), ha=ha, va="top", fontsize=9.5,
                    color=INK, arrowprops={"arrowstyle": "-", "color": MUTED_INK,
                                           "lw": 0.8, "ls": ":", "shrinkA": 2})


def _sweep_axes(ax: Axes, x: np.ndarray, p90: pd.Series, none: pd.Series) -> None:
    """Periods on x ('none' at 0), evidence not obtained on y, room above for labels."""
    ax.set_xticks([0, *x], ["none", *(f"{d:g}" for d in x)])
    ax.set_xlim(-15, x.max() + 20)
    ax.set_ylim(0, min(1.0, max(float(p90.max()), float(none.max()) if len(none) else 0) * 1.75)
                or 0.05)  # no loss anywhere: a scale of a few points
    ax.yaxis.set_major_formatter(lambda y, _: percent(y))
    ax.set_xlabel("preservation period the treaty guarantees (days); 'none': the preservation "
                  "clause removed")
    ax.set_ylabel("evidence not obtained (%)")
    ax.grid(True, axis="y")


def _no_sweep(style: Style, variant: str, title: str, note: str) -> Figure:
    """The sweep chart of runs in which no request was decided at any period."""
    return empty_chart(style, ("preservation period the treaty guarantees (days)",
                               "evidence not obtained (% of decided requests)"), title,
                       f"Evidence not obtained under the {style.label(variant)} text with only "
                       "its preservation period changed.", note)


def _days(period: str) -> float:
    return 0.0 if period == NONE else float(period)


def attribution_waterfall(attribution: pd.DataFrame, start: float, a: str, b: str,
                          style: Style, title: str, metric: str = HEADLINE,
                          note: str = "") -> Figure:
    """From variant ``a``'s level to ``b``'s: each clause group's Shapley contribution.

    ``attribution`` has a row per clause group and a ``total`` row; ``start`` is ``a``'s
    mean of ``metric``. Groups in which the texts agree contribute exactly zero and are left
    out.
    """
    rows = attribution[(attribution["group"] != "total") & (attribution[metric].abs() > 1e-12)]
    rows = rows.reindex(rows[metric].abs().sort_values(ascending=False).index)
    total = float(attribution.loc[attribution["group"] == "total", metric].iloc[0])
    if not (np.isfinite(start) and np.isfinite(total)):
        return _no_gap(style, a, b, metric, title, note)
    share = registry.metric(metric).kind is Kind.SHARE  # else days
    with house():
        fig = figure()
        ax = fig.add_subplot()
        labels, running = _waterfall_bars(ax, rows, metric, start, total, share, style, a, b)
        ax.set_xticks(range(len(labels)), [_wrap(t, max(14, -(-len(t) // 3))) for t in labels],
                      fontsize=11)
        ax.set_ylim(0, max(start, start + total, running) * 1.18 or 0.05)
        ax.set_ylabel(_axis_label(metric))
        if share:
            ax.yaxis.set_major_formatter(lambda y, _: percent(y))
        fig.subplots_adjust(left=0.09, right=0.97, bottom=0.25)
        return finish(fig, title, "Shapley contribution of each clause group: the mixes of "
                      "the two texts run on the same cases, and along every order of the groups "
                      "the contributions add up exactly to the gap. Clause groups in which the "
                      "texts agree contribute nothing and are not shown.", style, note)


def _waterfall_bars(ax: Axes, rows: pd.DataFrame, metric: str, start: float, total: float,
                    share: bool, style: Style, a: str, b: str) -> tuple[list[str], float]:
    """``a``'s level, a floating bar per clause group's contribution and ``b``'s level, each
    labelled (points or days); return the bars' labels and the level after the last group."""
    fmt = (lambda v: f"{100 * v:+.1f} pts") if share else (lambda v: f"{v:+.0f} d")
    level = (lambda v: percent(v, 1)) if share else (lambda v: f"{v:.0f} d")
    labels = [style.label(a)]
    ax.bar(0, start, color=style.colour(a), width=0.62)
    ax.text(0, start, level(start), ha="center", va="bottom", fontsize=11.5)
    running = start
    for i, (group, v) in enumerate(zip(rows["group"], rows[metric], strict=True), 1):
        ax.bar(i, v, bottom=running, color=UP if v > 0 else DOWN, width=0.62)
        ax.text(i, max(running, running + v), fmt(v), ha="center", va="bottom", fontsize=11.5)
        ax.plot([i - 1.31, i + 0.31], [running, running], color=MUTED_INK, lw=0.8, ls=":")
        running += v
        labels.append(group)
    end = len(labels)
    ax.bar(end, start + total, color=style.colour(b), width=0.62)
    ax.text(end, start + total, level(start + total), ha="center", va="bottom",
            fontsize=11.5)
    labels.append(style.label(b))
    return labels, running


def _axis_label(metric: str) -> str:
    m = registry.metric(metric)
    return f"{m.short} (%)" if m.kind is Kind.SHARE else m.label


def _no_gap(style: Style, a: str, b: str, metric: str, title: str, note: str) -> Figure:
    """The waterfall of runs in which the two texts decided (or obtained) nothing."""
    with house():
        fig = figure()
        ax = fig.add_subplot()
        ax.set_xticks([0, 1], [_wrap(style.label(a)), _wrap(style.label(b))], fontsize=11)
        ax.set_xlim(-0.6, 1.6)
        fig.subplots_adjust(left=0.09, right=0.97, bottom=0.25)
        ax.set_yticks([])
        ax.set_ylabel(_axis_label(metric))
        blank(ax, "Too few requests decided in the measured windows to compare the two texts")
        return finish(fig, title, "Shapley contribution of each clause group to the gap "
                      "between the two texts.", style, note)


def _wrap(text: str, width: int = 14) -> str:
    return textwrap.fill(text, width)
