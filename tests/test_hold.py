"""The provider's clock: preservation holds, lapses, extensions and deletion (``ServiceProvider``).

A request preserved at P = 10 under a rule of 60 days (lapse at 70) with one 30-day extension
(to 100); its MLA request arrives at ``now`` when ``hold`` is called.
"""

from __future__ import annotations

import dataclasses
import itertools
import math

import pytest
from conftest import make_world, set_value, world_data
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.engine.actors import NEVER, ServiceProvider
from sim.engine.model import CooperationModel
from sim.engine.request import Request
from sim.engine.routing import Decision, PreservationRule
from sim.limits import MIN_CASES_PER_YEAR
from sim.vocabulary import DualCriminality, Outcome, Stage
from sim.vocabulary import Result as R

P, MIN, EXT = 10.0, 60.0, 30.0
LAPSE, EXTENDED_LAPSE = P + MIN, P + MIN + EXT
ID = 999_999  # no drawn request has this id


@pytest.fixture(scope="module")
def quiet_world():
    """The small world with (almost) no cases of its own (one in a thousand years): only
    our requests write rows, and running the clock on costs nothing."""
    w = world_data()
    set_value(w, "cases.per_year", MIN_CASES_PER_YEAR)
    return make_world(w)


@pytest.fixture(scope="module")
def base(un, small_world) -> Request:
    _, first = next(iter(CooperationModel(un, small_world, 0).casebook))
    return dataclasses.replace(first, next=None)


@pytest.fixture
def model(un, quiet_world) -> CooperationModel:
    return CooperationModel(un, quiet_world, 0)


def rule(*, continues: bool, extension: float = EXT, days: float = MIN) -> PreservationRule:
    return PreservationRule(Decision(0, DualCriminality.NOT_REQUIRED), days, continues,
                            extension)


def preserved(base: Request, *, deleted_at: float, granted: bool = True,
              at: float = P) -> Request:
    """A request of the cohort (its rows are logged) whose data were preserved at ``at``
    (deletion suspended meanwhile)."""
    return dataclasses.replace(base, id=ID, exists=True, deleted_at=deleted_at, deletion=NEVER,
                               preserved_at=at, extension_granted=granted, measured=True)


def provider(model: CooperationModel, r: Request) -> ServiceProvider:
    return model.providers[r.provider]


def arrive(model: CooperationModel, r: Request, now: float, pr: PreservationRule) -> None:
    """The MLA request reaches the requested State at ``now``: the provider applies the rule."""
    if now > model.env.now:
        model.env.run(until=now)
    provider(model, r).hold(r, pr)


def holds(model: CooperationModel, r: Request) -> list[tuple[R, float, float]]:
    log = model.log
    return [(R(log.result[i]), log.start[i], log.end[i]) for i in range(len(log))
            if log.request[i] == r.id and log.stage[i] == Stage.HOLD]


def missing_at(model: CooperationModel, r: Request, t: float) -> Outcome | None:
    model.env.run(until=t)
    return provider(model, r).missing(r)


# -- arriving before the lapse ----------------------------------------------------------------
@pytest.mark.parametrize("now", [P, 50.0, LAPSE])  # at once, meanwhile, on the last day
def test_arriving_in_time_where_preservation_continues_keeps_the_data(model, base,
                                                                      now) -> None:
    r = preserved(base, deleted_at=20.0)
    arrive(model, r, now, rule(continues=True))
    assert holds(model, r) == [(R.KEPT, P, now)]
    assert r.deletion == NEVER
    assert missing_at(model, r, 10_000.0) is None  # never deleted


@pytest.mark.parametrize(("deleted_at", "granted", "deletion"),
                         [(20.0, False, LAPSE), (200.0, False, 200.0),
                          (20.0, True, EXTENDED_LAPSE), (200.0, True, 200.0)])
def test_arriving_in_time_without_continuation_deletes_at_retention_or_lapse(
        model, base, deleted_at, granted, deletion) -> None:
    """Data not kept pending the MLA request go at the end of the period, extended where
    the extension is granted (asked because the data would otherwise go before production)."""
    r = preserved(base, deleted_at=deleted_at, granted=granted)
    arrive(model, r, 50.0, rule(continues=False))
    assert holds(model, r) == [(R.KEPT, P, 50.0)]
    assert r.deletion == deletion
    assert missing_at(model, r, deletion - 0.01) is None
    assert missing_at(model, r, deletion) is Outcome.LOST_AFTER_LAPSE


# -- arriving after the lapse -------------------------------------------------------------------
@pytest.mark.parametrize("continues", [True, False])
def test_an_extension_granted_keeps_data_arriving_within_it(model, base, continues) -> None:
    r = preserved(base, deleted_at=20.0, granted=True)
    arrive(model, r, 80.0, rule(continues=continues))
    assert holds(model, r) == [(R.EXTENDED, P, LAPSE), (R.KEPT, LAPSE, 80.0)]
    assert r.deletion == (NEVER if continues else EXTENDED_LAPSE)


@pytest.mark.parametrize(("deleted_at", "deletion"), [(20.0, EXTENDED_LAPSE), (500.0, 500.0)])
def test_arriving_after_the_extension_too_lapses_at_its_end(model, base, deleted_at,
                                                            deletion) -> None:
    r = preserved(base, deleted_at=deleted_at, granted=True)
    arrive(model, r, 120.0, rule(continues=True))
    assert holds(model, r) == [(R.EXTENDED, P, LAPSE), (R.LAPSED, LAPSE, EXTENDED_LAPSE)]
    assert r.deletion == deletion
    want = Outcome.LOST_AFTER_LAPSE if deletion <= 120.0 else None
    assert provider(model, r).missing(r) is want  # gone already, or still in retention


@pytest.mark.parametrize(("granted", "extension"), [(False, EXT), (True, 0.0)])
def test_no_extension_lapses_at_the_minimum_period(model, base, granted, extension) -> None:
    """Not granted, or not allowed by the rule (extension 0): the hold lapses at P + MIN."""
    r = preserved(base, deleted_at=20.0, granted=granted)
    arrive(model, r, 80.0, rule(continues=True, extension=extension))
    assert holds(model, r) == [(R.LAPSED, P, LAPSE)]
    assert r.deletion == LAPSE
    assert provider(model, r).missing(r) is Outcome.LOST_AFTER_LAPSE


def test_an_earlier_mla_request_never_shortens_preservation(un, quiet_world, base) -> None:
    """Voluntary preservation (no continuation pending MLA) with a granted extension: the
    data should be protected until P + MIN + EXT whenever the MLA request arrives."""
    deletion = {}
    for now in (50.0, 80.0):
        model = CooperationModel(un, quiet_world, 0)
        r = preserved(base, deleted_at=20.0, granted=True)
        arrive(model, r, now, rule(continues=False))
        deletion[now] = r.deletion
    assert deletion[80.0] == EXTENDED_LAPSE
    assert deletion[50.0] == deletion[80.0]


def test_no_case_of_the_quiet_world_arises_meanwhile(model) -> None:
    model.env.run(until=10_000.0)
    assert model.created == 0 and len(model.log) == 0


def test_a_request_outside_the_cohort_is_held_the_same_and_not_logged(model, base) -> None:
    """A request of a case arising outside the measurement window (a warm-up's) loads the
    provider's clock as any other, but writes no row."""
    cohort = preserved(base, deleted_at=20.0, granted=True)
    other = dataclasses.replace(cohort, id=ID + 1, measured=False)
    for r in (cohort, other):
        arrive(model, r, 120.0, rule(continues=True))
    assert other.deletion == cohort.deletion == EXTENDED_LAPSE
    assert holds(model, other) == [] and len(holds(model, cohort)) == 2
    assert provider(model, other).missing(other) is Outcome.LOST_AFTER_LAPSE


def test_hold_rows_carry_their_labels(model, base) -> None:
    r = preserved(base, deleted_at=20.0)
    arrive(model, r, 80.0, rule(continues=True))
    ev = model.log.frame()
    rows = ev[ev["request"] == ID]
    assert list(rows["stage"].astype(str)) == ["hold", "hold"]
    assert list(rows["result"].astype(str)) == ["extended", "kept"]
    assert rows["ground"].isna().all()


@settings(max_examples=60, deadline=None)
@given(start=st.floats(0, 100), days=st.sampled_from([0.0, 30.0, 60.0, 90.0]),
       extension=st.sampled_from([0.0, 30.0, 90.0]), wait=st.floats(0, 300),
       retention=st.floats(-50, 400), continues=st.booleans(), granted=st.booleans())
def test_a_hold_protects_exactly_its_period(un, quiet_world, base, start, days, extension,
                                           wait, retention, continues, granted) -> None:
    """Rows tile [start, min(now, end of protection)]; deletion never precedes the ordinary
    retention clock; data are kept for good only if the request arrived while protected."""
    model = CooperationModel(un, quiet_world, 0)
    now = start + wait
    r = preserved(base, deleted_at=start + retention, granted=granted, at=start)
    arrive(model, r, now, rule(continues=continues, extension=extension, days=days))
    protected = start + days + (extension if granted else 0.0)  # asked whenever needed
    in_time = now <= protected
    rows = holds(model, r)
    results = [res for res, _, _ in rows]
    assert results in ([R.KEPT], [R.LAPSED], [R.EXTENDED, R.KEPT], [R.EXTENDED, R.LAPSED])
    assert (results[-1] is R.KEPT) == in_time
    assert rows[0][1] == start
    assert all(a[2] == b[1] for a, b in itertools.pairwise(rows))
    assert rows[-1][2] == pytest.approx(min(now, protected))
    assert all(s <= e for _, s, e in rows)
    assert r.deletion >= r.deleted_at
    if continues and in_time:
        assert r.deletion == NEVER
    else:
        assert r.deletion == pytest.approx(max(r.deleted_at, protected))


# -- why data cannot be handed over ---------------------------------------------------------------
def test_missing_data_that_never_existed(model, base) -> None:
    r = dataclasses.replace(base, exists=False, deletion=NEVER, preserved_at=P)
    assert provider(model, r).missing(r) is Outcome.NEVER_EXISTED


def test_missing_before_and_after_deletion(model, base) -> None:
    fresh = dataclasses.replace(base, exists=True, deleted_at=30.0, deletion=30.0)
    assert math.isnan(fresh.preserved_at)
    held = dataclasses.replace(fresh, preserved_at=P)
    assert missing_at(model, fresh, 29.9) is None
    assert provider(model, held).missing(held) is None
    assert missing_at(model, fresh, 30.0) is Outcome.LOST_BEFORE_PRESERVATION  # at deletion
    assert provider(model, held).missing(held) is Outcome.LOST_AFTER_LAPSE


def test_preservation_freezes_data_only_if_still_there(model, base) -> None:
    r = dataclasses.replace(base, exists=True, deleted_at=5.0, deletion=5.0, preserve_days=1.0)
    late = dataclasses.replace(r, id=ID + 1)
    env, p = model.env, provider(model, r)
    env.run(until=3.0)
    done = env.process(p.preserve(r))  # finishes at 4, before deletion at 5
    assert env.run(until=done) is None
    assert r.preserved_at == 4.0 and r.deletion == NEVER
    env.run(until=4.5)
    done = env.process(p.preserve(late))  # finishes at 5.5: deleted meanwhile
    assert env.run(until=done) is Outcome.LOST_BEFORE_PRESERVATION
    assert math.isnan(late.preserved_at) and late.deletion == 5.0


@pytest.mark.parametrize(("continues", "want"), [(True, None),
                                                 (False, Outcome.LOST_AFTER_LAPSE)])
def test_preserve_hold_produce(model, base, continues, want) -> None:
    """Preserved at 1, request arrives at 50 (kept), production runs 65 -> 75; without
    continuation the data go at the lapse (61), so production finds them gone."""
    r = dataclasses.replace(base, id=ID, exists=True, deleted_at=30.0, deletion=30.0,
                            preserve_days=1.0, extension_granted=False, measured=True)
    env, p = model.env, provider(model, r)
    assert env.run(until=env.process(p.preserve(r))) is None
    arrive(model, r, 50.0, rule(continues=continues))
    assert holds(model, r) == [(R.KEPT, 1.0, 50.0)]
    env.run(until=65.0)
    assert env.run(until=env.process(p.produce(r, 10.0))) is want
    assert env.now == 75.0
