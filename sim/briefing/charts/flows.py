"""Where requests go: the flow from route to outcome, queues over time, loss by region."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch
from matplotlib.path import Path
from matplotlib.transforms import Affine2D

from sim.briefing.charts.style import (
    INK,
    MUTED,
    MUTED_INK,
    Style,
    blank,
    empty_chart,
    figure,
    finish,
    house,
    percent,
)
from sim.vocabulary import (
    OTHER_STATES,
    OUTCOME_LABELS,
    OUTCOME_NAMES,
    PATHS,
    REGIME_LABELS,
    Outcome,
)

OUTCOME_COLOURS = {
    Outcome.OBTAINED: "#117733", Outcome.LOST_BEFORE_PRESERVATION: "#CC6677",
    Outcome.LOST_AFTER_LAPSE: "#882255", Outcome.REFUSED: "#DDCC77",
    Outcome.NEVER_EXISTED: "#B4B4B4", Outcome.OUT_OF_SCOPE: "#8C8C8C",
    Outcome.NO_CHANNEL: "#5F5F5F", Outcome.PENDING: "#DDDDDD",
}
OUTCOMES = {  # outcome name -> (label, colour), in the chart's order
    OUTCOME_NAMES[o]: (OUTCOME_LABELS[o], colour) for o, colour in OUTCOME_COLOURS.items()}
REGIMES = tuple(REGIME_LABELS.values())
GAP = 0.025  # vertical space between nodes, as a share of the column
FLOW_KEYS = ("regime", "path", "outcome")  # the flow's columns, left to right
COLUMN_X = (0.17, 0.44, 0.7)  # left edge of each column's boxes, as a share of the width
NODE_WIDTH = 0.022


def request_flow(flow: pd.DataFrame, style: Style, variant: str, title: str, per: float = 1.0,
                 unit: str = "requests", note: str = "") -> Figure:
    """Alluvial (Sankey-style) diagram: route -> preservation path -> outcome, with counts.

    ``flow`` has columns regime, path, outcome, requests (one variant); counts are divided by
    ``per`` (e.g. replications, to show a yearly figure) and labelled with ``unit``.
    """
    f = flow.groupby(list(FLOW_KEYS), as_index=False)["requests"].sum()
    f["requests"] = f["requests"] / per
    total = float(f["requests"].sum())
    if not total:
        return _no_requests(style, variant, title, note)
    columns = [
        [r for r in REGIMES if r in set(f["regime"])],
        [p for p in PATHS if p in set(f["path"])],
        [o for o in OUTCOMES if o in set(f["outcome"])],
    ]
    with house():
        fig = figure()
        ax = fig.add_subplot()
        fig.subplots_adjust(left=0.02, right=0.98, bottom=0.08)
        ax.set_axis_off()
        boxes = [_draw_column(ax, f, col, nodes, total) for col, nodes in enumerate(columns)]
        for col in (0, 1):
            _draw_links(ax, f, col, columns, boxes, total)
        ax.set_xlim(0, 1.0)
        ax.set_ylim(-0.02, 1.02)
        _column_heads(ax)
        return finish(fig, title, f"Requests from their route "
                      f"(the treaty, a bilateral treaty or letters rogatory) through preservation "
                      f"to their outcome; numbers are {unit}.", style, note)


def _column_scale(nodes: list[str], total: float) -> float:
    """Height per request in a column of ``nodes`` (the gaps between them taken out)."""
    return (1 - GAP * (len(nodes) - 1)) / total


def _draw_column(ax: Axes, f: pd.DataFrame, col: int, nodes: list[str],
                 total: float) -> dict[str, tuple[float, float]]:
    """The boxes of one column (route, preservation path or outcome), top down, each labelled
    with its count; return each node's span (bottom, top)."""
    key = FLOW_KEYS[col]
    sizes = f.groupby(key)["requests"].sum()
    scale = _column_scale(nodes, total)
    y, spans = 1.0, {}
    for n in nodes:
        h = sizes[n] * scale
        spans[n] = (y - h, y)
        colour = OUTCOMES[n][1] if col == 2 else (MUTED[0] if col == 0 else MUTED_INK)
        ax.add_patch(PathPatch(Path.unit_rectangle().transformed(
            _box(COLUMN_X[col], y - h, NODE_WIDTH, h)), color=colour, lw=0))
        name = OUTCOMES[n][0] if col == 2 else n
        left = col == 0
        ax.text(COLUMN_X[col] - 0.008 if left else COLUMN_X[col] + NODE_WIDTH + 0.008, y - h / 2,
                f"{name}  {sizes[n]:,.0f}", va="center", ha="right" if left else "left",
                fontsize=10.5, color=INK,
                bbox={"facecolor": "white", "alpha": 0.8, "lw": 0, "pad": 1.5}
                if col == 1 else None)
        y -= h + GAP
    return spans


def _draw_links(ax: Axes, f: pd.DataFrame, col: int, columns: list[list[str]],
                boxes: list[dict[str, tuple[float, float]]], total: float) -> None:
    """The ribbons from column ``col`` to the next, stacked down each box in node order
    (coloured by outcome into the last column)."""
    a, b = FLOW_KEYS[col], FLOW_KEYS[col + 1]
    links = f.groupby([a, b], as_index=False)["requests"].sum()
    scale = _column_scale(columns[col], total)
    scale_b = _column_scale(columns[col + 1], total)
    out_top = {n: boxes[col][n][1] for n in columns[col]}
    in_top = {n: boxes[col + 1][n][1] for n in columns[col + 1]}
    for src in columns[col]:
        for dst in columns[col + 1]:
            row = links[(links[a] == src) & (links[b] == dst)]
            if row.empty:
                continue
            v = float(row["requests"].iloc[0])
            h0, h1 = v * scale, v * scale_b
            y0, y1 = out_top[src], in_top[dst]
            out_top[src] -= h0
            in_top[dst] -= h1
            colour = OUTCOMES[dst][1] if col == 1 else MUTED_INK
            ax.add_patch(_band(COLUMN_X[col] + NODE_WIDTH, y0, h0, COLUMN_X[col + 1], y1, h1,
                               colour))


def _column_heads(ax: Axes) -> None:
    """The three columns' headings above them."""
    for x, head, ha in zip((COLUMN_X[0] + NODE_WIDTH, COLUMN_X[1], COLUMN_X[2]),
                           ("MLA route", "preservation", "outcome"),
                           ("right", "left", "left"), strict=True):
        ax.text(x, 1.05, head, fontsize=12, weight="bold", color=INK, ha=ha)


def _no_requests(style: Style, variant: str, title: str, note: str) -> Figure:
    """The flow chart of a run in which no request arose in the measured windows."""
    with house():
        fig = figure()
        ax = fig.add_subplot()
        ax.set_axis_off()
        blank(ax, "No requests arose in the measured windows")
        return finish(fig, title, "Requests from their route through preservation to their "
                      "outcome.", style, note)


def _box(x: float, y: float, w: float, h: float) -> Affine2D:
    return Affine2D().scale(w, h).translate(x, y)


def _band(x0: float, y0: float, h0: float, x1: float, y1: float, h1: float,
          colour: str) -> PathPatch:
    """A ribbon from the span (y0 - h0, y0) at x0 to (y1 - h1, y1) at x1, with curved edges."""
    mid = (x0 + x1) / 2
    verts = [(x0, y0), (mid, y0), (mid, y1), (x1, y1), (x1, y1 - h1), (mid, y1 - h1),
             (mid, y0 - h0), (x0, y0 - h0), (x0, y0)]
    codes = [Path.MOVETO, Path.CURVE4, Path.CURVE4, Path.CURVE4, Path.LINETO, Path.CURVE4,
             Path.CURVE4, Path.CURVE4, Path.CLOSEPOLY]
    return PathPatch(Path(verts, codes), facecolor=colour, alpha=0.45, lw=0)


def backlog_over_time(backlog: pd.DataFrame, style: Style, variant: str, warmup_days: float,
                      end_days: float, title: str, top: int = 5, per: float = 1.0,
                      note: str = "") -> Figure:
    """Files waiting or under review at the busiest central authorities, week by week, over
    one whole run: the warm-up (shaded, discarded), the measured windows, the run-off.

    ``backlog`` has columns state, week, files for one variant; values are divided by
    ``per`` (e.g. a world scale, to show full-world equivalents). ``end_days`` is the end of
    the last window: the steady level is the mean between the warm-up and it.
    """
    b = backlog.assign(files=backlog["files"] / per)
    days = b["week"] * 7
    measured = b[(days >= warmup_days) & (days < end_days)]
    level = measured.groupby("state")["files"].mean()
    states = list(level.drop(OTHER_STATES, errors="ignore").sort_values(ascending=False)
                  .index[:top])
    colours = dict(zip(states, MUTED, strict=False))
    with house():
        fig = figure()
        ax = fig.add_subplot()
        ax.axvspan(0, warmup_days / 365.25, color=MUTED_INK, alpha=0.08, lw=0)
        ax.text(warmup_days / 365.25 / 2, 0.97, "warm-up (discarded)", ha="center", va="top",
                transform=ax.get_xaxis_transform(), color=MUTED_INK, fontsize="small")
        for s in [*states, OTHER_STATES]:
            d = b[b["state"] == s].sort_values("week")
            if d.empty:
                continue
            ax.plot(d["week"] * 7 / 365.25, d["files"], color=colours.get(s, MUTED_INK), lw=1.6,
                    ls="--" if s == OTHER_STATES else "-",
                    label=s if s != OTHER_STATES else "all other States together")
        ax.set_xlabel("years since the run began (needs arise throughout)")
        ax.set_ylabel("files waiting or under review")
        ax.yaxis.set_major_formatter(lambda y, _: f"{y:,.0f}")
        ax.set_ylim(bottom=0)
        ax.grid(True, axis="y")
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3, frameon=False)
        fig.subplots_adjust(left=0.1, right=0.97, bottom=0.28)
        if not b["files"].max() > 0:
            ax.set_ylim(0, 10)
            blank(ax, "No files waiting at any central authority")
        return finish(fig, title, "Files waiting or under review at the "
                      f"busiest central authorities under {style.label(variant)}, week by week "
                      "over one run; figures are measured after the shaded warm-up.", style, note)


def loss_by_region(regions: pd.DataFrame, style: Style, variant: str, title: str,
                   note: str = "") -> Figure:
    """Evidence not obtained by requesting region (rows) and requested region (columns): a
    heat map whose colour scale starts at zero.

    ``regions`` has columns requesting, requested, not_obtained, decided for one variant.
    """
    def pivot(values: str) -> pd.DataFrame:
        return regions.pivot_table(index="requesting", columns="requested", values=values,
                                   aggfunc="sum", fill_value=0)

    lost, decided = pivot("not_obtained"), pivot("decided")
    share = lost / decided.where(decided > 0)
    by_requested = lost.sum() / decided.sum()
    by_requesting = lost.sum(axis=1) / decided.sum(axis=1)
    m = share.to_numpy(dtype=float)
    if not np.isfinite(m).any():
        return _no_region(style, variant, title, note)
    with house():
        fig = figure()
        ax = fig.add_subplot()
        hi = max(float(np.nanmax(m)), 0.01)
        image = ax.imshow(m, cmap="Reds", vmin=0, vmax=hi, aspect="auto")
        for (i, j), v in np.ndenumerate(m):
            if np.isfinite(v):
                ax.text(j, i, percent(v), ha="center", va="center", fontsize=11.5,
                        color="white" if v > 0.6 * hi else INK)
        bar = fig.colorbar(image, ax=ax, fraction=0.03, pad=0.02)
        bar.ax.yaxis.set_major_formatter(lambda y, _: percent(y))
        bar.set_label("evidence not obtained (% of decided requests)", fontsize=10)
        ax.set_xticks(range(share.shape[1]),
                      [f"{c}\n({percent(by_requested[c])})" for c in share.columns])
        ax.set_yticks(range(share.shape[0]),
                      [f"{r} ({percent(by_requesting[r])})" for r in share.index])
        ax.set_xlabel("region of the requested State, where the data are held (overall)")
        ax.set_ylabel("region of the requesting State")
        ax.spines[:].set_visible(False)
        fig.subplots_adjust(left=0.2, right=0.9, bottom=0.22)
        return finish(fig, title, f"Evidence not obtained under {style.label(variant)} by where "
                      "the request comes from and where the data are held (M49 regions; all "
                      "replications).", style, note)


def _no_region(style: Style, variant: str, title: str, note: str) -> Figure:
    """The region chart of a run in which no request was decided."""
    return empty_chart(style, ("region of the requested State, where the data are held "
                               "(overall)", "region of the requesting State"), title,
                       f"Evidence not obtained under {style.label(variant)} by where the "
                       "request comes from and where the data are held (M49 regions).", note)
