"""The world as data: States, providers, capacities, case mix and behaviour, each sourced.

A world file says who exists and how they behave; it knows no treaty. Its fallback
regimes (a bilateral MLA treaty, letters rogatory) are what applies where a treaty is
silent or does not reach a pair of States.
"""

import csv
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Self

from pydantic import Field, model_validator

from sim.inputs.catalogue import DEFAULT_WORLD, world_file
from sim.inputs.distributions import Dist, Source
from sim.inputs.provisions import (
    Cited,
    DirectRequest,
    Emergency,
    Mla,
    PointOfContact,
    Preservation,
    Regime,
    TrafficDisclosure,
    without_sections,
)
from sim.inputs.schema import FieldProblem, InputError, Strict, between, read_toml, validate
from sim.limits import (
    DEFAULT_WINDOW,
    MAX_CASES,
    MAX_CONCENTRATION,
    MAX_PROVIDERS,
    MAX_STAFF,
    MAX_STATES,
    MAX_WINDOW,
    MIN_CASES_PER_YEAR,
)
from sim.vocabulary import Channel, DataType, Ground, Offence

Share = Annotated[float, between(0, 1)]
ISO3 = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
Staff = Annotated[int, between(0, MAX_STAFF, "people")]  # 0 means unlimited


class Param[T](Strict):
    """A world figure and its source (a document, or 'assumption: why')."""

    value: T
    source: Source


class StateRow(Strict):
    iso3: ISO3
    name: str
    region: str
    utc_offset: Annotated[float, between(-12, 14, "hours")]


class States(Strict):
    roster: Literal["un_member_states"] | list[StateRow]
    party_share: Param[Share]
    bilateral_share_same_region: Param[Share]
    bilateral_share_other_region: Param[Share]
    letters_rogatory_acceptance: Param[Share]
    poc_always_on_share: Param[Share]
    dc_reservation_share: Param[Share]
    propensity_concentration: Param[Annotated[float, between(0, MAX_CONCENTRATION,
                                                             above=True)]]

    def rows(self) -> list[StateRow]:
        if isinstance(self.roster, list):
            return self.roster
        roster = resources.files("sim.inputs.data").joinpath("un_member_states.csv")
        text = roster.read_text("utf-8")
        return [StateRow(iso3=r["iso3"], name=r["name"], region=r["region"],
                         utc_offset=float(r["utc_offset"]))
                for r in csv.DictReader(text.splitlines())]


class CentralAuthorities(Strict):
    staff: Param[Staff]
    staff_by_state: Param[dict[ISO3, Staff]]
    review_days: Dist
    more_info_share: Param[Share]
    more_info_reply_days: Dist
    postpone_share: Param[Share]
    postpone_days: Dist
    consult_days: Dist
    consult_rescue_share: Param[Share]
    extension_grant_share: Param[Share]


class PointsOfContact(Strict):
    handling_days: Dist
    staff: Param[Staff]
    business_hours: Param[tuple[Annotated[float, between(0, 24, "hours")],
                                Annotated[float, between(0, 24, "hours")]]]

    @model_validator(mode="after")
    def _hours(self) -> Self:
        start, end = self.business_hours.value
        if start >= end:
            raise FieldProblem("business_hours.value", "opening must come before closing")
        return self


class RequestingStates(Strict):
    locate_unaided_days: Dist
    draft_days: Dist
    urgent_draft_days: Dist


class Provider(Strict):
    name: str
    home: ISO3 | Literal["local"]  # 'local': one such provider in every State
    share: Param[Share]
    retention: str
    preserve_days: Dist
    execute_days: Dist
    emergency_days: Dist
    never_existed_share: Param[Share]
    staff: Param[Staff]


class Cases(Strict):
    per_year: Param[Annotated[float, Field(ge=MIN_CASES_PER_YEAR)]]  # see World.drawn
    offence_mix: Param[dict[Offence, Share]]
    data_type_mix: Param[dict[DataType, Share]]
    emergency_share: Param[Share]
    preservation_share: Param[dict[DataType, Share]]  # requests that ask for preservation first
    age_days: Dist
    next_hop_share: Param[Share]
    max_hops: Param[Annotated[int, between(1, 10)]]

    @model_validator(mode="after")
    def _mixes(self) -> Self:
        for name in ("offence_mix", "data_type_mix"):
            mix = getattr(self, name).value
            if abs(sum(mix.values()) - 1) > 1e-9:
                raise FieldProblem(f"{name}.value", "shares must sum to 1")
        missing = [t.value for t in DataType if t not in self.preservation_share.value]
        if missing:
            raise FieldProblem("preservation_share.value", f"missing {', '.join(missing)}")
        return self


RunDays = Annotated[int, between(0, MAX_WINDOW, "days")]


class Measurement(Strict):
    """How long a run lasts around its measurement window (see ``sim.engine.window``)."""

    warmup_days: Param[RunDays]  # discarded while the desks fill: chosen by MSER-5, see source
    runoff_days: Param[RunDays]  # at most this long after the window for the cohort to finish


class DirectRequests(Strict):
    compliance_share: Param[Share]  # direct orders a provider answers in time


class GroundBehaviour(Strict):
    applicable_share: Param[Share]  # share of requests on which the ground could be argued
    invoke_propensity: Param[Share]  # mean chance a requested State invokes it when it can


class DualCriminalityBehaviour(Strict):
    gap_share: Param[dict[Offence, Share]]  # conduct not criminal in the requested State
    invoke_propensity: Param[Share]


NOT_IN_WORLD = "the world's fallback regime leaves this section out: it has no such procedure"


def assumed[T](value: T) -> Cited[T]:
    """``value`` as a fallback regime's provision the world leaves out."""
    return Cited[type(value)](value=value, status="assumption", note=NOT_IN_WORLD)


ABSENT = without_sections(assumed)


class FallbackRegime(Regime):
    """A regime of last resort: a section left out is a procedure it does not have (an
    assumption of the world, since nothing else applies after it)."""

    preservation: Preservation = ABSENT["preservation"]
    traffic_disclosure: TrafficDisclosure = ABSENT["traffic_disclosure"]
    mla: Mla = ABSENT["mla"]
    point_of_contact: PointOfContact = ABSENT["point_of_contact"]
    emergency: Emergency = ABSENT["emergency"]
    direct_request: DirectRequest = ABSENT["direct_request"]


class Fallback(Strict):
    bilateral: FallbackRegime
    letters_rogatory: FallbackRegime


class WorldInfo(Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    description: str


class World(Strict):
    world: WorldInfo
    states: States
    central_authorities: CentralAuthorities
    points_of_contact: PointsOfContact
    requesting_states: RequestingStates
    channels: dict[Channel, Dist]
    providers: list[Provider]
    retention: dict[str, dict[DataType, Dist]]
    cases: Cases
    measurement: Measurement
    direct_requests: DirectRequests
    grounds: dict[Ground, GroundBehaviour]
    dual_criminality: DualCriminalityBehaviour
    fallback: Fallback

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        for c in Channel:
            if c not in self.channels:
                raise FieldProblem(f"channels.{c.value}", "missing")
        for g in Ground:
            if g not in self.grounds:
                raise FieldProblem(f"grounds.{g.value}", "missing")
        for name, profile in self.retention.items():
            for d in DataType:
                if d not in profile:
                    raise FieldProblem(f"retention.{name}.{d.value}", "missing")
        rows = self.states.rows()
        homes = {r.iso3 for r in rows}
        for key, items, most in (("states.roster", rows, MAX_STATES),
                                 ("providers", self.providers, MAX_PROVIDERS)):
            if len(items) > most:
                raise FieldProblem(key, f"has {len(items):,} entries, at most {most:,}")
        for i, p in enumerate(self.providers):
            if p.retention not in self.retention:
                raise FieldProblem(f"providers.{i}.retention",
                                   f"unknown retention profile '{p.retention}'")
            if p.home != "local" and p.home not in homes:
                raise FieldProblem(f"providers.{i}.home", f"'{p.home}' is not in states.roster")
        if abs(sum(p.share.value for p in self.providers) - 1) > 1e-9:
            raise FieldProblem("providers", "shares must sum to 1")
        if sum(p.home == "local" for p in self.providers) != 1:
            raise FieldProblem("providers", "exactly one provider must have home = 'local'")
        for iso3 in self.central_authorities.staff_by_state.value:
            if iso3 not in homes:
                raise FieldProblem(f"central_authorities.staff_by_state.value.{iso3}",
                                   "not in states.roster")
        if len(homes) < (3 if self.cases.max_hops.value > 1 else 2):
            raise FieldProblem("states.roster", "needs two States, three if trails have hops")
        self.check_drawn(DEFAULT_WINDOW, "cases.per_year.value")
        return self

    def drawn(self, window: float) -> float:
        """Cases one replication draws at most, on average, with a ``window``-day window:
        ``per_year`` x (warm-up + window + run-off) / 365."""
        m = self.measurement
        days = m.warmup_days.value + window + m.runoff_days.value
        return self.cases.per_year.value * days / 365

    def check_drawn(self, window: float, key: str) -> None:
        """At most MAX_CASES cases a replication (``key`` names the value at fault)."""
        drawn = self.drawn(window)
        if drawn > MAX_CASES:
            m = self.measurement
            raise FieldProblem(key, f"with a {window:,g}-day window, a {m.warmup_days.value:,}-day "
                               f"warm-up and up to {m.runoff_days.value:,} days of run-off, a "
                               f"replication draws up to {drawn:,.0f} cases (per_year x days "
                               f"/ 365), at most {MAX_CASES:,}")


def load_world(spec: Path | str = DEFAULT_WORLD) -> World:
    """Read and validate a world file, given as a path or by its shipped name (``"default"``;
    see :func:`sim.inputs.catalogue.resolve`). Raises :class:`~sim.inputs.schema.InputError`."""
    path = world_file(spec)
    world = validate(World, read_toml(path), path)
    rows = world.states.rows()
    if len({r.iso3 for r in rows}) != len(rows):
        raise InputError(path, "states.roster", "duplicate iso3 codes")
    return world


def scaled(world: World, factor: float) -> World:
    """The world with its yearly cases and every staffed desk multiplied by ``factor``.

    Load and capacity shrink together, so each desk's utilisation and the loss and latency
    shares stay as they were (within sampling noise); a replication costs ``factor`` of one
    at full scale. Staff round to the nearest whole person, at least one.
    """
    if not 0 < factor <= 1:
        raise InputError("--scale", str(factor), "must be in (0, 1]")
    if factor == 1:
        return world
    data = world.model_dump(mode="json")
    data["cases"]["per_year"]["value"] *= factor
    scale_staff(data, factor, everyone=True)
    data["world"]["description"] += f" (scaled x{factor:g})"
    return validate(World, data, f"<{world.world.name} scaled x{factor:g}>")


def scale_staff(data: dict, factor: float, *, everyone: bool = False) -> None:
    """Multiply the central authorities' staff in world data by ``factor`` (and, with
    ``everyone``, the 24/7 points' and providers'), in place: to the nearest whole person,
    at least one; 0 (unlimited) stays unlimited."""
    def times(staff: int) -> int:
        return max(1, round(staff * factor)) if staff else 0

    ca = data["central_authorities"]
    ca["staff"]["value"] = times(ca["staff"]["value"])
    ca["staff_by_state"]["value"] = {k: times(v) for k, v in ca["staff_by_state"]["value"].items()}
    for desk in (data["points_of_contact"], *data["providers"]) if everyone else ():
        desk["staff"]["value"] = times(desk["staff"]["value"])
