"""The briefing: every chart renders cleanly and states its finding; the pack is complete."""

from __future__ import annotations

import json
import re
import warnings
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT, make_world, set_value, world_data, write_toml

from sim.briefing import charts, findings, pack, statements
from sim.briefing.brief import PERIODS, Brief, gather
from sim.briefing.charts.style import EXTRA, SHIPPED_COLOURS, variant_colours
from sim.cli import main
from sim.inputs import catalogue
from sim.inputs.provisions import load_variant
from sim.inputs.schema import InputError
from sim.inputs.world import scaled

NAMES = ("un_convention_2024", "russia_2017", "no_treaty")
NAN = re.compile(r"\bnan\b", re.IGNORECASE)  # a NaN printed as text
WINDOW = 180  # days of arising needs in each replication (window) of these briefings


def no_runoff(per_year: float) -> dict:
    """A small world whose runs end with their window: without a run-off no request of the
    cohort can finish after it, so a one-day window decides nothing."""
    return set_value(world_data(per_year), "measurement.runoff_days", 0)


@pytest.fixture(scope="module")
def brief() -> Brief:
    variants = [load_variant(ROOT / "scenarios" / f"{n}.toml") for n in NAMES]
    return gather(variants, make_world(world_data(400)), "un_convention_2024", reps=2,
                  window=WINDOW, scale=1.0, workers=1)


@pytest.fixture(scope="module")
def figures(brief) -> dict:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return pack.figures(brief)


def test_every_chart_renders_without_warnings(figures) -> None:
    assert list(figures) == list(pack.READING)
    for stem, fig in figures.items():
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fig.savefig(Path("/dev/null"), format="png", dpi=40)
        assert charts.title(fig), stem
        assert charts.subtitle(fig), stem


def test_charts_label_their_axes(figures) -> None:
    for stem in ("1_loss_by_variant", "2_loss_vs_preservation", "3_latency", "4a_loss_by_cause",
                 "6_backlog", "7_loss_by_region", "8_what_drives_the_gap"):
        ax = figures[stem].axes[0]
        assert ax.get_ylabel() or ax.get_xlabel(), stem
    assert "%" in figures["1_loss_by_variant"].axes[0].get_xlabel()
    assert "days" in figures["3_latency"].axes[0].get_xlabel()


def test_one_series_per_variant(brief, figures) -> None:
    labels = {e.label for e in findings.Context(brief).entries}
    assert "No treaty (no cooperation chapter)" in labels  # shown as what it is
    bars = figures["1_loss_by_variant"].axes[0]
    assert len(bars.patches) == len(NAMES)
    ticks = {t.get_text().replace("\n", " ").removesuffix(" (reference)")
             for t in bars.get_yticklabels()}
    assert ticks == labels
    legend = figures["3_latency"].axes[0].get_legend().get_texts()
    assert {t.get_text().replace("\n", " ").split(":")[0] for t in legend} == labels
    causes = figures["4a_loss_by_cause"].axes[0]
    assert len(causes.patches) == len(NAMES) * len(charts.outcomes.CAUSES)
    heat = figures["4b_refusals_by_ground"].axes[0]
    assert len(heat.get_yticklabels()) == len(NAMES)


def test_colours_stay_with_their_variant(brief) -> None:
    style = pack.style_of(brief)
    again = charts.Style.of(brief.variants[::-1], brief.reference)
    assert style.colours == again.colours
    assert len(set(style.colours.values())) == len(NAMES)
    assert style.colours == {n: SHIPPED_COLOURS[n] for n in NAMES}


def test_a_variants_colour_is_a_function_of_its_name() -> None:
    shipped = catalogue.names()
    assert sorted(SHIPPED_COLOURS) == sorted(shipped)
    assert len(set(SHIPPED_COLOURS.values())) == len(shipped)
    names = ["russia_2017", "ninth_draft", "no_treaty", "tenth_draft", "un_convention_2024"]
    colours = variant_colours(names)
    for order in (names[::-1], names[2:] + names[:2], ["ninth_draft"]):
        again = variant_colours(order)
        assert all(again[n] == colours[n] for n in order)
    unknown = {colours["ninth_draft"], colours["tenth_draft"]}
    assert len(unknown) == 2 and unknown <= set(EXTRA)
    assert not unknown & set(SHIPPED_COLOURS.values())


def test_the_extra_colours_stand_apart() -> None:
    """At least 25 CIELAB units (CIE76) from every shipped colour and from each other."""
    def lab(colour: str) -> np.ndarray:
        rgb = np.array([int(colour[i:i + 2], 16) / 255 for i in (1, 3, 5)])
        linear = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
        xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722],
                        [0.0193, 0.1192, 0.9505]]) @ linear / np.array([0.95047, 1, 1.08883])
        f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
        return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])

    shipped = set(SHIPPED_COLOURS.values())
    for i, c in enumerate(EXTRA):
        others = shipped | set(EXTRA[:i])
        assert min(np.linalg.norm(lab(c) - lab(o)) for o in others) >= 25, c


def test_titles_state_the_finding(brief, figures) -> None:
    loss = brief.stats[brief.stats["metric"] == "not_obtained"].set_index("variant")["mean"]
    drafts = [v for v in brief.variants if v.variant.kind == "draft"]
    best = min(drafts, key=lambda v: loss[v.name])
    assert best.label in charts.title(figures["1_loss_by_variant"])
    assert f"{100 * loss[best.name]:.1f}%" in charts.title(figures["1_loss_by_variant"])
    found = findings.titles(statements.findings(brief))
    assert {stem: charts.title(fig) for stem, fig in figures.items()} == found


@pytest.mark.parametrize("metric", ["not_obtained", "data_loss"])
def test_waterfall_adds_up_to_the_gap(brief, metric: str) -> None:
    """The two texts stand for themselves with every window of the comparison (same seed,
    same cases): the waterfall's total is the headline gap, and its steps add up to it."""
    a = brief.attribution.set_index("group")[metric]
    assert a.drop("total").sum() == pytest.approx(a["total"])
    assert 1 <= brief.settings.attribution_reps <= brief.settings.reps
    means = brief.runs.groupby("variant")[metric].mean()
    assert a["total"] == pytest.approx(means[brief.widest] - means[brief.reference])


def test_sweep_marks_each_text_at_its_period(brief) -> None:
    assert brief.marks["60"] == ["UN Convention 2024"]
    assert brief.marks["180"] == ["Russia 2017"]
    assert brief.marks["none"] == ["No treaty"]
    assert set(brief.sweep["period"]) == {*map(str, PERIODS), "none"}


def test_every_replication_is_a_window_of_one_run_per_variant(brief) -> None:
    runs = brief.runs
    assert (runs["seed"] == brief.settings.seed).all()  # one seed: the same cases for all
    assert runs.groupby("variant", sort=False)["rep"].apply(list).to_dict() == {
        n: [0, 1] for n in NAMES}
    assert brief.sweep.groupby("period", sort=False)["rep"].apply(list).map(len).eq(
        brief.settings.sweep_reps).all()
    assert (brief.settings.window, brief.settings.warmup) == (WINDOW, 0)


def test_flow_counts_every_request_once(brief) -> None:
    flow = brief.flow.groupby("variant")["requests"].sum()
    runs = brief.runs.groupby("variant")["requests"].sum()
    assert flow.to_dict() == runs.to_dict()


def test_summary_names_the_best_draft(brief) -> None:
    text = " ".join(findings.summary(statements.findings(brief)))
    loss = brief.stats[brief.stats["metric"] == "not_obtained"].set_index("variant")["mean"]
    best = min((v for v in brief.variants if v.variant.kind == "draft"),
               key=lambda v: loss[v.name])
    assert f"**{best.label}** leaves the least evidence unobtained" in text or (
        f"**{best.label}** and" in text)


def test_brief_command_writes_the_whole_pack(tmp_path: Path, capsys) -> None:
    world = write_toml(tmp_path / "world.toml", world_data(300))
    out = tmp_path / "brief"
    code = main(["brief", *NAMES, "--reps", "2", "--world", str(world), "--window", "120",
                 "--scale", "1", "--workers", "1", "--out", str(out)])
    assert code == 0
    stems = list(pack.READING)
    for stem in stems:
        assert (out / f"{stem}.png").stat().st_size > 0
        assert (out / f"{stem}.svg").read_text().lstrip().startswith("<?xml")
    html = (out / "brief.html").read_text()
    assert all(f'data-chart="{stem}"' in html for stem in stems)
    assert "src=\"data:image/png;base64," in html  # self-contained
    md = (out / "brief.md").read_text()
    table = md.split("## Findings table")[1].split("## ")[0]
    for name in NAMES:
        label = load_variant(ROOT / "scenarios" / f"{name}.toml").label
        assert sum(f"| {label} |" in line or f"| {label} (no cooperation chapter) |" in line
                   for line in table.splitlines()) == 1
    assert "| - | No treaty (no cooperation chapter) |" in table  # shown, not ranked
    assert "## Assumptions and sources" in md
    assert "120-day windows after a 0-day warm-up" in md
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["reps"] == 2 and manifest["variants"] == list(NAMES)
    assert (manifest["window"], manifest["warmup"]) == (120, 0)
    assert "Wrote" in capsys.readouterr().out


def test_bad_scale_fails_before_running(tmp_path: Path, capsys) -> None:
    out = tmp_path / "brief"
    assert main(["brief", "--scale", "0", "--out", str(out)]) == 2
    assert "--scale" in capsys.readouterr().err
    assert not out.exists()


def test_scaled_world_keeps_load_per_desk() -> None:
    world = make_world(world_data(1000))
    half = scaled(world, 0.5)
    assert half.cases.per_year.value == 500
    assert half.central_authorities.staff.value == round(world.central_authorities.staff.value
                                                         / 2)
    assert scaled(world, 1.0) is world
    with pytest.raises(InputError, match="--scale"):
        scaled(world, 1.5)


def test_scaled_world_gives_the_same_shares_within_noise() -> None:
    world = make_world(world_data(2000))
    variant = load_variant(ROOT / "scenarios" / "un_convention_2024.toml")
    full = gather([variant], world, variant.name, reps=3, window=WINDOW, scale=1.0,
                  sweep_reps=1, attribution_reps=1)
    small = gather([variant], world, variant.name, reps=12, window=WINDOW, scale=0.25,
                   sweep_reps=1, attribution_reps=1)
    assert abs(np.mean(full.runs["data_loss"]) - np.mean(small.runs["data_loss"])) < 0.03


@pytest.mark.parametrize("per_year", [0.001, 400], ids=["no-request", "none-decided"])
def test_a_horizon_too_short_to_decide_anything(per_year: float) -> None:
    """Nothing decided or obtained (NaN metrics, no latencies): every chart still renders,
    says why it is empty, and no text shows 'nan'."""
    variants = [load_variant(ROOT / "scenarios" / f"{n}.toml") for n in NAMES]
    data = no_runoff(per_year)  # every State executes letters rogatory: no request ends at
    set_value(data, "states.letters_rogatory_acceptance", 1.0)  # once for want of a channel
    short = gather(variants, make_world(data), "un_convention_2024",
                   reps=2, window=1, scale=1.0, workers=1)
    assert short.runs["data_loss"].isna().all()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figs = pack.figures(short)
        for fig in figs.values():
            fig.savefig(Path("/dev/null"), format="png", dpi=40)
    empty = {stem for stem, fig in figs.items()
             if any(t.get_gid() == charts.style.EMPTY for ax in fig.axes for t in ax.texts)}
    assert empty >= set(pack.READING) - {"5_request_flow"}  # the flow shows what is pending
    if per_year < 1:
        assert "5_request_flow" in empty
    assert "in the measured windows" in charts.title(figs["1_loss_by_variant"])
    summary = findings.summary(statements.findings(short))
    text = [charts.title(f) for f in figs.values()] + summary + [
        cell for row in pack.findings_table(short) for cell in row]
    assert not [t for t in text if NAN.search(t)]
    assert "No request of the 1-day window was decided" in summary[0]
    assert "`--window`" in summary[0]
    assert {row[3] for row in pack.findings_table(short)[1:]} == {"n/a"}


def test_brief_command_with_a_one_day_horizon(tmp_path: Path) -> None:
    world = write_toml(tmp_path / "world.toml", no_runoff(400))
    out = tmp_path / "brief"
    assert main(["brief", *NAMES, "--reps", "2", "--world", str(world), "--window", "1",
                 "--scale", "1", "--workers", "1", "--out", str(out)]) == 0
    md = (out / "brief.md").read_text()
    assert not NAN.search(md)
    assert "n/a" in md
