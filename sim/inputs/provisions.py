"""Treaty provisions as data: every value carries its citation or says it is silent.

A :class:`Regime` is the set of cooperation rules that can govern a request (preservation,
traffic-data disclosure, MLA, 24/7 point of contact, emergency route). A treaty
:class:`Variant` is a regime plus its scope and metadata; the world's fallback regimes
(bilateral MLA treaty, letters rogatory) are regimes too.

Every section of a regime may be left out: it then reads as a procedure the text does not
provide (nothing available, no emergency route), its provisions ``silent`` with
:data:`NO_PROCEDURE` as their fallback, so matrices and citations report the gap.
"""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, model_validator

from sim.inputs.catalogue import KINDS, SCENARIOS, names, variant_file
from sim.inputs.distributions import Days
from sim.inputs.schema import FieldProblem, InputError, Strict, read_toml, validate
from sim.limits import MAX_DEPTH
from sim.vocabulary import (
    Channel,
    DataType,
    DualCriminality,
    EmergencyRoute,
    Ground,
    Offence,
    PocFunction,
)

Status = Literal["stated", "by_reference", "silent", "assumption"]
MAX_QUOTE_WORDS = 40


class Cited[T](Strict):
    """A provision value with where it comes from.

    ``stated`` and ``by_reference`` need a ``source`` (file and article); ``silent`` needs
    the ``fallback`` that then applies; ``assumption`` needs a ``note`` saying why. A
    ``quote`` is the source's own words unless ``paraphrase`` says it is a summary (of a
    secondary source, where the document itself is not at hand).
    """

    value: T
    status: Status = "stated"
    source: str | None = None
    quote: str | None = None
    paraphrase: bool = False
    fallback: str | None = None
    note: str | None = None

    @model_validator(mode="after")
    def _cited(self) -> Self:
        if self.status in ("stated", "by_reference") and not self.source:
            raise FieldProblem("source", f"a {self.status} value needs its source (file, article)")
        if self.status == "silent" and not self.fallback:
            raise FieldProblem("fallback", "a silent provision needs the fallback that applies")
        if self.status == "assumption" and not self.note:
            raise FieldProblem("note", "an assumption needs a note saying what it assumes")
        if self.quote and len(self.quote.split()) > MAX_QUOTE_WORDS:
            raise FieldProblem("quote", f"longer than {MAX_QUOTE_WORDS} words")
        if self.paraphrase and not self.quote:
            raise FieldProblem("paraphrase", "marks a quote: give the quote it describes")
        return self


Grounds = Cited[list[Ground]]


def _require(section: Strict, names: tuple[str, ...]) -> None:
    """Fields that must be given when a section's ``available`` is true."""
    for name in names:
        if getattr(section, name) is None:
            raise FieldProblem(name, "required when the provision is available")


class Preservation(Strict):
    available: Cited[bool]
    min_days: Cited[Days] | None = None
    continues_pending_mla: Cited[bool] | None = None
    extension: Cited[bool] | None = None
    extension_days: Cited[Days] | None = None
    dual_criminality: Cited[DualCriminality] | None = None
    refusal_grounds: Grounds | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.available.value:
            _require(self, ("min_days", "continues_pending_mla", "extension",
                            "dual_criminality", "refusal_grounds"))
            if self.min_days.value <= 0:
                raise FieldProblem("min_days", "> 0 required when preservation is available "
                                   "(no preservation: preservation.available = false)")
            if self.extension.value and (self.extension_days is None
                                         or self.extension_days.value <= 0):
                raise FieldProblem("extension_days", "> 0 required when extension is allowed")
        return self


class TrafficDisclosure(Strict):
    available: Cited[bool]
    parties_only: Cited[bool] | None = None  # next provider must be in another State Party
    refusal_grounds: Grounds | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.available.value:
            _require(self, ("parties_only", "refusal_grounds"))
        return self


class Mla(Strict):
    available: Cited[bool]
    only_absent_bilateral: Cited[bool] | None = None
    channel: Cited[Channel] | None = None
    urgent_channel: Cited[Channel] | None = None
    dual_criminality: Cited[DualCriminality] | None = None
    refusal_grounds: Grounds | None = None
    consult_before_refusal: Cited[bool] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.available.value:
            _require(self, ("only_absent_bilateral", "channel", "urgent_channel",
                            "dual_criminality", "refusal_grounds", "consult_before_refusal"))
        return self


class PointOfContact(Strict):
    available: Cited[bool]
    functions: Cited[list[PocFunction]] | None = None

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.available.value:
            _require(self, ("functions",))
        return self


class Emergency(Strict):
    route: Cited[EmergencyRoute]


class DirectRequest(Strict):
    """Orders or requests sent straight to a provider in another State Party."""

    available: Cited[bool]
    data_types: Cited[list[DataType]] | None = None
    deadline_days: Cited[Days] | None = None  # the provider must answer within
    emergency_days: Cited[Days] | None = None  # ... in an emergency (absent: no direct route)

    @model_validator(mode="after")
    def _complete(self) -> Self:
        if self.available.value:
            _require(self, ("data_types", "deadline_days"))
        return self


NO_PROCEDURE = ("the text provides no such procedure: the world's fallback regime applies "
                "(the pair's bilateral MLA treaty, else letters rogatory)")


def silent[T](value: T) -> Cited[T]:
    """``value`` as a provision on which the text is silent, :data:`NO_PROCEDURE` applying."""
    return Cited[type(value)](value=value, status="silent", fallback=NO_PROCEDURE)


def without_sections(mark: Callable[[Any], Cited]) -> dict[str, Strict]:
    """Each regime section as a text that lacks it: nothing available, no emergency route;
    ``mark`` cites each value (:func:`silent` for a variant)."""
    return {"preservation": Preservation(available=mark(False)),
            "traffic_disclosure": TrafficDisclosure(available=mark(False)),
            "mla": Mla(available=mark(False)),
            "point_of_contact": PointOfContact(available=mark(False)),
            "emergency": Emergency(route=mark(EmergencyRoute.NONE)),
            "direct_request": DirectRequest(available=mark(False))}


SILENT = without_sections(silent)


class Regime(Strict):
    """Cooperation rules that can govern a request; a section left out is silent."""

    preservation: Preservation = SILENT["preservation"]
    traffic_disclosure: TrafficDisclosure = SILENT["traffic_disclosure"]
    mla: Mla = SILENT["mla"]
    point_of_contact: PointOfContact = SILENT["point_of_contact"]
    emergency: Emergency = SILENT["emergency"]
    direct_request: DirectRequest = SILENT["direct_request"]

    @model_validator(mode="after")
    def _emergency_has_its_route(self) -> Self:
        route = self.emergency.route.value
        poc = self.point_of_contact
        if route is EmergencyRoute.POINT_OF_CONTACT and not (
                poc.available.value and PocFunction.EMERGENCY_DATA in poc.functions.value):
            raise FieldProblem("emergency.route", "needs a 24/7 point with 'emergency_data'")
        if route is EmergencyRoute.URGENT_MLA and not self.mla.available.value:
            raise FieldProblem("emergency.route", "urgent MLA needs mla.available")
        return self


class Scope(Strict):
    offences: Cited[list[Offence]] = Field(description="offence categories the treaty covers")


class VariantInfo(Strict):
    name: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    label: str = ""  # a short name for charts; the title when empty
    kind: Literal["draft", "reference", "composite"]
    document: str
    extends: str | None = None  # a parent variant (name in the same folder, or a path)


class Variant(Regime):
    """A treaty variant: its scope and the regime it sets up between its parties."""

    variant: VariantInfo
    scope: Scope

    @property
    def label(self) -> str:
        """The variant's short name on charts."""
        return self.variant.label or self.variant.title

    @property
    def name(self) -> str:
        return self.variant.name


def load_variant(spec: Path | str) -> Variant:
    """Read and validate a variant file, given as a path or by its shipped name
    (``"un_convention_2024"``; see :func:`sim.inputs.catalogue.resolve`). Raises
    :class:`~sim.inputs.schema.InputError`.

    A variant may ``extends`` another: it takes the parent's provisions and replaces those
    it states itself, provision by provision (a provision's citation comes with its value).
    """
    path = variant_file(spec)
    return validate(Variant, composed(path), path)


def composed(path: Path, children: tuple[Path, ...] = ()) -> dict[str, Any]:
    """The variant file's data with its ancestors' provisions filled in."""
    data = read_toml(path)
    info = data.get("variant")
    parent = info.get("extends") if isinstance(info, dict) else None  # else: validation says
    if parent is None:
        return data
    if not isinstance(parent, str):
        raise InputError(path, "variant.extends", "must be a variant name or path")
    parent_path = parent_file(path, parent)
    chain = (*children, path)
    if parent_path.resolve() in {p.resolve() for p in chain}:
        names = " -> ".join(p.stem for p in (*chain, parent_path))
        raise InputError(path, "variant.extends", f"cycle: {names}")
    if not os.path.isfile(parent_path):  # False, too, for a name too long to look up
        raise InputError(path, "variant.extends", f"no variant '{parent}' ({parent_path})")
    if len(chain) > MAX_DEPTH:
        raise InputError(path, "variant.extends", f"more than {MAX_DEPTH} variants extend "
                         "one another")
    merged = composed(parent_path, chain)
    for section, provisions in data.items():
        base = merged.get(section)
        tables = isinstance(base, dict) and isinstance(provisions, dict)
        merged[section] = {**base, **provisions} if tables and section != "variant" \
            else provisions
    return merged


def parent_file(child: Path, parent: str) -> Path:
    """The file ``extends = parent`` names: in the child's folder, else a shipped variant."""
    name = parent if parent.endswith(".toml") else f"{parent}.toml"
    beside = child.parent / name
    if os.path.isfile(beside) or Path(name).name != name:
        return beside
    shipped = SCENARIOS / name
    return shipped if os.path.isfile(shipped) else beside


def shipped() -> list[Variant]:
    """The shipped variants: drafts in document order, then references, then composites."""
    variants = [load_variant(SCENARIOS / f"{name}.toml") for name in names()]
    return sorted(variants, key=lambda v: (KINDS[v.variant.kind], v.variant.document, v.name))
