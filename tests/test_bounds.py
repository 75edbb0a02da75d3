"""Bounds on every number of the input files, the sweep options and the study files.

Each rule has a bad value that must be an InputError naming its dotted key, and the values at
its boundary, which must load. The files start from the shipped ones (the UN variant, the EU
e-evidence variant for direct orders, the small test world); a model at the boundaries runs.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from conftest import ROOT, UN, variant_data, world_data, write_toml

from sim import limits
from sim.engine.model import CooperationModel
from sim.engine.window import Window
from sim.experiments import designs
from sim.experiments.sensitivity import load_params
from sim.inputs.provisions import Variant, load_variant
from sim.inputs.schema import FieldProblem, InputError, read_toml, validate
from sim.inputs.world import World, load_world
from sim.metrics.observe import Observation

Data = dict[str, Any]
EU = ROOT / "scenarios" / "eu_eevidence_2023.toml"  # a variant with direct orders
DAYS = limits.MAX_DURATION_DAYS


def at(dotted: str, value: Any) -> Callable[[Data], None]:
    """Set the value at a dotted path (numbers index lists)."""
    def mutate(data: Data) -> None:
        *parents, last = (int(p) if p.isdigit() else p for p in dotted.split("."))
        for p in parents:
            data = data[p]
        data[last] = copy.deepcopy(value)
    return mutate


def dist(**fields: Any) -> Data:
    return {**fields, "source": "test"}


def roster(n: int) -> list[Data]:
    """``n`` States with distinct codes: the small roster's six, then AAA, AAB, ..."""
    rows = copy.deepcopy(world_data()["states"]["roster"])
    taken = {r["iso3"] for r in rows}
    codes = ("".join(c) for c in itertools.product("ABCDEFGHIJKLMNOPQRSTUVWXYZ", repeat=3))
    rows += [{"iso3": c, "name": c, "region": "Europe", "utc_offset": 0}
             for c in codes if c not in taken]
    return rows[:n]


def providers(n: int) -> Callable[[Data], None]:
    """``n`` providers: the local one and copies of the first named one, sharing the market."""
    def mutate(data: Data) -> None:
        local = next(p for p in data["providers"] if p["home"] == "local")
        named = next(p for p in data["providers"] if p["home"] != "local")
        data["providers"] = [local, *(copy.deepcopy(named) for _ in range(n - 1))]
        for i, p in enumerate(data["providers"]):
            p["name"], p["share"]["value"] = f"p{i}", 1 / n
        data["providers"][0]["share"]["value"] += 1 - sum(
            p["share"]["value"] for p in data["providers"])
    return mutate


def cases(per_year: float, warmup: Any = 0, runoff: Any = 0) -> Callable[[Data], None]:
    """``per_year`` cases a year, with a warm-up and a run-off of so many days: a replication
    draws ``per_year x (warmup + 365 + runoff) / 365`` cases at the default window."""
    def mutate(data: Data) -> None:
        data["cases"]["per_year"]["value"] = per_year
        measurement(warmup, runoff)(data)
    return mutate


def measurement(warmup: Any = 0, runoff: Any = 1460) -> Callable[[Data], None]:
    def mutate(data: Data) -> None:
        data["measurement"]["warmup_days"]["value"] = warmup
        data["measurement"]["runoff_days"]["value"] = runoff
    return mutate


RUN = limits.MAX_WINDOW  # the longest warm-up or run-off
WARMUP, RUNOFF = "measurement.warmup_days.value", "measurement.runoff_days.value"
FIFTH = limits.MAX_CASES // 5  # a year's window and four years of warm-up or run-off: 5 years


VARIANT_BAD = {  # id -> (file, mutation, key the error names)
    "min-days-negative": (UN, at("preservation.min_days.value", -1), "preservation.min_days.value"),
    "min-days-too-long": (UN, at("preservation.min_days.value", DAYS + 1),
                          "preservation.min_days.value"),
    "extension-too-long": (UN, at("preservation.extension_days.value", DAYS + 0.5),
                           "preservation.extension_days.value"),
    "deadline-negative": (EU, at("direct_request.deadline_days.value", -1),
                          "direct_request.deadline_days.value"),
    "deadline-too-long": (EU, at("direct_request.deadline_days.value", 1e9),
                          "direct_request.deadline_days.value"),
    "emergency-negative": (EU, at("direct_request.emergency_days.value", -0.5),
                           "direct_request.emergency_days.value"),
    "emergency-too-long": (EU, at("direct_request.emergency_days.value", DAYS + 1),
                           "direct_request.emergency_days.value"),
}
VARIANT_EDGES = {
    "min-days-an-hour": (UN, at("preservation.min_days.value", 1 / 24)),
    "min-days-max": (UN, at("preservation.min_days.value", DAYS)),
    "extension-max": (UN, at("preservation.extension_days.value", DAYS)),
    "deadline-0": (EU, at("direct_request.deadline_days.value", 0)),
    "deadline-max": (EU, at("direct_request.deadline_days.value", DAYS)),
    "emergency-0": (EU, at("direct_request.emergency_days.value", 0)),
    "emergency-max": (EU, at("direct_request.emergency_days.value", DAYS)),
}

REVIEW = "central_authorities.review_days"
WORLD_BAD = {  # id -> (mutation, key the error names)
    "fixed-negative": (at(REVIEW, dist(dist="fixed", value=-1)), f"{REVIEW}.value"),
    "fixed-too-long": (at(REVIEW, dist(dist="fixed", value=DAYS + 1)), f"{REVIEW}.value"),
    "exponential-mean-0": (at("cases.age_days.mean", 0), "cases.age_days.mean"),
    "exponential-mean-too-long": (at("cases.age_days.mean", DAYS * 2), "cases.age_days.mean"),
    "lognormal-median-0": (at(f"{REVIEW}.median", 0), f"{REVIEW}.median"),
    "lognormal-median-too-long": (at(f"{REVIEW}.median", 1e12), f"{REVIEW}.median"),
    "lognormal-sigma-too-wide": (at(f"{REVIEW}.sigma", limits.MAX_SIGMA + 0.01),
                                 f"{REVIEW}.sigma"),
    "fallback-min-days": (at("fallback.bilateral.preservation.min_days.value", -1),
                          "fallback.bilateral.preservation.min_days.value"),
    "per-year-0": (cases(0), "cases.per_year.value"),
    "cases-drawn-over-max": (cases(1e12), "cases.per_year.value"),
    "cases-drawn-just-over-max": (cases(limits.MAX_CASES + 1), "cases.per_year.value"),
    "cases-drawn-over-max-with-runoff": (cases(FIFTH + 1, 0, 4 * 365), "cases.per_year.value"),
    "cases-drawn-over-max-with-warmup": (cases(FIFTH + 1, 4 * 365, 0), "cases.per_year.value"),
    "cases-drawn-over-max-at-longest-run": (cases(limits.MAX_CASES * 365 // (2 * RUN + 365)
                                                  + 1, RUN, RUN), "cases.per_year.value"),
    "warmup-negative": (measurement(warmup=-1), WARMUP),
    "warmup-too-long": (measurement(warmup=RUN + 1), WARMUP),
    "warmup-fraction": (measurement(warmup=1.5), WARMUP),
    "warmup-not-a-number": (measurement(warmup="long"), WARMUP),
    "runoff-negative": (measurement(runoff=-1), RUNOFF),
    "runoff-too-long": (measurement(runoff=RUN + 1), RUNOFF),
    "runoff-fraction": (measurement(runoff=0.5), RUNOFF),
    "measurement-missing": (lambda data: data.pop("measurement"), "measurement"),
    "measurement-unknown-key": (at("measurement.arrival_days", {"value": 365, "source": "x"}),
                                "measurement.arrival_days"),
    "arrival-days-gone": (at("cases.arrival_days", {"value": 365, "source": "x"}),
                          "cases.arrival_days"),
    "max-hops-0": (at("cases.max_hops.value", 0), "cases.max_hops.value"),
    "max-hops-11": (at("cases.max_hops.value", 11), "cases.max_hops.value"),
    "ca-staff": (at("central_authorities.staff.value", limits.MAX_STAFF + 1),
                 "central_authorities.staff.value"),
    "ca-staff-int64": (at("central_authorities.staff.value", 2**63),
                       "central_authorities.staff.value"),
    "ca-staff-by-state": (at("central_authorities.staff_by_state.value.USA", 2**70),
                          "central_authorities.staff_by_state.value.USA"),
    "poc-staff": (at("points_of_contact.staff.value", -1), "points_of_contact.staff.value"),
    "provider-staff": (at("providers.0.staff.value", limits.MAX_STAFF + 1),
                       "providers.0.staff.value"),
    "roster-too-long": (at("states.roster", roster(limits.MAX_STATES + 1)), "states.roster"),
    "providers-too-many": (providers(limits.MAX_PROVIDERS + 1), "providers"),
    "concentration-0": (at("states.propensity_concentration.value", 0),
                        "states.propensity_concentration.value"),
    "concentration-too-high": (at("states.propensity_concentration.value",
                                  limits.MAX_CONCENTRATION * 2),
                               "states.propensity_concentration.value"),
    "utc-offset": (at("states.roster.0.utc_offset", 15), "states.roster.0.utc_offset"),
    "business-hours": (at("points_of_contact.business_hours.value", [9, 25]),
                       "points_of_contact.business_hours.value.1"),
}
WORLD_EDGES = {
    "fixed-0": at(REVIEW, dist(dist="fixed", value=0)),
    "fixed-max": at(REVIEW, dist(dist="fixed", value=DAYS)),
    "exponential-max": at("cases.age_days.mean", DAYS),
    "lognormal-median-max": at(f"{REVIEW}.median", DAYS),
    "lognormal-sigma-0": at(f"{REVIEW}.sigma", 0),
    "lognormal-sigma-max": at(f"{REVIEW}.sigma", limits.MAX_SIGMA),
    "per-year-min": cases(limits.MIN_CASES_PER_YEAR),
    "cases-drawn-max": cases(limits.MAX_CASES),
    "cases-drawn-max-with-runoff": cases(FIFTH, 0, 4 * 365),
    "cases-drawn-max-with-warmup": cases(FIFTH, 4 * 365, 0),
    "cases-drawn-max-at-longest-run": cases(limits.MAX_CASES * 365 // (2 * RUN + 365), RUN, RUN),
    "warmup-0-runoff-0": measurement(0, 0),
    "warmup-max": measurement(warmup=RUN),
    "runoff-max": measurement(runoff=RUN),
    "max-hops-10": at("cases.max_hops.value", 10),
    "staff-max": at("central_authorities.staff.value", limits.MAX_STAFF),
    "roster-max": at("states.roster", roster(limits.MAX_STATES)),
    "providers-max": providers(limits.MAX_PROVIDERS),
    "concentration-max": at("states.propensity_concentration.value", limits.MAX_CONCENTRATION),
}


def variant_file(tmp_path: Path, base: Path, mutate: Callable[[Data], None]) -> Path:
    data = read_toml(base)
    mutate(data)
    return write_toml(tmp_path / "variant.toml", data)


def world_file(tmp_path: Path, mutate: Callable[[Data], None]) -> Path:
    data = copy.deepcopy(world_data())
    mutate(data)
    return write_toml(tmp_path / "world.toml", data)


@pytest.mark.parametrize(("base", "mutate", "key"), VARIANT_BAD.values(), ids=VARIANT_BAD)
def test_variant_number_out_of_range(base: Path, mutate: Callable, key: str,
                                     tmp_path: Path) -> None:
    path = variant_file(tmp_path, base, mutate)
    with pytest.raises(InputError) as info:
        load_variant(path)
    assert (info.value.path, info.value.key) == (str(path), key)
    assert f"between 0 and {DAYS} days" in info.value.message


@pytest.mark.parametrize(("base", "mutate"), VARIANT_EDGES.values(), ids=VARIANT_EDGES)
def test_variant_boundary_values_load(base: Path, mutate: Callable, tmp_path: Path) -> None:
    load_variant(variant_file(tmp_path, base, mutate))


def test_a_zero_day_preservation_period_is_refused(tmp_path: Path) -> None:
    """'No preservation' has one meaning, the clause removed: a period of 0 days is not it."""
    path = variant_file(tmp_path, UN, at("preservation.min_days.value", 0))
    with pytest.raises(InputError, match=r"preservation\.min_days: > 0 required .* "
                       r"preservation\.available = false"):
        load_variant(path)


@pytest.mark.parametrize(("mutate", "key"), WORLD_BAD.values(), ids=WORLD_BAD)
def test_world_number_out_of_range(mutate: Callable, key: str, tmp_path: Path) -> None:
    path = world_file(tmp_path, mutate)
    with pytest.raises(InputError) as info:
        load_world(path)
    assert (info.value.path, info.value.key) == (str(path), key)


@pytest.mark.parametrize("mutate", WORLD_EDGES.values(), ids=WORLD_EDGES)
def test_world_boundary_values_load(mutate: Callable, tmp_path: Path) -> None:
    load_world(world_file(tmp_path, mutate))


def test_messages_say_what_is_allowed(tmp_path: Path) -> None:
    path = variant_file(tmp_path, EU, at("direct_request.deadline_days.value", -1))
    with pytest.raises(InputError) as info:
        load_variant(path)
    assert info.value.message == f"must be between 0 and {DAYS} days, got -1"
    path = world_file(tmp_path, cases(1e12))
    with pytest.raises(InputError, match=f"at most {limits.MAX_CASES:,}") as info:
        load_world(path)
    assert info.value.key == "cases.per_year.value" and "\n" not in str(info.value)
    assert "365-day window" in info.value.message  # checked at the default window
    path = world_file(tmp_path, measurement(warmup=RUN + 1))
    with pytest.raises(InputError) as info:
        load_world(path)
    assert str(info.value) == f"{path}: {WARMUP}: must be between 0 and {RUN} days, got {RUN + 1}"


def test_cases_drawn_count_the_whole_run(small_world) -> None:
    """A replication draws per_year x (warm-up + window + run-off) / 365 cases, and a world
    that draws more than MAX_CASES at the default window is refused by ``check_drawn``."""
    m = small_world.measurement
    assert (m.warmup_days.value, m.runoff_days.value) == (0, 1460)
    assert small_world.drawn(365) == pytest.approx(600 * (0 + 365 + 1460) / 365)
    assert small_world.drawn(730) == pytest.approx(600 * (0 + 730 + 1460) / 365)
    small_world.check_drawn(limits.DEFAULT_WINDOW, "cases.per_year.value")
    world = validate(World, world_data(FIFTH), "<test world>")  # exactly MAX_CASES at 365
    assert world.drawn(limits.DEFAULT_WINDOW) == limits.MAX_CASES
    world.check_drawn(limits.DEFAULT_WINDOW, "cases.per_year.value")
    with pytest.raises(FieldProblem) as info:
        world.check_drawn(limits.DEFAULT_WINDOW + 1, "--window")
    assert info.value.key == "--window" and f"at most {limits.MAX_CASES:,}" in str(info.value)


def test_a_model_at_the_boundaries_runs() -> None:
    """Extreme values that pass validation run: zero and maximal durations, the widest
    spread, one officer per desk, direct orders due at once and after a century."""
    w = world_data(2000)
    for key in ("points_of_contact.staff.value", "central_authorities.staff.value"):
        at(key, 1)(w)
    at(REVIEW, dist(dist="lognormal", median=DAYS, sigma=limits.MAX_SIGMA))(w)
    at("requesting_states.draft_days", dist(dist="fixed", value=0))(w)
    at("cases.age_days.mean", DAYS)(w)
    at("states.propensity_concentration.value", limits.MAX_CONCENTRATION)(w)
    world = validate(World, w, "<extreme world>")
    for deadline in (0, DAYS):
        v = read_toml(EU)
        at("direct_request.deadline_days.value", deadline)(v)
        at("direct_request.emergency_days.value", deadline)(v)
        at("preservation.min_days.value", DAYS)(v)
        variant = validate(Variant, v, "<extreme variant>")
        model = CooperationModel(variant, world, seed=2)
        model.run(60)
        assert model.created > 0
        measured = CooperationModel(variant, world, 2, Window(0, 30, 30))
        measured.measure()  # a century's review: the run-off ends at its last day, censoring
        assert measured.steps == 60 and measured.runoff_days == 30
        assert measured.ledger.measured_open == 0 and Observation(measured).steady["censored"]


# --- sweeps: --set values and --design -------------------------------------------------------


@pytest.mark.parametrize(("option", "fragment"), [
    ("preservation.min_days=0:1e9:1", "at most 10,000"),
    ("preservation.min_days=0:1:1e-320", "at most 10,000"),
    ("preservation.min_days=0:10000:1", "10,001 values"),
    ("preservation.min_days=nan:1", "not a finite number"),
    ("preservation.min_days=0:inf", "not a finite number"),
    ("preservation.min_days=0:inf:1", "not a finite number"),
    ("preservation.min_days=30,NaN", "not a finite number"),
    ("preservation.min_days=1e999", "not a finite number"),
    ("preservation.min_days=-Infinity,0", "not a finite number"),
    ("preservation.min_days=" + ",".join(["1"] * (limits.MAX_POINTS + 1)), "at most 10,000"),
], ids=["grid-huge", "grid-tiny-step", "grid-just-over", "range-nan", "range-inf", "grid-inf",
        "list-nan", "list-overflow", "list-infinity", "list-too-long"])
def test_bad_set_values(option: str, fragment: str) -> None:
    with pytest.raises(InputError) as info:
        designs.parse_set(option)
    assert (info.value.path, info.value.key) == ("--set", "preservation.min_days")
    assert fragment in info.value.message


def test_set_values_at_the_bound() -> None:
    assert len(designs.parse_set(f"x=0:{limits.MAX_POINTS - 1}:1")[1]) == limits.MAX_POINTS
    assert len(designs.parse_set("x=" + ",".join(["1"] * limits.MAX_POINTS))[1]) \
        == limits.MAX_POINTS
    assert designs.parse_set("x=0:360:30")[1] == list(range(0, 361, 30))


@pytest.mark.parametrize("text", ["lhs:0", f"lhs:{limits.MAX_POINTS + 1}", "sobol:10**9",
                                  "sobol:99999999999999999999", "sobol:²", "lhs:-1"])
def test_bad_design(text: str) -> None:
    with pytest.raises(InputError) as info:
        designs.parse_design(text)
    assert (info.value.path, info.value.key) == ("--design", text)


def test_design_at_the_bound() -> None:
    assert designs.parse_design(f"lhs:{limits.MAX_POINTS}") == ("lhs", limits.MAX_POINTS)
    assert designs.parse_design("sobol:1") == ("sobol", 1)


def test_ground_set_needs_on_or_off() -> None:
    with pytest.raises(InputError, match="on or off"):
        designs.apply(variant_data(), {}, "mla.refusal_grounds.fiscal", 0.5)


# --- sensitivity studies: runs within MAX_RUNS ------------------------------------------------


def study(tmp_path: Path, method: str, samples: int) -> Path:
    data = read_toml(ROOT / "scenarios" / "studies" / "sensitivity.toml")
    data.update(method=method, samples=samples)
    return write_toml(tmp_path / "study.toml", data)


@pytest.mark.parametrize(("method", "per_sample"),
                         [("sobol", 8 + 2), ("pce", 1), ("morris", 8 + 1)])
def test_study_runs_are_bounded(method: str, per_sample: int, tmp_path: Path) -> None:
    most = limits.MAX_RUNS // per_sample  # the shipped study has eight factors
    assert load_params(study(tmp_path, method, most)).samples == most
    path = study(tmp_path, method, most + 1)
    with pytest.raises(InputError) as info:
        load_params(path)
    assert (info.value.path, info.value.key) == (str(path), "samples")
    assert f"at most {most:,}" in info.value.message


def test_a_factor_s_bounds_lie_in_its_range(tmp_path: Path) -> None:
    data = read_toml(ROOT / "scenarios" / "studies" / "sensitivity.toml")
    data["params"]["refusal_grounds.in_force"] = {"bounds": [0, 1.5]}
    path = write_toml(tmp_path / "study.toml", data)
    with pytest.raises(InputError) as info:
        load_params(path)
    assert info.value.key == "params.refusal_grounds.in_force.bounds"
    assert "within [0, 1]" in info.value.message


@pytest.mark.parametrize(("path", "bounds", "bad"), [
    ("preservation.min_days", [-1, 365], 0),
    ("preservation.min_days", [0, 1e12], 1),
    ("world.central_authorities.more_info_share", [0, 1.5], 1),
    ("world.cases.age_days.mean", [0, 180], 0),
    ("world.central_authorities.staff", [1, limits.MAX_STAFF + 1], 1),
    ("world.fallback.bilateral.preservation.min_days", [-5, 30], 0),
])
def test_study_bounds_lie_in_the_parameter_range(path: str, bounds: list[float], bad: int,
                                                 tmp_path: Path) -> None:
    data = read_toml(ROOT / "scenarios" / "studies" / "sensitivity.toml")
    data["params"][path] = {"bounds": bounds, "source": "test"}
    path_file = write_toml(tmp_path / "study.toml", data)
    with pytest.raises(InputError) as info:
        load_params(path_file)
    assert (info.value.path, info.value.key) == (str(path_file), f"params.{path}.bounds.{bad}")
    assert path in info.value.message


def test_study_bounds_at_the_parameter_range(tmp_path: Path) -> None:
    data = read_toml(ROOT / "scenarios" / "studies" / "sensitivity.toml")
    data["params"] = {"preservation.min_days": {"bounds": [0, DAYS]},
                      "world.central_authorities.staff": {"bounds": [0, limits.MAX_STAFF]},
                      "world.states.party_share": {"bounds": [0, 1]}}
    assert len(load_params(write_toml(tmp_path / "study.toml", data)).params) == 3
    data["params"]["mla.refusal_grounds.fiscal"] = {"bounds": [0, 1]}
    path = write_toml(tmp_path / "study.toml", data)
    with pytest.raises(InputError) as info:
        load_params(path)
    assert info.value.key == "params.mla.refusal_grounds.fiscal"
