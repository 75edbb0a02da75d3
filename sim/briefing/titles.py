"""The finding each chart of the briefing is titled with (charts 2 to 7; the headline and
the attribution, which title charts 1 and 8, are in :mod:`sim.briefing.statements`).

Each is one text's (the reference's, or every text's in turn), never a share pooled over texts;
a superlative names what cannot be told from it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.briefing.brief import NO_PRESERVATION
from sim.briefing.charts.style import names
from sim.briefing.findings import (
    HEADLINE,
    INDISTINGUISHABLE,
    Context,
    Finding,
    Number,
    contrast,
    count_difference,
    days_number,
    difference,
    extreme,
    interval_text,
    level,
)
from sim.metrics.registry import metric, section
from sim.vocabulary import OTHER_STATES

CAUSES = {  # a cause of evidence not obtained -> how a sentence names it
    "loss_before_preservation": "deleted before preservation",
    "refusal_rate": "refused",
    "loss_after_lapse": "deleted after a preservation lapsed",
    "never_existed": "never existed",
    "not_routed": "out of scope or without a channel",
}


STEMS = ("4a_loss_by_cause", "2_loss_vs_preservation", "3_latency", "4b_refusals_by_ground",
         "5_request_flow", "6_backlog", "7_loss_by_region")


def findings(c: Context) -> list[Finding]:
    """The findings of charts 2 to 7 (when the reference decided nothing, each says so)."""
    if not np.isfinite(c.mean(c.ref.key)):
        text = (f"No request under the reference, {c.ref.label}, was decided in the measured "
                "windows")
        return [Finding(f"undecided:{stem}", text + ".", (), stem, text) for stem in STEMS]
    return [_causes(c), _sweep(c), _latency(c), _refusals(c), _flow(c), _backlog(c),
            _regions(c)]


def _causes(c: Context) -> Finding:
    """Under the reference: evidence not obtained by cause, the largest cause, and each
    text's share of deletion that happens before preservation (a range over the texts)."""
    ref = c.ref
    total = level(f"{HEADLINE}: {ref.label}", c.mean(ref.key))
    parts = {m: level(f"{m}: {ref.label}", c.mean(ref.key, m)) for m in CAUSES}
    top = extreme({m: c.series(ref.key, m) for m in CAUSES}, c.seed, lowest=False)
    listed = ", ".join(f"{CAUSES[m]} {n.shown}" for m, n in parts.items())
    numbers: list[Number] = [total, *parts.values()]
    if top.ties:
        k, d = top.ties[0]
        diff = difference(f"{k} minus {top.first}: {ref.label}", d)
        numbers.append(diff)
        largest = (f"{CAUSES[top.first]} and {CAUSES[k]} are the largest causes "
                   f"({interval_text(diff)})")
    else:
        largest = f"{CAUSES[top.first]} is the largest cause"
        if top.next:
            diff = difference(f"{top.next[0]} minus {top.first}: {ref.label}", top.next[1])
            numbers.append(diff)
            largest += f" ({CAUSES[top.next[0]]}: {interval_text(diff)})"
    sentence = (f"Under {ref.label}, {total.shown} of decided requests end without the "
                f"evidence: {listed}; {largest}.{_before_share(c, numbers)}")
    title = (f"Under {ref.label}, {CAUSES[top.first]} is the largest cause of evidence not "
             f"obtained ({parts[top.first].shown} of decided requests)" if not top.ties else
             f"Under {ref.label}, {CAUSES[top.first]} and {CAUSES[top.ties[0][0]]} are the "
             "largest causes of evidence not obtained: indistinguishable")
    return Finding("causes", sentence, tuple(numbers), "4a_loss_by_cause", title, True)


def _before_share(c: Context, numbers: list[Number]) -> str:
    """' Of each text's deleted evidence, 58% (A) to 99% (B) is deleted before preservation.'"""
    share = {}
    for e in c.entries:
        lost = c.mean(e.key, "data_loss")
        if np.isfinite(lost) and lost > 0:
            share[e.key] = c.mean(e.key, "loss_before_preservation") / lost
    if len(share) < 2:
        return ""
    lo, hi = min(share, key=share.get), max(share, key=share.get)
    a = level(f"deleted before preservation, share of deletion: {c.label(lo)}", share[lo], 0)
    b = level(f"deleted before preservation, share of deletion: {c.label(hi)}", share[hi], 0)
    numbers += [a, b]
    return (f" Of each text's deleted evidence, from {a.shown} ({c.label(lo)}) to {b.shown} "
            f"({c.label(hi)}) is deleted before anyone preserves it.")


def _plateau(c: Context, periods: list[str]) -> str:
    """The shortest swept period from which no longer one can be told from the longest."""
    longest = c.swept(periods[-1])
    for i, p in enumerate(periods):
        if all(_tied(contrast(c.swept(q), longest, c.seed)) for q in periods[i:-1]):
            return p
    return periods[-1]


def _tied(d: tuple[float, float, float]) -> bool:
    return bool(d[1] <= 0 <= d[2]) or not np.isfinite(d[0])


def _sweep(c: Context) -> Finding:
    """The reference text with only its preservation period changed (chart 2)."""
    ref, stem = c.ref, "2_loss_vs_preservation"
    s = c.brief.sweep.dropna(subset=[HEADLINE])
    periods = [p for p in dict.fromkeys(s.sort_values("days")["period"]) if p != NO_PRESERVATION]
    if not periods:
        return Finding("sweep", "No swept period decided any request.", (), stem,
                       "The effect of the preservation period cannot be measured yet")
    p = _plateau(c, periods)
    at = level(f"{HEADLINE}: {ref.label} with a {p}-day period", c.swept(p).mean())
    days = Number("preservation period (days)", float(p), p)
    longest = periods[-1]
    tail = (f"periods from {p} days on are indistinguishable from {longest}" if p != longest
            else f"each longer period still lowers it, up to {longest} days")
    if NO_PRESERVATION not in set(s["period"]):
        return Finding("sweep", f"Under the {ref.label} text, {at.shown} of decided requests end "
                       f"without the evidence with a {p}-day period; {tail}.", (at, days),
                       stem, f"With a {p}-day period, {at.shown} of the evidence is not "
                       f"obtained; {tail}")
    none = level(f"{HEADLINE}: {ref.label} with its preservation clause removed",
                 c.swept(NO_PRESERVATION).mean())
    gain = difference(f"{HEADLINE}: {p}-day period minus no preservation clause",
                      contrast(c.swept(NO_PRESERVATION), c.swept(p), c.seed))
    sentence = (f"With its preservation clause removed, the {ref.label} text leaves {none.shown} "
                f"of decided requests without the evidence; with a {p}-day period, {at.shown} "
                f"({interval_text(gain)}); {tail}.")
    title = (f"Preservation lowers evidence not obtained from {none.shown} (clause removed) to "
             f"{at.shown} at {p} days; {tail}") if not gain.zero_in_ci else (
        "The preservation period makes no difference beyond the noise")
    return Finding("sweep", sentence, (none, at, days, gain), stem, title)


def _latency(c: Context) -> Finding:
    """Median days to evidence (the mean of the windows' medians): the fastest text, against
    the reference (chart 3)."""
    m, stem, ref = "latency_median", "3_latency", c.ref
    series = {e.key: c.series(e.key, m) for e in c.entries}
    fast = extreme(series, c.seed)
    if fast is None:
        return Finding("latency", "No evidence was obtained in the measured windows.", (), stem,
                       "No evidence obtained in the measured windows: time to evidence "
                       "cannot be measured yet")
    first = days_number(f"{m}: {c.label(fast.first)}", c.mean(fast.first, m))
    numbers = [first]
    who = names([c.label(k) for k in fast.tier])
    sentence = title = f"Half the evidence arrives within {first.shown} days under {who}"
    if fast.ties:
        sentence += " (indistinguishable from one another)"
        title += ", indistinguishable"
    if ref.key not in fast.tier:
        r = days_number(f"{m}: {ref.label}", c.mean(ref.key, m))
        d = count_difference(f"{m}: {c.label(fast.first)} minus {ref.label}",
                             contrast(c.series(ref.key, m), series[fast.first], c.seed), "days")
        numbers += [r, d]
        against = f"; under the reference, {ref.label}, within {r.shown} days"
        sentence += f"{against} ({interval_text(d)})"
        title += against
    return Finding("latency", sentence + ".", tuple(numbers), stem, title)


def _refusals(c: Context) -> Finding:
    """Refusals per 1,000 decided requests: the reference's commonest ground, and the range
    over the texts (chart 4b)."""
    runs, ref, stem = c.brief.runs, c.ref, "4b_refusals_by_ground"
    grounds = [g for g in section("ground") if g.name in runs]
    keys = [e.key for e in c.entries]
    totals = runs[runs["variant"].isin(keys)].groupby("variant")[
        [g.name for g in grounds] + ["decided"]].sum()
    rate = totals[[g.name for g in grounds]].div(totals["decided"], axis=0) * 1000
    per_text = rate.sum(axis=1)
    if not per_text.max() > 0:
        return Finding("refusals", "No text refuses any request.", (), stem,
                       "No text refuses any request")
    r = Number(f"refusals per 1,000: {ref.label}", float(per_text[ref.key]),
               f"{per_text[ref.key]:.0f}")
    lo, hi = per_text.idxmin(), per_text.idxmax()
    low = Number(f"refusals per 1,000: {c.label(lo)}", float(per_text[lo]), f"{per_text[lo]:.0f}")
    high = Number(f"refusals per 1,000: {c.label(hi)}", float(per_text[hi]),
                  f"{per_text[hi]:.0f}")
    numbers = [r, low, high]
    title = f"Under {ref.label}, {r.shown} of every 1,000 decided requests are refused"
    if per_text[ref.key] > 0:
        title += _commonest_ground(c, [g.name for g in grounds], numbers)
    sentence = (f"{title}; across the texts, from {low.shown} ({c.label(lo)}) to {high.shown} "
                f"({c.label(hi)}) per 1,000.")
    return Finding("refusals", sentence, tuple(numbers), stem, title)


def _commonest_ground(c: Context, grounds: list[str], numbers: list[Number]) -> str:
    """', most often on X (41 per 1,000; the next, Y: -28 per 1,000, 95% CI ...)': the
    reference's commonest ground against the next, per window."""
    per = {g: c.series(c.ref.key, g) / c.series(c.ref.key, "decided") * 1000 for g in grounds}
    top = extreme(per, c.seed, lowest=False)
    first = Number(f"refusals per 1,000 on {top.first}: {c.ref.label}",
                   float(per[top.first].mean()), f"{per[top.first].mean():.0f}")
    numbers.append(first)
    names_of = " and ".join(f"'{metric(g).short}'" for g in top.tier)
    if top.ties:
        return f", most often on {names_of} ({first.shown} per 1,000 on the first; " \
               f"{INDISTINGUISHABLE})"
    text = f", most often on {names_of} ({first.shown} per 1,000"
    if top.next:
        d = count_difference(f"refusals per 1,000 on {top.next[0]} minus {top.first}",
                             top.next[1], "per 1,000")
        numbers.append(d)
        text += f"; '{metric(top.next[0]).short}', the next: {interval_text(d)}"
    return text + ")"


def _flow(c: Context) -> Finding:
    """Under the reference: the shares of decided requests that end with the evidence and
    that lose it to deletion (chart 5)."""
    ref = c.ref
    got = level(f"obtained: {ref.label}", c.mean(ref.key, "obtained"), 0)
    lost = level(f"data_loss: {ref.label}", c.mean(ref.key, "data_loss"), 0)
    text = (f"Under {ref.label}, {got.shown} of decided requests end with the evidence and "
            f"{lost.shown} lose it to deletion")
    return Finding("flow", text + ".", (got, lost), "5_request_flow", text)


def _backlog(c: Context) -> Finding:
    """Under the reference: the central authority holding the most files in the steady
    state, against the next (per window, full-world equivalents; chart 6)."""
    ref, stem = c.ref, "6_backlog"
    per = _steady_files(c, ref.key)
    top = extreme(per, c.seed, lowest=False) if per else None
    if top is None or not per[top.first].mean() > 0:
        return Finding("backlog", "No central authority holds files in the steady state.", (),
                       stem, "No central authority holds files in the steady state")
    files = Number(f"files held, steady state: {top.first}", float(per[top.first].mean()),
                   _about(per[top.first].mean()))
    text = title = (f"Under {ref.label}, the central authority of {top.first} holds the most "
                    f"files: about {files.shown} in the steady state")
    numbers = [files]
    if top.next:
        k = top.next[0]
        nxt = Number(f"files held, steady state: {k}", float(per[k].mean()), _about(per[k].mean()))
        d = count_difference(f"files held, steady state: {k} minus {top.first}",
                             top.next[1], "files")
        numbers += [nxt, d]
        text += f", against {nxt.shown} at {k}, the next ({interval_text(d)})"
    return Finding("backlog", text + ".", tuple(numbers), stem, title)


def _steady_files(c: Context, key: str) -> dict[str, pd.Series]:
    """Mean files held per measured window, by State (full-world equivalents)."""
    s = c.brief.settings
    b = c.brief.backlog
    b = b[(b["variant"] == key) & (b["state"] != OTHER_STATES)]
    day = b["week"] * 7
    window = (day - s.warmup) // s.window
    inside = (day >= s.warmup) & (window < s.reps)
    files = (b["files"] / s.scale)[inside].groupby(
        [b.loc[inside, "state"], window[inside].astype(int)]).mean()
    return {state: files[state] for state in files.index.get_level_values(0).unique()}


def _about(files: float) -> str:
    return f"{round(files, -2 if files >= 1000 else (-1 if files >= 100 else 0)):,.0f}"


def _regions(c: Context) -> Finding:
    """Under the reference: where evidence is least often obtained, by the region holding
    the data and by the requesting region, each against the next (chart 7)."""
    ref, stem = c.ref, "7_loss_by_region"
    r = c.brief.regions
    r = r[r["variant"] == ref.key]
    heads, parts, numbers = [], [], []
    for side, words in (("requested", "evidence held in {} is the least often obtained"),
                        ("requesting", "States in {} obtain the least")):
        by = r.groupby(["rep", side])[[HEADLINE, "decided"]].sum()
        share = (by[HEADLINE] / by["decided"].where(by["decided"] > 0)).unstack(side)
        top = extreme({k: share[k] for k in share.columns}, c.seed, lowest=False)
        if top is None:
            continue
        x = level(f"{HEADLINE}, {side} region {top.first}: {ref.label}",
                  float(share[top.first].mean()), 0)
        numbers.append(x)
        head = words.format(names(top.tier))
        detail = ""
        if top.ties:
            detail = f" ({x.shown} not obtained for {top.first}; indistinguishable)"
        elif top.next:
            d = difference(f"{HEADLINE}, {side} region {top.next[0]} minus {top.first}",
                           top.next[1])
            numbers.append(d)
            detail = f" ({x.shown} not obtained; {top.next[0]}: {interval_text(d)})"
        heads.append(head)
        parts.append(head + detail)
    if not parts:
        return Finding("regions", "No region's evidence not obtained can be measured.", (), stem,
                       "No requests decided in the measured windows: no region to compare")
    return Finding("regions", f"Under {ref.label}, {' and '.join(parts)}.", tuple(numbers),
                   stem, f"Under {ref.label}, {'; '.join(heads)}")
