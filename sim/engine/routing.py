"""Which rules govern a request: the treaty, a bilateral MLA treaty, or letters rogatory.

The engine knows regimes only as compiled rules. The treaty applies between two parties for
offences in its scope; each part on which it is silent falls back to the pair's bilateral
treaty, else to letters rogatory where the requested State accepts them. Where the treaty
says its MLA procedure applies only absent a bilateral treaty, pairs with one use theirs.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from sim.inputs.provisions import Regime, Variant
from sim.vocabulary import (
    DATA_TYPES,
    Channel,
    DualCriminality,
    EmergencyRoute,
    Offence,
    Outcome,
    PocFunction,
    ground_mask,
)

CHANNEL_INDEX = {c: i for i, c in enumerate(Channel)}


@dataclass(frozen=True, slots=True)
class Decision:
    """What a requested State may refuse on: listed grounds and its dual-criminality rule."""

    grounds: int  # bit mask of listed grounds
    dual_criminality: DualCriminality


@dataclass(frozen=True, slots=True)
class PreservationRule:
    decision: Decision
    min_days: float
    continues_pending_mla: bool
    extension_days: float  # 0 when no extension may be asked


@dataclass(frozen=True, slots=True)
class DisclosureRule:
    decision: Decision
    parties_only: bool


@dataclass(frozen=True, slots=True)
class MlaRule:
    decision: Decision
    channel: int
    urgent_channel: int
    consult_before_refusal: bool
    only_absent_bilateral: bool


@dataclass(frozen=True, slots=True)
class DirectRule:
    data_types: frozenset[int]  # data type codes that may be ordered straight from a provider
    deadline_days: float
    emergency_days: float | None  # None: emergencies take the regime's emergency route


@dataclass(frozen=True, slots=True)
class CompiledRegime:
    name: str
    preservation: PreservationRule | None
    disclosure: DisclosureRule | None
    mla: MlaRule | None
    poc: frozenset[PocFunction]
    emergency: EmergencyRoute
    direct: DirectRule | None

    @classmethod
    def of(cls, name: str, r: Regime) -> CompiledRegime:
        p, d, m = r.preservation, r.traffic_disclosure, r.mla
        pres = disc = mla = None
        if p.available.value:
            pres = PreservationRule(
                Decision(ground_mask(p.refusal_grounds.value), p.dual_criminality.value),
                p.min_days.value, p.continues_pending_mla.value,
                p.extension_days.value if p.extension.value else 0.0)
        if d.available.value:
            disc = DisclosureRule(Decision(ground_mask(d.refusal_grounds.value),
                                           DualCriminality.NOT_REQUIRED), d.parties_only.value)
        if m.available.value:
            mla = MlaRule(Decision(ground_mask(m.refusal_grounds.value), m.dual_criminality.value),
                          CHANNEL_INDEX[m.channel.value], CHANNEL_INDEX[m.urgent_channel.value],
                          m.consult_before_refusal.value, m.only_absent_bilateral.value)
        poc = frozenset(r.point_of_contact.functions.value) if r.point_of_contact.available.value \
            else frozenset()
        x = r.direct_request
        direct = DirectRule(frozenset(DATA_TYPES.index(t) for t in x.data_types.value),
                            x.deadline_days.value,
                            x.emergency_days.value if x.emergency_days else None) \
            if x.available.value else None
        return cls(name, pres, disc, mla, poc, r.emergency.route.value, direct)


@dataclass(frozen=True, slots=True)
class Route:
    """The rules for one request, stage by stage, and the regime that supplied each."""

    preservation: PreservationRule | None
    preservation_regime: str
    disclosure: DisclosureRule | None
    mla: MlaRule
    mla_regime: str
    locate_via_poc: bool
    preserve_via_poc: bool
    emergency: EmergencyRoute
    direct: DirectRule | None  # orders straight to the provider (the treaty's only)


class Router:
    """Resolves the route of a request from the pair of States and the offence."""

    def __init__(self, variant: Variant, bilateral: CompiledRegime,
                 letters_rogatory: CompiledRegime, party: np.ndarray, has_bilateral: np.ndarray,
                 accepts_lr: np.ndarray) -> None:
        self.treaty = CompiledRegime.of("treaty", variant)
        self.scope = frozenset(Offence(o) for o in variant.scope.offences.value)
        self.bilateral, self.letters_rogatory = bilateral, letters_rogatory
        self.party, self.has_bilateral, self.accepts_lr = party, has_bilateral, accepts_lr
        self._cache: dict[tuple[int, int, int], Route | Outcome] = {}

    def route(self, requesting: int, requested: int, offence: int) -> Route | Outcome:
        key = (requesting, requested, offence)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._resolve(requesting, requested, offence)
        return found

    def _resolve(self, a: int, b: int, offence: int) -> Route | Outcome:
        bilateral = bool(self.has_bilateral[a, b])
        fallback = self.bilateral if bilateral else (
            self.letters_rogatory if self.accepts_lr[b] else None)
        parties = bool(self.party[a] and self.party[b])
        in_scope = list(Offence)[offence] in self.scope
        if parties and in_scope:
            t = self.treaty
            regimes = [t] if fallback is None else [t, fallback]
            mla_regimes = regimes
            if t.mla is not None and t.mla.only_absent_bilateral and bilateral:
                mla_regimes = [fallback]
        elif fallback is not None:
            regimes = mla_regimes = [fallback]
        else:  # out of scope only where the treaty does offer assistance to other cases
            covered = parties and self.treaty.mla is not None
            return Outcome.OUT_OF_SCOPE if covered else Outcome.NO_CHANNEL
        mla_from = next((r for r in mla_regimes if r.mla is not None), None)
        if mla_from is None:
            return Outcome.NO_CHANNEL
        pres_from = next((r for r in regimes if r.preservation is not None), None)
        disc_from = next((r for r in regimes if r.disclosure is not None), None)
        poc_from = next((r for r in regimes if r.poc), regimes[0])
        emergency = next((r.emergency for r in regimes if r.emergency != EmergencyRoute.NONE),
                         EmergencyRoute.NONE)
        return Route(
            preservation=pres_from.preservation if pres_from else None,
            preservation_regime=pres_from.name if pres_from else "",
            disclosure=disc_from.disclosure if disc_from else None,
            mla=mla_from.mla,
            mla_regime=mla_from.name,
            locate_via_poc=PocFunction.LOCATE_PROVIDER in poc_from.poc,
            preserve_via_poc=PocFunction.PRESERVATION in poc_from.poc,
            emergency=emergency,
            direct=regimes[0].direct if regimes[0] is self.treaty else None,
        )


def _pair_routes(variant: Variant, bilateral: CompiledRegime,
                 letters_rogatory: CompiledRegime, parties: tuple[bool, bool],
                 bilateral_pair: bool, accepts: bool) -> tuple[Route | Outcome, ...]:
    """The route of every offence from State 0 to State 1 of one kind of pair."""
    pair = np.array([[False, bilateral_pair], [bilateral_pair, False]])
    router = Router(variant, bilateral, letters_rogatory, party=np.array(parties),
                    has_bilateral=pair, accepts_lr=np.array([True, accepts]))
    return tuple(router.route(0, 1, o) for o in range(len(Offence)))


def behaviour(variant: Variant, bilateral: CompiledRegime,
              letters_rogatory: CompiledRegime) -> tuple[Route | Outcome, ...]:
    """Every route ``variant`` gives, for each kind of pair of States (both parties or not,
    bound by a bilateral treaty or not, the requested State accepting letters rogatory or
    not) and each offence. The variant reaches the engine only through its routes, so two
    variants with the same behaviour run identically on the same cases."""
    return tuple(route for pa, pb, bilateral_pair, accepts
                 in itertools.product((True, False), repeat=4)
                 for route in _pair_routes(variant, bilateral, letters_rogatory, (pa, pb),
                                           bilateral_pair, accepts))


def falls_back(variant: Variant, bilateral: CompiledRegime,
               letters_rogatory: CompiledRegime) -> bool:
    """Whether being parties to ``variant`` changes nothing: for every kind of pair and
    offence, two parties get the routes two non-parties get, so every request falls back to
    the pair's bilateral treaty or letters rogatory."""
    return all(_pair_routes(variant, bilateral, letters_rogatory, (True, True), *kind)
               == _pair_routes(variant, bilateral, letters_rogatory, (False, False), *kind)
               for kind in itertools.product((True, False), repeat=2))
