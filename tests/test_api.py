"""The public API: the names notebooks and users import from ``sim`` keep working."""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest

import sim

PUBLIC = ("CooperationModel", "Observation", "load_variant", "load_world", "run_one", "compare",
          "sweep", "paired", "attribute", "study", "shipped", "InputError", "Variant", "World",
          "RunResult", "Window")
GONE = ("replicate",)  # replications are now the windows of one run: run_one(..., reps=)


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_loads_from_sim(name: str) -> None:
    assert name in sim.__all__
    assert getattr(sim, name).__module__.startswith("sim.")


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        sim.nothing  # noqa: B018


@pytest.mark.parametrize("name", GONE)
def test_a_removed_name_is_gone(name: str) -> None:
    assert name not in sim.__all__
    with pytest.raises(AttributeError, match=f"no attribute '{name}'"):
        getattr(sim, name)


def test_a_shipped_name_runs_end_to_end(small_world) -> None:
    """``load_variant`` takes a shipped name; ``run_one`` and ``Observation`` agree."""
    from sim import CooperationModel, Observation, Window, load_variant, run_one

    variant = load_variant("un_convention_2024")
    assert variant == load_variant("un_convention_2024.toml")
    result = run_one(variant, small_world, seed=2, window=120, reps=2)
    model = CooperationModel(variant, small_world, 2, Window.of(small_world, 120, 2))
    model.measure()
    seen = Observation(model)
    assert len(result.summaries) == 2 and result.summary == result.summaries[0]
    for by_hand, run in zip(seen.summaries, result.summaries, strict=True):
        pd.testing.assert_series_equal(pd.Series(by_hand), pd.Series(run))  # NaN == NaN
    pd.testing.assert_frame_equal(seen.requests, result.requests)
    assert result.steady["windows"] == 2 and result.steady["window_days"] == 120


def test_importing_sim_loads_no_engine() -> None:
    """``import sim`` is light: the engine, Mesa and pandas load on first use of a name."""
    code = ("import sys, sim; heavy = [m for m in ('sim.engine.model', 'mesa', 'pandas') "
            "if m in sys.modules]; print(heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
