"""A requested State's decision (``State.refusal``): listed grounds first, then dual criminality."""

from __future__ import annotations

import dataclasses
import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sim.engine.actors import State
from sim.engine.model import CooperationModel
from sim.engine.request import Request
from sim.engine.routing import Decision
from sim.vocabulary import (
    GROUND_NAMES,
    GROUNDS,
    NO_DUAL_CRIMINALITY,
    DualCriminality,
    Ground,
    Offence,
    ground_mask,
    lowest_ground,
)

DC = DualCriminality
CONVENTION, SERIOUS, OTHER = (list(Offence).index(o) for o in Offence)
ALL = ground_mask(GROUNDS)


@pytest.fixture(scope="module")
def model(un, small_world) -> CooperationModel:
    return CooperationModel(un, small_world, 0)


@pytest.fixture(scope="module")
def base(model: CooperationModel) -> Request:
    """A real drawn request, cut off from its trail, with no dual-criminality gap."""
    _, first = next(iter(model.casebook))
    return dataclasses.replace(first, next=None, dc_fails=False, dc_invoke=False,
                               pres_mask=0, disc_mask=0, mla_mask=0)


def state(model: CooperationModel, *, reservation: bool = False) -> State:
    s = model.states[0]
    s.dc_reservation = reservation
    return s


def request(base: Request, **changes: object) -> Request:
    return dataclasses.replace(base, **changes)


def code(g: Ground) -> int:
    return GROUNDS.index(g)


# -- listed grounds --------------------------------------------------------------------------
@pytest.mark.parametrize("ground", GROUNDS, ids=[g.value for g in GROUNDS])
@pytest.mark.parametrize("rule", list(DC))
def test_an_invoked_ground_refuses_iff_the_rule_lists_it(model, base, ground: Ground,
                                                         rule: DC) -> None:
    s, r = state(model), request(base)
    invoked = ground_mask([ground])
    listed = Decision(ground_mask([ground]), rule)
    others = Decision(ALL & ~ground_mask([ground]), rule)  # every ground but this one
    assert s.refusal(listed, invoked, r) == code(ground)
    assert GROUND_NAMES[s.refusal(listed, invoked, r)] == ground.value
    assert s.refusal(others, invoked, r) is None
    assert s.refusal(Decision(0, rule), invoked, r) is None
    assert s.refusal(listed, 0, r) is None  # listed but not invoked
    assert s.refusal(listed, ALL, r) == code(ground)  # everything invoked: only the list bites


def test_only_the_invoked_mask_passed_counts_not_the_requests_own_masks(model, base) -> None:
    """The caller picks the step's mask; the request's other masks play no part."""
    s = state(model)
    r = request(base, pres_mask=ALL, disc_mask=ALL, mla_mask=ALL)
    assert s.refusal(Decision(ALL, DC.REQUIRED), 0, r) is None


@given(invoked=st.sets(st.sampled_from(GROUNDS)), listed=st.sets(st.sampled_from(GROUNDS)))
def test_with_several_grounds_the_first_in_vocabulary_order_is_reported(
        model, base, invoked: set[Ground], listed: set[Ground]) -> None:
    s, r = state(model), request(base)
    got = s.refusal(Decision(ground_mask(listed), DC.NOT_REQUIRED), ground_mask(invoked), r)
    both = invoked & listed
    if not both:
        assert got is None
    else:
        assert got == min(code(g) for g in both)
        assert got == lowest_ground(ground_mask(both))


def test_lowest_ground_picks_the_lowest_bit() -> None:
    assert lowest_ground(0b1) == 0
    assert lowest_ground(0b10100) == 2
    assert lowest_ground(1 << (len(GROUNDS) - 1) | 1 << 5) == 5
    for i, j in itertools.combinations(range(len(GROUNDS)), 2):
        assert lowest_ground((1 << i) | (1 << j)) == i


# -- dual criminality ------------------------------------------------------------------------
def expected_dc(rule: DC, fails: bool, invoke: bool, offence: int, reservation: bool) -> bool:
    """The dual-criminality rules as the texts state them (refused or not)."""
    if not fails:
        return False  # conduct criminal in the requested State: never a reason to refuse
    return {
        DC.NOT_REQUIRED: False,
        DC.RESERVATION: offence != CONVENTION and reservation,
        DC.DISCRETIONARY: invoke,
        DC.REQUIRED: True,
    }[rule]


@pytest.mark.parametrize("rule", list(DC))
@pytest.mark.parametrize("fails", [False, True])
@pytest.mark.parametrize("invoke", [False, True])
@pytest.mark.parametrize("offence", [CONVENTION, SERIOUS, OTHER])
@pytest.mark.parametrize("reservation", [False, True])
def test_dual_criminality_rule(model, base, rule: DC, fails: bool, invoke: bool, offence: int,
                               reservation: bool) -> None:
    s = state(model, reservation=reservation)
    r = request(base, dc_fails=fails, dc_invoke=invoke, offence=offence)
    got = s.refusal(Decision(0, rule), 0, r)
    want = NO_DUAL_CRIMINALITY if expected_dc(rule, fails, invoke, offence, reservation) else None
    assert got == want
    if got is not None:
        assert GROUND_NAMES[got] == "no_dual_criminality"


def test_named_dual_criminality_cases(model, base) -> None:
    """Spot checks of the table above, one per clause of the rules."""
    gap = request(base, dc_fails=True, dc_invoke=False, offence=SERIOUS)
    reserving, not_reserving = state(model, reservation=True), model.states[1]
    not_reserving.dc_reservation = False
    assert reserving.refusal(Decision(0, DC.RESERVATION), 0, gap) == NO_DUAL_CRIMINALITY
    assert not_reserving.refusal(Decision(0, DC.RESERVATION), 0, gap) is None
    convention = request(gap, offence=CONVENTION)
    assert reserving.refusal(Decision(0, DC.RESERVATION), 0, convention) is None
    assert reserving.refusal(Decision(0, DC.REQUIRED), 0, convention) == NO_DUAL_CRIMINALITY
    assert reserving.refusal(Decision(0, DC.DISCRETIONARY), 0, gap) is None
    declines = request(gap, dc_invoke=True)
    assert reserving.refusal(Decision(0, DC.DISCRETIONARY), 0, declines) == NO_DUAL_CRIMINALITY
    assert reserving.refusal(Decision(0, DC.NOT_REQUIRED), 0, declines) is None
    no_gap = request(declines, dc_fails=False)
    for rule in DC:
        assert reserving.refusal(Decision(0, rule), 0, no_gap) is None


@pytest.mark.parametrize("rule", list(DC))
@pytest.mark.parametrize("ground", [GROUNDS[0], Ground.PERSONAL_DATA, GROUNDS[-1]],
                         ids=lambda g: g.value)
def test_a_listed_ground_takes_precedence_over_dual_criminality(model, base, rule: DC,
                                                                ground: Ground) -> None:
    s = state(model, reservation=True)
    r = request(base, dc_fails=True, dc_invoke=True, offence=OTHER)  # every DC rule would bite
    invoked = ground_mask([ground])
    assert s.refusal(Decision(invoked, rule), invoked, r) == code(ground)
    # an invoked ground the rule does not list falls through to dual criminality
    want = None if rule is DC.NOT_REQUIRED else NO_DUAL_CRIMINALITY
    assert s.refusal(Decision(ALL & ~invoked, rule), invoked, r) == want


def test_no_dual_criminality_code_follows_the_grounds() -> None:
    assert NO_DUAL_CRIMINALITY == len(GROUNDS) == len(GROUND_NAMES) - 1
    assert ground_mask(GROUNDS) == (1 << len(GROUNDS)) - 1
