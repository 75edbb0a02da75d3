"""The briefing pack: every chart as PNG and SVG, ``brief.md`` and a self-contained
``brief.html``, the tables behind them as CSV, and a manifest."""

from __future__ import annotations

import base64
import html
import io
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.briefing import charts, findings, statements
from sim.briefing.brief import Brief
from sim.briefing.charts.style import percent, value
from sim.briefing.findings import Context, Finding
from sim.inputs import matrix, sources
from sim.inputs.world import World
from sim.metrics.registry import metric
from sim.outputs import writing
from sim.outputs.manifest import manifest

TITLE = "Cross-border electronic evidence under the cybercrime treaty drafts"
WORLD_SOURCE = "../shared/research/calibration.md"
READING = {  # chart file stem -> its section heading, in reading order
    "1_loss_by_variant": "Evidence not obtained, by text",
    "2_loss_vs_preservation": "Evidence not obtained against the preservation period",
    "3_latency": "Latency to evidence",
    "4a_loss_by_cause": "Why evidence is not obtained",
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


def style_of(brief: Brief, entries: list[findings.Entry] | None = None) -> charts.Style:
    """The charts' style: texts with identical rules carry their group's label (``entries``:
    the brief's, found here if not given)."""
    entries = Context(brief).entries if entries is None else entries
    s = brief.settings
    scale = (f"scaled x{s.scale:g} (each replication draws {s.scale:.0%} of a year's cases, "
             "with staff scaled alike)" if s.scale < 1 else "at full scale")
    source = (f"Source: coopsim simulation, world '{s.world}' {scale}; seed {s.seed}, "
              f"{s.reps} replications (consecutive {s.window}-day windows after a "
              f"{s.warmup:,}-day warm-up); same cases for every variant.")
    style = charts.Style.of(brief.variants, brief.reference, source)
    return replace(style, labels={**style.labels, **{e.key: e.label for e in entries}})


def figures(brief: Brief, found: list[Finding] | None = None) -> dict[str, Figure]:
    """Every chart of the brief, by file stem, in reading order, each titled with its
    finding (``found``: the brief's findings, computed here if not given). Texts with
    identical rules are one bar, one row, one curve."""
    found = statements.findings(brief) if found is None else found
    title = findings.titles(found)
    c, s = Context(brief), brief.settings
    st = style_of(brief, c.entries)
    keys = [e.key for e in c.entries]
    ref = c.ref.key
    widest = next(e.key for e in c.entries if brief.widest in e.names)
    stats = brief.stats[brief.stats["variant"].isin(keys)]
    medians = stats[stats["metric"] == "latency_median"].set_index("variant")["mean"]
    per_year = s.reps * s.scale * s.window / 365  # windows of a scaled world -> a world year
    start = float(stats[(stats["variant"] == ref) & (stats["metric"] == findings.HEADLINE)]
                  ["mean"].iloc[0])  # the headline's level, where the waterfall starts
    return {
        "1_loss_by_variant": charts.loss_by_variant(stats, st, title["1_loss_by_variant"]),
        "2_loss_vs_preservation": charts.loss_vs_preservation(
            brief.sweep, brief.marks, st, ref, title["2_loss_vs_preservation"],
            note=f"Sweep: {s.sweep_reps} replications per period."),
        "3_latency": charts.latency_cdf({k: brief.latency[k] for k in keys}, medians, st,
                                        title["3_latency"]),
        "4a_loss_by_cause": charts.loss_by_cause(stats, st, title["4a_loss_by_cause"]),
        "4b_refusals_by_ground": charts.refusals_by_ground(
            brief.runs[brief.runs["variant"].isin(keys)], st, title["4b_refusals_by_ground"]),
        "5_request_flow": charts.request_flow(
            brief.flow[brief.flow["variant"] == ref], st, ref, title["5_request_flow"],
            per=per_year, unit="requests a year in the full world (estimated)"),
        "6_backlog": charts.backlog_over_time(
            brief.backlog[brief.backlog["variant"] == ref], st, ref, s.warmup,
            s.warmup + s.reps * s.window, title["6_backlog"], per=s.scale,
            note="Files are full-world equivalents (divided by the scale)."),
        "7_loss_by_region": charts.loss_by_region(
            brief.regions[brief.regions["variant"] == ref], st, ref, title["7_loss_by_region"]),
        "8_what_drives_the_gap": charts.attribution_waterfall(
            brief.attribution, start, ref, widest, st, title["8_what_drives_the_gap"],
            note=f"Attribution: the two texts over all {s.reps} windows (the headline's runs); "
                 f"each mix of them over {s.attribution_reps} window(s); with more than four "
                 "groups differing, Shapley values from two random orders of the groups and "
                 "their reverses."),
    }


def write(brief: Brief, world: World, folder: Path, command: str,
          found: list[Finding] | None = None) -> list[str]:
    """Render every chart and write the pack into ``folder`` (a staging folder: see
    ``sim.outputs``); return the files written. ``found``: the brief's findings (computed
    here if not given)."""
    found = statements.findings(brief) if found is None else found
    figs = figures(brief, found)
    sections = _sections(brief, world, figs, found)
    images: dict[str, bytes] = {}
    files: dict[str, writing.Content] = {}
    for stem, fig in figs.items():
        rendered = chart_files(fig, stem)
        images[stem] = rendered[f"{stem}.png"]
        files |= rendered
    files["brief.md"] = _markdown(sections, brief, command)
    files["brief.html"] = _html(sections, brief, command, images)
    for name, frame in {**_tables(brief), "findings": findings.table(found)}.items():
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


def _sections(brief: Brief, world: World, figs: dict[str, Figure],
              found: list[Finding]) -> list[Section]:
    sections = [Section("Summary", findings.summary(found))]
    for stem, fig in figs.items():
        heading = READING[stem].format(reference=brief.labels[brief.reference])
        sections.append(Section(heading, [f"**{charts.title(fig)}.**"], chart=stem))
    sections.append(Section("Findings table", [
        "Means over replications; the difference to the reference is paired (the same cases "
        "under both texts) with its bootstrap 95% interval, 'indistinguishable' when the "
        "interval contains zero. Rank: its range over what the intervals cannot separate "
        "(1 = least evidence not obtained); a text with no cooperation chapter in effect is "
        "not ranked. Texts with identical rules share a row. Every "
        "sentence of this brief, with each number it states and its interval, is in "
        "`findings.csv`."], table=findings_table(brief)))
    sections.append(Section("Provisions compared", [
        "What each text provides, with the article it comes from; 'silent' marks a question "
        "the text leaves open (the model then falls back to the bilateral treaty or letters "
        "rogatory)."], table=matrix.matrix(brief.variants), folded=True))
    sections.append(Section("Assumptions and sources", _assumption_notes(world),
                            table=_assumptions(world), folded=True))
    return sections


def findings_table(brief: Brief) -> list[list[str]]:
    """The findings table: a header row, then one row per text (texts with identical rules
    together) from least to most evidence not obtained."""
    c = Context(brief)
    d = brief.stats.set_index(["variant", "metric"])
    head = findings.HEADLINE
    ranked = [e for e in c.entries if not e.falls_back]  # a text that changes no route: unranked
    rank = findings.ranks(ranked, brief.runs, head, brief.settings.seed)
    shown = ("data_loss", "refusal_rate", "latency_median", "latency_p90")
    rows = [["rank", "text", "kind", f"{metric(head).short} (10-90%)",
             "difference to reference (95% CI)", *(metric(m).short for m in shown)]]

    def order(e: findings.Entry) -> tuple[bool, float]:  # texts that decided nothing go last
        mean = d.loc[(e.key, head), "mean"]
        return bool(np.isnan(mean)), mean

    kinds = {v.name: v.variant.kind for v in brief.variants}
    for e in sorted(c.entries, key=order):
        x = d.loc[(e.key, head)]
        rows.append([
            findings.rank_text(rank[e.key]) if e.key in rank else
            "-" if e.falls_back else "n/a", e.label,
            ", ".join(dict.fromkeys(kinds[n] for n in e.names)),
            "n/a" if np.isnan(x["mean"]) else
            f"{percent(x['mean'], 1)} ({percent(x['p10'], 1)}-{percent(x['p90'], 1)})",
            _versus(x, brief.reference in e.names),
            *(value(m, d.loc[(e.key, m), "mean"]) for m in shown)])
    return rows


def _versus(x: pd.Series, is_reference: bool) -> str:
    if is_reference:
        return "reference"
    if np.isnan(x["diff"]):
        return "n/a"
    text = findings.interval_text(findings.difference("", (x["diff"], x["ci_low"],
                                                           x["ci_high"])))
    return text.replace(" points, 95% CI ", " pts (") + ")"


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
