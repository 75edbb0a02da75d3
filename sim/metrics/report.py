"""The run summary as people read it: headline metrics with their band across replications."""

from __future__ import annotations

import math

import pandas as pd

from sim.metrics.registry import SECTIONS, Kind, metric, section

RUN_TABLE = ("not_obtained", "data_loss", "loss_before_preservation", "loss_after_lapse",
             "refusal_rate", "never_existed", "out_of_scope", "no_channel", "obtained",
             "pending_share", "latency_median", "latency_p90", "lapsed_share",
             "backlog_mean")  # the headline rows of `run`: every way evidence fails, then time


def band(table: pd.DataFrame, metrics: list[str]) -> pd.DataFrame:
    """Mean and 10-90% band across replications, per metric."""
    cols = [m for m in metrics if m in table]
    return pd.DataFrame({"mean": table[cols].mean(), "p10": table[cols].quantile(0.1),
                         "p90": table[cols].quantile(0.9)})


def cell(name: str, value: float) -> str:
    """A metric's value by its kind (:mod:`sim.metrics.registry`): a share as a percentage, a ratio
    or months to two decimals, days, requests and files as numbers; '-' when NaN."""
    kind = metric(name).kind
    if math.isnan(value):
        return "-"
    if kind is Kind.SHARE:
        return f"{100 * value:.1f}%"
    if kind in (Kind.MONTHS, Kind.RATIO):
        return f"{value:,.2f}"
    return f"{value:,.0f}" if abs(value) >= 10 else f"{value:,.1f}"


def row_label(name: str) -> str:
    """A metric's label in the run table, indented under the metric it is a part of (and
    that one's parent, if any)."""
    m, depth = metric(name), 0
    while m.part_of:
        m, depth = metric(m.part_of), depth + 1
    return "  " * depth + metric(name).label


def summary_text(title: str, table: pd.DataFrame) -> str:
    """Headline metrics, where time goes, and refusals by ground, as an aligned table."""
    stages = {m.name: f"  {m.short}" for m in section("stage")}
    grounds = {m.name: f"  {m.short}" for m in section("ground")
               if table.get(m.name, pd.Series([0])).sum() > 0}
    sections = [("", {n: row_label(n) for n in RUN_TABLE}), (SECTIONS["stage"], stages),
                (SECTIONS["ground"], grounds)]
    labels = [label for _, rows in sections for label in rows.values()]
    width = max(len(label) for label in labels)
    lines = [title, "", f"{'':{width}}  {'mean':>8}  {'p10':>8}  {'p90':>8}"]
    for heading, rows in sections:
        stats = band(table, list(rows)).dropna(how="all")
        if stats.empty:
            continue
        if heading:
            lines += ["", heading]
        for name, row in stats.iterrows():
            cells = [cell(name, row[c]) for c in ("mean", "p10", "p90")]
            lines.append(f"{rows[name]:{width}}  {cells[0]:>8}  {cells[1]:>8}  {cells[2]:>8}")
    return "\n".join(lines)


COMPARE = ("not_obtained", "data_loss", "refusal_rate", "latency_median",
           "latency_p90")  # the columns of compare and sweep


PAIRED = ("not_obtained", "latency_median")


def compare_text(stats: pd.DataFrame, titles: dict[str, str], reps: int) -> str:
    """One Markdown row per variant: means (with 10-90% bands when replicated) and paired
    differences to the reference with 95% intervals; "~0" marks intervals containing zero."""
    by = stats.set_index(["variant", "metric"])
    head = ["variant", *(metric(m).short for m in COMPARE),
            *(f"vs reference: {metric(m).short} (95% CI)" for m in PAIRED)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name in dict.fromkeys(stats["variant"]):
        cells = [titles.get(name, name)]
        for m in COMPARE:
            row = by.loc[(name, m)]
            text = cell(m, row["mean"])
            if reps > 1:
                text += f" ({cell(m, row['p10'])}-{cell(m, row['p90'])})"
            cells.append(text)
        for m in PAIRED:
            row = by.loc[(name, m)]
            sign = "+" if row["diff"] > 0 else ""
            text = (f"{sign}{cell(m, row['diff'])} [{cell(m, row['ci_low'])}, "
                    f"{cell(m, row['ci_high'])}]")
            cells.append(text + (" ~0" if row["zero_in_ci"] else ""))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


ATTRIBUTED = ("not_obtained", "data_loss", "latency_median")  # what attribution and
# sensitivity explain


def table_text(frame: pd.DataFrame, keys: list[str]) -> str:
    """A Markdown table of parameter columns and headline metrics."""
    head = [*keys, *(metric(m).short for m in COMPARE)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, row in frame.iterrows():
        cells = [str(row[k]) for k in keys] + [cell(m, row[m]) for m in COMPARE]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def attribution_text(frame: pd.DataFrame) -> str:
    """Contribution of each clause group to the paired difference, and the total."""
    head = ["clause group", *(f"contribution to {metric(m).short}" for m in ATTRIBUTED)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for _, row in frame.iterrows():
        cells = [str(row["group"])]
        for m in ATTRIBUTED:
            value = row[m]
            text = cell(m, value)
            cells.append(("+" if value > 0 else "") + text)
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def indices_text(frame: pd.DataFrame) -> str:
    """Sensitivity indices, ranked, one block per output."""
    lines = []
    for output, group in frame.groupby("metric", sort=False):
        label = metric(output).short
        cols = [c for c in group.columns if c not in ("factor", "metric")]
        lines += [f"{label}:", "| factor | " + " | ".join(cols) + " |",
                  "|---|" + "---|" * len(cols)]
        for _, row in group.iterrows():
            lines.append(f"| {row['factor']} | " + " | ".join(
                "n/a" if math.isnan(row[c]) else f"{row[c]:.0f}" if c == "degree"
                else f"{row[c]:.3f}" for c in cols) + " |")
        if group[cols].isna().all().all():
            lines.append("(no indices: the output was not observed at every point, or did not "
                         "vary)")
        lines.append("")
    return "\n".join(lines).rstrip()


def calibration_rows(table: pd.DataFrame) -> list[list[str]]:
    """The calibration table as printed: a target without simulated observations is n/a,
    with the reason."""
    rows = [["target", "published", "tolerance", "simulated (10-90%)", "within", "source"]]
    for _, r in table.iterrows():
        simulated = f"n/a ({r['missing']})" if r["missing"] \
            else f"{r['simulated']:.2f} ({r['p10']:.2f}-{r['p90']:.2f})"
        rows.append([r["label"], f"{r['published']:g}", r["tolerance"], simulated,
                     "yes" if r["within"] else "NO", r["source"]])
    return rows
