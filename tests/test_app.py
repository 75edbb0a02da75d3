"""The interactive page's model: every control takes effect, and the page can rebuild it."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest
import reacton.core
from mesa.visualization.solara_viz import _build_model_init_kwargs, _check_model_params

from sim import app
from sim.metrics.observe import Observation
from sim.vocabulary import STAGE_GROUPS, STAGE_NAMES, Ground

NON_DEFAULT = {
    "variant": "russia_2017", "set_preservation": True, "preservation_days": 120,
    "extension": "no", "dc_reservation_share": 0.9, "poc_always_on_share": 0.1,
    "staff_factor": 0.5, "party_share": 0.6, "compare": True, "seed": 7,
    **{f"allow_{g.value}": False for g in Ground},
}


def defaults() -> dict:
    return {k: v["value"] if isinstance(v, dict) else v for k, v in app.controls().items()}


def test_controls_match_the_model_signature() -> None:
    _check_model_params(app.Explorer.__init__, app.controls())
    assert set(NON_DEFAULT) <= set(defaults())


def test_every_control_at_a_non_default_value_builds_and_steps() -> None:
    m = app.Explorer(**NON_DEFAULT)
    for _ in range(30):
        m.step()
    assert m.env.now == 30 and m.reference.env.now == 30
    p = m.variant.preservation
    assert p.min_days.value == 120 and p.extension.value is False
    for section in (p, m.variant.traffic_disclosure, m.variant.mla):
        assert section.refusal_grounds.value == []
    base = app.Explorer()
    assert m.world.states.party_share.value == 0.6
    assert m.world.central_authorities.staff.value < base.world.central_authorities.staff.value
    assert m.reference.variant.name == app.REFERENCE
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for draw in app.FIGURES:
            draw(m).savefig("/dev/null", format="png", dpi=30)


def test_defaults_leave_the_text_as_it_is() -> None:
    m = app.Explorer()
    text = app.load_variant(app.SCENARIOS / f"{app.REFERENCE}.toml")
    assert m.variant.model_dump(exclude={"variant"}) == text.model_dump(exclude={"variant"})
    assert m.reference is None


def test_changing_the_variant_control_rebuilds_the_model() -> None:
    """The page's Reset builds a new model from the controls, as Mesa's controller does."""
    m = app.Explorer()
    kwargs = _build_model_init_kwargs(m, {**defaults(), "variant": "us_2022"},
                                      add_scenario_when_empty=True,
                                      require_model_accepts_scenario=True)
    rebuilt = type(m)(**kwargs)
    assert rebuilt is not m and rebuilt.variant.name == "us_2022"
    assert rebuilt.variant.preservation.min_days.value == 90


def test_no_preservation_loses_more_evidence_than_a_long_period() -> None:
    """Moving the preservation period moves data loss (same seed, same cases)."""
    def loss(days: int) -> float:
        m = app.Explorer(set_preservation=True, preservation_days=days, seed=2)
        for _ in range(500):
            m.step()
        shares = app.loss_so_far(m)
        return float(shares["lost_before_preservation"][-1] + shares["lost_after_lapse"][-1])
    assert loss(0) > loss(180) + 0.05


def test_views_follow_the_run() -> None:
    m = app.Explorer(compare=True)
    assert app.busiest(m) == {}  # nothing collected yet
    for _ in range(200):
        m.step()
    shares = app.loss_so_far(m)
    assert len(shares["obtained"]) == 200
    assert np.all(app.latency_so_far(m) >= 0)
    busiest = app.busiest(m)
    assert 1 <= len(busiest) <= 5
    matrix, names = m.backlog_matrix(), [s.name for s in m.states]
    for name, series in busiest.items():  # each a central authority's own daily files
        assert len(series) == 200 and series.max() > 0
        np.testing.assert_array_equal(series, matrix[:, names.index(name)])


def test_importing_the_page_builds_no_model() -> None:
    """A model is built when ``page`` is first asked for, not when the module is imported."""
    code = textwrap.dedent("""
        import sim.engine.model
        def refuse(*args, **kwargs):
            raise SystemExit(3)
        sim.engine.model.CooperationModel.__init__ = refuse
        import sim.app
        assert "page" not in vars(sim.app)
        print("imported", flush=True)
        from sim.app import page
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert (proc.stdout, proc.returncode) == ("imported\n", 3), proc.stderr


def test_the_page_is_built_on_first_use_and_kept() -> None:
    from sim.app import page

    assert "page" in vars(app) and app.page is page
    assert isinstance(app.Page, reacton.core.ComponentFunction)
    with pytest.raises(AttributeError):
        app.nothing  # noqa: B018


def test_the_stage_groups_add_up_to_the_open_requests() -> None:
    m = app.Explorer(seed=3)
    for _ in range(60):
        m.step()
    d = m.daily()
    grouped = sum(d[f"open_{STAGE_NAMES[s]}"] for stages in STAGE_GROUPS.values()
                  for s in stages)
    assert (grouped == d["open"]).all()
    np.testing.assert_array_equal(app.latency_so_far(m), Observation(m).latency)


def test_app_command_serves_the_page_with_solara(monkeypatch, capsys) -> None:
    from sim import cli

    calls = []
    monkeypatch.setattr(cli.runs.subprocess, "run", lambda cmd, check: calls.append(cmd))
    assert cli.main(["app", "--port", "9123"]) == 0
    (cmd,) = calls
    assert cmd[1:4] == ["-m", "solara", "run"] and cmd[4].endswith("sim/app.py")
    assert cmd[-2:] == ["--port", "9123"]
    assert "9123" in capsys.readouterr().out
