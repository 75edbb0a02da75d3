"""The briefing pack: every chart as PNG and SVG, ``brief.md`` and a self-contained
``brief.html``, the tables behind them as CSV, and a manifest."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.briefing import charts
from sim.briefing.brief import NO_PRESERVATION, Brief
from sim.briefing.charts.style import names, percent, points, value
from sim.inputs import matrix, sources
from sim.inputs.provisions import Variant
from sim.inputs.world import World
from sim.metrics.registry import metric
from sim.outputs import writing
from sim.outputs.manifest import manifest

TITLE = "Cross-border electronic evidence under the cybercrime treaty drafts"
WORLD_SOURCE = "../shared/research/calibration.md"
READING = {  # chart file stem -> its section heading, in reading order
    "1_loss_by_variant": "Data loss by variant",
    "2_loss_vs_preservation": "Data loss against the preservation period",
    "3_latency": "Latency to evidence",
    "4a_loss_by_cause": "Where evidence is lost",
    "4b_refusals_by_ground": "Refusals by ground",
    "5_request_flow": "Flow of requests under {reference}",
    "6_backlog": "Backlog at central authorities",
    "7_loss_by_region": "Who loses most",
    "8_what_drives_the_gap": "What drives the gap",
}


@dataclass
class Section:
    """One part of the brief: a heading, a chart or a table, and what to read from it."""

    heading: str
    text: list[str] = field(default_factory=list)
    chart: str = ""  # file stem of the chart
    table: list[list[str]] = field(default_factory=list)  # first row: header
    folded: bool = False  # a long table: folded away in HTML


def style_of(brief: Brief) -> charts.Style:
    s = brief.settings
    scale = (f"scaled x{s.scale:g} (each replication draws {s.scale:.0%} of a year's cases, "
             "with staff scaled alike)" if s.scale < 1 else "at full scale")
    source = (f"Source: coopsim simulation, world '{s.world}' {scale}; seed {s.seed}, "
              f"{s.reps} replications (consecutive {s.window}-day windows after a "
              f"{s.warmup:,}-day warm-up); same cases for every variant.")
    return charts.Style.of(brief.variants, brief.reference, source)


def figures(brief: Brief) -> dict[str, Figure]:
    """Every chart of the brief, by file stem, in reading order."""
    st, s = style_of(brief), brief.settings
    ref, widest = brief.reference, brief.widest
    per_year = s.reps * s.scale * s.window / 365  # windows of a scaled world -> a world year
    runs = brief.runs
    start = float(runs.loc[runs["variant"] == ref, "data_loss"].mean())  # as the headline
    return {
        "1_loss_by_variant": charts.loss_by_variant(brief.stats, st),
        "2_loss_vs_preservation": charts.loss_vs_preservation(
            brief.sweep, brief.marks, st, ref,
            note=f"Sweep: {s.sweep_reps} replications per period."),
        "3_latency": charts.latency_cdf(brief.latency, st),
        "4a_loss_by_cause": charts.loss_by_cause(brief.stats, st),
        "4b_refusals_by_ground": charts.refusals_by_ground(brief.runs, st),
        "5_request_flow": charts.request_flow(
            brief.flow[brief.flow["variant"] == ref], st, ref, per=per_year,
            unit="requests a year in the full world (estimated)"),
        "6_backlog": charts.backlog_over_time(
            brief.backlog[brief.backlog["variant"] == ref], st, ref, s.warmup,
            s.warmup + s.reps * s.window, per=s.scale,
            note="Files are full-world equivalents (divided by the scale)."),
        "7_loss_by_region": charts.loss_by_region(brief.regions[brief.regions["variant"] == ref],
                                                  st, ref),
        "8_what_drives_the_gap": charts.attribution_waterfall(
            brief.attribution, start, ref, widest, st,
            note=f"Attribution: the two texts over all {s.reps} windows (the headline's runs); "
                 f"each mix of them over {s.attribution_reps} window(s); with more than four "
                 "groups differing, Shapley values from two random orders of the groups and "
                 "their reverses."),
    }


def write(brief: Brief, world: World, folder: Path, command: str) -> list[str]:
    """Render every chart and write the pack into ``folder`` (a staging folder: see
    ``sim.outputs``); return the files written."""
    figs = figures(brief)
    sections = _sections(brief, world, figs)
    images: dict[str, bytes] = {}
    files: dict[str, writing.Content] = {}
    for stem, fig in figs.items():
        rendered = chart_files(fig, stem)
        images[stem] = rendered[f"{stem}.png"]
        files |= rendered
    files["brief.md"] = _markdown(sections, brief, command)
    files["brief.html"] = _html(sections, brief, command, images)
    for name, frame in _tables(brief).items():
        files[f"{name}.csv"] = frame
    files["manifest.json"] = brief_manifest(brief, command)
    writing.write(folder, files)
    return sorted(files)


def chart_files(fig: Figure, stem: str) -> dict[str, bytes]:
    """A chart as ``stem.png`` (200 dpi) and ``stem.svg``."""
    png, svg = io.BytesIO(), io.BytesIO()
    fig.savefig(png, format="png", dpi=200)
    fig.savefig(svg, format="svg")
    return {f"{stem}.png": png.getvalue(), f"{stem}.svg": svg.getvalue()}


def _tables(brief: Brief) -> dict[str, pd.DataFrame]:
    return {"runs": brief.runs, "compare": brief.stats, "sweep": brief.sweep,
            "attribution": brief.attribution, "flow": brief.flow, "regions": brief.regions,
            "backlog": brief.backlog}


def _mean(brief: Brief, name: str, metric: str) -> float:
    d = brief.stats
    return float(d[(d["variant"] == name) & (d["metric"] == metric)]["mean"].iloc[0])


def summary(brief: Brief) -> list[str]:
    """The findings in a few sentences, from the results (nothing here is fixed text)."""
    labels, ref = brief.labels, brief.reference
    loss = {v.name: _mean(brief, v.name, "data_loss") for v in brief.variants}
    loss = {n: x for n, x in loss.items() if np.isfinite(x)}  # NaN: nothing decided
    if not loss:
        return [f"No request of the {brief.settings.window}-day window was decided, so no "
                "text's data loss or time to evidence can be measured: run the briefing "
                "with a longer window (`--window`)."]
    drafts = [v.name for v in brief.variants if v.variant.kind == "draft"]
    drafts = [n for n in drafts if n in loss] if drafts else list(loss)
    if not drafts:
        return [f"No request under any draft of the {brief.settings.window}-day window was "
                "decided, so the drafts' data loss cannot be measured: run the briefing "
                "with a longer window (`--window`)."]
    best = min(drafts, key=loss.get)
    worst_loss = max(loss[n] for n in drafts)
    worst = [labels[n] for n in drafts if np.isclose(loss[n], worst_loss)]
    out = [f"Among the drafts, **{labels[best]}** loses the least evidence "
           f"({percent(loss[best], 1)} of requests), against "
           f"{percent(_mean(brief, ref, 'data_loss'), 1)} under the reference, {labels[ref]}; "
           f"{names(worst)} {'loses' if len(worst) == 1 else 'lose'} the most "
           f"({percent(worst_loss, 1)})."]
    out.append(_why(brief, best))
    overall = min(loss, key=loss.get)
    if overall != best:
        out.append(f"Of all the texts compared, {labels[overall]} loses the least "
                   f"({percent(loss[overall], 1)}): it is a reference, not a draft.")
    before = sum(_mean(brief, n, "loss_before_preservation") for n in loss)
    after = sum(_mean(brief, n, "loss_after_lapse") for n in loss)
    if before + after:
        out.append(f"Across the texts, {percent(before / (before + after))} of the evidence "
                   "lost is deleted before it is preserved (while the preservation request "
                   "travels, or during the MLA procedure when none was asked for); the rest is "
                   "deleted after a preservation lapses before the formal request is executed.")
    attr = brief.attribution[brief.attribution["group"] != "total"]
    total = float(brief.attribution.loc[brief.attribution["group"] == "total",
                                        "data_loss"].iloc[0])
    if np.isfinite(total) and total and attr["data_loss"].notna().any():
        top = attr.loc[attr["data_loss"].abs().idxmax()]
        out.append(f"Between {labels[ref]} and {labels[brief.widest]} (a gap of "
                   f"{100 * total:+.1f} points), the {top['group']} clauses account for "
                   f"{percent(top['data_loss'] / total)} of the difference (chart 8).")
    return out


def _why(brief: Brief, best: str) -> str:
    """Why the best draft loses less than the reference: its preservation period, if the
    sweep shows the period alone makes the difference, otherwise the clause groups."""
    labels, ref = brief.labels, brief.reference
    p = brief.variant(best).preservation
    period = f"{p.min_days.value:g}" if p.available.value else NO_PRESERVATION
    rp = brief.variant(ref).preservation
    ref_period = f"{rp.min_days.value:g}" if rp.available.value else NO_PRESERVATION
    sweep = brief.sweep.groupby("period")["data_loss"].mean().dropna()  # NaN: none decided
    if best == ref:
        return (f"{labels[ref]} is itself the best draft; its preservation period is "
                f"{ref_period} days.")
    if period != ref_period and period in sweep.index and ref_period in sweep.index:
        gain = sweep[ref_period] - sweep[period]
        gap = _mean(brief, ref, "data_loss") - _mean(brief, best, "data_loss")
        return (f"Its preservation period ({period} days against {ref_period}) is the main "
                f"reason: changing only the period of the {labels[ref]} text to {period} days "
                f"changes its data loss by {points(-gain)} points (chart 2), against a gap "
                f"of {points(-gap)} points between the two texts.")
    return (f"It sets the same preservation period as {labels[ref]}; the difference comes "
            "from its other clauses (see the provisions table).")


def _sections(brief: Brief, world: World, figs: dict[str, Figure]) -> list[Section]:
    sections = [Section("Summary", summary(brief))]
    for stem, fig in figs.items():
        heading = READING[stem].format(reference=brief.labels[brief.reference])
        sections.append(Section(heading, [f"**{charts.title(fig)}.**"], chart=stem))
    sections.append(Section("Findings table", [
        "Means over replications; the difference to the reference is paired (the same cases "
        "under both texts) with its bootstrap 95% interval."], table=findings(brief)))
    sections.append(Section("Provisions compared", [
        "What each text provides, with the article it comes from; 'silent' marks a question "
        "the text leaves open (the model then falls back to the bilateral treaty or letters "
        "rogatory)."], table=matrix.matrix(brief.variants), folded=True))
    sections.append(Section("Assumptions and sources", _assumption_notes(world),
                            table=_assumptions(world), folded=True))
    return sections


def findings(brief: Brief) -> list[list[str]]:
    """The findings table: a header row, then one row per variant from least to most loss."""
    d = brief.stats.set_index(["variant", "metric"])
    rows = [["variant", "kind", f"{metric('data_loss').short} (10-90%)",
             "difference to reference (95% CI)",
             *(metric(m).short for m in ("latency_median", "latency_p90", "refusal_rate"))]]
    def rank(v: Variant) -> tuple[bool, float]:  # variants that decided nothing go last
        mean = d.loc[(v.name, "data_loss"), "mean"]
        return bool(np.isnan(mean)), mean

    for v in sorted(brief.variants, key=rank):
        loss = d.loc[(v.name, "data_loss")]
        diff = ("reference" if v.name == brief.reference else "n/a"
                if np.isnan(loss["diff"]) else
                f"{points(loss['diff'])} pts ({points(loss['ci_low'])} to "
                f"{points(loss['ci_high'])})")
        rows.append([v.label, v.variant.kind,
                     "n/a" if np.isnan(loss["mean"]) else
                     f"{percent(loss['mean'], 1)} ({percent(loss['p10'], 1)}-"
                     f"{percent(loss['p90'], 1)})", diff,
                     *(value(m, d.loc[(v.name, m), "mean"])
                       for m in ("latency_median", "latency_p90", "refusal_rate"))])
    return rows


def _assumptions(world: World) -> list[list[str]]:
    t = sources.table(world).sort_values("kind", ascending=False, kind="stable")
    return [["figure", "value", "source"], *t[["figure", "value", "source"]].values.tolist()]


def _assumption_notes(world: World) -> list[str]:
    t = sources.table(world)
    sourced = int((t["kind"] == "sourced").sum())
    return [f"The world '{world.world.name}' has {len(t)} figures: {sourced} come from published "
            f"sources (rows of {WORLD_SOURCE}) or are fitted to them by `coopsim calibrate`; "
            f"the other {len(t) - sourced} are assumptions, labelled as such. Results compare "
            "texts under the same assumptions; they are not forecasts."]


def _markdown(sections: list[Section], brief: Brief, command: str) -> str:
    lines = [f"# {TITLE}", "", _produced(brief, command), ""]
    for s in sections:
        lines += [f"## {s.heading}", ""]
        if s.chart:
            lines += [f"![{s.heading}]({s.chart}.png)", ""]
        lines += [*(p for t in s.text for p in (t, "")),
                  *([matrix.markdown(s.table), ""] if s.table else [])]
    return "\n".join(lines).rstrip() + "\n"


def _produced(brief: Brief, command: str) -> str:
    s = brief.settings
    return (f"Produced by `{command}` in {brief.seconds:.0f} s: {len(brief.variants)} texts, "
            f"{s.reps} replications each of world '{s.world}' (scale x{s.scale:g}), seed "
            f"{s.seed}, consecutive {s.window}-day windows after a {s.warmup:,}-day warm-up; "
            "every text faces the same cases.")


def _html(sections: list[Section], brief: Brief, command: str,
          images: dict[str, bytes]) -> str:
    body = [f"<h1>{html.escape(TITLE)}</h1>",
            f"<p class=meta>{_inline(_produced(brief, command))}</p>"]
    for s in sections:
        body.append(f"<section><h2>{html.escape(s.heading)}</h2>")
        if s.chart:
            data = base64.b64encode(images[s.chart]).decode()
            body.append(f'<img src="data:image/png;base64,{data}" alt="{html.escape(s.text[0])}" '
                        f'data-chart="{s.chart}">')
        body += [f"<p>{_inline(t)}</p>" for t in s.text]
        if s.table:
            table = _html_table(s.table)
            body.append(f"<details><summary>{len(s.table) - 1} rows</summary>{table}</details>"
                        if s.folded else table)
        body.append("</section>")
    return (f"<!doctype html><html lang=en><head><meta charset=utf-8><title>{html.escape(TITLE)}"
            f"</title><meta name=viewport content='width=device-width'><style>{CSS}</style>"
            f"</head><body>{''.join(body)}</body></html>\n")


def _html_table(rows: list[list[str]]) -> str:
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in rows[0])
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>"
                   for r in rows[1:])
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _inline(text: str) -> str:
    """Markdown's **bold** and `code` in a line of HTML."""
    out = html.escape(text)
    for mark, tag in (("**", "strong"), ("`", "code")):
        parts = out.split(mark)
        out = "".join(p if i % 2 == 0 else f"<{tag}>{p}</{tag}>" for i, p in enumerate(parts))
    return out


CSS = """
body{font-family:system-ui,-apple-system,'Segoe UI',sans-serif;max-width:1100px;margin:2rem auto;
padding:0 1rem;color:#222;line-height:1.45}
h1{font-size:1.9rem}h2{margin-top:2.4rem;border-bottom:1px solid #ddd;padding-bottom:.2rem}
img{width:100%;height:auto;border:1px solid #eee}.meta{color:#555}
table{border-collapse:collapse;font-size:.88rem;margin:.6rem 0}
th,td{border:1px solid #ddd;padding:.3rem .45rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}summary{cursor:pointer;color:#333;margin:.4rem 0}
"""


def brief_manifest(brief: Brief, command: str) -> dict[str, Any]:
    """``coopsim brief``: its settings, the texts compared, how long it took, the command."""
    return manifest("brief", {
        **asdict(brief.settings), "reference": brief.reference, "widest": brief.widest,
        "variants": [v.name for v in brief.variants], "seconds": round(brief.seconds, 1),
        "command": command})
