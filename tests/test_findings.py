"""Findings only where the data carry them: paired differences with intervals, ties in
rankings, identical texts grouped, and every number of the summary in ``findings.csv``."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import ROOT, make_world, world_data

from sim.briefing import findings, pack, statements
from sim.briefing.brief import Brief, gather
from sim.briefing.findings import Entry, extreme, ranks
from sim.experiments.analyses import paired
from sim.inputs.provisions import load_variant

NAMES = ("un_convention_2024", "schjolberg_2023", "viet_nam_2022", "no_treaty")
NUMBER = re.compile(r"[+-]?\d[\d,]*(?:\.\d+)?%?")


@pytest.fixture(scope="module")
def brief() -> Brief:
    variants = [load_variant(ROOT / "scenarios" / f"{n}.toml") for n in NAMES]
    return gather(variants, make_world(world_data(400)), "un_convention_2024", reps=4,
                  window=180, scale=1.0, workers=1)


@pytest.fixture(scope="module")
def pack_dir(brief, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("brief")
    pack.write(brief, make_world(world_data(400)), out, "coopsim brief")
    return out


def test_texts_with_identical_rules_are_one_entry(brief, pack_dir) -> None:
    """Schjolberg 2023, Viet Nam 2022 and no treaty change no route: one run, one row, one
    bar, and a summary sentence that names them together as falling back."""
    assert brief.groups == [["un_convention_2024"], ["schjolberg_2023", "viet_nam_2022",
                                                     "no_treaty"]]
    assert brief.fallback == [False, True]
    rows = pack.findings_table(brief)
    assert len(rows) == 1 + 2
    assert any("Schjolberg 2023 = Viet Nam 2022 = No treaty (no cooperation chapter)" in r
               for r in rows)
    found = statements.findings(brief)
    summary = " ".join(findings.summary(found))
    assert "Schjolberg 2023, Viet Nam 2022 and No treaty compile to the same rules" in summary
    assert "falls back" in summary and "not ranked among the drafts" in summary
    headline = next(f for f in found if f.key == "headline")
    assert "Schjolberg" not in headline.sentence  # a text that says nothing is not ranked
    bars = pack.figures(brief)["1_loss_by_variant"].axes[0].patches
    assert len(bars) == 2


def test_every_number_of_the_summary_is_in_findings_csv(pack_dir) -> None:
    table = pd.read_csv(pack_dir / "findings.csv")
    shown = {s for cell in table["numbers"] for n in json.loads(cell)
             for s in (n["shown"], n["interval"])}
    md = (pack_dir / "brief.md").read_text()
    summary = md.split("## Summary")[1].split("\n## ")[0]
    labels = [load_variant(ROOT / "scenarios" / f"{n}.toml").label for n in NAMES]
    for text in [*labels, "95% CI", "chart 2", "chart 8", "24/7"]:
        summary = summary.replace(text, "")
    numbers = set(NUMBER.findall(summary))
    assert numbers, summary
    tokens = {t for s in shown for t in NUMBER.findall(s)}
    assert numbers <= tokens, numbers - tokens
    assert set(table.loc[table["summary"], "sentence"]) <= set(md.split("\n"))


def test_no_difference_containing_zero_is_stated_as_one(brief) -> None:
    for f in statements.findings(brief):
        for n in f.numbers:
            if n.zero_in_ci:
                assert f"{findings.INDISTINGUISHABLE}: {n.shown}" in f.sentence, f.sentence


def _runs(values: dict[str, list[float]]) -> pd.DataFrame:
    return pd.DataFrame([{"variant": k, "rep": i, "not_obtained": x}
                         for k, xs in values.items() for i, x in enumerate(xs)])


def _entries(keys) -> list[Entry]:
    return [Entry(k, (k,), k.upper(), True, False) for k in keys]


def test_a_ranking_shows_ties() -> None:
    """a and b differ by noise around zero; c is clearly higher: a and b share ranks 1-2."""
    rng = np.random.default_rng(3)
    base = rng.normal(0.4, 0.05, 20)
    noise = rng.normal(0, 0.01, 20)
    runs = _runs({"a": base, "b": base + noise - noise.mean(), "c": base + 0.1})
    r = ranks(_entries("abc"), runs, "not_obtained", seed=1)
    assert r == {"a": (1, 2), "b": (1, 2), "c": (3, 3)}
    series = {k: runs[runs["variant"] == k].set_index("rep")["not_obtained"] for k in "abc"}
    low = extreme(series, seed=1)
    assert set(low.tier) == {"a", "b"} and low.next[0] == "c"
    assert low.next[1][1] > 0  # c minus the lowest: above zero beyond the noise


def test_a_constant_difference_has_an_exact_interval() -> None:
    runs = _runs({"a": [0.1, 0.2, 0.3], "b": [0.15, 0.25, 0.35]})
    series = {k: runs[runs["variant"] == k].set_index("rep")["not_obtained"] for k in "ab"}
    d = findings.contrast(series["a"], series["b"], seed=0)
    assert d == pytest.approx((0.05, 0.05, 0.05))


def test_the_same_differences_get_the_same_interval() -> None:
    """Two texts with identical runs get identical intervals against the reference."""
    runs = _runs({"ref": [0.5, 0.52, 0.47, 0.55], "x": [0.4, 0.45, 0.41, 0.47],
                  "y": [0.4, 0.45, 0.41, 0.47]})
    p = paired(runs, "ref", ["not_obtained"]).set_index("variant")
    assert tuple(p.loc["x", ["ci_low", "ci_high"]]) == tuple(p.loc["y", ["ci_low", "ci_high"]])
    series = {k: runs[runs["variant"] == k].set_index("rep")["not_obtained"] for k in ("ref", "x")}
    forward = findings.contrast(series["ref"], series["x"], seed=0)
    back = findings.contrast(series["x"], series["ref"], seed=0)
    assert forward == pytest.approx((p.loc["x", "diff"], p.loc["x", "ci_low"],
                                     p.loc["x", "ci_high"]))
    assert back == pytest.approx((-forward[0], -forward[2], -forward[1]))  # its mirror
