"""The briefing's findings, built from its runs (see :mod:`sim.briefing.findings` for the
rules they keep): the ranking of the texts, the texts that are one, why the best draft
differs, what the attribution finds, and the finding each chart is titled with.

The headline metric is ``not_obtained``: decided requests that end without the evidence, for
whatever cause.
"""

from __future__ import annotations

import numpy as np

from sim.briefing import titles
from sim.briefing.brief import NO_PRESERVATION, Brief, period_of
from sim.briefing.charts.style import names, percent, points
from sim.briefing.findings import (
    HEADLINE,
    NO_CHAPTER,
    Context,
    Entry,
    Extreme,
    Finding,
    Number,
    contrast,
    difference,
    extreme,
    interval_text,
    level,
)


def findings(brief: Brief) -> list[Finding]:
    """Every finding of the brief, the summary's first, in reading order."""
    c = Context(brief)
    if not c.decided:
        return _nothing_decided(brief)
    return [*_headline(c), *_groups(c), *_period_reason(c), _attribution(c),
            *titles.findings(c)]


def _nothing_decided(brief: Brief) -> list[Finding]:
    w = brief.settings.window
    why = (f"No request of the {w}-day window was decided, so no text's evidence not obtained "
           "or time to evidence can be measured: run the briefing with a longer window "
           "(`--window`).")
    cannot = {"1_loss_by_variant": "no text's evidence not obtained can be measured yet",
              "2_loss_vs_preservation": "the effect of the preservation period cannot be "
                                        "measured yet",
              "3_latency": "time to evidence cannot be measured yet",
              "4a_loss_by_cause": "no cause of evidence not obtained to show yet",
              "4b_refusals_by_ground": "no refusal to show yet",
              "5_request_flow": "every request is pending",
              "6_backlog": "the backlog is shown, but no request of the window has ended",
              "7_loss_by_region": "no region's evidence not obtained can be measured yet",
              "8_what_drives_the_gap": "the gap between the texts cannot be measured yet"}
    return [Finding("nothing_decided", why, summary=True),
            *(Finding(f"nothing_decided_{stem}", why, chart=stem,
                      title=f"No requests decided in the measured windows: {text}")
              for stem, text in cannot.items())]


# -- the ranking -----------------------------------------------------------------------------

def _extreme_phrase(c: Context, x: Extreme, lowest: bool, m: str = HEADLINE,
                    ) -> tuple[str, str, list[Number]]:
    """Who is lowest (or highest), and the detail: its level against the next text beyond
    the noise, or the texts that cannot be told from it, each with its difference."""
    def value(key: str) -> Number:
        return level(f"{m}: {c.label(key)}", c.mean(key, m))

    def versus(key: str, d: tuple[float, float, float]) -> Number:
        return difference(f"{m}: {c.label(key)} minus {c.label(x.first)}", d)

    first = value(x.first)
    who = names([f"**{c.label(k)}**" for k in x.tier])
    if x.ties:
        tied = [value(k) for k, _ in x.ties]
        diffs = [versus(k, d) for k, d in x.ties]
        each = "; ".join(f"{c.label(k)} against {c.label(x.first)}: {interval_text(n)}"
                         for (k, _), n in zip(x.ties, diffs, strict=True))
        shown = ", ".join(n.shown for n in [first, *tied])
        return who, f"{shown} of decided requests ({each})", [first, *tied, *diffs]
    detail, numbers = f"{first.shown} of decided requests", [first]
    if x.next is not None:
        k, d = x.next
        nxt, diff = value(k), versus(k, d)
        numbers += [nxt, diff]
        ref = " (the reference)" if k == c.ref.key else ""
        detail += (f", against {nxt.shown} under {c.label(k)}{ref}, the "
                   f"{'next' if lowest else 'next highest'} ({interval_text(diff)})")
    return who, detail, numbers


def _headline(c: Context) -> list[Finding]:
    """Which draft leaves the least and the most evidence unobtained, against the reference;
    and a reference text that does better than every draft."""
    known = [e for e in c.entries if np.isfinite(c.mean(e.key))]  # NaN: nothing decided
    drafts = _drafts(known)
    series = {e.key: c.series(e.key) for e in drafts}
    low = extreme(series, c.seed)
    high = extreme(series, c.seed, lowest=False)
    best, detail, numbers = _extreme_phrase(c, low, True)
    verb = "leave" if low.ties else "leaves"
    ref = c.ref
    sentence = f"Among the drafts, {best} {verb} the least evidence unobtained: {detail}"
    if not np.isfinite(c.mean(ref.key)):
        sentence += f"; no request under the reference, {ref.label}, was decided"
    elif ref.key not in low.tier and (low.next is None or low.next[0] != ref.key):
        vs = c.versus_reference(low.first)
        ref_level = level(f"{HEADLINE}: {ref.label}", c.mean(ref.key))
        numbers += [ref_level, vs]
        sentence += (f"; under the reference, {ref.label}, {ref_level.shown} "
                     f"({c.label(low.first)} against it: {interval_text(vs)})")
    worst, detail, more = _extreme_phrase(c, high, False)
    numbers += more
    sentence += f". {worst} {'leave' if high.ties else 'leaves'} the most: {detail}."
    title = (f"Among the drafts, {names([c.label(k) for k in low.tier])} {verb} the least "
             f"evidence unobtained ({', '.join(percent(c.mean(k), 1) for k in low.tier)}"
             f"{': indistinguishable' if low.ties else ''}); "
             f"{names([c.label(k) for k in high.tier])} the most "
             f"({', '.join(percent(c.mean(k), 1) for k in high.tier)})")
    out = [Finding("headline", sentence, tuple(numbers), "1_loss_by_variant", title, True)]
    return out + _overall(c, drafts, low)


def _overall(c: Context, drafts: list[Entry], low: Extreme) -> list[Finding]:
    """A text that is not a draft and leaves less unobtained than the best draft."""
    others = {e.key: c.series(e.key) for e in c.entries if e not in drafts}
    if not others:
        return []
    best = extreme(others, c.seed)
    if best is None or c.mean(best.first) >= c.mean(low.first):
        return []
    d = difference(f"{HEADLINE}: {c.label(best.first)} minus {c.label(low.first)}",
                   contrast(c.series(low.first), c.series(best.first), c.seed))
    x = level(f"{HEADLINE}: {c.label(best.first)}", c.mean(best.first))
    return [Finding("overall", f"Of all the texts compared, {c.label(best.first)}, which is "
                    f"not a draft, leaves the least unobtained: {x.shown} (against "
                    f"{c.label(low.first)}: {interval_text(d)}).", (x, d), summary=True)]


def _drafts(entries: list[Entry]) -> list[Entry]:
    """The drafts the headline ranks: those with a cooperation chapter in effect (a partial
    submission that changes no route says nothing to rank), else whatever there is."""
    return ([e for e in entries if e.draft and not e.falls_back]
            or [e for e in entries if not e.falls_back] or entries)


def _groups(c: Context) -> list[Finding]:
    """Texts whose compiled rules are identical (one entry, named as such), and texts that
    change no route (shown as what they are, not ranked among the drafts)."""
    out = []
    for e in c.entries:
        if not (e.grouped or e.falls_back):
            continue
        who = names([c.brief.labels[n] for n in e.names])
        if not e.falls_back:
            out.append(Finding(f"identical:{e.key}", f"{who} compile to the same rules for "
                               "every pair of States and every offence (they differ only in "
                               "clauses that change no route); one run stands for them, and "
                               "every chart and table shows them as one text.", summary=True))
            continue
        x = level(f"{HEADLINE}: {e.label}", c.mean(e.key))
        same = (" compile to the same rules for every pair of States and every offence: "
                if e.grouped else " changes no route: ")
        out.append(Finding(f"identical:{e.key}", f"{who}{same}{NO_CHAPTER} takes effect, so "
                           "every request falls back to the pair's bilateral treaty or letters "
                           f"rogatory, and {x.shown} of decided requests end without the "
                           "evidence; they are shown as one text, not ranked among the drafts.",
                           (x,), summary=True))
    return out


def _period_reason(c: Context) -> list[Finding]:
    """What the best draft's preservation period alone does to the reference text (the
    sweep), against the gap between the two texts."""
    drafts = {e.key: c.series(e.key) for e in _drafts(c.entries) if e.draft}
    low = extreme(drafts, c.seed) if drafts else None
    if low is None or c.ref.key in low.tier:
        return []
    best, ref = low.first, c.ref
    if not np.isfinite(c.mean(ref.key)):
        return []
    b = c.brief
    mine, theirs = period_of(b.variant(best)), period_of(b.variant(b.reference))
    gap = c.versus_reference(best)
    if mine == theirs:
        return [Finding("period_reason", f"{c.label(best)} sets the same preservation period "
                        f"as {ref.label}, so its difference ({interval_text(gap)}) comes from "
                        "its other clauses.", (gap,), summary=True)]
    periods = set(c.brief.sweep["period"])
    if not {mine, theirs} <= periods:
        return []
    alone = difference(f"{HEADLINE}: {ref.label} with a {mine}-day period minus as written",
                       contrast(c.swept(theirs), c.swept(mine), c.seed))
    lead = (f"Removing the {ref.label} text's preservation clause" if mine == NO_PRESERVATION
            else f"Giving the {ref.label} text {c.label(best)}'s {mine}-day preservation period")
    numbers = (alone, gap) if mine == NO_PRESERVATION else (
        Number("preservation period (days)", float(mine), mine), alone, gap)
    return [Finding("period_reason", f"{lead} alone changes its evidence not obtained by "
                    f"{interval_text(alone)} (chart 2), against a gap of {interval_text(gap)} "
                    f"between {c.label(best)} and {ref.label}.", numbers, summary=True)]


def _attribution(c: Context) -> Finding:
    """The gap between the reference and the text that differs most, and the clause groups'
    Shapley contributions to it (chart 8)."""
    b, ref = c.brief, c.ref
    wide = next(e for e in c.entries if b.widest in e.names)
    stem = "8_what_drives_the_gap"
    if wide.key == ref.key:
        return Finding("attribution", f"No other text differs from {ref.label}.", (), stem,
                       f"No other text differs from {ref.label}")
    gap = c.versus_reference(wide.key)
    if not np.isfinite(gap.value):
        return Finding("attribution", f"The gap between {ref.label} and {wide.label} cannot be "
                       "measured: too few requests are decided in the measured windows.", (),
                       stem, f"The gap between {ref.label} and {wide.label} cannot be "
                       "measured yet")
    a = b.attribution.set_index("group")[HEADLINE].drop("total")
    a = a[a.abs() > 1e-12].sort_values(key=abs, ascending=False)
    between = f"{ref.label} and {wide.label}"
    if gap.zero_in_ci or not len(a):
        return Finding("attribution", f"The gap in evidence not obtained between {between} is "
                       f"{interval_text(gap)}; the clause groups' contributions are not "
                       "findings.", (gap,), stem, f"The gap between {between} is "
                       "indistinguishable from zero", summary=True)
    parts = [Number(f"Shapley contribution of the {g} clauses", v, points(v))
             for g, v in a.iloc[:2].items()]
    said = [f"the {g} clauses {n.shown} points" for g, n in zip(a.index, parts, strict=False)]
    if len(a) > 2:
        rest = float(a.iloc[2:].sum())
        parts.append(Number("Shapley contribution of the other clause groups", rest, points(rest)))
        said.append(f"the other groups {parts[-1].shown} together")
    k = b.settings.attribution_reps
    windows = Number("windows each mix of the two texts runs", k, f"{k}")
    sentence = (f"Between {between} the gap in evidence not obtained is {interval_text(gap)}; "
                f"of it, {names(said)} (Shapley estimates, each mix of the two texts run over "
                f"{windows.shown} window{'s' if k > 1 else ''}: no interval; chart 8).")
    title = (f"Of the {gap.shown}-point gap between {between}, the {a.index[0]} clauses "
             f"contribute {parts[0].shown} points")
    return Finding("attribution", sentence, (gap, *parts, windows), stem, title, summary=True)
