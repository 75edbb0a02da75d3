"""Which regime governs each part of a request (``Router.route``), branch by branch.

Five States: 0, 1, 2 are parties, 3 and 4 are not. Pairs (0, 1), (0, 3) and (1, 4) have a
bilateral MLA treaty; States 2 and 4 execute letters rogatory. So, for an offence in scope:
0 -> 1 parties with a bilateral treaty, 1 -> 2 parties with letters rogatory to fall back on,
2 -> 1 parties with nothing to fall back on, 0 -> 3 a party and a non-party with a bilateral
treaty, 3 -> 4 non-parties with letters rogatory, 4 -> 3 and 1 -> 3 nothing at all.
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pytest
from conftest import make_variant, set_value, variant_data, world_data

from sim.engine.routing import CompiledRegime, Route, Router
from sim.inputs.provisions import Variant
from sim.inputs.schema import validate
from sim.inputs.world import FallbackRegime
from sim.vocabulary import DualCriminality, EmergencyRoute, Ground, Offence, Outcome, ground_mask

CONVENTION, SERIOUS, OTHER = (list(Offence).index(o) for o in Offence)  # UN scope: C and S
PARTY = np.array([True, True, True, False, False])
ACCEPTS_LR = np.array([False, False, True, False, True])
BILATERAL_PAIRS = ((0, 1), (0, 3), (1, 4))
FALLBACK = world_data()["fallback"]

DIRECT = {
    "available": {"value": True, "status": "assumption", "note": "test"},
    "data_types": {"value": ["subscriber"], "status": "assumption", "note": "test"},
    "deadline_days": {"value": 10, "status": "assumption", "note": "test"},
    "emergency_days": {"value": 0.33, "status": "assumption", "note": "test"},
}


def fallback(name: str, **values: Any) -> CompiledRegime:
    """The default world's fallback regime ``name`` with ``section__field=value`` changes; the
    two regimes' preservation periods differ so that their rules never compare equal."""
    data = copy.deepcopy(FALLBACK[name])
    set_value(data, "preservation.min_days", {"bilateral": 91, "letters_rogatory": 92}[name])
    for path, value in values.items():
        if path == "direct_request":
            data[path] = copy.deepcopy(value)
        else:
            set_value(data, path.replace("__", "."), value)
    return CompiledRegime.of(name, validate(FallbackRegime, data, f"<test {name}>"))


def variant(**values: Any) -> Variant:
    """The UN Convention with ``section__field=value`` changes."""
    data = variant_data()
    for path, value in values.items():
        if path == "direct_request":
            data[path] = copy.deepcopy(value)
        else:
            set_value(data, path.replace("__", "."), value)
    return make_variant(data)


def router(v: Variant | None = None, bilateral: CompiledRegime | None = None,
           lr: CompiledRegime | None = None) -> Router:
    has = np.zeros((5, 5), bool)
    for a, b in BILATERAL_PAIRS:
        has[a, b] = has[b, a] = True
    return Router(v or variant(), bilateral or fallback("bilateral"),
                  lr or fallback("letters_rogatory"), PARTY, has, ACCEPTS_LR)


def route(rt: Router, a: int, b: int, offence: int = CONVENTION) -> Route:
    found = rt.route(a, b, offence)
    assert isinstance(found, Route), found
    return found


@pytest.fixture(scope="module")
def un_router() -> Router:
    return router()


# -- the treaty between parties, in scope ------------------------------------------------------
@pytest.mark.parametrize(("a", "b"), [(2, 1), (1, 2)])  # without and with letters rogatory
def test_the_treaty_governs_every_part_between_parties_in_scope(un_router, a, b) -> None:
    rt = un_router
    t = rt.treaty
    for offence in (CONVENTION, SERIOUS):
        r = route(rt, a, b, offence)
        assert r.mla is t.mla and r.mla_regime == "treaty"
        assert r.preservation is t.preservation and r.preservation_regime == "treaty"
        assert r.disclosure is t.disclosure
        assert r.locate_via_poc and r.preserve_via_poc  # UN art 41(3)
        assert r.emergency is EmergencyRoute.POINT_OF_CONTACT
        assert r.direct is None  # the UN text has no direct orders
    assert t.preservation.min_days == 60 and t.preservation.continues_pending_mla


def test_the_compiled_treaty_is_the_variant() -> None:
    v = variant(mla__refusal_grounds=["fiscal"], preservation__min_days=17)
    t = router(v).treaty
    assert t.name == "treaty" and t == CompiledRegime.of("treaty", v)
    assert t.mla.decision.grounds == ground_mask([Ground.FISCAL])
    assert t.mla.decision.dual_criminality is DualCriminality.DISCRETIONARY
    assert t.preservation.min_days == 17


# -- parts the treaty is silent on --------------------------------------------------------------
def test_silent_preservation_falls_back_to_the_bilateral_else_letters_rogatory() -> None:
    rt = router(variant(preservation__available=False))
    with_bilateral = route(rt, 0, 1)
    assert with_bilateral.preservation is rt.bilateral.preservation
    assert with_bilateral.preservation_regime == "bilateral"
    with_lr = route(rt, 1, 2)
    assert with_lr.preservation is rt.letters_rogatory.preservation
    assert with_lr.preservation_regime == "letters_rogatory"
    assert with_lr.mla is rt.treaty.mla and with_lr.mla_regime == "treaty"  # the rest: treaty
    nothing = route(rt, 2, 1)
    assert nothing.preservation is None and nothing.preservation_regime == ""
    assert nothing.mla_regime == "treaty"


def test_silent_mla_falls_back_or_leaves_no_channel() -> None:
    rt = router(variant(mla__available=False))
    assert route(rt, 0, 1).mla is rt.bilateral.mla
    assert route(rt, 0, 1).mla_regime == "bilateral"
    lr = route(rt, 1, 2)
    assert lr.mla is rt.letters_rogatory.mla and lr.mla_regime == "letters_rogatory"
    assert lr.preservation is rt.treaty.preservation  # a silent MLA part displaces only MLA
    assert rt.route(2, 1, CONVENTION) is Outcome.NO_CHANNEL


def test_a_bilateral_treaty_comes_before_letters_rogatory() -> None:
    rt = router(variant(mla__available=False, preservation__available=False))
    r = route(rt, 1, 4)  # party to non-party: a bilateral treaty, and 4 accepts letters
    assert r.mla_regime == "bilateral" and r.preservation_regime == "bilateral"
    r = route(rt, 3, 4)  # non-parties, no bilateral: letters rogatory
    assert r.mla_regime == "letters_rogatory" and r.preservation_regime == "letters_rogatory"


def test_letters_rogatory_depend_on_the_requested_state() -> None:
    rt = router()
    assert route(rt, 3, 4).mla_regime == "letters_rogatory"  # 4 accepts them
    assert rt.route(4, 3, CONVENTION) is Outcome.NO_CHANNEL  # 3 does not


# -- MLA only absent a bilateral treaty ------------------------------------------------------------
def test_only_absent_bilateral_sends_pairs_with_a_treaty_to_it(un_router) -> None:
    rt = un_router
    assert rt.treaty.mla.only_absent_bilateral  # UN art 40(7)
    r = route(rt, 0, 1)
    assert r.mla is rt.bilateral.mla and r.mla_regime == "bilateral"
    # every other part stays with the treaty
    assert r.preservation is rt.treaty.preservation and r.preservation_regime == "treaty"
    assert r.disclosure is rt.treaty.disclosure
    assert r.locate_via_poc and r.preserve_via_poc
    assert r.emergency is EmergencyRoute.POINT_OF_CONTACT
    # letters rogatory are no bilateral treaty: they do not displace the treaty's MLA
    assert route(rt, 1, 2).mla_regime == "treaty"


def test_without_only_absent_bilateral_the_treaty_governs_mla_everywhere() -> None:
    rt = router(variant(mla__only_absent_bilateral=False))
    r = route(rt, 0, 1)
    assert r.mla is rt.treaty.mla and r.mla_regime == "treaty"


# -- out of scope and outside the treaty ---------------------------------------------------------
def test_out_of_scope_between_parties_uses_the_fallback_when_there_is_one(un_router) -> None:
    rt = un_router
    assert Offence.OTHER not in rt.scope
    lr = route(rt, 1, 2, OTHER)
    assert lr.mla_regime == "letters_rogatory" and lr.mla is rt.letters_rogatory.mla
    assert lr.preservation is rt.letters_rogatory.preservation  # not the treaty's
    assert lr.disclosure is None  # the fallbacks have none; the treaty's does not apply
    assert lr.emergency is EmergencyRoute.NONE and not lr.locate_via_poc
    assert lr.direct is None
    bil = route(rt, 0, 1, OTHER)
    assert bil.mla_regime == bil.preservation_regime == "bilateral"
    assert bil.emergency is EmergencyRoute.URGENT_MLA  # the bilateral's emergency route


def test_out_of_scope_without_fallback(un_router) -> None:
    assert un_router.route(2, 1, OTHER) is Outcome.OUT_OF_SCOPE  # the treaty offers MLA
    no_mla = router(variant(mla__available=False))
    assert no_mla.route(2, 1, OTHER) is Outcome.NO_CHANNEL  # ... and where it offers none


@pytest.mark.parametrize(("a", "b"), [(4, 3), (1, 3), (3, 1)])
@pytest.mark.parametrize("offence", [CONVENTION, OTHER])
def test_outside_the_treaty_with_no_fallback_there_is_no_channel(un_router, a, b,
                                                                 offence) -> None:
    """Not OUT_OF_SCOPE: the treaty does not bind the pair at all."""
    assert un_router.route(a, b, offence) is Outcome.NO_CHANNEL


def test_a_party_and_a_non_party_use_their_bilateral_treaty(un_router) -> None:
    rt = un_router
    for a, b in ((0, 3), (3, 0)):
        r = route(rt, a, b)
        assert r.mla_regime == r.preservation_regime == "bilateral"
        assert r.disclosure is None and r.direct is None
        assert not r.locate_via_poc and r.preserve_via_poc  # the bilateral's police channel


def test_a_fallback_without_mla_leaves_no_channel() -> None:
    rt = router(bilateral=fallback("bilateral", mla__available=False, emergency__route="none"))
    assert rt.route(0, 3, CONVENTION) is Outcome.NO_CHANNEL


# -- preservation, disclosure, 24/7 point, emergency: the first regime that has it --------------
def test_disclosure_from_the_first_regime_that_has_it() -> None:
    bilateral = fallback("bilateral", traffic_disclosure__available=True,
                         traffic_disclosure__parties_only=False,
                         traffic_disclosure__refusal_grounds=["fiscal"])
    rt = router(variant(traffic_disclosure__available=False), bilateral=bilateral)
    assert route(rt, 0, 1).disclosure is rt.bilateral.disclosure
    assert route(rt, 0, 3).disclosure is rt.bilateral.disclosure
    assert route(rt, 1, 2).disclosure is None
    rt = router(bilateral=bilateral)
    assert route(rt, 0, 1).disclosure is rt.treaty.disclosure


def test_point_of_contact_functions_come_from_one_regime_only() -> None:
    rt = router(variant(point_of_contact__functions=["locate_provider", "emergency_data"]))
    r = route(rt, 0, 1)  # the treaty's point: it locates, but does not carry preservation
    assert r.locate_via_poc and not r.preserve_via_poc
    silent = variant(point_of_contact__available=False, emergency__route="urgent_mla")
    rt = router(silent)
    r = route(rt, 0, 1)  # no treaty point: the bilateral's police channel
    assert not r.locate_via_poc and r.preserve_via_poc
    r = route(rt, 2, 1)  # nothing to fall back on
    assert not r.locate_via_poc and not r.preserve_via_poc
    rt = router(silent, bilateral=fallback(
        "bilateral", point_of_contact__functions=["locate_provider", "preservation"]))
    r = route(rt, 0, 1)
    assert r.locate_via_poc and r.preserve_via_poc


def test_emergency_route_from_the_first_regime_that_has_one() -> None:
    rt = router(variant(emergency__route="none"))
    assert route(rt, 0, 1).emergency is EmergencyRoute.URGENT_MLA  # the bilateral's
    assert route(rt, 1, 2).emergency is EmergencyRoute.NONE  # letters rogatory have none
    rt = router(variant(emergency__route="urgent_mla"))
    assert route(rt, 2, 1).emergency is EmergencyRoute.URGENT_MLA
    assert route(rt, 0, 1).emergency is EmergencyRoute.URGENT_MLA


# -- direct orders ------------------------------------------------------------------------------
def test_direct_orders_come_only_from_the_treaty() -> None:
    bilateral = fallback("bilateral", direct_request=DIRECT)
    assert bilateral.direct is not None
    rt = router(variant(direct_request=DIRECT), bilateral=bilateral)
    assert route(rt, 2, 1).direct is rt.treaty.direct is not None
    assert rt.treaty.direct.deadline_days == 10 and rt.treaty.direct.emergency_days == 0.33
    assert route(rt, 0, 1).direct is rt.treaty.direct  # its MLA is the bilateral's
    assert route(rt, 1, 2, OTHER).direct is None  # out of scope: letters rogatory
    assert route(rt, 0, 3).direct is None  # a non-party: the bilateral's orders never apply
    rt = router(bilateral=bilateral)  # a treaty without direct orders
    assert route(rt, 0, 1).direct is None and route(rt, 0, 3).direct is None


def test_routes_are_cached_per_pair_and_offence(un_router) -> None:
    rt = un_router
    assert rt.route(0, 1, CONVENTION) is rt.route(0, 1, CONVENTION)
    assert rt.route(1, 2, OTHER) is not rt.route(1, 2, CONVENTION)
